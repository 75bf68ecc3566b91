"""Places not available for a while (carer's circumstances, matched pending, ...): marking
them from a date, with a reason, and ending the period."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.errors import (
    InvalidValueError,
    NotFoundError,
    StageRuleError,
)
from tracker.core.monthly_upkeep import register_touched
from tracker.households.care_types import (
    HouseholdStatus,
    UnavailableReason,
)
from tracker.households.queries import covers, load_household, version_on, versions_of
from tracker.households.rules import check_day
from tracker.households.schemas import (
    NewUnavailability,
    UnavailabilityRecord,
)
from tracker.households.tables import (
    Unavailability,
)


def mark_unavailable(
    session: Session,
    caller: Caller,
    authority_code: str,
    household_id: int,
    new: NewUnavailability,
    today: date,
) -> UnavailabilityRecord:
    """Record approved places as not available for a period, with a reason."""
    row = load_household(session, authority_code, household_id, lock=True)
    assert row.id is not None
    check_day(new.start_on, today, "start_on")
    if new.end_on is not None and new.end_on <= new.start_on:
        raise InvalidValueError("end_on must be after start_on", field="end_on")
    if new.start_on < row.approved_on:
        raise InvalidValueError("start_on is before the household's approval", field="start_on")
    versions = versions_of(session, row.id)
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
        marked = new.places + sum(p.places for p in periods if covers(p.start_on, p.end_on, day))
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
    register_touched(session, authority_code, new.start_on, today)
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


def _load(session: Session, authority_code: str, unavailability_id: int) -> Unavailability:
    row = session.scalars(
        select(Unavailability).where(
            Unavailability.id == unavailability_id,
            Unavailability.authority_code == authority_code,
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no unavailable period {unavailability_id} here", field="id")
    return row


def get_unavailability(
    session: Session, authority_code: str, unavailability_id: int
) -> UnavailabilityRecord:
    """One period of unavailable places of the authority (NotFoundError for another's)."""
    return _unavailability_record(_load(session, authority_code, unavailability_id))


def list_unavailability(
    session: Session, authority_code: str, household_id: int, day: date | None = None
) -> list[UnavailabilityRecord]:
    """The household's periods of places not available, oldest first (only those running on
    `day` when given)."""
    row = load_household(session, authority_code, household_id)
    query = (
        select(Unavailability)
        .where(Unavailability.household_id == row.id)
        .order_by(Unavailability.start_on, Unavailability.id)
    )
    periods = [_unavailability_record(p) for p in session.scalars(query)]
    return [p for p in periods if day is None or covers(p.start_on, p.end_on, day)]


def end_unavailability(
    session: Session,
    caller: Caller,
    authority_code: str,
    unavailability_id: int,
    end_on: date,
    today: date,
) -> UnavailabilityRecord:
    """Places become available again on `end_on`."""
    row = _load(session, authority_code, unavailability_id)
    check_day(end_on, today, "end_on")
    if end_on <= row.start_on:
        raise InvalidValueError("end_on must be after start_on", field="end_on")
    since = min(end_on, row.end_on) if row.end_on else end_on
    row.end_on = end_on
    audit.record(session, caller, "end", "unavailability", row.id, authority_code=authority_code)
    session.flush()
    register_touched(session, authority_code, since, today)
    return _unavailability_record(row)
