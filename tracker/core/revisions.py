"""Each council's revision: a counter every audited change of its records moves, in the
transaction that makes the change, when that transaction commits.

Figures kept between changes (`tracker.core.view_cache`) are keyed by it. Unlike an id or
a time written by the change, it moves in commit order: writers of one council take its row
in turn, so a change committed after a reader looked always shows as a higher revision (an
audit id taken by a writer still in flight may be lower than one already committed, and a
view keyed by the highest id seen would then never see it). The councils a transaction
changed are noted as it audits them (`note_change`) and their rows moved just before it
commits, in code order, so two transactions changing the same councils never deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

CHANGED = "changed_councils"
"""The `Session.info` key of the councils the session's transaction changed."""
SEEN = "council_revisions"
"""The `Session.info` key of the revisions the session's transaction has read."""


class CouncilRevision(SQLModel, table=True):
    """How many committed transactions changed a council's records (audited ones)."""

    __tablename__ = "council_revision"

    authority_code: str = Field(primary_key=True, sa_type=String(9))
    revision: int = Field(default=0, sa_type=BigInteger)


def note_change(session: Session, authority_code: str) -> None:
    """Note that this transaction changes the council's records (the revision moves at
    commit)."""
    session.info.setdefault(CHANGED, set()).add(authority_code)


@cache
def _upsert(dialect: str) -> Any:
    """INSERT a council's first revision, or add one to it; built once per dialect."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = CouncilRevision.__table__
    statement = insert(table).values(authority_code=bindparam("code"), revision=1)
    return statement.on_conflict_do_update(
        index_elements=["authority_code"], set_={"revision": table.c.revision + 1}
    )


def _move(session: Session) -> None:
    codes = sorted(session.info.pop(CHANGED, ()))
    if codes:
        upsert = _upsert(session.get_bind().dialect.name)
        for code in codes:
            session.execute(upsert, {"code": code})


def _forget(session: Session, *_: object) -> None:
    session.info.pop(CHANGED, None)


def _unsee(session: Session, *_: object) -> None:
    session.info.pop(SEEN, None)


event.listen(Session, "before_commit", _move)
event.listen(Session, "after_rollback", _forget)
event.listen(Session, "after_transaction_end", _unsee)


@cache
def _revision_query() -> Any:
    return select(CouncilRevision.revision).where(
        col(CouncilRevision.authority_code) == bindparam("code")
    )


def revision(session: Session, authority_code: str) -> int:
    """The council's revision (0 before its first audited change), read once a transaction:
    a page keeping several of a council's views reads it once, before any of them."""
    found = seen(session, authority_code)
    if found is None:
        # On the session's connection: a Core query, without the ORM's work per statement.
        query = _revision_query()
        found = session.connection().execute(query, {"code": authority_code}).scalar() or 0
        note_revision(session, authority_code, found)
    return found


def revision_column(code: Any) -> Any:
    """The revision of the council whose code is `code` (an expression), 0 before its first
    audited change: a column for a read's first statement (`note_revision`)."""
    found = select(CouncilRevision.revision).where(col(CouncilRevision.authority_code) == code)
    return func.coalesce(found.scalar_subquery(), 0)


def note_revision(session: Session, authority_code: str, found: int) -> None:
    """Note the council's revision as a read's first statement found it (`revision_column`),
    unless this transaction has read it already (the earlier one stands)."""
    session.info.setdefault(SEEN, {}).setdefault(authority_code, int(found))


def seen(session: Session, authority_code: str) -> int | None:
    """The council's revision as this transaction read it, or None."""
    return session.info.get(SEEN, {}).get(authority_code)


def revisions_of(session: Session, codes: Iterable[str] | None = None) -> int:
    """The sum of the councils' revisions (None: every council's), which moves whenever any
    of theirs does."""
    query = select(func.coalesce(func.sum(CouncilRevision.revision), 0))
    if codes is not None:
        query = query.where(col(CouncilRevision.authority_code).in_(list(codes)))
    return int(session.scalar(query) or 0)
