"""The same person enquiring with several councils of a hub, found by keyed hashes (HMAC
with the service's secret) of their normalised email and phone: councils compare keys,
never each other's records."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.enquiries.search import digits
from tracker.enquiries.tables import Enquiry
from tracker.hubs.tables import HubEnquiry


def normalised_email(email: str | None) -> str | None:
    """An email address as compared: trimmed, lower case."""
    return email.strip().lower() if email and email.strip() else None


def normalised_phone(phone: str | None) -> str | None:
    """A phone number as compared: its digits, a UK +44 prefix read as the leading 0."""
    if not phone:
        return None
    found = digits(phone)
    if found.startswith("44") and phone.strip().startswith("+"):
        found = "0" + found[2:]
    return found or None


def contact_key(key: bytes, kind: str, value: str | None) -> str | None:
    """The keyed hash of a normalised contact detail (None when there is none)."""
    if value is None:
        return None
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def contact_keys(key: bytes, email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    """The email and phone keys of an enquirer."""
    return (
        contact_key(key, "email", normalised_email(email)),
        contact_key(key, "phone", normalised_phone(phone)),
    )


def contact_index(
    session: Session, key: bytes, hub_id: int, members: list[str]
) -> dict[str, set[str]]:
    """Each contact key of the hub's open enquiries, with the member councils holding it:
    hub-logged enquiries by their stored keys, the councils' own by keys computed here."""
    index: dict[str, set[str]] = {}
    stored = (
        select(Enquiry.authority_code, HubEnquiry.email_key, HubEnquiry.phone_key)
        .join(HubEnquiry, col(HubEnquiry.enquiry_id) == col(Enquiry.id))
        .where(HubEnquiry.hub_id == hub_id, col(Enquiry.closed_on).is_(None))
    )
    for code, *keys in session.execute(stored):
        for found in keys:
            if found is not None:
                index.setdefault(found, set()).add(code)
    own = select(Enquiry.authority_code, Enquiry.email, Enquiry.phone).where(
        col(Enquiry.authority_code).in_(members),
        col(Enquiry.closed_on).is_(None),
        col(Enquiry.approved_on).is_(None),
        or_(col(Enquiry.email).is_not(None), col(Enquiry.phone).is_not(None)),
        col(Enquiry.id).not_in(select(HubEnquiry.enquiry_id)),
    )
    for code, email, phone in session.execute(own):
        for found in contact_keys(key, email, phone):
            if found is not None:
                index.setdefault(found, set()).add(code)
    return index


def other_councils(
    index: dict[str, set[str]],
    *,
    authority_code: str,
    email_key: str | None,
    phone_key: str | None,
) -> set[str]:
    """The other member councils holding an open enquiry from the same person."""
    found: set[str] = set()
    for own in (email_key, phone_key):
        if own is not None:
            found |= index.get(own, set())
    return found - {authority_code}
