"""The audit log: who created, changed, exported, erased or read what, and when.

Entries name fields, never their values, so the log holds no personal data (a read names
the enquiry and the view; a list page its count and the ids it showed), and erasure keeps
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import JSON, Index, String, cast, exists, func, insert, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col

from tracker.core.access import Caller
from tracker.core.clock import utcnow
from tracker.core.revisions import note_change


class AuditEntry(SQLModel, table=True):
    """One audited action."""

    __tablename__ = "audit_entry"
    # The latest audited change of a council (tracker.targets.stored) is read by this index.
    __table_args__ = (Index("ix_audit_entry_authority_id", "authority_code", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(sa_type=String(200))
    authority_code: str | None = Field(default=None, sa_type=String(9), index=True)
    action: str = Field(sa_type=String(40))
    entity: str = Field(sa_type=String(40))
    entity_id: str | None = Field(default=None, sa_type=String(64))
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An audit entry as listed."""

    id: int
    at: datetime
    actor: str
    authority_code: str | None
    action: str
    entity: str
    entity_id: str | None
    detail: dict[str, Any]


def _entry(
    caller: Caller,
    action: str,
    entity: str,
    entity_id: object,
    authority_code: str | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "actor": caller.actor,
        "authority_code": authority_code,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "detail": detail or {},
    }


READ_ACTIONS = ("export", "read", "list", "sign_in")
"""Audited actions that change no figures."""


def _note(session: Session, action: str, authority_code: str | None) -> None:
    """A change of a council's records moves its revision when the transaction commits."""
    if authority_code is not None and action not in READ_ACTIONS:
        note_change(session, authority_code)


def record(
    session: Session,
    caller: Caller,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    authority_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an entry in the caller's transaction (it commits or rolls back with the change)."""
    session.add(AuditEntry(**_entry(caller, action, entity, entity_id, authority_code, detail)))
    _note(session, action, authority_code)


def record_now(
    session: Session,
    caller: Caller,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    authority_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Like `record`, written at once by one Core INSERT on the session's connection, in its
    transaction: cheaper for a request that audits one change (no ORM object to build and
    flush, no ORM execution); `record` batches better when one transaction audits many."""
    entry = _entry(caller, action, entity, entity_id, authority_code, detail)
    session.connection().execute(_insert_entry(), {"at": utcnow(), **entry})
    _note(session, action, authority_code)


def record_many(
    session: Session, entries: list[tuple[Caller, str, str, object, str | None]]
) -> None:
    """Like `record_now` for many changes at once (each a caller, action, entity, entity id
    and council), written by one Core INSERT of them all."""
    at = utcnow()
    session.connection().execute(
        _insert_entry(),
        [
            {"at": at, **_entry(c, action, entity, i, code, None)}
            for c, action, entity, i, code in entries
        ],
    )
    for _caller, action, _entity, _id, code in entries:
        _note(session, action, code)


class Entry(NamedTuple):
    """One audit entry waiting to be written (by `write_entries`)."""

    caller: Caller
    action: str
    entity: str
    entity_id: object
    authority_code: str | None
    detail: dict[str, Any] | None = None


def write_entries(session: Session, entries: Sequence[Entry]) -> list[None]:
    """Write entries of audited reads by one Core INSERT (the `apply` of the group-commit
    writer `api.read_audit` hands reads to); reads move no council's revision."""
    assert all(e.action in READ_ACTIONS for e in entries), "only reads are written here"
    at = utcnow()
    session.connection().execute(
        _insert_entry(),
        [
            {
                "at": at,
                **_entry(e.caller, e.action, e.entity, e.entity_id, e.authority_code, e.detail),
            }
            for e in entries
        ],
    )
    return [None] * len(entries)


SHOWN = "shown"
"""The detail key of a listing's entry holding the ids of the enquiries it showed."""
LISTINGS = ("enquiry", "hub_enquiry", "handover")
"""The entities whose listings name the enquiries they showed (`SHOWN`)."""


def _showed(enquiry_id: int, dialect: str) -> ColumnElement[bool]:
    """An entry whose listing showed the enquiry (its `shown` ids hold it)."""
    if dialect == "postgresql":
        return cast(AuditEntry.detail, JSONB)[SHOWN].contains([enquiry_id])
    shown = func.json_each(AuditEntry.detail, f"$.{SHOWN}").table_valued("value")
    return exists(select(1).select_from(shown).where(shown.c.value == enquiry_id))


@cache
def _insert_entry() -> Any:
    return insert(AuditEntry.__table__)  # type: ignore[arg-type]


def record_update(
    session: Session,
    caller: Caller,
    entity: str,
    row: Any,
    *,
    authority_code: str,
    changed: list[str],
) -> None:
    """Bump a versioned row (`version`, `updated_at`) and audit the names of the fields that
    changed; call it only when `changed` is not empty."""
    row.version += 1
    row.updated_at = utcnow()
    record(
        session,
        caller,
        "update",
        entity,
        row.id,
        authority_code=authority_code,
        detail={"fields": changed},
    )
    session.flush()


def list_entries(
    session: Session,
    *,
    authority_code: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    enquiry_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRecord]:
    """Entries newest first, optionally for one authority or one record; `enquiry_id`: every
    entry of that enquiry (changes, reads) and every listing that showed it."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc())
    if enquiry_id is not None:
        dialect = session.get_bind().dialect.name
        query = query.where(
            or_(
                (AuditEntry.entity == "enquiry") & (AuditEntry.entity_id == str(enquiry_id)),
                col(AuditEntry.entity).in_(LISTINGS) & _showed(enquiry_id, dialect),
            )
        )
    if authority_code is not None:
        query = query.where(AuditEntry.authority_code == authority_code)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    rows = session.scalars(query.limit(limit).offset(offset))
    return [
        AuditRecord(
            id=r.id or 0,
            at=r.at,
            actor=r.actor,
            authority_code=r.authority_code,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            detail=r.detail,
        )
        for r in rows
    ]
