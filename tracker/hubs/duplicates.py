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


def other_councils(
    session: Session,
    key: bytes,
    hub_id: int,
    members: list[str],
    *,
    authority_code: str,
    email_key: str | None,
    phone_key: str | None,
    excluding: int | None = None,
) -> set[str]:
    """The other member councils holding an open enquiry from the same person: hub-logged
    enquiries by their stored keys, the councils' own by keys computed here."""
    if email_key is None and phone_key is None:
        return set()
    keys = [k for k in (email_key, phone_key) if k is not None]
    found: set[str] = set()
    stored = (
        select(Enquiry.authority_code)
        .join(HubEnquiry, col(HubEnquiry.enquiry_id) == col(Enquiry.id))
        .where(
            HubEnquiry.hub_id == hub_id,
            col(Enquiry.authority_code) != authority_code,
            col(Enquiry.closed_on).is_(None),
            or_(col(HubEnquiry.email_key).in_(keys), col(HubEnquiry.phone_key).in_(keys)),
        )
    )
    if excluding is not None:
        stored = stored.where(col(Enquiry.id) != excluding)
    found.update(session.scalars(stored))
    hub_logged = select(HubEnquiry.enquiry_id)
    own = select(Enquiry.id, Enquiry.authority_code, Enquiry.email, Enquiry.phone).where(
        col(Enquiry.authority_code).in_([m for m in members if m != authority_code]),
        col(Enquiry.closed_on).is_(None),
        col(Enquiry.approved_on).is_(None),
        or_(col(Enquiry.email).is_not(None), col(Enquiry.phone).is_not(None)),
        col(Enquiry.id).not_in(hub_logged),
    )
    for _id, code, email, phone in session.execute(own):
        if code in found:
            continue
        if set(contact_keys(key, email, phone)) & set(keys):
            found.add(code)
    return found
