"""Which councils have their prepared monthly figures built (reads use them only then)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.monthly_tables import PreparedAuthority


def is_prepared(session: Session, authority_code: str) -> bool:
    """Whether the council's prepared monthly figures are built and kept up to date."""
    query = select(PreparedAuthority.authority_code).where(
        PreparedAuthority.authority_code == authority_code
    )
    return session.execute(query).first() is not None


def prepared_codes(session: Session) -> set[str]:
    """Every council whose prepared monthly figures are built."""
    return set(session.scalars(select(PreparedAuthority.authority_code)))
