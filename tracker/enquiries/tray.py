"""The recruitment team's work tray: open enquiries past a timeliness norm, the most overdue
first, with how many days each is late (first contact within one working day of the
enquiry; approval within 8 months of the application)."""

from __future__ import annotations

from datetime import date

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core.authorities import get_authority
from tracker.enquiries.queries import filter_conditions
from tracker.enquiries.schemas import EnquiryFilter, Overdue
from tracker.enquiries.stages import Stage
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import approval_due, first_contact_due


class OverdueItem(msgspec.Struct, frozen=True, kw_only=True):
    """One missed norm of one open enquiry: when it fell due and how many days ago."""

    enquiry_id: int
    external_ref: str | None
    enquirer_name: str | None
    received_on: date
    stage: Stage
    norm: Overdue
    due: date
    days_overdue: int


class WorkTray(msgspec.Struct, frozen=True, kw_only=True):
    """The most overdue items (at most the limit asked) and how many there are per norm."""

    items: list[OverdueItem]
    first_contact_total: int
    approval_total: int

    @property
    def total(self) -> int:
        """Every overdue item, both norms."""
        return self.first_contact_total + self.approval_total


# Per norm: the date its due date follows (the oldest is the most overdue) and the rule.
_NORMS = {
    Overdue.FIRST_CONTACT: (col(Enquiry.received_on), first_contact_due, "received_on"),
    Overdue.APPROVAL: (col(Enquiry.application_on), approval_due, "application_on"),
}


def work_tray(session: Session, authority_code: str, today: date, *, limit: int = 20) -> WorkTray:
    """The authority's overdue enquiries, most overdue first, `limit` at most."""
    get_authority(session, authority_code)
    items: list[OverdueItem] = []
    totals: dict[Overdue, int] = {}
    for norm, (started, due_of, field) in _NORMS.items():
        conditions = filter_conditions(authority_code, EnquiryFilter(overdue=norm), today)
        totals[norm] = session.scalar(select(func.count()).where(*conditions)) or 0
        # The due date grows with the date it follows, so the oldest are the most overdue.
        query = select(Enquiry).where(*conditions).order_by(started, col(Enquiry.id)).limit(limit)
        for row in session.scalars(query):
            assert row.id is not None
            due = due_of(getattr(row, field))
            items.append(
                OverdueItem(
                    enquiry_id=row.id,
                    external_ref=row.external_ref,
                    enquirer_name=row.enquirer_name,
                    received_on=row.received_on,
                    stage=Stage(row.stage),
                    norm=norm,
                    due=due,
                    days_overdue=(today - due).days,
                )
            )
    items.sort(key=lambda i: (-i.days_overdue, i.enquiry_id))
    return WorkTray(
        items=items[:limit],
        first_contact_total=totals[Overdue.FIRST_CONTACT],
        approval_total=totals[Overdue.APPROVAL],
    )
