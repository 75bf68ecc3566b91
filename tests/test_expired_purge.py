"""What is kept only for a while goes when its time is up, whether or not anyone uses the
service: uploads waiting for their confirmation (an hour; they can hold enquirers' details or
whole SSDA903 files) and responses kept for idempotent retries (24 hours) are deleted by a
job every 15 minutes and by `fostering retention run`, and an expired upload is never read.
Erasing an enquirer deletes the council's waiting enquiry uploads, which may hold them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from api.cli.base import main
from api.dashboard import uploads
from api.housekeeping import forget_erased, purge_expired
from api.idempotency import store as idempotency
from api.idempotency.store import IdempotencyRecord
from jobs import scheduler as jobs_scheduler
from tests.conftest import COVENTRY, STOKE, bearer
from tests.test_dashboard_enquiries import _signed_in
from tests.test_dashboard_manage import FIXED, _confirm_path, _preview
from tracker.children.history import years_before
from tracker.core.access import SYSTEM, ApiToken
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.schemas import Closure, NewEnquiry
from tracker.enquiries.service import close_enquiry, create_enquiry
from tracker.enquiries.stages import ClosureReason
from tracker.enquiries.timeliness import london_today
from tracker.enquiries.vocabulary import Channel

TODAY = london_today()
AN_HOUR = uploads.UPLOAD_LIFETIME
PERSON = uploads.UploadedFile("team.csv", b"enquirer_name,email\nAnn Example,ann@example.org\n")


def _token_ids(database: Database) -> dict[str, int]:
    with database.read_session() as session:
        return {name: id_ for id_, name in session.execute(select(ApiToken.id, ApiToken.name))}


def _keep(database: Database, token_id: int, code: str, kind: str, at: datetime) -> int:
    with database.writing() as session:
        return uploads.keep(session, token_id, code, kind, [PERSON], {}, now=at)


def _waiting(database: Database) -> set[int]:
    with database.read_session() as session:
        return set(session.scalars(select(uploads.PendingUpload.id)))


def _keys(database: Database) -> set[str]:
    with database.read_session() as session:
        return set(session.scalars(select(IdempotencyRecord.key)))


def _fresh_and_expired(database: Database) -> int:
    """An upload and a stored response each, one in its time and one past it; the fresh
    upload's id. (The fresh upload is kept first: keeping one deletes those expired by then.)"""
    now = utcnow()
    token_id = _token_ids(database)["recruiter_stoke"]
    fresh = _keep(database, token_id, STOKE, "enquiries", now)
    _keep(database, token_id, STOKE, "ssda903", now - AN_HOUR - timedelta(minutes=1))
    fingerprint = idempotency.request_print("POST", "/x", "", b"{}")
    stored = idempotency.StoredResponse(
        status_code=201,
        body=b'{"enquirer_name": "Ann"}',
        content_type="application/json",
        headers={},
    )
    with database.writing() as session:
        for key, at in (("old", now - timedelta(hours=25)), ("new", now - timedelta(hours=23))):
            claim = idempotency.claim(session.connection(), token_id, key, fingerprint, now=at)
            assert claim.record_id is not None
            assert idempotency.complete(session.connection(), claim.record_id, stored)
    assert len(_waiting(database)) == 2 and _keys(database) == {"old", "new"}
    return fresh


def test_a_job_every_15_minutes_deletes_expired_uploads_and_responses(authorities, tokens):
    fresh = _fresh_and_expired(authorities)
    with authorities.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {jobs_scheduler.JOBSTORE_TABLE}"))
    settings = Settings(database_url=authorities.url, forecast_executor="serial")
    scheduler = jobs_scheduler.start_scheduler(
        settings, authorities, after_erasure=forget_erased, purge=purge_expired
    )
    try:
        job = scheduler.get_job(jobs_scheduler.PURGE_JOB_ID)
        assert job is not None and job.coalesce is True
        assert job.next_run_time.minute % 15 == 0 and job.next_run_time.second == 0
        assert job.next_run_time - utcnow() <= timedelta(minutes=15)
        jobs_scheduler.scheduled_purge()  # as the job would, now
    finally:
        jobs_scheduler.shutdown_scheduler(scheduler, wait=True)
        with authorities.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {jobs_scheduler.JOBSTORE_TABLE}"))
    assert _waiting(authorities) == {fresh}
    assert _keys(authorities) == {"new"}


def test_the_retention_command_deletes_them_too_and_its_dry_run_counts(authorities, tokens):
    fresh = _fresh_and_expired(authorities)
    env = {"DATABASE_URL": authorities.url}
    dry = CliRunner().invoke(main, ["retention", "run", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "expired: would delete 1 waiting uploads, 1 stored responses" in dry.output
    assert len(_waiting(authorities)) == 2 and _keys(authorities) == {"old", "new"}
    done = CliRunner().invoke(main, ["retention", "run"], env=env)
    assert done.exit_code == 0, done.output
    assert "expired: deleted 1 waiting uploads, 1 stored responses" in done.output
    assert _waiting(authorities) == {fresh} and _keys(authorities) == {"new"}


def test_a_confirmation_after_the_hour_is_refused_in_words(client, tokens, monkeypatch):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    preview = _preview(client, csrf, "enquiries", {"team.csv": FIXED})
    assert preview.status_code == 200
    later = utcnow() + AN_HOUR + timedelta(seconds=1)
    monkeypatch.setattr(uploads, "utcnow", lambda: later)
    late = client.post(_confirm_path(preview.text), data={"csrf_token": csrf})
    assert late.status_code == 404
    assert "has expired (after an hour): if its records are not there, upload" in late.text


def _uploads_around(database: Database) -> dict[str, int]:
    """Waiting uploads: Stoke's enquiries (two sign-ins), Stoke's register, Coventry's
    enquiries."""
    ids = _token_ids(database)
    now = utcnow()
    return {
        "stoke enquiries": _keep(database, ids["recruiter_stoke"], STOKE, "enquiries", now),
        "stoke enquiries too": _keep(database, ids["manager_stoke"], STOKE, "enquiries", now),
        "stoke register": _keep(database, ids["manager_stoke"], STOKE, "households", now),
        "coventry enquiries": _keep(
            database, ids["recruiter_coventry"], COVENTRY, "enquiries", now
        ),
    }


@pytest.mark.parametrize("where", ["api", "dashboard"])
def test_erasing_an_enquirer_drops_the_councils_waiting_enquiry_uploads(
    client, tokens, authorities, where
):
    created = client.post(
        f"/api/v1/authorities/{STOKE}/enquiries",
        json={"received_on": TODAY.isoformat(), "channel": "phone", "enquirer_name": "Ann"},
        headers=bearer(tokens["recruiter_stoke"]),
    )
    assert created.status_code == 201, created.text
    enquiry_id = created.json()["id"]
    kept = _uploads_around(authorities)
    if where == "api":
        erased = client.delete(
            f"/api/v1/authorities/{STOKE}/enquiries/{enquiry_id}/personal-data",
            headers=bearer(tokens["manager_stoke"]),
        )
        assert erased.status_code == 200, erased.text
    else:
        csrf = _signed_in(client, tokens["manager_stoke"])
        path = f"/dashboard/enquiries/{enquiry_id}/erase"
        erased = client.post(path, data={"csrf_token": csrf}, follow_redirects=False)
        assert erased.status_code == 303, erased.text
    assert _waiting(authorities) == {kept["stoke register"], kept["coventry enquiries"]}


def test_the_retention_job_drops_them_too(authorities, tokens):
    with authorities.writing() as session:
        new = NewEnquiry(
            received_on=years_before(TODAY, 5), channel=Channel.PHONE, enquirer_name="Old"
        )
        record = create_enquiry(session, SYSTEM, STOKE, new, TODAY)
        closure = Closure(reason=ClosureReason.WITHDRAWN_BY_APPLICANT, on=years_before(TODAY, 4))
        close_enquiry(session, SYSTEM, STOKE, record.id, closure, TODAY)
    kept = _uploads_around(authorities)
    done = CliRunner().invoke(main, ["retention", "run"], env={"DATABASE_URL": authorities.url})
    assert done.exit_code == 0, done.output
    assert "erased the personal data of 1" in done.output
    assert _waiting(authorities) == {kept["stoke register"], kept["coventry enquiries"]}
