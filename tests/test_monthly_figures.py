"""Prepared monthly figures equal the reference computation from raw rows after writes of
every kind (enquiries created, moved on, closed, reopened, edited, erased, imported;
households approved, changed, imported; placements and unavailability started and ended)."""

import concurrent.futures
from datetime import date

import msgspec
import pytest
from sqlalchemy import func, text

from forecast.months import add_months, month_end, month_label, parse_month
from jobs import scheduler as jobs_scheduler
from tests.conftest import STOKE, bearer
from tests.test_enquiry_import import GOOD_CSV
from tests.test_funnel import EXAMPLE
from tests.test_household_import import REGISTER_CSV
from tracker.capacity.figures import monthly_flows
from tracker.core.access import SYSTEM
from tracker.core.monthly_tables import FunnelMonth, FunnelMonthEvents, RegisterMonth
from tracker.core.monthly_upkeep import extend_to_month, rebuild
from tracker.core.prepared import is_prepared
from tracker.core.settings import Settings
from tracker.enquiries.funnel import Dimension, funnel_report, funnel_summary, monthly_series
from tracker.enquiries.schemas import Closure, EnquiryChanges, NewEnquiry, Reopening, StageMove
from tracker.enquiries.service import (
    advance_enquiry,
    close_enquiry,
    create_enquiry,
    edit_enquiry,
    erase_personal_data,
    reopen_enquiry,
)
from tracker.enquiries.stages import ClosureReason, Stage
from tracker.enquiries.timeliness import london_today
from tracker.enquiries.vocabulary import Channel

TODAY = date(2026, 11, 23)
D = date
BASE = f"/api/v1/authorities/{STOKE}"
PERIODS = [
    (D(2025, 4, 1), D(2026, 3, 31)),
    (D(2023, 1, 1), TODAY),
    (D(2025, 5, 1), D(2025, 5, 31)),
    # Periods with days at their edges: whole months inside read prepared, the edges raw.
    (D(2025, 4, 5), D(2025, 8, 20)),
    (D(2025, 5, 13), D(2026, 4, 2)),
    (D(2025, 5, 13), D(2025, 5, 31)),
    (D(2025, 5, 13), D(2025, 6, 1)),
    (D(2025, 11, 24), TODAY),
]


@pytest.fixture
def built(authorities):
    """Stoke with its prepared figures built while it has no records yet."""
    with authorities.writing() as session:
        rebuild(session, STOKE, TODAY)
    return authorities


def _enquiry_writes(db) -> None:
    with db.writing() as session:
        ids = []
        for received, channel, campaign, moves, closure in EXAMPLE:
            new = NewEnquiry(received_on=received, channel=Channel(channel), campaign=campaign)
            record = create_enquiry(session, SYSTEM, STOKE, new, TODAY)
            ids.append(record.id)
            for stage, on in moves:
                move = StageMove(stage=Stage(stage), on=on)
                advance_enquiry(session, SYSTEM, STOKE, record.id, move, TODAY)
            if closure:
                close = Closure(reason=ClosureReason(closure[0]), on=closure[1])
                close_enquiry(session, SYSTEM, STOKE, record.id, close, TODAY)
    with db.writing() as session:
        # Reopen the June withdrawal back at initial visit: its June-August dates go.
        reopen_enquiry(session, SYSTEM, STOKE, ids[1], Reopening(stage=Stage.INITIAL_VISIT), TODAY)
        # Move the August enquiry's receipt to July (another cohort month) and its channel.
        edit_enquiry(
            session,
            SYSTEM,
            STOKE,
            ids[4],
            EnquiryChanges(received_on=D(2025, 7, 30), channel=Channel.PHONE),
            TODAY,
            expected_version=4,
        )
        erase_personal_data(session, SYSTEM, STOKE, ids[0], TODAY)
        # A closed enquiry with a campaign (its cohort month's campaign split moves), and
        # one without (no prepared figure moves).
        erase_personal_data(session, SYSTEM, STOKE, ids[2], TODAY)
        erase_personal_data(session, SYSTEM, STOKE, ids[3], TODAY)


def _register_writes(client, headers) -> None:
    def post(path, body, status=201):
        response = client.post(f"{BASE}/{path}", json=body, headers=headers)
        assert response.status_code == status, response.text
        return response.json()

    base = {"care_type": "in_house", "approved_places": 2}
    h1 = post("households", base | {"reference": "H1", "approved_on": "2024-01-10"})
    h2 = post(
        "households",
        base | {"reference": "H2", "care_type": "connected", "approved_on": "2025-03-01"},
    )
    placed = post(
        f"households/{h1['id']}/placements", {"child_ref": "C-001", "start_on": "2024-02-01"}
    )
    post(f"placements/{placed['id']}/end", {"end_on": "2025-05-15"}, status=200)
    marked = post(
        f"households/{h1['id']}/unavailability",
        {"places": 1, "reason": "carer_circumstances", "start_on": "2025-06-01"},
    )
    post(f"unavailability/{marked['id']}/end", {"end_on": "2025-09-01"}, status=200)
    post(
        f"households/{h2['id']}/changes",
        {
            "effective_on": "2026-01-01",
            "status": "deregistered",
            "deregistration_reason": "retired",
        },
        status=200,
    )


def _same(prepared, reference) -> None:
    assert msgspec.to_builtins(prepared) == msgspec.to_builtins(reference)


def _compare(db) -> None:
    with db.read_session() as session:
        assert is_prepared(session, STOKE)
        for first, last in PERIODS:
            reference = funnel_report(session, STOKE, first, last, TODAY, prepared=False)
            summary = funnel_summary(session, STOKE, first, last, TODAY)
            _same(summary.overall, reference.overall)
            _same(summary.approvals_by_year, reference.approvals_by_year)
            for by in (None, *Dimension):
                _same(
                    funnel_report(session, STOKE, first, last, TODAY, by),
                    funnel_report(session, STOKE, first, last, TODAY, by, prepared=False),
                )
            for end in (D(2026, 10, 31), last):
                _same(
                    monthly_series(session, STOKE, first, end, TODAY),
                    monthly_series(session, STOKE, first, end, prepared=False),
                )
            for by_care_type in (False, True):
                _same(
                    monthly_flows(session, STOKE, first, last, by_care_type=by_care_type),
                    monthly_flows(
                        session, STOKE, first, last, by_care_type=by_care_type, prepared=False
                    ),
                )


def _stored(db, table) -> list[dict]:
    with db.read_session() as session:
        rows = session.query(table).filter(table.authority_code == STOKE).all()
        return sorted(
            ({k: v for k, v in r.model_dump().items() if k != "id" and v != 0} for r in rows),
            key=repr,
        )


def test_prepared_funnel_equals_the_reference_after_enquiry_writes(built):
    _enquiry_writes(built)
    with built.read_session() as session:
        report = funnel_report(session, STOKE, D(2025, 4, 1), D(2026, 3, 31), TODAY)
    # The hand-checked figures of test_funnel, after the reopening undid one application.
    reached = {s.stage.value: s.reached for s in report.overall.stages}
    assert (reached["enquiry"], reached["application"], reached["approved"]) == (5, 2, 1)
    assert report.overall.closed == 2
    _compare(built)


def test_the_whole_months_inside_a_period_are_read_off_the_prepared_rows(built):
    """Seven enquiries added to June 2025's prepared row (and nowhere else) show in every
    period whose whole months include June, and in no period that has June only at an edge."""
    _enquiry_writes(built)
    with built.writing() as session:
        session.execute(
            text(
                "UPDATE funnel_month SET reached_enquiry = reached_enquiry + 7 "
                "WHERE authority_code = :code AND month = '2025-06' AND id = "
                "(SELECT min(id) FROM funnel_month WHERE authority_code = :code "
                "AND month = '2025-06')"
            ),
            {"code": STOKE},
        )
    with built.read_session() as session:

        def extra(first: date, last: date) -> int:
            prepared = funnel_report(session, STOKE, first, last, TODAY)
            reference = funnel_report(session, STOKE, first, last, TODAY, prepared=False)
            return prepared.overall.enquiries - reference.overall.enquiries

        assert extra(D(2025, 5, 13), D(2026, 4, 2)) == 7
        assert extra(D(2025, 4, 5), D(2025, 8, 20)) == 7
        assert extra(D(2025, 6, 1), D(2025, 6, 30)) == 7
        assert extra(D(2025, 6, 2), D(2025, 7, 31)) == 0
        assert extra(D(2025, 5, 1), D(2025, 6, 29)) == 0


def test_prepared_register_equals_the_reference_after_register_writes(built, client, tokens):
    _register_writes(client, bearer(tokens["manager_stoke"]))
    with built.read_session() as session:
        flows = {f.month: f for f in monthly_flows(session, STOKE, D(2025, 1, 1), D(2026, 1, 31))}
    assert flows["2026-01"].deregistrations_by_reason == {"retired": 1}
    assert (flows["2025-12"].households, flows["2026-01"].households) == (2, 1)
    assert flows["2025-06"].vacant_places == 3 and flows["2025-04"].filled_places == 1
    _compare(built)


def test_imports_keep_the_prepared_figures_and_a_rebuild_changes_nothing(built, client, tokens):
    headers = bearer(tokens["manager_stoke"])
    for path, content in (("enquiries/import", GOOD_CSV), ("households/import", REGISTER_CSV)):
        response = client.post(
            f"{BASE}/{path}",
            content=content.encode(),
            headers={**headers, "Content-Type": "text/csv"},
        )
        assert response.status_code == 200, response.text
    _compare(built)
    kept = [_stored(built, t) for t in (FunnelMonth, RegisterMonth)]
    assert kept[0] and kept[1]
    last_month = max(row["month"] for row in kept[1])
    with built.writing() as session:
        # Up to the last month the writes kept (they ran on the server's clock).
        rebuild(session, STOKE, date.fromisoformat(f"{last_month}-01"))
    assert [_stored(built, t) for t in (FunnelMonth, RegisterMonth)] == kept


def test_a_council_not_built_reads_the_raw_rows(authorities):
    _enquiry_writes(authorities)
    with authorities.read_session() as session:
        assert not is_prepared(session, STOKE)
        report = funnel_report(session, STOKE, D(2025, 4, 1), D(2026, 3, 31), TODAY)
        assert session.query(FunnelMonth).count() == 0
    assert report.overall.enquiries == 5


def test_enquiries_counted_in_at_creation_equal_a_rebuild(built):
    # Same month, channel and campaign twice (one row counted up), no campaign (NULL matched),
    # another channel, another month: the increments must land where a refresh would.
    logged = [
        (D(2025, 5, 2), Channel.WEB_FORM, "Spring"),
        (D(2025, 5, 9), Channel.WEB_FORM, "Spring"),
        (D(2025, 5, 12), Channel.WEB_FORM, None),
        (D(2025, 5, 20), Channel.WEB_FORM, None),
        (D(2025, 5, 21), Channel.PHONE, None),
        (D(2025, 6, 3), Channel.PHONE, "Spring"),
    ]
    with built.writing() as session:
        for received, channel, campaign in logged:
            new = NewEnquiry(received_on=received, channel=channel, campaign=campaign)
            create_enquiry(session, SYSTEM, STOKE, new, TODAY)
    counted = [_stored(built, t) for t in (FunnelMonth, FunnelMonthEvents)]
    assert {"month": "2025-05", "enquiries": 5} in [
        {k: v for k, v in r.items() if k in ("month", "enquiries")} for r in counted[1]
    ]
    _compare(built)
    with built.writing() as session:
        rebuild(session, STOKE, TODAY)
    assert [_stored(built, t) for t in (FunnelMonth, FunnelMonthEvents)] == counted


def test_concurrent_writes_to_one_council_keep_its_prepared_figures(built):
    # Writers in parallel threads, each its own transaction: creates into the same month and
    # moves that refresh it. On PostgreSQL the council's upkeep lock keeps two refreshes of a
    # month from both deleting and inserting (a duplicate key) or missing each other's rows.
    def write(n: int) -> None:
        with built.writing() as session:
            new = NewEnquiry(received_on=D(2025, 5, 1 + n % 20), channel=Channel.WEB_FORM)
            record = create_enquiry(session, SYSTEM, STOKE, new, TODAY)
            if n % 2:
                move = StageMove(stage=Stage.FIRST_CONTACT, on=D(2025, 5, 25))
                advance_enquiry(session, SYSTEM, STOKE, record.id, move, TODAY)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        list(pool.map(write, range(24)))
    with built.read_session() as session:
        report = funnel_report(session, STOKE, D(2025, 5, 1), D(2025, 5, 31), TODAY)
    assert report.overall.enquiries == 24
    _compare(built)


def test_the_daily_step_stores_the_months_since_the_last_write(built, client, tokens):
    # Register writes run on the server's clock; a month later, with no write since, the
    # daily step stores every month up to the new one (two here), equal to the reference.
    _register_writes(client, bearer(tokens["manager_stoke"]))
    with built.read_session() as session:
        last = session.query(func.max(RegisterMonth.month)).scalar()
    later = add_months(parse_month(last), 2)
    assert extend_to_month(built, later) == [STOKE]
    assert extend_to_month(built, later) == []  # nothing left to store
    with built.read_session() as session:
        stored = {
            r.month for r in session.query(RegisterMonth).filter_by(authority_code=STOKE).all()
        }
        assert {month_label(add_months(parse_month(last), n)) for n in (1, 2)} <= stored
        ends = (parse_month(last), month_end(later))
        kept = monthly_flows(session, STOKE, *ends)
        assert kept == monthly_flows(session, STOKE, *ends, prepared=False)


def test_the_scheduler_stores_each_new_month_daily(built, client, tokens):
    _register_writes(client, bearer(tokens["manager_stoke"]))
    with built.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {jobs_scheduler.JOBSTORE_TABLE}"))
    settings = Settings(database_url=built.url, forecast_executor="serial")
    scheduler = jobs_scheduler.start_scheduler(settings, built)
    try:
        job = scheduler.get_job(jobs_scheduler.PREPARED_JOB_ID)
        assert job is not None
        assert (job.next_run_time.hour, job.next_run_time.minute) == (0, 5)
        jobs_scheduler.scheduled_prepared_months()  # as the job would: nothing is behind
        with built.read_session() as session:
            last = session.query(func.max(RegisterMonth.month)).scalar()
        assert last == month_label(london_today())
    finally:
        jobs_scheduler.shutdown_scheduler(scheduler, wait=True)
        with built.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {jobs_scheduler.JOBSTORE_TABLE}"))
