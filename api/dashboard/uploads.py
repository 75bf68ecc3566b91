"""Files uploaded through the dashboard and waiting for their confirmation: the preview was
a dry run of the import, and the confirmation imports the very same bytes. Kept in the
database (several server processes may serve one browser) for an hour, and only for the
sign-in that uploaded them. Confirming removes them; an expired one is never read and is
deleted by the scheduled purge (`api.housekeeping`, every 15 minutes), by `fostering retention
run` and on the next upload; erasing an enquirer deletes the council's waiting enquiry
uploads (they may hold the person)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

from tracker.core.clock import utcnow
from tracker.core.errors import NotFoundError

UPLOAD_LIFETIME = timedelta(hours=1)
ENQUIRY_KIND = "enquiries"
"""The kind of upload that holds enquirers' personal data (`import_kinds.KINDS`)."""


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PendingUpload(SQLModel, table=True):
    """An upload previewed and not yet confirmed: its files packed with msgpack."""

    __tablename__ = "pending_upload"

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(sa_column_args=[ForeignKey("api_token.id")], index=True)
    authority_code: str = Field(sa_type=String(9))
    kind: str = Field(sa_type=String(20))
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    content: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class UploadedFile(msgspec.Struct, frozen=True):
    """One uploaded file: its name as the browser gave it, and its bytes."""

    name: str
    data: bytes


class Upload(msgspec.Struct, frozen=True, kw_only=True):
    """A pending upload as read back."""

    id: int
    kind: str
    options: dict[str, Any]
    files: list[UploadedFile]


def keep(
    session: Session,
    token_id: int,
    authority_code: str,
    kind: str,
    files: list[UploadedFile],
    options: dict[str, Any],
    *,
    now: datetime | None = None,
) -> int:
    """Keep files for their confirmation (expired uploads are removed on the way); the id."""
    now = now or utcnow()
    purge_expired(session, now=now)
    row = PendingUpload(
        token_id=token_id,
        authority_code=authority_code,
        kind=kind,
        options=options,
        content=msgspec.msgpack.encode(files),
        created_at=now,
        expires_at=now + UPLOAD_LIFETIME,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete every upload past its hour; returns how many."""
    expired = col(PendingUpload.expires_at) <= (now or utcnow())
    result = session.execute(delete(PendingUpload).where(expired))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count_expired(session: Session, *, now: datetime | None = None) -> int:
    """How many uploads `purge_expired` would delete (a dry run)."""
    expired = col(PendingUpload.expires_at) <= (now or utcnow())
    return int(session.scalar(select(func.count()).select_from(PendingUpload).where(expired)) or 0)


def drop_enquiry_uploads(session: Session, authority_code: str) -> int:
    """Delete the council's waiting enquiry uploads, whoever sent them (on an erasure: they
    may hold the person, and must not import them again); returns how many."""
    result = session.execute(
        delete(PendingUpload).where(
            col(PendingUpload.authority_code) == authority_code,
            col(PendingUpload.kind) == ENQUIRY_KIND,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def take(
    session: Session,
    upload_id: int,
    token_id: int,
    authority_code: str,
    kind: str,
    *,
    now: datetime | None = None,
) -> Upload:
    """The upload, removed from the store (NotFoundError when it is not this sign-in's,
    another kind or authority, already confirmed, or older than an hour)."""
    row = _pending(session, upload_id, token_id, authority_code, kind, now=now)
    files = msgspec.msgpack.decode(row.content, type=list[UploadedFile])
    upload = Upload(id=upload_id, kind=row.kind, options=dict(row.options), files=files)
    session.delete(row)
    return upload


def peek(
    session: Session,
    upload_id: int,
    token_id: int,
    authority_code: str,
    kind: str,
    *,
    now: datetime | None = None,
) -> Upload:
    """The upload, left in the store (`take` removes it); NotFoundError as `take` says."""
    row = _pending(session, upload_id, token_id, authority_code, kind, now=now)
    files = msgspec.msgpack.decode(row.content, type=list[UploadedFile])
    return Upload(id=upload_id, kind=row.kind, options=dict(row.options), files=files)


def _pending(
    session: Session,
    upload_id: int,
    token_id: int,
    authority_code: str,
    kind: str,
    *,
    now: datetime | None = None,
) -> PendingUpload:
    now = now or utcnow()
    row = session.scalars(
        select(PendingUpload).where(
            col(PendingUpload.id) == upload_id,
            col(PendingUpload.token_id) == token_id,
            col(PendingUpload.authority_code) == authority_code,
            col(PendingUpload.kind) == kind,
        )
    ).first()
    if row is None or _aware(row.expires_at) <= now:
        raise NotFoundError(
            "That upload was already imported, or has expired (after an hour): if its records "
            "are not there, upload the file again",
            field="upload",
        )
    return row
