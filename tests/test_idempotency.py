"""Idempotency-Key on writes: a retry returns the first response and creates nothing new,
on SQLite and PostgreSQL, through the test client and against a real server."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from api.idempotency import store as idempotency
from api.idempotency.store import IdempotencyRecord
from tests.conftest import STOKE, bearer
from tests.live_server import ThreadServer
from tracker.core.clock import utcnow
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import london_today

BASE = f"/api/v1/authorities/{STOKE}/enquiries"
TODAY = london_today()
BODY = {"received_on": (TODAY - timedelta(days=3)).isoformat(), "channel": "phone"}


def keyed(secret: str, key: str) -> dict[str, str]:
    return {**bearer(secret), "Idempotency-Key": key}


def enquiry_count(db) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(Enquiry)) or 0


def key_count(db) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0


def test_a_retried_create_returns_the_first_response_and_creates_one_row(client, tokens, db):
    headers = keyed(tokens["recruiter_stoke"], "3f1c2a9e-create-1")
    first = client.post(BASE, json=BODY, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = client.post(BASE, json=BODY, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"].startswith("application/json")
    assert enquiry_count(db) == 1 and key_count(db) == 1
    # Without a key, the same body creates a second enquiry: the key is what makes it a retry.
    plain = client.post(BASE, json=BODY, headers=bearer(tokens["recruiter_stoke"]))
    assert plain.status_code == 201
    assert enquiry_count(db) == 2


def test_the_same_key_for_a_different_request_is_refused_naming_the_header(client, tokens, db):
    headers = keyed(tokens["recruiter_stoke"], "reused")
    assert client.post(BASE, json=BODY, headers=headers).status_code == 201
    other = client.post(BASE, json={**BODY, "channel": "email"}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    problem = other.json()
    assert problem["field"] == "Idempotency-Key"
    assert problem["rule"] == "idempotency_key_reused"
    assert enquiry_count(db) == 1
    # Another path with the same key and body is a different request too.
    move = client.post(f"{BASE}/1/stage", json={"stage": "first_contact"}, headers=headers)
    assert move.status_code == 422 and move.json()["field"] == "Idempotency-Key"


def test_keys_belong_to_the_token_that_sent_them(client, tokens, db):
    mine = client.post(BASE, json=BODY, headers=keyed(tokens["recruiter_stoke"], "k-1"))
    theirs = client.post(BASE, json=BODY, headers=keyed(tokens["manager_stoke"], "k-1"))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "idempotent-replayed" not in theirs.headers
    assert enquiry_count(db) == 2


def test_malformed_keys_get_400_naming_the_header_and_change_nothing(client, tokens, db):
    secret = tokens["recruiter_stoke"]
    for key in ("x" * 201, " ", "caf\u00e9"):
        response = client.post(
            BASE,
            json=BODY,
            headers=[
                ("Authorization", f"Bearer {secret}"),
                ("Idempotency-Key", key.encode("latin-1")),  # type: ignore[list-item]
            ],
        )
        assert response.status_code == 400, (key, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == "Idempotency-Key"
    ok = client.post(BASE, json=BODY, headers=keyed(secret, "x" * 200))
    assert ok.status_code == 201
    assert enquiry_count(db) == 1


def test_a_refused_request_stores_no_key_so_the_corrected_retry_runs(client, tokens, db):
    headers = keyed(tokens["recruiter_stoke"], "fix-and-retry")
    future = {**BODY, "received_on": (TODAY + timedelta(days=5)).isoformat()}
    refused = client.post(BASE, json=future, headers=headers)
    assert refused.status_code == 422, refused.text
    assert key_count(db) == 0
    fixed = client.post(BASE, json=BODY, headers=headers)
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers
    assert enquiry_count(db) == 1


def test_a_retried_stage_move_is_answered_from_the_store_not_refused(client, tokens, db):
    secret = tokens["recruiter_stoke"]
    created = client.post(BASE, json=BODY, headers=bearer(secret)).json()
    move = {"stage": "first_contact", "on": TODAY.isoformat()}
    url = f"{BASE}/{created['id']}/stage"
    first = client.post(url, json=move, headers=keyed(secret, "move-1"))
    assert first.status_code == 200 and first.json()["version"] == created["version"] + 1
    # Without the key a second move to the same stage breaks the forward-only rule...
    assert client.post(url, json=move, headers=bearer(secret)).status_code == 409
    # ...with it, the retry gets the first answer.
    again = client.post(url, json=move, headers=keyed(secret, "move-1"))
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


def test_a_dry_run_stores_no_key(client, tokens, db):
    secret = tokens["recruiter_stoke"]
    csv = f"external_ref,received_on,channel\nREF-1,{BODY['received_on']},phone\n".encode()
    headers = {**keyed(secret, "import-1"), "Content-Type": "text/csv"}
    dry = client.post(f"{BASE}/import?dry_run=true", content=csv, headers=headers)
    assert dry.status_code == 200 and dry.json()["created"] == 1, dry.text
    assert key_count(db) == 0 and enquiry_count(db) == 0
    real = client.post(f"{BASE}/import", content=csv, headers=headers)
    assert real.status_code == 200 and real.json()["created"] == 1
    assert enquiry_count(db) == 1
    again = client.post(f"{BASE}/import", content=csv, headers=headers)
    assert again.headers["idempotent-replayed"] == "true" and again.json()["created"] == 1


def test_keys_expire_after_a_day(client, tokens, db):
    headers = keyed(tokens["recruiter_stoke"], "old")
    first = client.post(BASE, json=BODY, headers=headers).json()
    with db.writing() as session:
        session.execute(
            update(IdempotencyRecord).values(
                created_at=IdempotencyRecord.created_at - timedelta(hours=25)  # type: ignore[operator]
            )
        )
    later = client.post(BASE, json=BODY, headers=headers)
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert later.json()["id"] != first["id"]
    assert enquiry_count(db) == 2 and key_count(db) == 1


def test_requests_without_a_token_or_key_are_untouched(client, tokens, db):
    anonymous = client.post(BASE, json=BODY, headers={"Idempotency-Key": "x"})
    assert anonymous.status_code == 401
    assert client.get(BASE, headers=keyed(tokens["recruiter_stoke"], "ignored")).status_code == 200
    assert key_count(db) == 0


def test_the_header_is_documented_on_create_routes(client):
    spec = client.get("/schema/openapi.json").json()
    operation = spec["paths"]["/api/v1/authorities/{code}/enquiries"]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["required"] is False
    assert header["schema"]["maxLength"] == 200


def test_concurrent_duplicates_create_one_enquiry_on_a_real_server(authorities, tokens):
    """Eight clients send the same keyed create at the same moment: one enquiry, one answer."""
    url = f"{BASE}/"
    headers = keyed(tokens["recruiter_stoke"], "burst-1")
    barrier = threading.Barrier(8)
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    with ThreadServer(authorities.url) as server:

        def send() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                barrier.wait()
                response = http.post(url, json=BODY, headers=headers)
            with lock:
                answers.append(response)

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(answers) == 8
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 7
    assert enquiry_count(authorities) == 1 and key_count(authorities) == 1


def test_a_retried_edit_is_answered_from_the_store_not_refused_as_stale(client, tokens, db):
    secret = tokens["recruiter_stoke"]
    created = client.post(BASE, json=BODY, headers=bearer(secret))
    url = f"{BASE}/{created.json()['id']}"
    headers = {**keyed(secret, "edit-1"), "If-Match": created.headers["etag"]}
    first = client.patch(url, json={"campaign": "Spring"}, headers=headers)
    assert first.status_code == 200 and first.json()["version"] == 2
    # The same If-Match again is stale now: without the key, 412...
    stale = client.patch(
        url, json={"campaign": "Spring"}, headers={**headers, "Idempotency-Key": "other"}
    )
    assert stale.status_code == 412
    # ...with the first key, the first answer.
    again = client.patch(url, json={"campaign": "Spring"}, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["etag"] == '"2"'


def test_expired_keys_are_purged(db):
    fingerprint = idempotency.request_print("POST", "/x", "", b"{}")
    stored = idempotency.StoredResponse(
        status_code=201, body=b"{}", content_type="application/json", headers={}
    )
    now = utcnow()
    with db.writing() as session:
        for key, at in (("old", now - timedelta(hours=25)), ("new", now - timedelta(hours=23))):
            claim = idempotency.claim(session.connection(), 1, key, fingerprint, now=at)
            assert claim.record_id is not None
            assert idempotency.complete(session.connection(), claim.record_id, stored)
    with db.writing() as session:
        assert idempotency.purge_expired(session.connection(), now=now) == 1
    with db.read_session() as session:
        assert list(session.scalars(select(IdempotencyRecord.key))) == ["new"]
