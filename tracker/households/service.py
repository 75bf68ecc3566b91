"""The household register: fostering households, their dated history, placements and
unavailable places.

What can change about a household over time (care type, status, approved places, age range,
terms) lives in `household_version` rows, each valid from a date until the next one, so any
figure can be asked "as at" a past date. Placements and unavailable periods are dated too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
    StageRuleError,
    check_version,
)
from tracker.enquiries.service import Enquiry
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
    Term,
    UnavailableReason,
)

EARLIEST = date(1980, 1, 1)
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9/_.-]+$")]
# A pseudonymous child reference: letters, digits and dashes only, so no name fits in it.
ChildRef = Annotated[str, msgspec.Meta(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
Places = Annotated[int, msgspec.Meta(ge=0, le=12)]
Age = Annotated[int, msgspec.Meta(ge=0, le=25)]
Note = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^[^\x00]*$")]


class CapacityExceededError(ConflictError):
    """More children placed than the household is approved for."""

    rule = "capacity_exceeded"


def encode_terms(terms: list[Term] | list[str]) -> str:
    """Terms stored as '|a|b|' so SQL can test membership with LIKE on every backend."""
    values = sorted({Term(t).value for t in terms})
    return "|" + "|".join(values) + "|" if values else "|"


def decode_terms(stored: str) -> list[Term]:
    """The terms of a stored '|a|b|' string."""
    return [Term(t) for t in stored.strip("|").split("|") if t]


class Household(SQLModel, table=True):
    """A fostering household's identity and undated details."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("authority_code", "reference", name="uq_household_reference"),
        UniqueConstraint("enquiry_id", name="uq_household_enquiry"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    reference: str = Field(sa_type=String(40))
    enquiry_id: int | None = Field(default=None, sa_column_args=[ForeignKey("enquiry.id")])
    approved_on: date
    carers_ethnicity: str | None = Field(default=None, sa_type=String(40))
    last_review_on: date | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class HouseholdVersion(SQLModel, table=True):
    """What a household was from `valid_from` until `valid_to` (exclusive; open if null)."""

    __tablename__ = "household_version"
    __table_args__ = (
        Index("ix_household_version_asat", "authority_code", "valid_from", "valid_to"),
        Index("ix_household_version_household", "household_id", "valid_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(sa_column_args=[ForeignKey("household.id", ondelete="CASCADE")])
    authority_code: str = Field(sa_type=String(9))
    valid_from: date
    valid_to: date | None = None
    care_type: str = Field(sa_type=String(20))
    status: str = Field(sa_type=String(20))
    approved_places: int
    age_min: int
    age_max: int
    terms: str = Field(default="|", sa_type=String(200))
    deregistration_reason: str | None = Field(default=None, sa_type=String(30))
    note: str | None = Field(default=None, sa_type=String(2000))
    actor: str = Field(sa_type=String(200))


class Placement(SQLModel, table=True):
    """A child (pseudonymous reference only) living in a household from start to end."""

    __tablename__ = "placement"
    __table_args__ = (
        Index("ix_placement_household", "household_id", "start_on"),
        Index("ix_placement_child", "authority_code", "child_ref"),
        Index("ix_placement_asat", "authority_code", "start_on", "end_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(sa_column_args=[ForeignKey("household.id", ondelete="CASCADE")])
    authority_code: str = Field(sa_type=String(9))
    child_ref: str = Field(sa_type=String(40))
    start_on: date
    end_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Unavailability(SQLModel, table=True):
    """Approved places of a household that cannot take a child for a while, and why."""

    __tablename__ = "place_unavailability"
    __table_args__ = (Index("ix_unavailability_asat", "authority_code", "start_on", "end_on"),)

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(sa_column_args=[ForeignKey("household.id", ondelete="CASCADE")])
    authority_code: str = Field(sa_type=String(9))
    places: int
    reason: str = Field(sa_type=String(30))
    start_on: date
    end_on: date | None = None


class NewHousehold(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A newly approved household (from an approved enquiry when `enquiry_id` is given)."""

    reference: Reference
    care_type: HouseholdCareType
    approved_places: Places
    age_min: Age = 0
    age_max: Age = 17
    terms: list[Term] = msgspec.field(default_factory=list)
    approved_on: date | None = None
    enquiry_id: int | None = None
    carers_ethnicity: Ethnicity | None = None
    last_review_on: date | None = None


class HouseholdChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A dated change: what is given applies from `effective_on` (default today)."""

    effective_on: date | None = None
    care_type: HouseholdCareType | msgspec.UnsetType = msgspec.UNSET
    status: HouseholdStatus | msgspec.UnsetType = msgspec.UNSET
    approved_places: Places | msgspec.UnsetType = msgspec.UNSET
    age_min: Age | msgspec.UnsetType = msgspec.UNSET
    age_max: Age | msgspec.UnsetType = msgspec.UNSET
    terms: list[Term] | msgspec.UnsetType = msgspec.UNSET
    deregistration_reason: DeregistrationReason | None = None
    note: Note | None = None


class HouseholdDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Undated details: change them in place."""

    reference: Reference | msgspec.UnsetType = msgspec.UNSET
    carers_ethnicity: Ethnicity | msgspec.UnsetType | None = msgspec.UNSET
    last_review_on: date | msgspec.UnsetType | None = msgspec.UNSET


class NewPlacement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Place a child in a household."""

    child_ref: ChildRef
    start_on: date
    end_on: date | None = None


class PlacementEnd(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """End a placement on a date."""

    end_on: date


class NewUnavailability(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Mark approved places not available from a date (until `end_on`, if known)."""

    places: Annotated[int, msgspec.Meta(ge=1, le=12)]
    reason: UnavailableReason
    start_on: date
    end_on: date | None = None


class VersionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One period of a household's history."""

    valid_from: date
    valid_to: date | None
    care_type: HouseholdCareType
    status: HouseholdStatus
    approved_places: int
    age_min: int
    age_max: int
    terms: list[Term]
    deregistration_reason: DeregistrationReason | None
    note: str | None
    actor: str


class PlacementRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A placement as the API shows it (to managers of the authority only)."""

    id: int
    household_id: int
    child_ref: str
    start_on: date
    end_on: date | None


class UnavailabilityRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An unavailable period."""

    id: int
    household_id: int
    places: int
    reason: UnavailableReason
    start_on: date
    end_on: date | None


class HouseholdRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A household as at a date: its details, its state then and its places then."""

    id: int
    authority_code: str
    reference: str
    enquiry_id: int | None
    approved_on: date
    carers_ethnicity: Ethnicity | None
    last_review_on: date | None
    as_at: date
    care_type: HouseholdCareType
    status: HouseholdStatus
    approved_places: int
    filled_places: int
    unavailable_places: int
    vacant_places: int
    age_min: int
    age_max: int
    terms: list[Term]
    deregistration_reason: DeregistrationReason | None
    version: int


class HouseholdPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of households."""

    items: list[HouseholdRecord]
    total: int
    limit: int
    offset: int


def active_on(valid_from: Any, valid_to: Any, day: date) -> Any:
    """SQL condition: a [from, to) period covers `day` (an open end covers every later day)."""
    return and_(valid_from <= day, or_(valid_to.is_(None), valid_to > day))


def _load(
    session: Session, authority_code: str, household_id: int, *, lock: bool = False
) -> Household:
    query = select(Household).where(
        Household.id == household_id, Household.authority_code == authority_code
    )
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFoundError(
            f"no household {household_id} in authority {authority_code}", field="household_id"
        )
    return row


def _versions(session: Session, household_id: int) -> list[HouseholdVersion]:
    query = (
        select(HouseholdVersion)
        .where(HouseholdVersion.household_id == household_id)
        .order_by(HouseholdVersion.valid_from)  # type: ignore[arg-type]
    )
    return list(session.scalars(query))


def version_on(versions: list[HouseholdVersion], day: date) -> HouseholdVersion | None:
    """The version in force on `day`, if the household was approved by then."""
    for version in versions:
        if version.valid_from <= day and (version.valid_to is None or version.valid_to > day):
            return version
    return None


def _placements(session: Session, household_id: int) -> list[Placement]:
    query = select(Placement).where(Placement.household_id == household_id)
    return list(session.scalars(query))


def _covers(start: date, end: date | None, day: date) -> bool:
    return start <= day and (end is None or end > day)


def _filled_on(placements: list[Placement], day: date) -> int:
    return sum(1 for p in placements if _covers(p.start_on, p.end_on, day))


def _unavailable_on(session: Session, household_id: int, day: date) -> int:
    query = select(func.coalesce(func.sum(Unavailability.places), 0)).where(
        Unavailability.household_id == household_id,
        active_on(Unavailability.start_on, Unavailability.end_on, day),
    )
    return int(session.scalar(query) or 0)


def to_record(session: Session, row: Household, as_at: date) -> HouseholdRecord:
    """A household as at a date (NotFoundError if it was not yet approved then)."""
    assert row.id is not None
    version = version_on(_versions(session, row.id), as_at)
    if version is None:
        raise NotFoundError(
            f"household {row.id} was not approved until {row.approved_on.isoformat()}",
            field="as_at",
        )
    filled = _filled_on(_placements(session, row.id), as_at)
    counted = version.status != HouseholdStatus.DEREGISTERED
    unavailable = _unavailable_on(session, row.id, as_at) if counted else 0
    if version.status == HouseholdStatus.ON_HOLD:
        unavailable = max(unavailable, version.approved_places - filled)
    approved = version.approved_places if counted else 0
    return HouseholdRecord(
        id=row.id,
        authority_code=row.authority_code,
        reference=row.reference,
        enquiry_id=row.enquiry_id,
        approved_on=row.approved_on,
        carers_ethnicity=Ethnicity(row.carers_ethnicity) if row.carers_ethnicity else None,
        last_review_on=row.last_review_on,
        as_at=as_at,
        care_type=HouseholdCareType(version.care_type),
        status=HouseholdStatus(version.status),
        approved_places=approved,
        filled_places=filled,
        unavailable_places=min(unavailable, max(approved - filled, 0)),
        vacant_places=max(approved - filled - unavailable, 0),
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


def _check_day(day: date, today: date, field: str) -> None:
    if day > today:
        raise InvalidValueError(f"{field} {day.isoformat()} is in the future", field=field)
    if day < EARLIEST:
        raise InvalidValueError(f"{field} {day.isoformat()} is before {EARLIEST}", field=field)


def _check_ages(age_min: int, age_max: int) -> None:
    if age_min > age_max:
        raise InvalidValueError(f"age_min {age_min} is above age_max {age_max}", field="age_min")


def _touch(row: Household) -> None:
    row.version += 1
    row.updated_at = utcnow()


def approve_household(
    session: Session, caller: Caller, authority_code: str, new: NewHousehold, today: date
) -> HouseholdRecord:
    """Add a newly approved household, linked to the enquiry that led to it when given."""
    get_authority(session, authority_code)
    approved_on = new.approved_on
    if new.enquiry_id is not None:
        enquiry = session.scalars(
            select(Enquiry).where(
                Enquiry.id == new.enquiry_id, Enquiry.authority_code == authority_code
            )
        ).first()
        if enquiry is None:
            raise NotFoundError(f"no enquiry {new.enquiry_id} here", field="enquiry_id")
        if enquiry.approved_on is None:
            raise StageRuleError(
                f"enquiry {new.enquiry_id} is not approved",
                rule="enquiry_not_approved",
                field="enquiry_id",
            )
        taken = session.scalars(
            select(Household.id).where(Household.enquiry_id == new.enquiry_id)
        ).first()
        if taken is not None:
            raise ConflictError(
                f"enquiry {new.enquiry_id} already led to household {taken}",
                rule="enquiry_has_household",
                field="enquiry_id",
            )
        approved_on = approved_on or enquiry.approved_on
    if approved_on is None:
        raise InvalidValueError("approved_on is required", field="approved_on")
    _check_day(approved_on, today, "approved_on")
    _check_ages(new.age_min, new.age_max)
    if new.last_review_on is not None:
        _check_day(new.last_review_on, today, "last_review_on")
        if new.last_review_on < approved_on:
            raise InvalidValueError("last_review_on is before approved_on", field="last_review_on")
    exists = session.scalars(
        select(Household.id).where(
            Household.authority_code == authority_code, Household.reference == new.reference
        )
    ).first()
    if exists is not None:
        raise ConflictError(
            f"reference {new.reference!r} belongs to household {exists}",
            rule="reference_taken",
            field="reference",
        )
    row = Household(
        authority_code=authority_code,
        reference=new.reference,
        enquiry_id=new.enquiry_id,
        approved_on=approved_on,
        carers_ethnicity=new.carers_ethnicity.value if new.carers_ethnicity else None,
        last_review_on=new.last_review_on,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add(
        HouseholdVersion(
            household_id=row.id,
            authority_code=authority_code,
            valid_from=approved_on,
            care_type=new.care_type.value,
            status=HouseholdStatus.ACTIVE.value,
            approved_places=new.approved_places,
            age_min=new.age_min,
            age_max=new.age_max,
            terms=encode_terms(new.terms),
            note="approved",
            actor=caller.actor,
        )
    )
    audit.record(session, caller, "create", "household", row.id, authority_code=authority_code)
    session.flush()
    return to_record(session, row, max(approved_on, today))


def _max_filled_from(placements: list[Placement], start: date, end: date | None) -> int:
    """The most children placed at once at any day in [start, end)."""
    points = {start} | {
        p.start_on for p in placements if p.start_on > start and (end is None or p.start_on < end)
    }
    return max((_filled_on(placements, day) for day in points), default=0)


def change_household(
    session: Session,
    caller: Caller,
    authority_code: str,
    household_id: int,
    change: HouseholdChange,
    today: date,
    expected_version: int | None = None,
) -> HouseholdRecord:
    """Apply a dated change: the current period ends and a new one starts on `effective_on`.

    Changes are appended in date order (a change dated before the latest period is refused;
    one dated on the latest period's start corrects that period).
    """
    row = _load(session, authority_code, household_id, lock=True)
    check_version("household", row.id, row.version, expected_version)
    assert row.id is not None
    versions = _versions(session, row.id)
    current = versions[-1]
    effective = change.effective_on or today
    _check_day(effective, today, "effective_on")
    if current.status == HouseholdStatus.DEREGISTERED and effective != current.valid_from:
        raise StageRuleError(
            f"household {household_id} was deregistered on {current.valid_from.isoformat()}",
            rule="deregistered",
            field="status",
        )
    if effective < current.valid_from:
        raise StageRuleError(
            f"effective_on {effective.isoformat()} is before the latest change"
            f" ({current.valid_from.isoformat()})",
            rule="change_before_latest",
            field="effective_on",
        )
    given = {
        f: getattr(change, f)
        for f in ("care_type", "status", "approved_places", "age_min", "age_max", "terms")
        if getattr(change, f) is not msgspec.UNSET
    }
    status = given.get("status", HouseholdStatus(current.status))
    if status is HouseholdStatus.DEREGISTERED and change.deregistration_reason is None:
        raise InvalidValueError(
            "deregistration needs a deregistration_reason", field="deregistration_reason"
        )
    if status is not HouseholdStatus.DEREGISTERED and change.deregistration_reason is not None:
        raise InvalidValueError(
            "deregistration_reason applies only with status deregistered",
            field="deregistration_reason",
        )
    values = {
        "care_type": given.get("care_type", current.care_type),
        "status": status,
        "approved_places": given.get("approved_places", current.approved_places),
        "age_min": given.get("age_min", current.age_min),
        "age_max": given.get("age_max", current.age_max),
        "terms": encode_terms(given["terms"]) if "terms" in given else current.terms,
    }
    _check_ages(values["age_min"], values["age_max"])
    placements = _placements(session, row.id)
    limit = 0 if status is HouseholdStatus.DEREGISTERED else values["approved_places"]
    busiest = _max_filled_from(placements, effective, None)
    if busiest > limit:
        raise CapacityExceededError(
            f"{busiest} children are placed on or after {effective.isoformat()}, more than the"
            f" {limit} place(s) this change leaves: end placements first",
            field="approved_places" if status is not HouseholdStatus.DEREGISTERED else "status",
        )
    fields = {
        "care_type": HouseholdCareType(values["care_type"]).value,
        "status": HouseholdStatus(values["status"]).value,
        "approved_places": values["approved_places"],
        "age_min": values["age_min"],
        "age_max": values["age_max"],
        "terms": values["terms"],
        "deregistration_reason": (
            change.deregistration_reason.value if change.deregistration_reason else None
        ),
        "note": change.note,
        "actor": caller.actor,
    }
    if effective == current.valid_from:
        # A correction of the latest period keeps its note and author unless a note is given;
        # the audit log records who corrected it.
        fields["note"] = change.note or current.note
        fields["actor"] = current.actor
        for name, value in fields.items():
            setattr(current, name, value)
    else:
        current.valid_to = effective
        session.add(
            HouseholdVersion(
                household_id=row.id, authority_code=authority_code, valid_from=effective, **fields
            )
        )
    _touch(row)
    audit.record(
        session,
        caller,
        "change",
        "household",
        row.id,
        authority_code=authority_code,
        detail={"fields": sorted(given), "effective_on": effective.isoformat()},
    )
    session.flush()
    return to_record(session, row, today)


def update_details(
    session: Session,
    caller: Caller,
    authority_code: str,
    household_id: int,
    details: HouseholdDetails,
    today: date,
    expected_version: int | None = None,
) -> HouseholdRecord:
    """Change the undated details: reference, carers' ethnicity, last annual review."""
    row = _load(session, authority_code, household_id, lock=True)
    check_version("household", row.id, row.version, expected_version)
    changed = []
    if details.reference is not msgspec.UNSET and details.reference != row.reference:
        taken = session.scalars(
            select(Household.id).where(
                Household.authority_code == authority_code,
                Household.reference == details.reference,
            )
        ).first()
        if taken is not None:
            raise ConflictError(
                f"reference {details.reference!r} belongs to household {taken}",
                rule="reference_taken",
                field="reference",
            )
        row.reference = details.reference
        changed.append("reference")
    if details.carers_ethnicity is not msgspec.UNSET:
        value = details.carers_ethnicity.value if details.carers_ethnicity else None
        if value != row.carers_ethnicity:
            row.carers_ethnicity = value
            changed.append("carers_ethnicity")
    if details.last_review_on is not msgspec.UNSET and details.last_review_on != row.last_review_on:
        if details.last_review_on is not None:
            _check_day(details.last_review_on, today, "last_review_on")
        row.last_review_on = details.last_review_on
        changed.append("last_review_on")
    if changed:
        _touch(row)
        audit.record(
            session,
            caller,
            "update",
            "household",
            row.id,
            authority_code=authority_code,
            detail={"fields": changed},
        )
    session.flush()
    return to_record(session, row, today)


def get_household(
    session: Session, authority_code: str, household_id: int, as_at: date
) -> HouseholdRecord:
    """One household as at a date."""
    return to_record(session, _load(session, authority_code, household_id), as_at)


def household_history(
    session: Session, authority_code: str, household_id: int
) -> list[VersionRecord]:
    """Every period of a household, oldest first."""
    row = _load(session, authority_code, household_id)
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
        for v in _versions(session, row.id)
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
) -> HouseholdPage:
    """Households approved by `as_at`, as they were then, by reference."""
    get_authority(session, authority_code)
    conditions = [
        HouseholdVersion.authority_code == authority_code,
        active_on(HouseholdVersion.valid_from, HouseholdVersion.valid_to, as_at),
    ]
    if care_type is not None:
        conditions.append(HouseholdVersion.care_type == care_type.value)
    if status is not None:
        conditions.append(HouseholdVersion.status == status.value)
    matching = select(HouseholdVersion.household_id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    query = (
        select(Household)
        .where(Household.id.in_(matching))  # type: ignore[union-attr]
        .order_by(Household.reference)
        .limit(limit)
        .offset(offset)
    )
    items = [to_record(session, row, as_at) for row in session.scalars(query)]
    return HouseholdPage(items=items, total=total, limit=limit, offset=offset)


def place_child(
    session: Session,
    caller: Caller,
    authority_code: str,
    household_id: int,
    new: NewPlacement,
    today: date,
) -> PlacementRecord:
    """Place a child: the household must be active and have room on every day of the stay,
    and the child must not be placed anywhere else at the same time."""
    row = _load(session, authority_code, household_id, lock=True)
    assert row.id is not None
    _check_day(new.start_on, today, "start_on")
    if new.end_on is not None:
        _check_day(new.end_on, today, "end_on")
        if new.end_on <= new.start_on:
            raise InvalidValueError("end_on must be after start_on", field="end_on")
    versions = _versions(session, row.id)
    start_version = version_on(versions, new.start_on)
    if start_version is None or start_version.status != HouseholdStatus.ACTIVE:
        state = "not yet approved" if start_version is None else start_version.status
        raise StageRuleError(
            f"household {household_id} is {state} on {new.start_on.isoformat()}",
            rule="household_not_active",
            field="start_on",
        )
    _check_child_free(session, authority_code, new.child_ref, new.start_on, new.end_on, None)
    placements = _placements(session, row.id)
    candidate = Placement(
        household_id=row.id,
        authority_code=authority_code,
        child_ref=new.child_ref,
        start_on=new.start_on,
        end_on=new.end_on,
    )
    _check_room(versions, [*placements, candidate], new.start_on, new.end_on)
    session.add(candidate)
    session.flush()
    audit.record(
        session,
        caller,
        "create",
        "placement",
        candidate.id,
        authority_code=authority_code,
        detail={"household_id": row.id},
    )
    session.flush()
    return _placement_record(candidate)


def _check_child_free(
    session: Session,
    authority_code: str,
    child_ref: str,
    start: date,
    end: date | None,
    own_id: int | None,
) -> None:
    query = select(Placement).where(
        Placement.authority_code == authority_code,
        Placement.child_ref == child_ref,
        or_(Placement.end_on.is_(None), Placement.end_on > start),  # type: ignore[union-attr]
    )
    if end is not None:
        query = query.where(Placement.start_on < end)
    for other in session.scalars(query):
        if other.id != own_id:
            raise ConflictError(
                f"child {child_ref} is already placed from {other.start_on.isoformat()}"
                f" (placement {other.id}): placements of one child cannot overlap",
                rule="child_already_placed",
                field="child_ref",
            )


def _check_room(
    versions: list[HouseholdVersion], placements: list[Placement], start: date, end: date | None
) -> None:
    points = (
        {start}
        | {v.valid_from for v in versions if v.valid_from > start}
        | {p.start_on for p in placements if p.start_on > start}
    )
    for day in sorted(points):
        if end is not None and day >= end:
            break
        version = version_on(versions, day)
        allowed = 0
        if version is not None and version.status != HouseholdStatus.DEREGISTERED:
            allowed = version.approved_places
        filled = _filled_on(placements, day)
        if filled > allowed:
            raise CapacityExceededError(
                f"on {day.isoformat()} this would be {filled} children in a household approved"
                f" for {allowed}",
                field="household_id",
            )


def _placement_record(row: Placement) -> PlacementRecord:
    assert row.id is not None
    return PlacementRecord(
        id=row.id,
        household_id=row.household_id,
        child_ref=row.child_ref,
        start_on=row.start_on,
        end_on=row.end_on,
    )


def end_placement(
    session: Session,
    caller: Caller,
    authority_code: str,
    placement_id: int,
    end: PlacementEnd,
    today: date,
) -> PlacementRecord:
    """End a placement on a date after its start."""
    row = session.scalars(
        select(Placement)
        .where(Placement.id == placement_id, Placement.authority_code == authority_code)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(f"no placement {placement_id} here", field="placement_id")
    _check_day(end.end_on, today, "end_on")
    if end.end_on <= row.start_on:
        raise InvalidValueError("end_on must be after start_on", field="end_on")
    if row.end_on is None or end.end_on > row.end_on:
        # A later end lengthens the stay: the room and the child's other placements must allow it.
        _check_child_free(session, authority_code, row.child_ref, row.start_on, end.end_on, row.id)
        others = [p for p in _placements(session, row.household_id) if p.id != row.id]
        lengthened = Placement(
            household_id=row.household_id,
            authority_code=authority_code,
            child_ref=row.child_ref,
            start_on=row.start_on,
            end_on=end.end_on,
        )
        _check_room(
            _versions(session, row.household_id), [*others, lengthened], row.start_on, end.end_on
        )
    row.end_on = end.end_on
    audit.record(session, caller, "end", "placement", row.id, authority_code=authority_code)
    session.flush()
    return _placement_record(row)


def list_placements(
    session: Session, authority_code: str, household_id: int, as_at: date | None = None
) -> list[PlacementRecord]:
    """A household's placements (those running on `as_at` when given), oldest first."""
    _load(session, authority_code, household_id)
    query = select(Placement).where(Placement.household_id == household_id)
    if as_at is not None:
        query = query.where(active_on(Placement.start_on, Placement.end_on, as_at))
    return [_placement_record(p) for p in session.scalars(query.order_by(Placement.start_on))]  # type: ignore[arg-type]


def mark_unavailable(
    session: Session,
    caller: Caller,
    authority_code: str,
    household_id: int,
    new: NewUnavailability,
    today: date,
) -> UnavailabilityRecord:
    """Record approved places as not available for a period, with a reason."""
    row = _load(session, authority_code, household_id, lock=True)
    assert row.id is not None
    _check_day(new.start_on, today, "start_on")
    if new.end_on is not None and new.end_on <= new.start_on:
        raise InvalidValueError("end_on must be after start_on", field="end_on")
    if new.start_on < row.approved_on:
        raise InvalidValueError("start_on is before the household's approval", field="start_on")
    versions = _versions(session, row.id)
    periods = list(
        session.scalars(select(Unavailability).where(Unavailability.household_id == row.id))
    )
    points = (
        {new.start_on}
        | {
            p.start_on
            for p in periods
            if p.start_on > new.start_on and (new.end_on is None or p.start_on < new.end_on)
        }
        | {v.valid_from for v in versions if v.valid_from > new.start_on}
    )
    for day in sorted(points):
        if new.end_on is not None and day >= new.end_on:
            break
        version = version_on(versions, day)
        if version is None or version.status == HouseholdStatus.DEREGISTERED:
            raise StageRuleError(
                f"household {household_id} is not approved on {day.isoformat()}",
                rule="household_not_active",
                field="start_on",
            )
        marked = new.places + sum(p.places for p in periods if _covers(p.start_on, p.end_on, day))
        if marked > version.approved_places:
            raise InvalidValueError(
                f"on {day.isoformat()} {marked} places would be unavailable, more than the"
                f" {version.approved_places} approved",
                field="places",
            )
    period = Unavailability(
        household_id=row.id,
        authority_code=authority_code,
        places=new.places,
        reason=new.reason.value,
        start_on=new.start_on,
        end_on=new.end_on,
    )
    session.add(period)
    session.flush()
    audit.record(
        session,
        caller,
        "create",
        "unavailability",
        period.id,
        authority_code=authority_code,
        detail={"household_id": row.id},
    )
    session.flush()
    return _unavailability_record(period)


def _unavailability_record(row: Unavailability) -> UnavailabilityRecord:
    assert row.id is not None
    return UnavailabilityRecord(
        id=row.id,
        household_id=row.household_id,
        places=row.places,
        reason=UnavailableReason(row.reason),
        start_on=row.start_on,
        end_on=row.end_on,
    )


def end_unavailability(
    session: Session,
    caller: Caller,
    authority_code: str,
    unavailability_id: int,
    end_on: date,
    today: date,
) -> UnavailabilityRecord:
    """Places become available again on `end_on`."""
    row = session.scalars(
        select(Unavailability).where(
            Unavailability.id == unavailability_id,
            Unavailability.authority_code == authority_code,
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no unavailable period {unavailability_id} here", field="id")
    _check_day(end_on, today, "end_on")
    if end_on <= row.start_on:
        raise InvalidValueError("end_on must be after start_on", field="end_on")
    row.end_on = end_on
    audit.record(session, caller, "end", "unavailability", row.id, authority_code=authority_code)
    session.flush()
    return _unavailability_record(row)
