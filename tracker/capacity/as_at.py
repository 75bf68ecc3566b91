"""The register's figures as at any day of a prepared council, without reading its whole
register: the prepared stock at the end of the month before (`register_month`), plus what
the households changed in the days since then count on the day, less what they counted at
that month-end.

A household's figures on two days differ only if one of its versions, placements or marked
unavailabilities starts or ends between them, so the read costs that month's changes (found
by index on each start and end date) and the care types' stored rows, not the rows stored.
Every write path keeps the month-end stocks (`tracker.core.monthly_upkeep.register_touched`);
the reference computation (`tracker.capacity.register.register_counts`) stays, and tests
compare the two.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Date, Integer, String, bindparam, func, literal, select, union, union_all
from sqlalchemy.orm import Session

from forecast.months import month_label, month_start
from tracker.capacity.register import (
    PLACE_SUMS,
    TERM_AND_BAND_SUMS,
    register_figures,
    stock_columns,
)
from tracker.capacity.schemas import RegisterCounts
from tracker.core.db import PlannedOnce
from tracker.core.monthly_tables import RegisterMonth
from tracker.households.places import places_as_at
from tracker.households.tables import HouseholdVersion, Placement, Unavailability

SUMS = (*PLACE_SUMS, *TERM_AND_BAND_SUMS)
PREPARED_AS_AT_DIALECTS = frozenset({"sqlite", "postgresql"})
"""Where capacity reads use it. Planned afresh, its one statement took PostgreSQL 2-11 ms to
plan on every read, more than the register's own query cost (national set, 2026-12-04), so
there it runs as a prepared statement planned once per connection (`PlannedOnce`)."""


def _changed_households() -> Any:
    """The ids of the bound "code"'s households with a version, placement or unavailability
    starting or ending after the bound "since" and on or before the bound "as_at"."""
    since, as_at = bindparam("since", type_=Date), bindparam("as_at", type_=Date)
    code = bindparam("code")
    selects = []
    for table, start, end in (
        (HouseholdVersion, HouseholdVersion.valid_from, HouseholdVersion.valid_to),
        (Placement, Placement.start_on, Placement.end_on),
        (Unavailability, Unavailability.start_on, Unavailability.end_on),
    ):
        for column in (start, end):
            selects.append(
                select(table.household_id).where(
                    table.authority_code == code, column > since, column <= as_at
                )
            )
    return union(*selects).cte("changed")


@cache
def _statement() -> Any:
    """Each care type's stored month-end row (side 0), and the changed households' sums on
    the day (side 1) and at the month-end (side -1), in one statement."""
    changed = _changed_households()
    sides = []
    for side, day in ((1, "as_at"), (-1, "since")):
        h = places_as_at(many=False, day=day, households=changed)
        sides.append(
            select(literal(side, Integer).label("side"), *stock_columns(h)).group_by(h.c.care_type)
        )
    stored = select(
        literal(0, Integer).label("side"),
        RegisterMonth.care_type,
        *(getattr(RegisterMonth, n) for n in PLACE_SUMS),
        *(literal(0, Integer).label(n) for n in TERM_AND_BAND_SUMS),
    ).where(
        RegisterMonth.authority_code == bindparam("code"), RegisterMonth.month == bindparam("month")
    )
    return union_all(stored, *sides)


PLANNED = PlannedOnce(
    "capacity_as_at",
    _statement,
    {"code": String(), "month": String(), "since": Date(), "as_at": Date()},
)


@cache
def _details_statement() -> Any:
    """The stored month's term and age band sums per care type, and the last month stored."""
    last = (
        select(func.max(RegisterMonth.month))
        .where(RegisterMonth.authority_code == bindparam("code"))
        .scalar_subquery()
    )
    return select(RegisterMonth.care_type, RegisterMonth.terms_and_bands, last).where(
        RegisterMonth.authority_code == bindparam("code"),
        RegisterMonth.month == bindparam("month"),
    )


def prepared_register_counts(session: Session, code: str, as_at: date) -> RegisterCounts | None:
    """The register's figures of a prepared council on `as_at` (no carers' ethnic groups),
    from the stock stored at the end of the month before; None when that month is not
    stored yet (later than the last month kept): the caller computes from the register."""
    since = month_start(as_at) - timedelta(days=1)
    month = month_label(since)
    connection = session.connection()
    details = connection.execute(_details_statement(), {"code": code, "month": month}).all()
    if details:
        # A row stored before its month-end's term and age band sums were kept has none.
        if details[0][2] < month or not all(terms for _, terms, _ in details):
            return None
    else:
        last = session.scalar(
            select(func.max(RegisterMonth.month)).where(RegisterMonth.authority_code == code)
        )
        if last is None or last < month:
            return None
    places: dict[str, dict[str, int]] = {}
    sums: dict[str, int] = dict.fromkeys(TERM_AND_BAND_SUMS, 0)
    for _, terms_and_bands, _ in details:
        for name, value in (terms_and_bands or {}).items():
            sums[name] += int(value)
    params = {"code": code, "month": month, "since": since, "as_at": as_at}
    for side, care_type, *values in PLANNED.execute(connection, params):
        counts = places.setdefault(care_type, dict.fromkeys(PLACE_SUMS, 0))
        sign = 1 if side == 0 else side
        for name, value in zip(SUMS, values, strict=True):
            if name in counts:
                counts[name] += sign * int(value or 0)
            elif side != 0:
                sums[name] += sign * int(value or 0)
    return register_figures(places, sums, {})
