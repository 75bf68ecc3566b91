"""The register's figures as at any day of a prepared council, without reading its whole
register: the prepared stock at the nearer month-end (`register_month`: the end of the month
before, or of the day's own month), plus what the households changed between the two days
count on the day, less what they counted at that month-end.

A household's figures on two days differ only if one of its versions, placements or marked
unavailabilities starts or ends between them, so the read costs those days' changes (found
by index on each start and end date) and the care types' stored rows, not the rows stored.
Every write path keeps the month-end stocks (`tracker.core.monthly_upkeep.register_touched`);
the reference computation (`tracker.capacity.register.register_counts`) stays, and tests
compare the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Date, Integer, String, bindparam, func, literal, select, union, union_all
from sqlalchemy.orm import Session
from sqlmodel import col

from forecast.months import month_end, month_label, month_start
from tracker.capacity.register import PLACE_SUMS, TERM_AND_BAND_SUMS, register_figures
from tracker.capacity.schemas import RegisterCounts
from tracker.core.db import PlannedOnce
from tracker.core.monthly_tables import RegisterMonth
from tracker.core.sql import active_on
from tracker.households.care_types import AGE_BANDS, HouseholdStatus, Term
from tracker.households.places import places_of
from tracker.households.tables import HouseholdVersion, Placement, Unavailability

PREPARED_AS_AT_DIALECTS = frozenset({"sqlite", "postgresql"})
"""Where capacity reads use it. Planned afresh, its one statement took PostgreSQL 2-11 ms to
plan on every read, more than the register's own query cost (national set, 2026-12-04), so
there it runs as a prepared statement planned once per connection (`PlannedOnce`)."""


def _changed_households() -> Any:
    """The ids of the bound "code"'s households with a version, placement or unavailability
    starting or ending after the bound "lo" and on or before the bound "hi": the households
    whose figures on those two days may differ."""
    lo, hi = bindparam("lo", type_=Date), bindparam("hi", type_=Date)
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
                    table.authority_code == code, column > lo, column <= hi
                )
            )
    return union(*selects).cte("changed")


def _household_rows(side: int, day: str, changed: Any) -> Any:
    """The changed households' versions counted on the bound date named `day` (active or on
    hold), each with its placements running and places marked unavailable that day."""
    as_at = bindparam(day, type_=Date)
    v = HouseholdVersion
    filled = (
        select(func.count())
        .where(
            Placement.household_id == v.household_id,
            active_on(Placement.start_on, Placement.end_on, as_at),
        )
        .scalar_subquery()
    )
    marked = (
        select(func.coalesce(func.sum(Unavailability.places), 0))
        .where(
            Unavailability.household_id == v.household_id,
            active_on(Unavailability.start_on, Unavailability.end_on, as_at),
        )
        .scalar_subquery()
    )
    return select(
        literal(side, Integer).label("side"),
        v.care_type,
        v.status,
        v.approved_places,
        v.age_min,
        v.age_max,
        v.terms,
        filled.label("filled"),
        marked.label("marked"),
    ).where(
        col(v.household_id).in_(select(changed.c.household_id)),
        active_on(v.valid_from, v.valid_to, as_at),
        v.status != HouseholdStatus.DEREGISTERED.value,
    )


@cache
def _statement() -> Any:
    """The changed households' rows on the bound "day" (side 1) and at the stored month-end
    "base" (side -1), in one statement. Rows, summed here: summed in SQL, SQLite flattened the
    vacancy rule into every sum and ran each household's placement and unavailability lookups
    once per sum (1.3 ms of stepping for the largest council's 55 changed households, 0.6 ms
    as rows); summed over a materialized CTE of these rows, it cost 0.7 ms more than this
    (2026-12-05). The rows of `places_as_at` itself (grouped placement and unavailability
    subqueries, the rule in SQL) cost the smallest council twice as much (1.1 against 0.5 ms
    in process on the national set), hence the lookups per version here and `places_of` for
    the rule."""
    changed = _changed_households()
    return union_all(_household_rows(1, "day", changed), _household_rows(-1, "base", changed))


PLANNED = PlannedOnce(
    "capacity_as_at",
    _statement,
    {"lo": Date(), "hi": Date(), "day": Date(), "base": Date(), "code": String()},
)


def stored_columns() -> list[Any]:
    """A month's stored row per care type: its month, its place sums and its term and age
    band sums."""
    m = RegisterMonth
    return [m.month, m.care_type, *(getattr(m, n) for n in PLACE_SUMS), m.terms_and_bands]


@cache
def _stored_statement() -> Any:
    """The stored rows (`stored_columns`) of the bound "code" for the months "before" and
    "own", each with the last month stored."""
    last = (
        select(func.max(RegisterMonth.month))
        .where(RegisterMonth.authority_code == bindparam("code"))
        .scalar_subquery()
    )
    return select(last, *stored_columns()).where(
        RegisterMonth.authority_code == bindparam("code"),
        RegisterMonth.month.in_([bindparam("before"), bindparam("own")]),
    )


def stored_months(as_at: date) -> dict[str, str]:
    """The months whose stored ends a read as at `as_at` may start from: "before" (the month
    before) and "own" (its own month, ending on or after it)."""
    start = month_start(as_at)
    return {"before": month_label(start - timedelta(days=1)), "own": month_label(start)}


def base_day(as_at: date, last_stored: str | None) -> date | None:
    """The stored month-end a read as at `as_at` starts from: the nearer of the end of the
    month before and the end of its own month (when that is stored: the month of the
    council's latest write or a later one), or None when neither is stored. The read then
    costs the households changed between the two days; after its own month's end, few
    changes are dated yet, so a read of today past mid-month costs almost none."""
    before = month_start(as_at) - timedelta(days=1)
    after = month_end(as_at)
    if last_stored is None or last_stored < month_label(before):
        return None
    if last_stored >= month_label(after) and after - as_at < as_at - before:
        return after
    return before


@lru_cache(maxsize=1024)
def _term_sums(terms: str | None) -> tuple[tuple[str, str, str], ...]:
    """The (households, approved, vacant) sums of the terms a stored terms text holds, as
    `tracker.capacity.register.stock_columns` finds them (terms LIKE '%|term|%')."""
    return tuple(
        (f"n_{t.value}", f"a_{t.value}", f"v_{t.value}")
        for t in Term
        if terms and f"|{t.value}|" in terms
    )


@lru_cache(maxsize=1024)
def _band_sums(age_min: int | None, age_max: int | None) -> tuple[str, ...]:
    """The vacancy sums of the age bands that ages from `age_min` to `age_max` meet."""
    if age_min is None or age_max is None:
        return ()
    return tuple(f"b_{band}" for band, low, high in AGE_BANDS if age_min <= high and age_max >= low)


def _add_households(
    rows: Iterable[Any], places: dict[str, dict[str, int]], sums: dict[str, int]
) -> None:
    """Add each household row's places (times its side: 1 on the day, -1 at the month-end)
    to its care type's `places` and to the term and age band `sums`, as
    `tracker.capacity.register.stock_columns` sums them. The rows are first added up by
    care type, terms and ages (the sums are linear), then each group's into its sums."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for side, care_type, status, approved_places, age_min, age_max, terms, filled, marked in rows:
        approved, unavailable, vacant = places_of(status, approved_places, filled, int(marked))
        key = (care_type, terms, age_min, age_max)
        group = groups.get(key)
        if group is None:
            group = groups[key] = [0, 0, 0, 0, 0]
        group[0] += side
        group[1] += side * approved
        group[2] += side * filled
        group[3] += side * unavailable
        group[4] += side * vacant
    for (care_type, terms, age_min, age_max), group in groups.items():
        counts = places.get(care_type)
        if counts is None:
            counts = places[care_type] = dict.fromkeys(PLACE_SUMS, 0)
        for name, value in zip(PLACE_SUMS, group, strict=True):
            counts[name] += value
        households, approved, _, _, vacant = group
        for n, a, v in _term_sums(terms):
            sums[n] += households
            sums[a] += approved
            sums[v] += vacant
        for band in _band_sums(age_min, age_max):
            sums[band] += vacant


def prepared_register_counts(
    session: Session,
    code: str,
    as_at: date,
    stored: tuple[str | None, Sequence[Any]] | None = None,
    ready: bool | None = None,
) -> RegisterCounts | None:
    """The register's figures of a prepared council on `as_at` (no carers' ethnic groups),
    from the stock stored at the nearer month-end (`base_day`) and the changes between the
    two days; None when no month-end is stored for it (later than the last month kept): the
    caller computes from the register. `stored`: the last month stored and the rows of the
    months of `stored_months` (`stored_columns`), when the caller has read them already;
    `ready`: whether the statement is prepared on the connection, as the caller's query that
    readied it told (`PlannedOnce.readiness`), or None."""
    connection = session.connection()
    if stored is None:
        params = {"code": code, **stored_months(as_at)}
        found = connection.execute(_stored_statement(), params).all()
        if found:
            stored = (found[0][0], [row[1:] for row in found])
        else:
            last = session.scalar(
                select(func.max(RegisterMonth.month)).where(RegisterMonth.authority_code == code)
            )
            stored = (last, [])
    last, rows = stored
    base = base_day(as_at, last)
    month = month_label(base) if base is not None else None
    kept = [row[1:] for row in rows if row[0] == month]
    # A row stored before its month-end's term and age band sums were kept has none.
    if base is None or not all(row[-1] for row in kept):
        PlannedOnce.release(connection)  # the caller's query may have set the plan mode
        return None
    places: dict[str, dict[str, int]] = {}
    sums: dict[str, int] = dict.fromkeys(TERM_AND_BAND_SUMS, 0)
    for care_type, *values, terms_and_bands in kept:
        places[care_type] = {n: int(v or 0) for n, v in zip(PLACE_SUMS, values, strict=True)}
        for name, value in terms_and_bands.items():
            sums[name] += int(value)
    lo, hi = min(base, as_at), max(base, as_at)
    params = {"code": code, "lo": lo, "hi": hi, "day": as_at, "base": base}
    _add_households(PLANNED.execute(connection, params, ready).all(), places, sums)
    return register_figures(places, sums, {})
