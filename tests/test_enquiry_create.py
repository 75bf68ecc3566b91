"""Logging an enquiry after the create path was trimmed (Core INSERTs, cached tokens): the
stored row, its history, its audit entry, an Idempotency-Key replay and a duplicate
external_ref are all as before, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import STOKE, bearer
from tracker.core.audit import AuditEntry
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.enquiries.timeliness import london_today

BASE = f"/api/v1/authorities/{STOKE}/enquiries"
TODAY = london_today()
RECEIVED = (TODAY - timedelta(days=4)).isoformat()
BODY = {
    "received_on": RECEIVED,
    "channel": "phone",
    "enquirer_name": "Sam Carter",
    "postcode_district": "st4",
    "interests": ["short_breaks", "emergency", "short_breaks"],
    "note": "rang after the radio advert",
}


def count(db, table) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_a_created_enquiry_is_returned_and_stored_as_sent(client, tokens, db):
    response = client.post(BASE, json=BODY, headers=bearer(tokens["recruiter_stoke"]))
    assert response.status_code == 201, response.text
    made = response.json()
    assert response.headers["location"] == f"{BASE}/{made['id']}"
    assert made["stage"] == "enquiry" and made["status"] == "open" and made["version"] == 1
    assert made["postcode_district"] == "ST4"
    assert made["interests"] == ["emergency", "short_breaks"]
    fetched = client.get(f"{BASE}/{made['id']}", headers=bearer(tokens["recruiter_stoke"]))
    assert fetched.json() == made
    with db.read_session() as session:
        row = session.get(Enquiry, made["id"])
        assert row is not None and row.created_at == row.updated_at


def test_a_created_enquiry_has_one_history_entry_with_its_note(client, tokens):
    made = client.post(BASE, json=BODY, headers=bearer(tokens["recruiter_stoke"])).json()
    history = client.get(f"{BASE}/{made['id']}/history", headers=bearer(tokens["recruiter_stoke"]))
    assert history.status_code == 200
    (entry,) = history.json()
    assert entry["action"] == "created" and entry["stage"] == "enquiry"
    assert entry["on"] == RECEIVED and entry["note"] == "rang after the radio advert"
    assert entry["actor"].startswith("recruiter:recruiter_stoke#")


def test_a_created_enquiry_is_audited_without_personal_data(client, tokens):
    made = client.post(BASE, json=BODY, headers=bearer(tokens["recruiter_stoke"])).json()
    audit = client.get(
        "/api/v1/audit",
        params={"entity_id": str(made["id"])},
        headers=bearer(tokens["manager_stoke"]),
    ).json()
    (entry,) = [a for a in audit if a["entity"] == "enquiry"]
    assert entry["action"] == "create" and entry["authority_code"] == STOKE
    assert entry["actor"].startswith("recruiter:recruiter_stoke#")
    assert "Sam" not in str(audit) and "radio" not in str(audit)


def test_a_replayed_create_returns_the_first_answer_and_writes_nothing_more(client, tokens, db):
    headers = {**bearer(tokens["recruiter_stoke"]), "Idempotency-Key": "create-trim-1"}
    first = client.post(BASE, json=BODY, headers=headers)
    again = client.post(BASE, json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert count(db, Enquiry) == 1 and count(db, EnquiryEvent) == 1
    assert count(db, AuditEntry) == 1


def test_a_duplicate_external_ref_is_a_conflict_that_writes_nothing(client, tokens, db):
    body = {**BODY, "external_ref": "SHEET-9"}
    assert (
        client.post(BASE, json=body, headers=bearer(tokens["recruiter_stoke"])).status_code == 201
    )
    response = client.post(BASE, json=body, headers=bearer(tokens["recruiter_stoke"]))
    assert response.status_code == 409 and response.json()["field"] == "external_ref"
    assert count(db, Enquiry) == 1 and count(db, EnquiryEvent) == 1
    assert count(db, AuditEntry) == 1


def test_a_refused_create_leaves_no_history_or_audit_entry(client, tokens, db):
    body = {**BODY, "received_on": (TODAY + timedelta(days=1)).isoformat()}
    response = client.post(BASE, json=body, headers=bearer(tokens["recruiter_stoke"]))
    assert response.status_code == 422 and response.json()["field"] == "received_on"
    assert count(db, Enquiry) == count(db, EnquiryEvent) == count(db, AuditEntry) == 0
