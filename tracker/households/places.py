"""How a household's places stand on a date, as SQL: the one vacancy rule, which the
register's own records and every capacity figure read.

A household counts its approved places while active or on hold (a deregistered one counts
none). Its filled places are its placements running on the day; every free place of a
household on hold is unavailable, and otherwise its places marked unavailable, at most the
free ones; the rest are vacant.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Date, bindparam, case, func, select
from sqlmodel import col

from tracker.core.sql import active_on
from tracker.households.care_types import HouseholdStatus
from tracker.households.tables import HouseholdVersion, Placement, Unavailability


def of_authorities(column: Any, many: bool) -> Any:
    """SQL condition: `column` is the bound authority "code", or one of the bound "codes"."""
    return column.in_(bindparam("codes", expanding=True)) if many else column == bindparam("code")


@cache
def places_as_at(
    many: bool,
    *,
    with_deregistered: bool = False,
    day: str = "as_at",
    households: Any = None,
) -> Any:
    """One row per household of the bound authorities ("code", or "codes" when `many`) on the
    bound date named `day`: its version's columns and its approved (counted), filled,
    unavailable and vacant places; only the households whose ids `households` selects, when
    given (read by household, not the authority's every row). Built once per shape: only the
    bound values change."""
    as_at = bindparam(day, type_=Date)

    def of(column: Any, household: Any) -> Any:
        if households is None:
            return of_authorities(column, many)
        return household.in_(select(households.c.household_id))

    filled = (
        select(Placement.household_id, func.count().label("filled"))
        .where(
            of(Placement.authority_code, Placement.household_id),
            active_on(Placement.start_on, Placement.end_on, as_at),
        )
        .group_by(Placement.household_id)
        .subquery()
    )
    marked = (
        select(Unavailability.household_id, func.sum(Unavailability.places).label("marked"))
        .where(
            of(Unavailability.authority_code, Unavailability.household_id),
            active_on(Unavailability.start_on, Unavailability.end_on, as_at),
        )
        .group_by(Unavailability.household_id)
        .subquery()
    )
    v = HouseholdVersion
    deregistered = v.status == HouseholdStatus.DEREGISTERED.value
    approved = case((deregistered, 0), else_=v.approved_places)
    filled_n = func.coalesce(filled.c.filled, 0)
    free = case((approved > filled_n, approved - filled_n), else_=0)
    marked_n = func.coalesce(marked.c.marked, 0)
    unavailable = case(
        (v.status == HouseholdStatus.ON_HOLD.value, free),
        (marked_n < free, marked_n),
        else_=free,
    )
    query = (
        select(
            col(v.id).label("version_id"),
            v.authority_code,
            v.household_id,
            v.care_type,
            v.status,
            approved.label("approved"),
            v.age_min,
            v.age_max,
            v.terms,
            filled_n.label("filled"),
            unavailable.label("unavailable"),
            (free - unavailable).label("vacant"),
        )
        .outerjoin(filled, filled.c.household_id == v.household_id)
        .outerjoin(marked, marked.c.household_id == v.household_id)
        .where(of(v.authority_code, v.household_id), active_on(v.valid_from, v.valid_to, as_at))
    )
    if not with_deregistered:
        query = query.where(~deregistered)
    return query.subquery()


def places_of(status: str, approved: int | None, filled: int, marked: int) -> tuple[int, int, int]:
    """`places_as_at`'s rule in Python, for one household counted (active or on hold) with
    `approved` places, `filled` placements and `marked` places marked unavailable on a day:
    its (approved, unavailable, vacant) places."""
    approved = approved or 0
    free = approved - filled if approved > filled else 0
    on_hold = status == HouseholdStatus.ON_HOLD.value
    unavailable = free if on_hold or marked >= free else marked
    return approved, unavailable, free - unavailable
