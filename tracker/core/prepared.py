"""Which councils have their prepared monthly figures built (reads use them only then)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from tracker.core.authorities import Authority
from tracker.core.db import PlannedOnce
from tracker.core.errors import NotFoundError
from tracker.core.monthly_tables import PreparedAuthority
from tracker.core.revisions import note_revision, revision_column


def is_prepared(session: Session, authority_code: str) -> bool:
    """Whether the council's prepared monthly figures are built and kept up to date."""
    return session.execute(_built_query(), {"code": authority_code}).first() is not None


@cache
def _built_query() -> Any:
    return select(PreparedAuthority.authority_code).where(
        PreparedAuthority.authority_code == bindparam("code")
    )


def target_and_prepared(
    session: Session, code: str, planned: PlannedOnce | None = None
) -> tuple[int | None, bool, bool | None]:
    """The stored authority's annual approvals target and whether its prepared figures are
    built, in one query on the session's connection, or NotFoundError. With `planned`, on
    PostgreSQL, the query also readies that statement when the figures are built
    (`PlannedOnce.readiness`), and the third value is what to pass to its `execute` (else
    None): a read of the prepared figures then costs this query and the statement's own. It
    notes the council's revision too (`tracker.core.revisions.note_revision`)."""
    postgresql = planned is not None and session.get_bind().dialect.name == "postgresql"
    query = _target_built_query(planned if postgresql else None)
    connection = session.connection()
    found = connection.execute(query, {"code": code}).first()
    if found is None:
        raise NotFoundError(f"no authority with code {code}", field="code")
    note_revision(session, code, found[2])
    built = bool(found[1])
    if postgresql and built:
        PlannedOnce.mode_set(connection)
    return found[0], built, bool(found[4]) if postgresql and built else None


@cache
def _target_built_query(planned: PlannedOnce | None) -> Any:
    authority: Any = Authority.__table__
    built_table: Any = PreparedAuthority.__table__
    built = exists().where(built_table.c.authority_code == bindparam("code"))
    columns = [authority.c.annual_approvals_target, built, revision_column(authority.c.code)]
    if planned is not None:
        columns += planned.readiness(built)
    return select(*columns).where(authority.c.code == bindparam("code"))


def prepared_codes(session: Session) -> set[str]:
    """Every council whose prepared monthly figures are built."""
    return set(session.scalars(select(PreparedAuthority.authority_code)))
