"""Retention of applicants' records: personal data of closed, unsuccessful enquiries is erased
once it has been kept long enough.

Regulation 32 of the Fostering Services Regulations 2011 has a fostering service keep the
records of prospective foster parents who were refused or withdrew for at least three years;
after that the service has no ground to keep their personal data. An enquiry closed (with
any reason: an approved enquiry cannot close) on or before `today` less the retention period
has its personal data erased as a manager's erasure would (`erase_personal_data`, audited
per enquiry), and each authority's pass is audited with its count. Dates and stages stay, so
the funnel's figures do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.children.history import years_before
from tracker.core import audit
from tracker.core.access import Caller, Role
from tracker.enquiries.service import erase_personal_data
from tracker.enquiries.tables import Enquiry

RETENTION = Caller(token_id=None, name="retention", role=Role.ADMIN)
# Enquiries erased in one transaction: short enough not to hold SQLite's write lock long.
BATCH = 200
# Called for each erased enquiry in the same transaction (the API forgets stored responses).
AfterErasure = Callable[[Session, str, int], None]


class RetentionReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a pass of the retention rule erased (or, in a dry run, would erase): enquiries
    per authority, closed on or before `closed_on_or_before`."""

    years: int
    closed_on_or_before: date
    dry_run: bool
    erased: dict[str, int]
    total: int


def retention_cutoff(today: date, years: int) -> date:
    """The latest closure date whose personal data is erased today."""
    return years_before(today, years)


def _expired(cutoff: date) -> list[object]:
    return [
        col(Enquiry.closed_on).is_not(None),
        col(Enquiry.closed_on) <= cutoff,
        col(Enquiry.erased_at).is_(None),
        col(Enquiry.approved_on).is_(None),
    ]


def count_expired(session: Session, today: date, years: int) -> RetentionReport:
    """The enquiries a pass would erase today, per authority (a dry run: nothing changes)."""
    cutoff = retention_cutoff(today, years)
    rows = session.execute(
        select(Enquiry.authority_code, func.count())
        .where(*_expired(cutoff))
        .group_by(Enquiry.authority_code)
    ).all()
    counts = {code: int(n) for code, n in sorted(rows)}
    return RetentionReport(
        years=years,
        closed_on_or_before=cutoff,
        dry_run=True,
        erased=counts,
        total=sum(counts.values()),
    )


def erase_expired(
    session: Session,
    today: date,
    years: int,
    *,
    limit: int = BATCH,
    after_erasure: AfterErasure | None = None,
) -> RetentionReport:
    """Erase the personal data of up to `limit` enquiries closed on or before the cut-off
    (oldest first), in the session's transaction; the caller commits and calls again while a
    whole batch was erased."""
    cutoff = retention_cutoff(today, years)
    due = session.execute(
        select(Enquiry.authority_code, Enquiry.id)
        .where(*_expired(cutoff))
        .order_by(col(Enquiry.closed_on), col(Enquiry.id))
        .limit(limit)
    ).all()
    counts: dict[str, int] = {}
    for code, enquiry_id in due:
        erase_personal_data(session, RETENTION, code, enquiry_id, today)
        if after_erasure is not None:
            after_erasure(session, code, enquiry_id)
        counts[code] = counts.get(code, 0) + 1
    for code, erased in sorted(counts.items()):
        detail = {"erased": erased, "closed_on_or_before": cutoff.isoformat(), "years": years}
        audit.record(session, RETENTION, "retention", "enquiry", authority_code=code, detail=detail)
    return RetentionReport(
        years=years,
        closed_on_or_before=cutoff,
        dry_run=False,
        erased=dict(sorted(counts.items())),
        total=len(due),
    )
