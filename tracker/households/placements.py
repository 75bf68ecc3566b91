"""Placements: a child (by pseudonymous reference only) placed with a household from a date,
within its approved places, its status and the child's other placements."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
    StageRuleError,
)
from tracker.core.monthly_upkeep import register_touched
from tracker.core.sql import active_on
from tracker.households.care_types import (
    HouseholdStatus,
)
from tracker.households.queries import (
    filled_on,
    load_household,
    placements_of,
    version_on,
    versions_of,
)
from tracker.households.rules import check_day
from tracker.households.schemas import (
    NewPlacement,
    PlacementEnd,
    PlacementRecord,
)
from tracker.households.tables import (
    CapacityExceededError,
    HouseholdVersion,
    Placement,
)


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
    row = load_household(session, authority_code, household_id, lock=True)
    assert row.id is not None
    check_day(new.start_on, today, "start_on")
    if new.end_on is not None:
        check_day(new.end_on, today, "end_on")
        if new.end_on <= new.start_on:
            raise InvalidValueError("end_on must be after start_on", field="end_on")
    versions = versions_of(session, row.id)
    start_version = version_on(versions, new.start_on)
    if start_version is None or start_version.status != HouseholdStatus.ACTIVE:
        state = "not yet approved" if start_version is None else start_version.status
        raise StageRuleError(
            f"household {household_id} is {state} on {new.start_on.isoformat()}",
            rule="household_not_active",
            field="start_on",
        )
    _check_child_free(session, authority_code, new.child_ref, new.start_on, new.end_on, None)
    placements = placements_of(session, row.id)
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
    register_touched(session, authority_code, new.start_on, today)
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
        or_(col(Placement.end_on).is_(None), col(Placement.end_on) > start),
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
        filled = filled_on(placements, day)
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


def _load(session: Session, authority_code: str, placement_id: int, *, lock: bool) -> Placement:
    query = select(Placement).where(
        Placement.id == placement_id, Placement.authority_code == authority_code
    )
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(f"no placement {placement_id} here", field="placement_id")
    return row


def get_placement(session: Session, authority_code: str, placement_id: int) -> PlacementRecord:
    """One placement of the authority (NotFoundError for another authority's)."""
    return _placement_record(_load(session, authority_code, placement_id, lock=False))


def end_placement(
    session: Session,
    caller: Caller,
    authority_code: str,
    placement_id: int,
    end: PlacementEnd,
    today: date,
) -> PlacementRecord:
    """End a placement on a date after its start."""
    row = _load(session, authority_code, placement_id, lock=True)
    check_day(end.end_on, today, "end_on")
    if end.end_on <= row.start_on:
        raise InvalidValueError("end_on must be after start_on", field="end_on")
    if row.end_on is None or end.end_on > row.end_on:
        # A later end lengthens the stay: the room and the child's other placements must allow it.
        _check_child_free(session, authority_code, row.child_ref, row.start_on, end.end_on, row.id)
        others = [p for p in placements_of(session, row.household_id) if p.id != row.id]
        lengthened = Placement(
            household_id=row.household_id,
            authority_code=authority_code,
            child_ref=row.child_ref,
            start_on=row.start_on,
            end_on=end.end_on,
        )
        _check_room(
            versions_of(session, row.household_id), [*others, lengthened], row.start_on, end.end_on
        )
    since = min(end.end_on, row.end_on) if row.end_on else end.end_on
    row.end_on = end.end_on
    audit.record(session, caller, "end", "placement", row.id, authority_code=authority_code)
    session.flush()
    register_touched(session, authority_code, since, today)
    return _placement_record(row)


def list_placements(
    session: Session, authority_code: str, household_id: int, as_at: date | None = None
) -> list[PlacementRecord]:
    """A household's placements (those running on `as_at` when given), oldest first."""
    load_household(session, authority_code, household_id)
    query = select(Placement).where(Placement.household_id == household_id)
    if as_at is not None:
        query = query.where(active_on(Placement.start_on, Placement.end_on, as_at))
    return [_placement_record(p) for p in session.scalars(query.order_by(col(Placement.start_on)))]
