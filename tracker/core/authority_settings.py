"""A manager's settings of their authority (the annual approvals target the funnel reports
against), changed and audited in one place for the API and the dashboard."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import AuthorityChanges, AuthorityRecord, change_authority


def change_settings(
    session: Session, caller: Caller, code: str, changes: AuthorityChanges
) -> AuthorityRecord:
    """Apply a manager's change of the authority's settings, audited by field name."""
    record = change_authority(session, code, changes)
    audit.record(
        session,
        caller,
        "update",
        "authority",
        code,
        authority_code=code,
        detail={"fields": ["annual_approvals_target"]},
    )
    return record
