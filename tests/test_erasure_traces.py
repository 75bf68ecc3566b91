"""What an erasure leaves behind: a retry with the Idempotency-Key of an erased enquiry's
create gets a tombstone (410, no personal data) and never creates the person again, whether
a manager or the retention job erased it; on SQLite the erased bytes leave the database file
and its write-ahead log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.idempotency.store import forget_enquiry
from jobs.retention import run_retention
from tests.conftest import AUTHORITIES, STOKE, bearer
from tracker.children.history import years_before
from tracker.core import schema
from tracker.core.access import Role, issue_token
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
