"""What every authority-owned record shares: loading one by id within its authority, a page
of them with the total, and deleting one with its version checked and the deletion audited."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.errors import NotFoundError, check_version

Row = TypeVar("Row")

MAX_ID = 2**31 - 1
"""The largest record id a request may name: within both backends' integers, so that an
id out of range is refused as bad input before any query is built with it."""
RecordId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
"""A record id in a request body."""


def owned(
    session: Session,
    table: type[Row],
    authority_code: str,
    record_id: int,
    *,
    noun: str,
    field: str,
    lock: bool = False,
) -> Row:
    """The row of `table` with this id in the authority (locked for update when asked);
    NotFoundError naming `field` when there is none, whoever else owns it."""
    query = select(table).where(
        col(table.id) == record_id,  # type: ignore[attr-defined]
        col(table.authority_code) == authority_code,  # type: ignore[attr-defined]
    )
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFoundError(f"no {noun} {record_id} in authority {authority_code}", field=field)
    return row


def page_of(
    session: Session, query: Select[Any], *, limit: int, offset: int
) -> tuple[list[Any], int]:
    """The rows of one page of an ordered query, and how many rows match in all."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.execute(query.limit(limit).offset(offset)))
    return rows, total or 0


def delete_versioned(
    session: Session,
    caller: Caller,
    row: Any,
    *,
    entity: str,
    authority_code: str,
    expected_version: int | None,
) -> None:
    """Delete a versioned row (refused when `expected_version` is not the stored one), audited."""
    check_version(entity, row.id, row.version, expected_version)
    session.delete(row)
    audit.record(session, caller, "delete", entity, row.id, authority_code=authority_code)
    session.flush()
