"""The household register: fostering households, their dated history, placements and
unavailable places.

What can change about a household over time (care type, status, approved places, age range,
terms) lives in `household_version` rows, each valid from a date until the next one, so any
figure can be asked "as at" a past date. Placements and unavailable periods are dated too.
"""

from __future__ import annotations

from datetime import date

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from tracker.core.monthly_upkeep import register_touched
from tracker.enquiries.tables import Enquiry
from tracker.households.care_types import (
    HouseholdCareType,
    HouseholdStatus,
)
from tracker.households.queries import load_household, placements_of, to_record, versions_of
from tracker.households.rules import check_ages, check_carers, check_day, max_filled_from
from tracker.households.schemas import (
    HouseholdChange,
    HouseholdDetails,
    HouseholdRecord,
    NewHousehold,
)
from tracker.households.tables import (
    CapacityExceededError,
    Household,
    HouseholdVersion,
    encode_terms,
)


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
    check_day(approved_on, today, "approved_on")
    check_ages(new.age_min, new.age_max)
    check_carers(new.carers, new.carers_age_bands, new.carers_disabled)
    if new.last_review_on is not None:
        check_day(new.last_review_on, today, "last_review_on")
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
        carers=new.carers,
        carers_age_bands=[band.value for band in new.carers_age_bands] or None,
        carers_disabled=new.carers_disabled,
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
    register_touched(session, authority_code, approved_on, today)
    return to_record(session, row, max(approved_on, today))


def _carers_details(row: Household, details: HouseholdDetails) -> list[str]:
    """Apply the carers' number, age bands and disability given; the fields that changed."""
    given = {
        "carers": details.carers,
        "carers_age_bands": (
            [band.value for band in details.carers_age_bands] or None
            if details.carers_age_bands is not msgspec.UNSET
            else msgspec.UNSET
        ),
        "carers_disabled": details.carers_disabled,
    }
    values = {
        name: getattr(row, name) if value is msgspec.UNSET else value
        for name, value in given.items()
    }
    check_carers(values["carers"], values["carers_age_bands"] or [], values["carers_disabled"])
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    return changed


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
    row = load_household(session, authority_code, household_id, lock=True)
    check_version("household", row.id, row.version, expected_version)
    assert row.id is not None
    versions = versions_of(session, row.id)
    current = versions[-1]
    effective = change.effective_on or today
    check_day(effective, today, "effective_on")
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
    check_ages(values["age_min"], values["age_max"])
    placements = placements_of(session, row.id)
    limit = 0 if status is HouseholdStatus.DEREGISTERED else values["approved_places"]
    busiest = max_filled_from(placements, effective, None)
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
    register_touched(session, authority_code, effective, today)
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
    """Change the undated details: reference, carers' ethnicity, number, age bands and
    disability, last annual review."""
    row = load_household(session, authority_code, household_id, lock=True)
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
    changed += _carers_details(row, details)
    if details.last_review_on is not msgspec.UNSET and details.last_review_on != row.last_review_on:
        if details.last_review_on is not None:
            check_day(details.last_review_on, today, "last_review_on")
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
