"""A prepared council's register as at any day (the stored month-end before it plus the
changes since, `tracker.capacity.as_at`) equals the reference computed from the whole
register, for many random days of a generated register, after writes of every kind."""

import random
from datetime import date, timedelta

import msgspec
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from tests.conftest import STOKE, bearer
from tests.test_funnel_periods import autocommit_read, plan_mode, plan_modes
from tests.test_household_import import REGISTER_CSV
from tracker.capacity import figures as capacity
from tracker.capacity.as_at import base_day, prepared_register_counts
from tracker.capacity.figures import capacity_figures
from tracker.core.monthly_upkeep import rebuild
from tracker.enquiries.timeliness import london_today
from tracker.households.care_types import Term

BASE = f"/api/v1/authorities/{STOKE}"
CARE_TYPES = ("in_house", "connected", "in_house", "supported_lodgings")


def _post(client, headers, path, body, ok=(200, 201)):
    response = client.post(f"{BASE}/{path}", json=body, headers=headers)
    assert response.status_code in ok, response.text
    return response


def _generate(client, headers, today: date, seed: int = 11) -> None:
    """Sixteen households over two years with placements, marked unavailability, changes of
    places, terms and ages, holds and deregistrations, all through the API."""
    rng = random.Random(seed)
    first = today - timedelta(days=730)

    def day(after: date) -> date:
        return after + timedelta(days=rng.randrange(max(1, (today - after).days)))

    for n in range(16):
        approved = day(first)
        household = _post(
            client,
            headers,
            "households",
            {
                "reference": f"GEN-{seed}-{n}",
                "care_type": rng.choice(CARE_TYPES),
                "approved_places": rng.randint(1, 3),
                "approved_on": approved.isoformat(),
                "age_min": rng.choice((0, 5, 10)),
                "age_max": rng.choice((11, 15, 17)),
                "terms": rng.sample([t.value for t in Term], rng.randint(0, 3)),
            },
        ).json()
        for child in range(rng.randint(0, 3)):
            start = day(approved)
            placed = _post(
                client,
                headers,
                f"households/{household['id']}/placements",
                {"child_ref": f"C-{seed}-{n}-{child}", "start_on": start.isoformat()},
                ok=(201, 409),
            )
            if placed.status_code == 201 and rng.random() < 0.6:
                end = day(start) + timedelta(days=1)
                if end <= today:
                    _post(
                        client,
                        headers,
                        f"placements/{placed.json()['id']}/end",
                        {"end_on": end.isoformat()},
                    )
        if rng.random() < 0.5:
            start = day(approved)
            marked = _post(
                client,
                headers,
                f"households/{household['id']}/unavailability",
                {"places": 1, "reason": "carer_circumstances", "start_on": start.isoformat()},
            ).json()
            end = day(start) + timedelta(days=1)
            if rng.random() < 0.7 and end <= today:
                _post(
                    client,
                    headers,
                    f"unavailability/{marked['id']}/end",
                    {"end_on": end.isoformat()},
                )
        change = {"effective_on": day(approved).isoformat()}
        kind = rng.randrange(4)
        if kind == 0:
            change |= {"approved_places": rng.randint(1, 4), "terms": ["emergency"], "age_min": 2}
        elif kind == 1:
            change |= {"status": "on_hold"}
        elif kind == 2:
            change |= {"status": "deregistered", "deregistration_reason": "retired"}
        else:
            continue
        _post(client, headers, f"households/{household['id']}/changes", change, ok=(200, 409))


def _days(today: date, n: int, seed: int) -> list[date]:
    rng = random.Random(seed)
    days = [today - timedelta(days=rng.randrange(800)) for _ in range(n)]
    # Month ends and month starts, where the stored stock and the changes meet, and days
    # after today (read back from the end of this month when past its middle).
    days += [today.replace(day=1), today.replace(day=1) - timedelta(days=1), today]
    days += [today + timedelta(days=10), today + timedelta(days=20)]
    return days


def _compare(db, today: date, seed: int, n: int = 60) -> int:
    """Every day's prepared figures equal the reference's; how many of the days were answered
    off the prepared month-ends (so a test can tell the prepared read ran)."""
    answered = 0
    days = _days(today, n, seed)
    # Both ways are tried: days read forward from the month before, and back from their own.
    bases = [(d, base_day(d, f"{today:%Y-%m}")) for d in days]
    later = [d for d, base in bases if base is not None and base > d]
    assert 10 <= len(later) <= len(days) - 10
    with db.read_session() as session:
        for day in days:
            prepared = capacity_figures(session, STOKE, day, prepared=True)
            reference = capacity_figures(session, STOKE, day, prepared=False)
            assert msgspec.to_builtins(prepared) == msgspec.to_builtins(reference), day
            assert capacity_figures(session, STOKE, day) == reference
            answered += prepared_register_counts(session, STOKE, day) is not None
    return answered


@pytest.fixture
def generated(authorities, client, tokens):
    """Stoke built while empty, then a register generated through the API."""
    today = london_today()
    with authorities.writing() as session:
        rebuild(session, STOKE, today)
    headers = bearer(tokens["manager_stoke"])
    _generate(client, headers, today)
    return authorities, today, headers


def test_any_day_of_a_generated_register_equals_the_reference(generated):
    db, today, _ = generated
    with db.read_session() as session:
        figures = capacity_figures(session, STOKE, today, prepared=True)
    assert figures.total.households > 0 and figures.total.approved_places > 0
    assert _compare(db, today, seed=1) >= 55


def test_any_day_equals_the_reference_after_later_writes_and_an_import(generated, client):
    db, today, headers = generated
    _generate(client, headers, today, seed=12)
    response = client.post(
        f"{BASE}/households/import",
        content=REGISTER_CSV.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert _compare(db, today, seed=2) >= 55


def test_a_wrong_month_end_shows_on_the_days_nearest_it_only(generated):
    """The comparison can fail: ten households added to one stored month-end show on the days
    read from it (the second half of its month, the month-end itself and the first half of
    the month after) and on no other day."""
    db, today, _ = generated
    month_end = today.replace(day=1) - timedelta(days=40)
    month_end = month_end.replace(day=1) + timedelta(days=31)
    month_end = month_end.replace(day=1) - timedelta(days=1)
    label = month_end.strftime("%Y-%m")
    with db.writing() as session:
        changed = session.execute(
            text(
                "UPDATE register_month SET households = households + 10 "
                "WHERE authority_code = :code AND month = :month AND care_type = 'in_house'"
            ),
            {"code": STOKE, "month": label},
        ).rowcount
    assert changed == 1
    with db.read_session() as session:

        def extra(day: date) -> int:
            prepared = capacity_figures(session, STOKE, day, prepared=True)
            reference = capacity_figures(session, STOKE, day, prepared=False)
            return prepared.total.households - reference.total.households

        for near in (-5, 0, 1, 10):
            assert extra(month_end + timedelta(days=near)) == 10, near
        for far in (-25, 45):
            assert extra(month_end + timedelta(days=far)) == 0, far


def test_a_read_starts_from_the_nearer_stored_month_end():
    """The end of the month before for a day in the first half of its month, its own month's
    end for a day in the second half when that is stored, and None when neither is."""
    assert base_day(date(2025, 6, 10), "2025-06") == date(2025, 5, 31)
    assert base_day(date(2025, 6, 15), "2025-06") == date(2025, 5, 31)
    assert base_day(date(2025, 6, 16), "2025-06") == date(2025, 6, 30)
    assert base_day(date(2025, 6, 30), "2025-07") == date(2025, 6, 30)
    # Its own month not stored yet (no write since it began): the month before.
    assert base_day(date(2025, 6, 25), "2025-05") == date(2025, 5, 31)
    assert base_day(date(2025, 6, 25), "2025-04") is None
    assert base_day(date(2025, 6, 25), None) is None


def test_on_postgresql_the_statement_is_planned_once_and_outlives_psycopgs_own(generated):
    """PostgreSQL: the read runs the statement prepared on the connection with its generic
    plan (planned once, whichever council and day), and still answers after psycopg has
    dropped every prepared statement of the connection (its DEALLOCATE ALL at a rollback,
    once it has prepared one of its own)."""
    db, today, _ = generated
    if db.is_sqlite:
        pytest.skip("PostgreSQL's prepared statements")
    asked = "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s"

    def same(connection, raw, seed: int) -> None:
        """Eight days equal the reference, read off the statement's one generic plan."""
        with Session(bind=connection) as session:
            for day in _days(today, 5, seed):
                prepared = capacity_figures(session, STOKE, day, prepared=True)
                reference = capacity_figures(session, STOKE, day, prepared=False)
                assert msgspec.to_builtins(prepared) == msgspec.to_builtins(reference), day
            generic, custom = raw.execute(asked, ["capacity_as_at"]).fetchone()
            assert generic >= 8 and custom == 0

    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        same(connection, raw, seed=3)
        # psycopg prepares a statement run more than five times, then drops all at a rollback.
        for _ in range(7):
            raw.execute("SELECT %s::int", [1])
        connection.rollback()
        assert raw.execute(asked, ["capacity_as_at"]).fetchone() is None
        same(connection, raw, seed=4)


def test_on_postgresql_an_autocommit_capacity_read_leaves_the_plan_mode_at_its_default(
    generated, monkeypatch
):
    """PostgreSQL, a read session in autocommit: the facts query readies the as-at statement
    (no query of its own), and the plan mode is at its default after a read that succeeds,
    after a day whose month-end is not stored yet (the statement not run after all), after
    an error between the facts query and the EXECUTE (the pool resets it when the connection
    comes back), and after a failed EXECUTE (at once, on the same connection)."""
    db, today, _ = generated
    if db.is_sqlite:
        pytest.skip("PostgreSQL's plan mode")
    day = _days(today, 1, seed=5)[0]
    with autocommit_read(db) as session:
        statements: list[str] = []
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", lambda *a: statements.append(a[2]))
        figures = capacity_figures(session, STOKE, day)
        # Prepared on the connection by its first read; afterwards the facts and EXECUTE.
        statements.clear()
        capacity_figures(session, STOKE, day - timedelta(days=40))
        assert len(statements) == 2 and statements[1].startswith('EXECUTE "capacity_as_at"')
        assert figures == capacity_figures(session, STOKE, day, prepared=False)
        assert plan_mode(session) == "auto"
        later = today + timedelta(days=400)
        assert capacity_figures(session, STOKE, later) == capacity_figures(
            session, STOKE, later, prepared=False
        )
        assert plan_mode(session) == "auto"
    assert plan_modes(db) == {"auto"}

    def broken(*_args: object) -> None:
        raise RuntimeError("after the facts query")

    with monkeypatch.context() as patched:
        patched.setattr(capacity, "prepared_register_counts", broken)
        with autocommit_read(db) as session, pytest.raises(RuntimeError):
            capacity_figures(session, STOKE, day)
    assert plan_modes(db) == {"auto"}

    with autocommit_read(db) as session:
        connection = session.connection()
        connection.exec_driver_sql("DEALLOCATE ALL")
        connection.exec_driver_sql(
            "PREPARE capacity_as_at(date, date, date, date, varchar) "
            "AS SELECT 1 / (length($5) - length($5))"
        )
        with pytest.raises(DataError):
            capacity_figures(session, STOKE, day)
        assert plan_mode(session) == "auto"
        connection.exec_driver_sql("DEALLOCATE capacity_as_at")
        assert capacity_figures(session, STOKE, day) == figures
