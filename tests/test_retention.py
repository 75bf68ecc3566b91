"""The retention job: personal data of closed (unsuccessful) enquiries is erased once the
retention period after closure has passed (3 years by default, as regulation 32 of the
Fostering Services Regulations 2011 sets for refused or withdrawn applicants), audited, in
short batches, with a report; nothing else is touched, and a second pass erases nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from api.cli.base import main
from jobs import retention as retention_job
from jobs import scheduler as jobs_scheduler
from tests.conftest import COVENTRY, STOKE
from tracker.children.history import years_before
from tracker.core.access import SYSTEM
from tracker.core.audit import AuditEntry
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.schemas import Closure, NewEnquiry
from tracker.enquiries.service import close_enquiry, create_enquiry, erase_personal_data
from tracker.enquiries.stages import ClosureReason
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import london_today
from tracker.enquiries.vocabulary import Channel

# Today, as the scheduled job and the command see it; closures around 3 years before.
TODAY = london_today()
CUTOFF = years_before(TODAY, 3)
DAY = timedelta(days=1)
# name: (authority, received, closed on or None for still open)
ENQUIRIES = {
    "Closed Longago": (STOKE, CUTOFF - 300 * DAY, CUTOFF - DAY),  # 3 years and a day
    "Closed Exactly": (STOKE, CUTOFF - 100 * DAY, CUTOFF),  # 3 years to the day
    "Closed Recently": (STOKE, CUTOFF - 100 * DAY, CUTOFF + DAY),  # a day short
    "Still Open": (STOKE, years_before(TODAY, 5), None),
    "Coventry Closed": (COVENTRY, years_before(TODAY, 7), years_before(TODAY, 6)),
}
DUE = {"Closed Longago", "Closed Exactly", "Coventry Closed"}


@pytest.fixture
def enquiries(authorities: Database) -> dict[str, int]:
    ids = {}
    with authorities.writing() as session:
        for name, (code, received, closed) in ENQUIRIES.items():
            new = NewEnquiry(
                received_on=received,
                channel=Channel.PHONE,
                enquirer_name=name,
                email=f"{name.split()[1].lower()}@example.org",
                campaign=f"Referred by {name}",
            )
            record = create_enquiry(session, SYSTEM, code, new, TODAY)
            if closed is not None:
                reason = Closure(
                    reason=ClosureReason.WITHDRAWN_BY_APPLICANT, on=closed, note=f"{name} left"
                )
                close_enquiry(session, SYSTEM, code, record.id, reason, TODAY)
            ids[name] = record.id
    return ids


def _rows(database: Database) -> dict[str, Enquiry]:
    with database.read_session() as session:
        rows = list(session.scalars(select(Enquiry)))
    by_id = {row.id: row for row in rows}
    return by_id  # type: ignore[return-value]


def test_enquiries_closed_past_the_period_lose_their_personal_data_and_nothing_else(
    authorities, enquiries
):
    before = _rows(authorities)
    forgotten: list[tuple[str, int]] = []

    report = retention_job.run_retention(
        authorities, TODAY, 3, after_erasure=lambda _s, code, i: forgotten.append((code, i))
    )

    assert report.closed_on_or_before == CUTOFF
    assert report.erased == {COVENTRY: 1, STOKE: 2}
    assert report.total == 3 and not report.dry_run
    assert sorted(forgotten) == sorted((ENQUIRIES[name][0], enquiries[name]) for name in DUE)
    after = _rows(authorities)
    for name, enquiry_id in enquiries.items():
        row, old = after[enquiry_id], before[enquiry_id]
        assert (row.received_on, row.closed_on, row.stage, row.closure_reason) == (
            old.received_on, old.closed_on, old.stage, old.closure_reason,
        )  # fmt: skip
        if name in DUE:
            assert row.erased_at is not None
            assert (row.enquirer_name, row.email, row.campaign) == (None, None, None)
        else:
            assert row.erased_at is None
            assert row.enquirer_name == name and row.campaign == f"Referred by {name}"
    with authorities.read_session() as session:
        notes = session.execute(text("SELECT note FROM enquiry_event")).scalars().all()
        audited = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "retention")))
    assert not any("Closed Longago" in (n or "") for n in notes)
    assert any("Closed Recently" in (n or "") for n in notes)
    assert {(a.authority_code, a.actor, a.detail["erased"]) for a in audited} == {
        (STOKE, "admin:retention", 2),
        (COVENTRY, "admin:retention", 1),
    }
    again = retention_job.run_retention(authorities, TODAY, 3)
    assert again.total == 0 and again.erased == {}


def test_a_dry_run_counts_and_changes_nothing(authorities, enquiries):
    before = {i: (r.enquirer_name, r.erased_at) for i, r in _rows(authorities).items()}
    report = retention_job.run_retention(authorities, TODAY, 3, dry_run=True)
    assert report.dry_run and report.erased == {COVENTRY: 1, STOKE: 2} and report.total == 3
    assert {i: (r.enquirer_name, r.erased_at) for i, r in _rows(authorities).items()} == before


def test_already_erased_enquiries_are_not_counted_and_the_period_is_configurable(
    authorities, enquiries
):
    with authorities.writing() as session:
        erase_personal_data(session, SYSTEM, STOKE, enquiries["Closed Longago"], TODAY)
    assert retention_job.run_retention(authorities, TODAY, 3, dry_run=True).erased == {
        COVENTRY: 1,
        STOKE: 1,
    }
    assert retention_job.run_retention(authorities, TODAY, 5, dry_run=True).erased == {COVENTRY: 1}
    assert Settings.from_env({"FOSTERING_RETENTION_YEARS": "6"}).retention_years == 6
    assert Settings().retention_years == 3


def test_the_job_erases_in_batches(authorities, enquiries, monkeypatch):
    monkeypatch.setattr(retention_job, "BATCH", 1)
    batches: list[int] = []
    real = retention_job.erase_expired

    def counted(*args, **kwargs):
        report = real(*args, **kwargs)
        batches.append(report.total)
        return report

    monkeypatch.setattr(retention_job, "erase_expired", counted)
    report = retention_job.run_retention(authorities, TODAY, 3)
    assert report.total == 3
    assert batches == [1, 1, 1, 0]


def test_the_scheduler_runs_the_retention_job_nightly(authorities, enquiries):
    with authorities.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {jobs_scheduler.JOBSTORE_TABLE}"))
    settings = Settings(database_url=authorities.url, forecast_executor="serial")
    scheduler = jobs_scheduler.start_scheduler(settings, authorities)
    try:
        job = scheduler.get_job(jobs_scheduler.RETENTION_JOB_ID)
        assert job is not None
        assert (job.next_run_time.hour, job.next_run_time.minute) == (3, 30)
        assert job.coalesce is True
        jobs_scheduler.scheduled_retention()  # as the job would, today: all three are due
        assert sum(r.erased_at is not None for r in _rows(authorities).values()) == 3
    finally:
        jobs_scheduler.shutdown_scheduler(scheduler, wait=True)
    off = Settings(database_url=authorities.url, retention_years=0, forecast_executor="serial")
    scheduler = jobs_scheduler.start_scheduler(off, authorities)
    try:
        assert scheduler.get_job(jobs_scheduler.RETENTION_JOB_ID) is None
    finally:
        jobs_scheduler.shutdown_scheduler(scheduler, wait=True)
        with authorities.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {jobs_scheduler.JOBSTORE_TABLE}"))


def test_the_command_line_reports_per_authority(authorities, enquiries):
    env = {"DATABASE_URL": authorities.url}
    dry = CliRunner().invoke(main, ["retention", "run", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would erase the personal data of 3" in dry.output
    assert f"{STOKE}: 2" in dry.output and f"{COVENTRY}: 1" in dry.output
    done = CliRunner().invoke(main, ["retention", "run"], env=env)
    assert done.exit_code == 0, done.output
    assert "erased the personal data of 3" in done.output
    assert sum(r.erased_at is not None for r in _rows(authorities).values()) == 3
