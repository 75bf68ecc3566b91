"""What an erasure leaves behind: a retry with the Idempotency-Key of an erased enquiry's
create gets a tombstone (410, no personal data) and never creates the person again, whether
a manager or the retention job erased it; on SQLite the erased bytes leave the database file
and its write-ahead log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.idempotency.store import IdempotencyRecord, forget_enquiry
from jobs.retention import run_retention
from tests.conftest import AUTHORITIES, COVENTRY, STOKE, bearer
from tracker.children.history import years_before
from tracker.core import schema
from tracker.core.access import Role, issue_token
from tracker.core.audit import AuditEntry
from tracker.core.authorities import add_authority
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import london_today

BASE = f"/api/v1/authorities/{STOKE}/enquiries"
TODAY = london_today()
NAME = "Ottilie Quarrendon"
EMAIL = "ottilie.quarrendon.7f3a@example.org"
NEW = {
    "received_on": (TODAY - timedelta(days=3)).isoformat(),
    "channel": "phone",
    "enquirer_name": NAME,
    "email": EMAIL,
}


def enquiry_count(db: Database) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Enquiry)) or 0


def assert_tombstone(response, enquiry_id: int) -> None:
    assert response.status_code == 410, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["idempotent-replayed"] == "true"
    assert response.json()["id"] == enquiry_id
    assert "erased" in response.json()["detail"]
    assert NAME not in response.text and EMAIL not in response.text


def test_a_retry_after_erasure_gets_a_tombstone_and_creates_nobody(client, tokens, db):
    manager = bearer(tokens["manager_stoke"])
    keyed = manager | {"Idempotency-Key": "erase-then-retry-1"}
    created = client.post(BASE, json=NEW, headers=keyed)
    assert created.status_code == 201, created.text
    enquiry_id = created.json()["id"]
    erased = client.delete(f"{BASE}/{enquiry_id}/personal-data", headers=manager)
    assert erased.status_code == 200, erased.text

    retry = client.post(BASE, json=NEW, headers=keyed)

    assert_tombstone(retry, enquiry_id)
    assert retry.headers["location"].endswith(f"/enquiries/{enquiry_id}")
    assert enquiry_count(db) == 1
    # A second retry gets the same tombstone; a new key is a new request.
    assert_tombstone(client.post(BASE, json=NEW, headers=keyed), enquiry_id)
    fresh = client.post(BASE, json=NEW, headers=manager | {"Idempotency-Key": "another"})
    assert fresh.status_code == 201 and fresh.json()["id"] != enquiry_id


def test_a_retry_after_the_retention_job_erased_it_gets_a_tombstone(client, tokens, db):
    manager = bearer(tokens["manager_stoke"])
    keyed = manager | {"Idempotency-Key": "old-applicant-1"}
    received = years_before(TODAY, 5)
    old = NEW | {"received_on": received.isoformat()}
    created = client.post(BASE, json=old, headers=keyed)
    assert created.status_code == 201, created.text
    enquiry_id = created.json()["id"]
    closing = {"reason": "no_response", "on": (received + timedelta(days=30)).isoformat()}
    closed = client.post(f"{BASE}/{enquiry_id}/close", json=closing, headers=manager)
    assert closed.status_code == 200, closed.text

    report = run_retention(db, TODAY, 3, after_erasure=forget_enquiry)
    assert report.total == 1

    assert_tombstone(client.post(BASE, json=old, headers=keyed), enquiry_id)
    assert enquiry_count(db) == 1


def _stored_bodies(db: Database) -> list[bytes]:
    with db.read_session() as session:
        return list(session.scalars(select(IdempotencyRecord.body)))


def test_stored_responses_of_a_hub_enquiry_become_tombstones_wherever_it_went(client, tokens, db):
    """A hub's record wraps the enquiry (`{"enquiry": ...}`) under the hub's path, and the
    council the hub routed it to first may have changed or declined it before the hub
    reassigned it: every stored response showing the person goes when the last erases it."""
    made = client.post(
        "/api/v1/hubs",
        json={"name": "West Midlands hub", "members": [STOKE, COVENTRY]},
        headers=bearer(tokens["admin"]),
    )
    assert made.status_code == 201, made.text
    hub = f"/api/v1/hubs/{made.json()['id']}/enquiries"
    issued = client.post(
        "/api/v1/tokens",
        json={"role": "hub", "name": "hub officer", "hub_id": made.json()["id"]},
        headers=bearer(tokens["admin"]),
    )
    officer = bearer(issued.json()["secret"])
    new = NEW | {"authority_code": STOKE}
    keyed = officer | {"Idempotency-Key": "hub-create-1"}
    created = client.post(hub, json=new, headers=keyed)
    assert created.status_code == 201, created.text
    enquiry_id = created.json()["enquiry"]["id"]
    stoke = bearer(tokens["recruiter_stoke"])
    edit = {"phone": "07700 900872"}
    edit_headers = stoke | {"If-Match": '"1"', "Idempotency-Key": "stoke-1"}
    edited = client.patch(f"{BASE}/{enquiry_id}", json=edit, headers=edit_headers)
    assert edited.status_code == 200, edited.text
    for n, stage in enumerate(("first_contact", "initial_visit", "application")):
        moved = client.post(
            f"{hub}/{enquiry_id}/stage",
            json={"stage": stage},
            headers=officer | {"Idempotency-Key": f"hub-stage-{n}"},
        )
        assert moved.status_code == 200, moved.text
    assert client.post(f"{hub}/{enquiry_id}/offer", json={}, headers=officer).status_code == 200
    declined = client.post(
        f"/api/v1/authorities/{STOKE}/handovers/{enquiry_id}/decline",
        json={"reason": "out_of_area"},
        headers=stoke | {"Idempotency-Key": "stoke-2"},
    )
    assert declined.status_code == 200, declined.text
    reassign = {"authority_code": COVENTRY}
    moved_on = client.post(f"{hub}/{enquiry_id}/reassign", json=reassign, headers=officer)
    assert moved_on.status_code == 200, moved_on.text

    erased = client.delete(
        f"/api/v1/authorities/{COVENTRY}/enquiries/{enquiry_id}/personal-data",
        headers=bearer(tokens["manager_coventry"]),
    )
    assert erased.status_code == 200, erased.text

    assert not [body for body in _stored_bodies(db) if EMAIL.encode() in body]
    assert_tombstone(client.post(hub, json=new, headers=keyed), enquiry_id)
    assert_tombstone(
        client.patch(f"{BASE}/{enquiry_id}", json=edit, headers=edit_headers), enquiry_id
    )
    assert enquiry_count(db) == 1


def test_an_import_report_names_no_phone_number(client, tokens, db):
    """The report of an import is kept for retries (and shown): a warning about a phone
    number names its row and column, never the number, which erasure could not reach."""
    sheet = f"external_ref,received_on,channel,phone\nPH-1,{NEW['received_on']},phone,7700900871\n"
    headers = bearer(tokens["manager_stoke"]) | {
        "Content-Type": "text/csv",
        "Idempotency-Key": "import-phone-1",
    }
    imported = client.post(f"{BASE}/import", content=sheet, headers=headers)
    assert imported.status_code == 200, imported.text
    (warning,) = imported.json()["warnings"]
    assert (warning["row"], warning["column"]) == (2, "phone")
    assert "900871" not in imported.text
    assert not [body for body in _stored_bodies(db) if b"900871" in body]


def test_the_audit_of_an_export_keeps_no_campaign_text(client, tokens, db):
    """A campaign is free text that may name a person (erasure blanks it): an export filtered
    by one is audited as filtered by a campaign, without the text."""
    campaign = f"referred by {NAME}"
    manager = bearer(tokens["manager_stoke"])
    created = client.post(BASE, json=NEW | {"campaign": campaign}, headers=manager)
    assert created.status_code == 201, created.text
    exported = client.get(
        f"{BASE}/export", params={"format": "csv", "campaign": campaign}, headers=manager
    )
    assert exported.status_code == 200 and NAME in exported.text
    erased = client.delete(f"{BASE}/{created.json()['id']}/personal-data", headers=manager)
    assert erased.status_code == 200, erased.text

    with db.read_session() as session:
        details = [entry.detail for entry in session.scalars(select(AuditEntry))]
    (export,) = [d for d in details if "filters" in d]
    assert export["filters"]["campaign"] is True
    assert NAME not in json.dumps(details)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Database, Path, TestClient, str]]:
    """A database of its own (so that no other test's rows are in its file), the app, and a
    Stoke manager's token."""
    path = tmp_path / "erase.db"
    database = Database(f"sqlite:///{path}")
    schema.upgrade(database)
    with database.writing() as session:
        for new in AUTHORITIES:
            add_authority(session, new)
        secret = issue_token(session, role=Role.MANAGER, name="m", authority_code=STOKE).secret
    settings = Settings(database_url=database.url, scheduler_enabled=False)
    with TestClient(create_app(settings, database)) as client:
        yield database, path, client, secret
    database.dispose()


def on_disk(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_on_sqlite_the_erased_bytes_leave_the_file_and_the_wal(sqlite_file):
    _database, path, client, secret = sqlite_file
    keyed = bearer(secret) | {"Idempotency-Key": "on-disk-1"}
    created = client.post(BASE, json=NEW, headers=keyed)
    assert created.status_code == 201, created.text
    enquiry_id = created.json()["id"]
    edited = client.patch(
        f"{BASE}/{enquiry_id}",
        json={"enquirer_name": NAME + " Jr"},
        headers=bearer(secret) | {"If-Match": created.headers["etag"]},
    )
    assert edited.status_code == 200, edited.text
    assert EMAIL.encode() in on_disk(path)  # the check can see the bytes

    erased = client.delete(f"{BASE}/{enquiry_id}/personal-data", headers=bearer(secret))
    assert erased.status_code == 200, erased.text

    data = on_disk(path)
    assert EMAIL.encode() not in data
    assert NAME.encode() not in data
