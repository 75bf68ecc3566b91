"""Reading the register: a household as at a date, a page of them, and a household's history."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core.authorities import get_authority
from tracker.core.errors import (
    NotFoundError,
)
from tracker.core.records import owned, page_of
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    CarerAgeBand,
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
)
from tracker.households.places import places_as_at
from tracker.households.schemas import (
    HouseholdPage,
    HouseholdRecord,
    VersionRecord,
)
from tracker.households.tables import (
    Household,
    HouseholdVersion,
    Placement,
    decode_terms,
)


def versions_of(session: Session, household_id: int) -> list[HouseholdVersion]:
    query = (
        select(HouseholdVersion)
        .where(HouseholdVersion.household_id == household_id)
        .order_by(col(HouseholdVersion.valid_from))
    )
    return list(session.scalars(query))


def version_on(versions: list[HouseholdVersion], day: date) -> HouseholdVersion | None:
    """The version in force on `day`, if the household was approved by then."""
    for version in versions:
        if version.valid_from <= day and (version.valid_to is None or version.valid_to > day):
            return version
    return None


def placements_of(session: Session, household_id: int) -> list[Placement]:
    query = select(Placement).where(Placement.household_id == household_id)
    return list(session.scalars(query))


def covers(start: date, end: date | None, day: date) -> bool:
    return start <= day and (end is None or end > day)


def filled_on(placements: list[Placement], day: date) -> int:
    return sum(1 for p in placements if covers(p.start_on, p.end_on, day))


def _record(row: Household, version: HouseholdVersion, places: Any, as_at: date) -> HouseholdRecord:
    assert row.id is not None
    return HouseholdRecord(
        id=row.id,
        authority_code=row.authority_code,
        reference=row.reference,
        enquiry_id=row.enquiry_id,
        approved_on=row.approved_on,
        carers_ethnicity=Ethnicity(row.carers_ethnicity) if row.carers_ethnicity else None,
        carers=row.carers,
        carers_age_bands=[CarerAgeBand(b) for b in row.carers_age_bands or []],
        carers_disabled=row.carers_disabled,
        last_review_on=row.last_review_on,
        as_at=as_at,
        care_type=HouseholdCareType(version.care_type),
        status=HouseholdStatus(version.status),
        approved_places=places.approved,
        filled_places=places.filled,
        unavailable_places=places.unavailable,
        vacant_places=places.vacant,
        age_min=version.age_min,
        age_max=version.age_max,
        terms=decode_terms(version.terms),
        deregistration_reason=(
            DeregistrationReason(version.deregistration_reason)
            if version.deregistration_reason
            else None
        ),
        version=row.version,
    )


def _records_query(*conditions: Any) -> Select[Any]:
    """Households with the version in force on the bound "as_at" and how their places stand
    (`places.places_as_at`), by reference."""
    h = places_as_at(many=False, with_deregistered=True)
    return (
        select(Household, HouseholdVersion, h)
        .join(h, h.c.household_id == Household.id)
        .join(HouseholdVersion, HouseholdVersion.id == h.c.version_id)
        .where(*conditions)
        .order_by(Household.reference)
    )


def register_as_at(
    session: Session, authority_code: str, as_at: date, *conditions: Any
) -> list[tuple[Household, HouseholdVersion, HouseholdRecord]]:
    """Every household approved by `as_at` (and meeting `conditions`) with the version in
    force then and its record as at then, by reference: one query however many there are."""
    query = _records_query(*conditions).params(code=authority_code, as_at=as_at)
    return [(r[0], r[1], _record(r[0], r[1], r._mapping, as_at)) for r in session.execute(query)]


def to_record(session: Session, row: Household, as_at: date) -> HouseholdRecord:
    """A household as at a date (NotFoundError if it was not yet approved then)."""
    found = register_as_at(session, row.authority_code, as_at, Household.id == row.id)
    if not found:
        raise NotFoundError(
            f"household {row.id} was not approved until {row.approved_on.isoformat()}",
            field="as_at",
        )
    return found[0][2]


def get_household(
    session: Session, authority_code: str, household_id: int, as_at: date
) -> HouseholdRecord:
    """One household as at a date."""
    return to_record(session, load_household(session, authority_code, household_id), as_at)


def household_history(
    session: Session, authority_code: str, household_id: int
) -> list[VersionRecord]:
    """Every period of a household, oldest first."""
    row = load_household(session, authority_code, household_id)
    assert row.id is not None
    return [
        VersionRecord(
            valid_from=v.valid_from,
            valid_to=v.valid_to,
            care_type=HouseholdCareType(v.care_type),
            status=HouseholdStatus(v.status),
            approved_places=v.approved_places,
            age_min=v.age_min,
            age_max=v.age_max,
            terms=decode_terms(v.terms),
            deregistration_reason=(
                DeregistrationReason(v.deregistration_reason) if v.deregistration_reason else None
            ),
            note=v.note,
            actor=v.actor,
        )
        for v in versions_of(session, row.id)
    ]


def list_households(
    session: Session,
    authority_code: str,
    as_at: date,
    *,
    care_type: HouseholdCareType | None = None,
    status: HouseholdStatus | None = None,
    limit: int,
    offset: int,
    newest_first: bool = False,
) -> HouseholdPage:
    """Households approved by `as_at`, as they were then, by reference (or the latest
    approved first)."""
    get_authority(session, authority_code)
    conditions = []
    if care_type is not None:
        conditions.append(HouseholdVersion.care_type == care_type.value)
    if status is not None:
        conditions.append(HouseholdVersion.status == status.value)
    query = _records_query(*conditions).params(code=authority_code, as_at=as_at)
    if newest_first:
        query = query.order_by(None).order_by(
            col(Household.approved_on).desc(), col(Household.id).desc()
        )
    rows, total = page_of(session, query, limit=limit, offset=offset)
    items = [_record(row[0], row[1], row._mapping, as_at) for row in rows]
    return HouseholdPage(items=items, total=total, limit=limit, offset=offset)


def load_household(
    session: Session, authority_code: str, household_id: int, *, lock: bool = False
) -> Household:
    """The authority's household with this id (NotFoundError naming household_id)."""
    return owned(
        session,
        Household,
        authority_code,
        household_id,
        noun="household",
        field="household_id",
        lock=lock,
    )
