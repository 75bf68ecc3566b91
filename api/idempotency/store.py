"""Idempotency keys: a retried create with the same key returns the first response.

A key belongs to the token that sent it. The first request with a key claims it by storing a
pending row in the same transaction as the change it makes; the row is completed with the
response before that transaction commits, so other transactions only ever see a key with its
response. A duplicate sent at the same time waits for that transaction (SQLite's write lock;
PostgreSQL's unique index) and then finds the stored response. Keys expire after `KEY_TTL`:
an expired one is never replayed, and is deleted by the scheduled purge (`api.housekeeping`,
every 15 minutes), by `fostering retention run` and now and then by a keyed request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import (
    Connection,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
)
from sqlalchemy import update as sa_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

from tracker.core.clock import utcnow
from tracker.core.errors import ConflictError, InvalidValueError

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200
MAX_PATH_LENGTH = 500
# The status of a claimed key whose response is not stored yet (never visible once committed).
PENDING = 0


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a create request sent with an `Idempotency-Key` header."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int
    key: str = Field(sa_type=String(200))
    method: str = Field(sa_type=String(10))
    path: str = Field(sa_type=String(500))
    request_digest: str = Field(sa_type=String(64))
    status_code: int
    body: bytes = Field(sa_type=LargeBinary)
    content_type: str = Field(sa_type=String(100))
    # Response headers worth replaying (ETag, Location, Link), as a JSON object.
    headers: str = Field(default="{}", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class RequestPrint(msgspec.Struct, frozen=True, kw_only=True):
    """What identifies a request: its method, its path with the query, and its body's digest."""

    method: str
    path: str
    digest: str


class StoredResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The response stored for a key, to be sent again."""

    status_code: int
    body: bytes
    content_type: str
    headers: dict[str, str]


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of claiming a key: this request owns it (`record_id`), or an earlier
    request with the same key and the same content stored `stored`."""

    record_id: int | None = None
    stored: StoredResponse | None = None


def check_key(key: str) -> str:
    """The key as sent, once it is 1 to 200 printable ASCII characters; InvalidValueError
    naming the header otherwise."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidValueError(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters, not {len(key)}",
            rule="invalid_idempotency_key",
            field=HEADER,
        )
    if any(not " " <= ch <= "~" for ch in key) or not key.strip():
        raise InvalidValueError(
            f"{HEADER} must be printable ASCII characters (a UUID, say)",
            rule="invalid_idempotency_key",
            field=HEADER,
        )
    return key


def request_print(method: str, path: str, query: str, body: bytes) -> RequestPrint:
    """The fingerprint of a request: a retry must match it to be answered from the store."""
    target = f"{path}?{query}" if query else path
    digest = hashlib.sha256()
    for part in (method.upper().encode(), target.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return RequestPrint(
        method=method.upper(), path=target[:MAX_PATH_LENGTH], digest=digest.hexdigest()
    )


def _insert(connection: Connection):  # type: ignore[no-untyped-def]
    return pg_insert if connection.dialect.name == "postgresql" else sqlite_insert


def claim(
    connection: Connection,
    token_id: int,
    key: str,
    request: RequestPrint,
    *,
    now: datetime | None = None,
) -> Claim:
    """Claim `key` for this request inside the caller's write transaction.

    Returns the new pending record's id when the key is free (an expired record of the key
    is dropped first); the stored response when an earlier request with the same key and
    the same method, path and body completed. InvalidValueError naming the header when the
    key was used for a different request; ConflictError when its first request has not
    finished (only possible outside the transaction rules above).
    """
    now = now or utcnow()
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    mine = (table.c.token_id == token_id) & (table.c.key == key)
    connection.execute(delete(table).where(mine, table.c.created_at < now - KEY_TTL))
    statement = (
        _insert(connection)(table)
        .values(
            token_id=token_id,
            key=key,
            method=request.method,
            path=request.path,
            request_digest=request.digest,
            status_code=PENDING,
            body=b"",
            content_type="",
            headers="{}",
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["token_id", "key"])
        .returning(table.c.id)
    )
    record_id = connection.execute(statement).scalar()
    if record_id is not None:
        return Claim(record_id=record_id)
    row = connection.execute(select(table).where(mine)).one()
    if (row.method, row.path, row.request_digest) != (
        request.method,
        request.path,
        request.digest,
    ):
        raise InvalidValueError(
            f"this {HEADER} was already used for a different request ({row.method} "
            f"{row.path}); send a new key for a new request",
            rule="idempotency_key_reused",
            field=HEADER,
        )
    if row.status_code == PENDING:
        raise ConflictError(
            f"the first request with this {HEADER} has not finished; retry shortly",
            rule="idempotency_key_in_progress",
        )
    return Claim(
        stored=StoredResponse(
            status_code=row.status_code,
            body=bytes(row.body),
            content_type=row.content_type,
            headers=json.loads(row.headers or "{}"),
        )
    )


def complete(connection: Connection, record_id: int, response: StoredResponse) -> bool:
    """Store the response of a claimed key (in the transaction that claimed it); False when
    the claim is gone (the request rolled its own transaction back, as a dry run does)."""
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    result = connection.execute(
        sa_update(table)
        .where(table.c.id == record_id, table.c.status_code == PENDING)
        .values(
            status_code=response.status_code,
            body=response.body,
            content_type=response.content_type[:100],
            headers=json.dumps(dict(response.headers)),
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def purge_expired(connection: Connection, *, now: datetime | None = None) -> int:
    """Delete every key older than `KEY_TTL` (skipping any another transaction is deleting
    at the same moment, on PostgreSQL); returns how many."""
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    cutoff = (now or utcnow()) - KEY_TTL
    expired = (
        select(table.c.id).where(table.c.created_at < cutoff).with_for_update(skip_locked=True)
    )
    result = connection.execute(delete(table).where(table.c.id.in_(expired)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_expired(connection: Connection, *, now: datetime | None = None) -> int:
    """How many keys `purge_expired` would delete (a dry run)."""
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    cutoff = (now or utcnow()) - KEY_TTL
    counted = select(func.count()).select_from(table).where(table.c.created_at < cutoff)
    return int(connection.execute(counted).scalar() or 0)


def replay_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The response headers a replay repeats (the record's ETag, where it lives, links)."""
    keep = {"etag": "ETag", "location": "Location", "link": "Link"}
    return {keep[name.lower()]: value for name, value in headers.items() if name.lower() in keep}


ERASED_STATUS = 410
PROBLEM_MEDIA = "application/problem+json"


def tombstone(enquiry_id: int, headers: Mapping[str, str]) -> StoredResponse:
    """What a retry of a request whose response showed an erased enquiry gets instead: 410
    Gone with a problem detail naming the record, and no personal data."""
    body = {
        "status": ERASED_STATUS,
        "title": "erased",
        "detail": (
            f"the personal data of enquiry {enquiry_id}, which the request with this "
            f"{HEADER} created or changed, was erased; the request is not run again"
        ),
        "id": enquiry_id,
    }
    kept = {k: v for k, v in headers.items() if k.lower() == "location"}
    return StoredResponse(
        status_code=ERASED_STATUS,
        body=msgspec.json.encode(body),
        content_type=PROBLEM_MEDIA,
        headers=kept,
    )


def _shown_enquiry(path: str, body: object) -> int | None:
    """The id of the enquiry a stored response shows: an enquiry's own record (a council's
    enquiry routes), or one wrapped in a hub's or a handover's record (`{"enquiry": ...}`)."""
    if not isinstance(body, dict):
        return None
    if "/enquiries" in path and path.startswith("/api/v1/authorities/"):
        shown = body.get("id")
    else:
        wrapped = body.get("enquiry")
        shown = wrapped.get("id") if isinstance(wrapped, dict) else None
    return shown if isinstance(shown, int) else None


def forget_enquiry(session: Session, authority_code: str, enquiry_id: int) -> None:
    """Replace the stored responses that show an erased enquiry by a tombstone (`tombstone`):
    they would hold its personal data for a day otherwise, and dropping them would let a
    retry with the same key create the person again. Looked at: the council's enquiry
    routes, the hubs' (which logged, moved or reassigned it), and the routes of this
    enquiry at any council (one the hub routed it to first, which changed or declined it).
    Called in the erasing transaction."""
    path = col(IdempotencyRecord.path)
    stored = session.scalars(
        select(IdempotencyRecord).where(
            path.startswith(f"/api/v1/authorities/{authority_code}/enquiries")
            | path.like(f"/api/v1/authorities/%/enquiries/{enquiry_id}%")
            | path.like(f"/api/v1/authorities/%/handovers/{enquiry_id}/%")
            | path.like("/api/v1/hubs/%/enquiries%"),
            col(IdempotencyRecord.status_code) != ERASED_STATUS,
        )
    )
    for record in stored:
        try:
            body = msgspec.json.decode(record.body)
        except msgspec.DecodeError:
            continue
        if _shown_enquiry(record.path, body) == enquiry_id:
            gone = tombstone(enquiry_id, json.loads(record.headers or "{}"))
            record.status_code = gone.status_code
            record.body = gone.body
            record.content_type = gone.content_type
            record.headers = json.dumps(gone.headers)
