"""Children in care on a date by placement category, and at the end of every month.

A child is in care on a date d when an episode of the return that speaks for d
(`tracker.children.returns.return_for`) has DECOM <= d and no DEC or DEC > d. Short breaks
(legal status V3, V4) are left out of the headline count and its placement mix, as DfE
leaves them out of children looked after at 31 March, and reported apart. Councils without
an extract have the figures of the latest month they entered.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import Date, bindparam, case, func, literal, or_, select
from sqlalchemy.orm import Session

from forecast.months import month_ends, month_label, year_ending_march
from tracker.children.aggregates import Metric, entered, entered_total
from tracker.children.mapping import Mapping
from tracker.children.returns import loaded_years, return_for
from tracker.children.rows import year_label
from tracker.children.sources import (
    AGGREGATES,
    CATEGORY_NAMES,
    category,
    headline,
    short_break,
    source_of,
)
from tracker.children.tables import CareEpisode, MonthlyAggregate
from tracker.core.sql import month_of
from tracker.households.care_types import PlacementCategory

SHORT_BREAKS = "short_breaks"


class InCare(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care on a date, in all and by placement category (None: not entered)."""

    as_at: date
    children: int | None
    by_category: dict[str, int | None]
    # With aggregates: the month whose figures stand for the date (None with SSDA903).
    figures_month: str | None = None
    # With SSDA903: children under an agreed series of short breaks (not in `children`), and
    # the return the figures come from ("2022-23").
    short_breaks: int | None = None
    return_year: str | None = None


class InCareReport(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care on a date by placement category."""

    authority_code: str
    source: str
    figures: InCare
    # Readers outside the council: that small counts are withheld (tracker.children.withheld).
    withheld: str | None = None


class InCareSeries(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care at the end of every month of a range."""

    authority_code: str
    source: str
    months: list[InCare]
    # Readers outside the council: that small counts are withheld (tracker.children.withheld).
    withheld: str | None = None


def in_care_on(as_at: date | Any, episode: Any = CareEpisode) -> list[Any]:
    """SQL conditions: the episode is open on `as_at` (a date or a bound parameter)."""
    return [
        episode.decom <= as_at,
        or_(episode.dec.is_(None), episode.dec > as_at),
    ]


def _kind(mapping: Mapping) -> Any:
    """SQL: "short_breaks" for a short break, else the episode's placement category."""
    return case((short_break(), literal(SHORT_BREAKS)), else_=category(mapping))


@cache
def _on_query(mapping: Mapping) -> Any:
    """Episodes open on the bound "as_at" in the bound "code"'s return "year", counted by
    kind: built once per mapping (its CASE takes milliseconds to build, more than the count)."""
    kind = _kind(mapping)
    return (
        select(kind, func.count())
        .where(
            CareEpisode.authority_code == bindparam("code"),
            CareEpisode.source_year == bindparam("year"),
        )
        .where(*in_care_on(bindparam("as_at", type_=Date)))
        .group_by(kind)
    )


def _on(session: Session, code: str, as_at: date, mapping: Mapping) -> tuple[int | None, dict]:
    """(return year, counts by category and short breaks) of the return speaking for a date."""
    year = return_for(loaded_years(session, code), year_ending_march(as_at))
    params = {"code": code, "year": year, "as_at": as_at}
    return year, {name: int(n) for name, n in session.execute(_on_query(mapping), params)}


def episodes_in_care(
    session: Session, authority_code: str, as_at: date, mapping: Mapping
) -> dict[PlacementCategory, int]:
    """Children in care on a date by placement category (every category; short breaks left
    out), from the return that speaks for the date."""
    _, counts = _on(session, authority_code, as_at, mapping)
    return {c: counts.get(c.value, 0) for c in PlacementCategory}


def _entered_in_care(values: dict[tuple[str, str, str], int], label: str, as_at: date) -> InCare:
    metric = Metric.CHILDREN_IN_CARE.value
    return InCare(
        as_at=as_at,
        children=entered_total(values, Metric.CHILDREN_IN_CARE, label, CATEGORY_NAMES),
        by_category={c: values.get((metric, label, c)) for c in CATEGORY_NAMES},
        figures_month=label,
    )


def entered_in_care(session: Session, authority_code: str, as_at: date) -> InCare:
    """The entered figures of the latest month up to the date's month."""
    a = MonthlyAggregate
    latest = session.scalar(
        select(func.max(a.month)).where(
            a.authority_code == authority_code,
            a.metric == Metric.CHILDREN_IN_CARE.value,
            a.month <= as_at,
        )
    )
    if latest is None:
        return InCare(as_at=as_at, children=None, by_category=dict.fromkeys(CATEGORY_NAMES))
    values = entered(session, authority_code, [Metric.CHILDREN_IN_CARE], latest, latest)
    return _entered_in_care(values, month_label(latest), as_at)


def _figures(as_at: date, counts: dict[str, int], year: int | None) -> InCare:
    by_category = {c: counts.get(c, 0) for c in CATEGORY_NAMES}
    return InCare(
        as_at=as_at,
        children=sum(by_category.values()),
        by_category=by_category,
        short_breaks=counts.get(SHORT_BREAKS, 0),
        return_year=year_label(year) if year else None,
    )


def children_in_care(
    session: Session, authority_code: str, as_at: date, mapping: Mapping
) -> InCareReport:
    """Children in care on a date by placement category.

    With aggregates, the figures of the latest month entered up to the date's month stand.
    """
    source = source_of(session, authority_code)
    if source == AGGREGATES:
        figures = entered_in_care(session, authority_code, as_at)
    else:
        year, counts = _on(session, authority_code, as_at, mapping)
        figures = _figures(as_at, counts, year)
    return InCareReport(authority_code=authority_code, source=source, figures=figures)


def _changes(
    session: Session, code: str, years: set[int], mapping: Mapping
) -> dict[int, list[tuple[str, str, int]]]:
    """Per return: (month, kind, +n starting / -n ending) of its episodes, by month."""
    e = CareEpisode
    kind = _kind(mapping)
    changes: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for column, sign in ((e.decom, 1), (e.dec, -1)):
        month = month_of(session, column)
        query = (
            select(e.source_year, month, kind, func.count())
            .where(e.authority_code == code, e.source_year.in_(years), column.is_not(None))  # type: ignore[attr-defined,union-attr]
            .group_by(e.source_year, month, kind)
        )
        for year, label, name, count in session.execute(query):
            changes[year].append((label, name, sign * int(count)))
    for entries in changes.values():
        entries.sort()
    return changes


def children_in_care_monthly(
    session: Session, authority_code: str, date_from: date, date_to: date, mapping: Mapping
) -> InCareSeries:
    """Children in care at the end of every month from `date_from`'s month to `date_to`'s.

    Each month end's count is its return's episodes started by then less those ended by
    then (an episode never ends before it starts), so two grouped queries serve any number
    of months.
    """
    source = source_of(session, authority_code)
    ends = month_ends(date_from, date_to)
    if source == AGGREGATES:
        values = entered(session, authority_code, [Metric.CHILDREN_IN_CARE], ends[0], ends[-1])
        months = [_entered_in_care(values, month_label(end), end) for end in ends]
        return InCareSeries(authority_code=authority_code, source=source, months=months)
    years = loaded_years(session, authority_code)
    speaking = {end: return_for(years, year_ending_march(end)) for end in ends}
    changes = _changes(session, authority_code, {y for y in speaking.values() if y}, mapping)
    running: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    read: dict[int, int] = defaultdict(int)
    months = []
    for end in ends:
        year = speaking[end]
        assert year is not None  # an authority with episodes has a return
        label, entries, state = month_label(end), changes.get(year, []), running[year]
        while read[year] < len(entries) and entries[read[year]][0] <= label:
            _, name, change = entries[read[year]]
            state[name] += change
            read[year] += 1
        months.append(_figures(end, state, year))
    return InCareSeries(authority_code=authority_code, source=source, months=months)


def headline_in_care_on(as_at: date) -> list[Any]:
    """SQL conditions: the episode counts in the headline figures and is open on `as_at`."""
    return [headline(), *in_care_on(as_at)]
