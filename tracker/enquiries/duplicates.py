"""The duplicate-contact check: open enquiries of the authority that already hold an email
address or phone number (one person often enquires more than once, or with several
councils and agencies at once)."""

from __future__ import annotations

import enum
from datetime import date

import msgspec
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.enquiries.search import digits, phone_digits
from tracker.enquiries.stages import Stage
from tracker.enquiries.tables import Enquiry


class MatchedOn(enum.StrEnum):
    """Which contact detail two enquiries share."""

    EMAIL = "email"
    PHONE = "phone"


class DuplicateContact(msgspec.Struct, frozen=True, kw_only=True):
    """An open enquiry holding the same email address or phone number."""

    enquiry_id: int
    external_ref: str | None
    received_on: date
    stage: Stage
    matched_on: list[MatchedOn]


def open_duplicates(
    session: Session,
    authority_code: str,
    *,
    email: str | None,
    phone: str | None,
    excluding: int | None = None,
) -> list[DuplicateContact]:
    """Open enquiries (neither closed nor approved) with this email (any case) or this phone
    number (by its digits), oldest first; `excluding` leaves one enquiry out (itself)."""
    wanted_email = email.strip().lower() if email and email.strip() else None
    wanted_phone = digits(phone) if phone and digits(phone) else None
    matches = []
    if wanted_email:
        matches.append(func.lower(col(Enquiry.email)) == wanted_email)
    if wanted_phone:
        matches.append(phone_digits() == wanted_phone)
    if not matches:
        return []
    query = (
        select(Enquiry)
        .where(
            Enquiry.authority_code == authority_code,
            col(Enquiry.closed_on).is_(None),
            col(Enquiry.approved_on).is_(None),
            or_(*matches),
        )
        .order_by(col(Enquiry.received_on), col(Enquiry.id))
    )
    if excluding is not None:
        query = query.where(col(Enquiry.id) != excluding)
    found = []
    for row in session.scalars(query):
        assert row.id is not None
        shared = []
        if wanted_email and (row.email or "").lower() == wanted_email:
            shared.append(MatchedOn.EMAIL)
        if wanted_phone and digits(row.phone or "") == wanted_phone:
            shared.append(MatchedOn.PHONE)
        found.append(
            DuplicateContact(
                enquiry_id=row.id,
                external_ref=row.external_ref,
                received_on=row.received_on,
                stage=Stage(row.stage),
                matched_on=shared,
            )
        )
    return found
