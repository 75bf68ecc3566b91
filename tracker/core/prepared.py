"""Which councils have their prepared monthly figures built (reads use them only then)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tracker.core.monthly_tables import PreparedAuthority


def is_prepared(session: Session, authority_code: str) -> bool:
    """Whether the council's prepared monthly figures are built and kept up to date."""
    return session.execute(_built_query(), {"code": authority_code}).first() is not None


@cache
def _built_query() -> Any:
    return select(PreparedAuthority.authority_code).where(
        PreparedAuthority.authority_code == bindparam("code")
    )


def prepared_codes(session: Session) -> set[str]:
    """Every council whose prepared monthly figures are built."""
    return set(session.scalars(select(PreparedAuthority.authority_code)))
