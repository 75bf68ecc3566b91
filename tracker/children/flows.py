"""Children starting and ceasing to be looked after, per month, as DfE counts them.

Each year ending 31 March is counted from that year's return (`tracker.children.returns`),
and a child once in it: DfE counts only the first occasion on which a child started to be
looked after in the year, and the last on which one ceased. Short breaks (legal status V3,
V4) are left out and reported apart: a child starts to be looked after with an episode that
is not a short break and begins a period of care (RNE S) or follows a short break, and
ceases with one that ends the period (any REC but X1) or is followed by a short break. A
month of a year whose return is not stored has no figure (None).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import and_, distinct, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from forecast.months import month_labels, year_ending_march
from tracker.children import codes
from tracker.children.aggregates import Metric, entered, entered_total, first_of
from tracker.children.mapping import Mapping
from tracker.children.returns import loaded_years
from tracker.children.sources import (
    AGE_BAND_NAMES,
    CATEGORY_NAMES,
    SSDA903,
    UNKNOWN_AGE,
    age_band,
    category,
    collection_year,
    headline,
    short_break,
    source_of,
    sum_known,
)
from tracker.children.tables import CareEpisode
from tracker.core.sql import month_of


class StarterMonth(msgspec.Struct, frozen=True, kw_only=True):
    """Children who started to be looked after in a month (None: no figure)."""

    month: str
    starters: int | None
    by_age_band: dict[str, int | None]
    by_category: dict[str, int | None]
    # Children starting an agreed series of short breaks (left out of `starters`).
    short_breaks: int | None = None


class StartersReport(msgspec.Struct, frozen=True, kw_only=True):
    """Starters per month by age band at entry and first placement category, and in all."""

    authority_code: str
    source: str
    date_from: date
    date_to: date
    starters: int | None
    by_age_band: dict[str, int | None]
    by_category: dict[str, int | None]
    months: list[StarterMonth]
    short_breaks: int | None = None
    # Readers outside the council: that small counts are withheld (tracker.children.withheld).
    withheld: str | None = None


class CeasedMonth(msgspec.Struct, frozen=True, kw_only=True):
    """Children who ceased to be looked after in a month (None: no figure)."""

    month: str
    ceased: int | None
    # Children whose agreed series of short breaks ended (left out of `ceased`).
    short_breaks: int | None = None


class CeasedReport(msgspec.Struct, frozen=True, kw_only=True):
    """Children who ceased to be looked after, per month and in all."""

    authority_code: str
    source: str
    date_from: date
    date_to: date
    ceased: int | None
    months: list[CeasedMonth]
    short_breaks: int | None = None
    # Readers outside the council: that small counts are withheld (tracker.children.withheld).
    withheld: str | None = None


def _neighbour(e: Any, other: Any, column: Any) -> Any:
    """SQL: a short-break episode of the same child and return whose DEC (or DECOM) is the
    episode's `column` date."""
    return exists().where(
        other.authority_code == e.authority_code,
        other.source_year == e.source_year,
        other.child_key == e.child_key,
        column,
        short_break(other),
    )


def _once_a_year(code: str, day: Any, event: Any, first: date, last: date, pick: Any) -> Any:
    """A subquery of each child's one event a year (`pick` = min: the first, max: the last):
    (return year, child, day), events counted from their own year's return only."""
    e = CareEpisode
    return (
        select(e.source_year, e.child_key, pick(day).label("day"))
        .where(
            e.authority_code == code,
            event,
            e.source_year == collection_year(day),
            day >= first,
            day <= last,
        )
        .group_by(e.source_year, e.child_key)
        .subquery()
    )


def _counts(
    session: Session, code: str, day: Any, chosen: Any, *groups: Any
) -> dict[tuple[Any, ...], int]:
    """Children with a chosen event, by month of `day` and the `groups` expressions (each
    child once, though a zero-length episode may end on the day another does)."""
    e = CareEpisode
    month = month_of(session, day)
    query = (
        select(month, *groups, func.count(distinct(e.child_key)))
        .join(
            chosen,
            and_(
                e.source_year == chosen.c.source_year,
                e.child_key == chosen.c.child_key,
                day == chosen.c.day,
            ),
        )
        .where(e.authority_code == code)
        .group_by(month, *groups)
    )
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(query)}


def _years_range(date_from: date, date_to: date) -> tuple[date, date]:
    """The whole collection years a range touches (a child's first start of a year may
    fall before the range)."""
    return date(year_ending_march(date_from) - 1, 4, 1), date(year_ending_march(date_to), 3, 31)


def _covered(months: Sequence[str], years: Sequence[int]) -> set[str]:
    return {m for m in months if year_ending_march(first_of(m)) in years}


def starters(
    session: Session, authority_code: str, date_from: date, date_to: date, mapping: Mapping
) -> StartersReport:
    """Children starting to be looked after each month from `date_from`'s month to
    `date_to`, by age band at entry and the category of the placement they started in."""
    source = source_of(session, authority_code)
    months = month_labels(date_from, date_to)
    bands = (*AGE_BAND_NAMES, UNKNOWN_AGE)
    if source != SSDA903:
        return _entered_starters(session, authority_code, date_from, date_to, months)
    e, before = CareEpisode, aliased(CareEpisode)
    first, last = _years_range(date_from, date_to)
    begins = and_(
        headline(e),
        or_(e.rne == codes.STARTED, _neighbour(e, before, before.dec == e.decom)),
    )
    chosen = _once_a_year(authority_code, e.decom, begins, first, last, func.min)
    cells = _counts(session, authority_code, e.decom, chosen, age_band(), category(mapping))
    short = _once_a_year(
        authority_code,
        e.decom,
        and_(short_break(e), e.rne == codes.STARTED),
        first,
        last,
        func.min,
    )
    short_counts = _counts(session, authority_code, e.decom, short)
    covered = _covered(months, loaded_years(session, authority_code))
    by_month: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for (label, band, name), count in cells.items():
        by_month[label][(band, name)] = count
    rows = []
    for label in months:
        if label not in covered:
            rows.append(
                StarterMonth(
                    month=label,
                    starters=None,
                    by_age_band=dict.fromkeys(bands),
                    by_category=dict.fromkeys(CATEGORY_NAMES),
                )
            )
            continue
        month_cells = by_month.get(label, {})
        rows.append(
            StarterMonth(
                month=label,
                starters=sum(month_cells.values()),
                by_age_band={
                    b: sum(n for (cb, _), n in month_cells.items() if cb == b) for b in bands
                },
                by_category={
                    c: sum(n for (_, cc), n in month_cells.items() if cc == c)
                    for c in CATEGORY_NAMES
                },
                short_breaks=short_counts.get((label,), 0),
            )
        )
    return _starters_report(authority_code, source, date_from, date_to, rows)


def _starters_report(
    code: str, source: str, date_from: date, date_to: date, rows: list[StarterMonth]
) -> StartersReport:
    bands = (*AGE_BAND_NAMES, UNKNOWN_AGE)
    return StartersReport(
        authority_code=code,
        source=source,
        date_from=date_from,
        date_to=date_to,
        starters=sum_known([r.starters for r in rows]),
        by_age_band={b: sum_known([r.by_age_band[b] for r in rows]) for b in bands},
        by_category={c: sum_known([r.by_category[c] for r in rows]) for c in CATEGORY_NAMES},
        months=rows,
        short_breaks=sum_known([r.short_breaks for r in rows]),
    )


def _entered_starters(
    session: Session, code: str, date_from: date, date_to: date, months: list[str]
) -> StartersReport:
    """Starters from the monthly figures entered by hand."""
    values = entered(session, code, [Metric.STARTERS], date_from, date_to)
    metric = Metric.STARTERS.value
    bands = (*AGE_BAND_NAMES, UNKNOWN_AGE)
    rows = []
    for label in months:
        total = entered_total(values, Metric.STARTERS, label, AGE_BAND_NAMES)
        if total is None:
            total = entered_total(values, Metric.STARTERS, label, CATEGORY_NAMES)
        rows.append(
            StarterMonth(
                month=label,
                starters=total,
                by_age_band={b: values.get((metric, label, b)) for b in bands},
                by_category={c: values.get((metric, label, c)) for c in CATEGORY_NAMES},
            )
        )
    return _starters_report(code, "aggregates", date_from, date_to, rows)


def ceased(session: Session, authority_code: str, date_from: date, date_to: date) -> CeasedReport:
    """Children ceasing to be looked after each month from `date_from`'s month to `date_to`."""
    source = source_of(session, authority_code)
    months = month_labels(date_from, date_to)
    if source != SSDA903:
        values = entered(session, authority_code, [Metric.CEASED], date_from, date_to)
        rows = [
            CeasedMonth(month=m, ceased=values.get((Metric.CEASED.value, m, ""))) for m in months
        ]
    else:
        e, after = CareEpisode, aliased(CareEpisode)
        first, last = _years_range(date_from, date_to)
        ends = and_(
            headline(e),
            e.dec.is_not(None),  # type: ignore[union-attr]
            or_(e.rec != codes.CONTINUES, _neighbour(e, after, after.decom == e.dec)),
        )
        chosen = _once_a_year(authority_code, e.dec, ends, first, last, func.max)
        counts = _counts(session, authority_code, e.dec, chosen)
        short = and_(short_break(e), e.rec != codes.CONTINUES)
        short_chosen = _once_a_year(authority_code, e.dec, short, first, last, func.max)
        short_counts = _counts(session, authority_code, e.dec, short_chosen)
        covered = _covered(months, loaded_years(session, authority_code))
        rows = [
            CeasedMonth(
                month=m,
                ceased=counts.get((m,), 0),
                short_breaks=short_counts.get((m,), 0),
            )
            if m in covered
            else CeasedMonth(month=m, ceased=None)
            for m in months
        ]
    return CeasedReport(
        authority_code=authority_code,
        source=source,
        date_from=date_from,
        date_to=date_to,
        ceased=sum_known([r.ceased for r in rows]),
        months=rows,
        short_breaks=sum_known([r.short_breaks for r in rows]),
    )
