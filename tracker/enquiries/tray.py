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
    Overdue.FIRST_CONTACT: (col(Enquiry.received_on), first_contact_due),
    Overdue.APPROVAL: (col(Enquiry.application_on), approval_due),
}


def work_tray(session: Session, authority_code: str, today: date, *, limit: int = 20) -> WorkTray:
    """The authority's overdue enquiries, most overdue first, `limit` at most. One statement
    per norm reads its most overdue and, in the same scan of the open enquiries' index, how
    many there are; only the columns the tray shows are read."""
    get_authority(session, authority_code)
    items: list[OverdueItem] = []
    totals: dict[Overdue, int] = {}
    for norm, (started, due_of) in _NORMS.items():
        conditions = filter_conditions(authority_code, EnquiryFilter(overdue=norm), today)
        # The due date grows with the date it follows, so the oldest are the most overdue.
        query = (
            select(
                Enquiry.id,
                Enquiry.external_ref,
                Enquiry.enquirer_name,
                Enquiry.received_on,
                Enquiry.stage,
                started,
                func.count().over(),
            )
            .where(*conditions)
            .order_by(started, col(Enquiry.id))
            .limit(limit)
        )
        rows = session.execute(query).all()
        # No row: none overdue (`limit` is at least 1), else every row carries the count.
        totals[norm] = rows[0][-1] if rows else 0
        for enquiry_id, ref, name, received_on, stage, since, _ in rows:
            due = due_of(since)
            items.append(
                OverdueItem(
                    enquiry_id=enquiry_id,
                    external_ref=ref,
                    enquirer_name=name,
                    received_on=received_on,
                    stage=Stage(stage),
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
