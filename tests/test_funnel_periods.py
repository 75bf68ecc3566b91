"""A prepared council's funnel of any period (its whole months off the prepared rows, the
days at its edges from the enquiries, one statement) equals the reference computed from the
enquiries alone, for many random periods of a generated council, after writes of every kind."""

import random
from contextlib import ExitStack
from datetime import date, timedelta

import msgspec
import pytest
from psycopg import pq
from sqlalchemy import select
from sqlalchemy.exc import DataError, ProgrammingError
from sqlalchemy.orm import Session

from tests.conftest import COVENTRY, STOKE, bearer
from tests.test_enquiry_import import GOOD_CSV
from tracker.core.access import SYSTEM
from tracker.core.db import PlannedOnce, autocommit_reads
from tracker.core.errors import NotFoundError
from tracker.core.monthly_tables import FunnelMonthHistogram
from tracker.core.monthly_upkeep import rebuild
from tracker.core.prepared import is_prepared, target_and_prepared
from tracker.enquiries import funnel, monthly, period
from tracker.enquiries.funnel import Dimension, funnel_report, funnel_summary
from tracker.enquiries.queries import load_enquiry
from tracker.enquiries.schemas import Closure, EnquiryChanges, NewEnquiry, Reopening, StageMove
from tracker.enquiries.service import (
    advance_enquiry,
    close_enquiry,
    create_enquiry,
    edit_enquiry,
    erase_personal_data,
    reopen_enquiry,
)
from tracker.enquiries.stages import STAGE_ORDER, ClosureReason, Stage
from tracker.enquiries.timeliness import london_today
from tracker.enquiries.vocabulary import Channel

FIRST = date(2023, 1, 1)
CAMPAIGNS = (None, "Spring", "Summer", "Radio")


def _generate(db, today: date, seed: int = 17) -> list[int]:
    """About 120 enquiries over the years to `today`, moved on a random number of stages
    (a day to 40 days apart), a third of the unapproved closed; their ids."""
    rng = random.Random(seed)
    ids = []
    with db.writing() as session:
        for _ in range(120):
            received = FIRST + timedelta(days=rng.randrange((today - FIRST).days + 1))
            new = NewEnquiry(
                received_on=received,
                channel=rng.choice(list(Channel)),
                campaign=rng.choice(CAMPAIGNS),
            )
            record = create_enquiry(session, SYSTEM, STOKE, new, today)
            ids.append(record.id)
            on = received
            reached = Stage.ENQUIRY
            for stage in STAGE_ORDER[1 : 1 + rng.randrange(len(STAGE_ORDER))]:
                on += timedelta(days=rng.randint(1, 40))
                if on > today:
                    break
                move = StageMove(stage=stage, on=on)
                advance_enquiry(session, SYSTEM, STOKE, record.id, move, today)
                reached = stage
            closing = on + timedelta(days=rng.randint(0, 30))
            if reached is not Stage.APPROVED and rng.random() < 0.35 and closing <= today:
                reasons = [r for r in ClosureReason if r is not ClosureReason.REJECTED_AFTER_PANEL]
                reason = (
                    ClosureReason.REJECTED_AFTER_PANEL
                    if reached is Stage.PANEL
                    else rng.choice(reasons)
                )
                close = Closure(reason=reason, on=closing)
                close_enquiry(session, SYSTEM, STOKE, record.id, close, today)
    return ids


def _periods(today: date, n: int, seed: int) -> list[tuple[date, date]]:
    """Random periods: any two days; a year to a random day (as bench/national.py asks);
    whole months; periods ending today; single days."""
    rng = random.Random(seed)
    span = (today - FIRST).days + 60

    def day() -> date:
        return FIRST - timedelta(days=30) + timedelta(days=rng.randrange(span))

    periods = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            a, b = sorted((day(), day()))
        elif kind == 1:
            b = day()
            a = b - timedelta(days=364)
        elif kind == 2:
            a = day().replace(day=1)
            b = (a + timedelta(days=32 * rng.randint(1, 14))).replace(day=1) - timedelta(days=1)
        elif kind == 3:
            a, b = day(), today
        else:
            a = b = day()
        periods.append((a, b))
    return periods


def _same_everywhere(db, today: date, seed: int, n: int = 25) -> int:
    """Every period's prepared report and summary equal the reference; how many enquiries
    the periods held in all (so a test can tell it compared something)."""
    seen = 0
    with db.read_session() as session:
        assert is_prepared(session, STOKE)
        for first, last in _periods(today, n, seed):
            for by in (None, *Dimension):
                prepared = funnel_report(session, STOKE, first, last, today, by)
                reference = funnel_report(session, STOKE, first, last, today, by, prepared=False)
                assert msgspec.to_builtins(prepared) == msgspec.to_builtins(reference), (
                    first,
                    last,
                    by,
                )
            summary = funnel_summary(session, STOKE, first, last, today)
            assert summary.overall == reference.overall
            assert summary.approvals_by_year == reference.approvals_by_year
            seen += reference.overall.enquiries
    return seen


@pytest.fixture
def generated(authorities):
    """Stoke, built while empty, then a generated council's enquiries through the service."""
    today = london_today()
    with authorities.writing() as session:
        rebuild(session, STOKE, today)
    ids = _generate(authorities, today)
    return authorities, today, ids


def test_any_period_of_a_generated_council_equals_the_reference(generated):
    db, today, _ = generated
    assert _same_everywhere(db, today, seed=1, n=40) > 400


def test_any_period_equals_the_reference_after_edits_moves_closures_and_erasure(generated):
    db, today, ids = generated
    rng = random.Random(5)
    with db.writing() as session:
        for enquiry_id in rng.sample(ids, 12):
            # An earlier receipt day (often another month) and another channel.
            row = load_enquiry(session, STOKE, enquiry_id)
            changes = EnquiryChanges(
                received_on=max(FIRST, row.received_on - timedelta(days=17)),
                channel=Channel.EVENT,
            )
            edit_enquiry(
                session, SYSTEM, STOKE, enquiry_id, changes, today, expected_version=row.version
            )
    with db.writing() as session:
        fresh = create_enquiry(
            session,
            SYSTEM,
            STOKE,
            NewEnquiry(received_on=today - timedelta(days=3), channel=Channel.PHONE),
            today,
        )
        move = StageMove(stage=Stage.FIRST_CONTACT, on=today - timedelta(days=1))
        advance_enquiry(session, SYSTEM, STOKE, fresh.id, move, today)
        close = Closure(reason=ClosureReason.NO_RESPONSE, on=today)
        close_enquiry(session, SYSTEM, STOKE, fresh.id, close, today)
        reopen_enquiry(session, SYSTEM, STOKE, fresh.id, Reopening(stage=Stage.ENQUIRY), today)
        for enquiry_id in ids[:5]:
            erase_personal_data(session, SYSTEM, STOKE, enquiry_id, today)
    assert _same_everywhere(db, today, seed=2) > 200


def test_any_period_equals_the_reference_after_an_import(generated, client, tokens):
    db, today, _ = generated
    response = client.post(
        f"/api/v1/authorities/{STOKE}/enquiries/import",
        content=GOOD_CSV.encode(),
        headers={**bearer(tokens["manager_stoke"]), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert _same_everywhere(db, today, seed=3) > 200


def test_a_wrong_prepared_row_shows_in_the_periods_that_read_it(generated):
    """The comparison can fail: one duration moved by a day in one prepared month changes
    the reports of the periods holding that month whole, and only those."""
    db, today, _ = generated
    month = "2024-03"
    with db.writing() as session:
        stored = session.scalars(
            select(FunnelMonthHistogram).where(
                FunnelMonthHistogram.authority_code == STOKE, FunnelMonthHistogram.month == month
            )
        ).all()
        for histogram in stored:
            histogram.days = [d + 1000 for d in histogram.days]
        moved = len(stored)
    assert moved > 0
    with db.read_session() as session:

        def differs(first: date, last: date) -> bool:
            prepared = funnel_report(session, STOKE, first, last, today)
            reference = funnel_report(session, STOKE, first, last, today, prepared=False)
            return prepared.durations != reference.durations

        assert differs(date(2024, 3, 1), date(2024, 3, 31))
        assert differs(date(2023, 12, 5), date(2024, 6, 20))
        assert not differs(date(2024, 3, 2), date(2024, 4, 30))
        assert not differs(date(2024, 4, 1), date(2024, 12, 31))


def test_on_postgresql_the_period_statement_is_planned_once_and_outlives_psycopgs_own(generated):
    """PostgreSQL: a prepared council's read finds the council, and readies the period
    statement, in one query, then runs that statement prepared on the connection with its
    generic plan (planned once, whichever period), equal to the reference; the plan mode is
    back to its default after every read (a council without prepared figures and an unknown
    one never set it), and the read still answers after psycopg has dropped every prepared
    statement of the connection (its DEALLOCATE ALL at a rollback)."""
    db, today, _ = generated
    if db.is_sqlite:
        pytest.skip("PostgreSQL's prepared statements")
    asked = "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s"
    name = "funnel_period_2_all_0"
    years = [(last - timedelta(days=364), last) for last in _days_mid_month(today, 6)]

    def same(connection, raw) -> None:
        with Session(bind=connection) as session:
            for first, last in years:
                prepared = funnel_report(session, STOKE, first, last, today)
                assert raw.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"
                reference = funnel_report(session, STOKE, first, last, today, prepared=False)
                assert msgspec.to_builtins(prepared) == msgspec.to_builtins(reference)
            generic, custom = raw.execute(asked, [name]).fetchone()
            assert generic >= len(years) and custom == 0
            coventry = funnel_report(session, COVENTRY, *years[0], today)
            assert coventry.overall.enquiries == 0
            assert raw.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"
            with pytest.raises(NotFoundError):
                funnel_report(session, "E06999999", *years[0], today)
            assert raw.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"

    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        same(connection, raw)
        # psycopg prepares a statement run more than five times, then drops all at a rollback.
        for _ in range(7):
            raw.execute("SELECT %s::int", [1])
        connection.rollback()
        assert raw.execute(asked, [name]).fetchone() is None
        same(connection, raw)


def _days_mid_month(today: date, n: int) -> list[date]:
    """`n` days in the middle of past months (a year to one has a raw edge at each end)."""
    return [
        (today.replace(day=15) - timedelta(days=31 * (i + 1))).replace(day=15) for i in range(n)
    ]


def plan_modes(db) -> set[str]:
    """The plan mode of every connection idle in the pool (all checked out at once)."""
    with ExitStack() as stack:
        pooled = db.engine.pool.checkedin()
        connections = [stack.enter_context(db.engine.connect()) for _ in range(pooled)]
        return {c.exec_driver_sql("SHOW plan_cache_mode").scalar() for c in connections}


def plan_mode(session: Session) -> str:
    """The plan mode on the session's connection."""
    return session.connection().exec_driver_sql("SHOW plan_cache_mode").scalar()


def autocommit_read(db) -> Session:
    """A read session reading in autocommit, as a kept view's read is
    (`tracker.core.db.autocommit_reads`)."""
    session = db.read_session()
    autocommit_reads(session)
    return session


def test_on_postgresql_an_autocommit_funnel_read_leaves_the_plan_mode_at_its_default(
    generated, monkeypatch
):
    """PostgreSQL, a read session in autocommit (no rollback undoes what a read set): the
    plan mode is at its default after a read that succeeds (no transaction open, psycopg's
    prepared statements kept), after an error between the council's query that set it and
    the period statement's EXECUTE, after a failed PREPARE, after a failed EXECUTE (reset at
    once, on the same connection), and after a session that ends between the two (the pool
    resets it when the connection comes back)."""
    db, today, _ = generated
    if db.is_sqlite:
        pytest.skip("PostgreSQL's plan mode")
    last = _days_mid_month(today, 1)[0]
    first = last - timedelta(days=364)
    edges = monthly.split_period(first, last, today)[1]
    statement = period.planned("postgresql", len(edges), None, False)
    reference = None
    with autocommit_read(db) as session:
        reference = funnel_report(session, STOKE, first, last, today, prepared=False)
        assert funnel_report(session, STOKE, first, last, today) == reference
        raw = session.connection().connection.dbapi_connection
        assert raw.info.transaction_status == pq.TransactionStatus.IDLE
        assert plan_mode(session) == "auto"
    assert plan_modes(db) == {"auto"}

    def broken(*_args: object) -> None:
        raise RuntimeError("after the council's query")

    with monkeypatch.context() as patched:
        patched.setattr(funnel, "_approval_span", broken)
        with autocommit_read(db) as session, pytest.raises(RuntimeError):
            funnel_report(session, STOKE, first, last, today)
    assert plan_modes(db) == {"auto"}

    with autocommit_read(db) as session:
        session.connection().exec_driver_sql("DEALLOCATE ALL")
        with monkeypatch.context() as patched:
            patched.setattr(PlannedOnce, "prepare_statement", lambda _self: "PREPARE x AS SELEC")
            with pytest.raises(ProgrammingError):
                funnel_report(session, STOKE, first, last, today)
        assert plan_mode(session) == "auto"
        types = ", ".join(["varchar"] * 5 + ["date"] * 2 * len(edges))
        failing = f"PREPARE {statement.name}({types}) AS SELECT 1 / (length($1) - length($1))"
        session.connection().exec_driver_sql(failing)
        with pytest.raises(DataError):
            funnel_report(session, STOKE, first, last, today)
        assert plan_mode(session) == "auto"
        session.connection().exec_driver_sql(f"DEALLOCATE {statement.name}")
        assert funnel_report(session, STOKE, first, last, today) == reference

    with autocommit_read(db) as session:
        assert target_and_prepared(session, STOKE, statement)[1:] == (True, True)
        assert plan_mode(session) == "force_generic_plan"
    assert plan_modes(db) == {"auto"}
