"""What the Ofsted return reads from the funnel and the household register for a year: one
query each, returning the ids, references, dates and codes of the records it counts (never
a name, a contact or a child's reference), so every figure can list what it counted."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from tracker.core.sql import active_on
from tracker.enquiries.tables import Enquiry
from tracker.households.care_types import HouseholdStatus
from tracker.households.places import places_as_at
from tracker.households.tables import Household, HouseholdVersion, Unavailability, decode_terms


class EnquiryFact(msgspec.Struct, frozen=True, kw_only=True):
    """An enquiry's funnel dates and closure, as the return counts them."""

    id: int
    reference: str | None
    received_on: date
    application_on: date | None
    approved_on: date | None
    closed_on: date | None
    stage: str
    closure_reason: str | None
    withdrawal_reason: str | None


class HouseholdOnDay(msgspec.Struct, frozen=True, kw_only=True):
    """A household approved and not deregistered on a day: its state and places then, and its
    carers' recorded characteristics."""

    id: int
    reference: str
    care_type: str
    status: str
    terms: list[str]
    approved: int
    filled: int
    unavailable: int
    vacant: int
    carers: int | None
    carers_age_bands: list[str]
    carers_disabled: int | None
    carers_ethnicity: str | None


class UnavailableMark(msgspec.Struct, frozen=True, kw_only=True):
    """Places of a household marked not available on a day, and why."""

    household_id: int
    places: int
    reason: str
    start_on: date


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    """A household's approval: its date, and its care type and terms when approved."""

    id: int
    reference: str
    approved_on: date
    care_type: str
    terms: list[str]
    enquiry_id: int | None = None
    """The approved enquiry the household came from (None: not linked)."""


class Deregistration(msgspec.Struct, frozen=True, kw_only=True):
    """A household's deregistration, its reason, its care type then, and whether it had been
    an approved household (active or on hold) before it."""

    id: int
    reference: str
    on: date
    reason: str | None
    care_type: str
    approved_before: bool


def enquiry_facts(session: Session, code: str, start: date, end: date) -> list[EnquiryFact]:
    """Enquiries received, applied, approved or closed between `start` and `end`, or with an
    application still open at `end`."""
    e = Enquiry

    def within(column: Any) -> Any:
        return col(column).between(start, end)

    open_at_end = and_(
        col(e.application_on) <= end,
        or_(col(e.approved_on).is_(None), col(e.approved_on) > end),
        or_(col(e.closed_on).is_(None), col(e.closed_on) > end),
    )
    query = (
        select(
            e.id,
            e.external_ref.label("reference"),  # type: ignore[attr-defined]
            e.received_on,
            e.application_on,
            e.approved_on,
            e.closed_on,
            e.stage,
            e.closure_reason,
            e.withdrawal_reason,
        )
        .where(
            e.authority_code == code,
            or_(
                within(e.received_on),
                within(e.application_on),
                within(e.approved_on),
                within(e.closed_on),
                open_at_end,
            ),
        )
        .order_by(col(e.id))
    )
    return [EnquiryFact(**row) for row in session.execute(query).mappings()]


@cache
def _register_query() -> Any:
    h = places_as_at(many=False)
    return (
        select(
            h.c.household_id.label("id"),
            Household.reference,
            h.c.care_type,
            h.c.status,
            h.c.terms,
            h.c.approved,
            h.c.filled,
            h.c.unavailable,
            h.c.vacant,
            Household.carers,
            Household.carers_age_bands,
            Household.carers_disabled,
            Household.carers_ethnicity,
        )
        .join(Household, Household.id == h.c.household_id)
        .order_by(Household.reference)
    )


def households_on(session: Session, code: str, day: date) -> list[HouseholdOnDay]:
    """Every household approved and not deregistered on `day`, by reference."""
    rows = session.execute(_register_query(), {"code": code, "as_at": day}).mappings()
    return [
        HouseholdOnDay(
            **(
                dict(row)
                | {
                    "terms": [t.value for t in decode_terms(row["terms"])],
                    "carers_age_bands": list(row["carers_age_bands"] or []),
                }
            )
        )
        for row in rows
    ]


def unavailable_on(session: Session, code: str, day: date) -> list[UnavailableMark]:
    """Every period of places marked not available running on `day`, oldest first."""
    u = Unavailability
    query = (
        select(u.household_id, u.places, u.reason, u.start_on)
        .where(u.authority_code == code, active_on(u.start_on, u.end_on, day))
        .order_by(col(u.start_on), col(u.id))
    )
    return [UnavailableMark(**row) for row in session.execute(query).mappings()]


def approvals_between(session: Session, code: str, start: date, end: date) -> list[Approval]:
    """Households approved between `start` and `end`, with their first period's care type."""
    v = HouseholdVersion
    query = (
        select(
            Household.id,
            Household.reference,
            Household.approved_on,
            v.care_type,
            v.terms,
            Household.enquiry_id,
        )
        .join(v, and_(v.household_id == Household.id, v.valid_from == Household.approved_on))
        .where(Household.authority_code == code, col(Household.approved_on).between(start, end))
        .order_by(col(Household.approved_on), col(Household.id))
    )
    return [
        Approval(**(dict(row) | {"terms": [t.value for t in decode_terms(row["terms"])]}))
        for row in session.execute(query).mappings()
    ]


def deregistrations_between(
    session: Session, code: str, start: date, end: date
) -> list[Deregistration]:
    """Households deregistered between `start` and `end`, with the reason and care type."""
    v, before = HouseholdVersion, aliased(HouseholdVersion)
    deregistered = HouseholdStatus.DEREGISTERED.value
    approved_before = exists().where(
        before.household_id == v.household_id,
        before.status != deregistered,
        before.valid_from < v.valid_from,
    )
    query = (
        select(
            Household.id,
            Household.reference,
            v.valid_from.label("on"),  # type: ignore[attr-defined]
            v.deregistration_reason.label("reason"),  # type: ignore[union-attr]
            v.care_type,
            approved_before.label("approved_before"),
        )
        .join(Household, Household.id == v.household_id)
        .where(
            v.authority_code == code,
            v.status == deregistered,
            col(v.valid_from).between(start, end),
        )
        .order_by(col(v.valid_from), col(Household.id))
    )
    return [Deregistration(**row) for row in session.execute(query).mappings()]
