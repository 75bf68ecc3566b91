"""SSDA903 figures of an authority: starters, ceased, children in care by placement category
(as at a date and month by month), Staying Put, length of time in care and the share placed
within the authority; and the monthly aggregates a council without an extract enters instead.

Every figure comes from the imported episodes when the authority has any (source "ssda903"),
else from its monthly aggregates (source "aggregates"); each answer says which. Counts are
made in SQL and only counts leave this module: no child-level value is returned.

Definitions (DfE): a starter is an episode with RNE S, by age at entry and the category of
that first placement; a period of care ceases when an episode ends with any REC but X1;
a child is in care on a date d when an episode has DECOM <= d and no DEC or DEC > d;
Staying Put counts young people who ceased care on their 18th birthday from a foster
placement, and of them those who stayed with their carers (REC E17, or an OC3 row of that
collection year with ACCOM starting Z).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

import msgspec
from sqlalchemy import case, exists, extract, func, or_, select
from sqlalchemy.orm import Session, aliased

from forecast.months import month_ends, month_labels, year_ending_march
from tracker.children import codes
from tracker.children.mapping import Mapping, category_case
from tracker.children.tables import CareEpisode, CareLeaverRecord, MonthlyAggregate
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import ImportRejectedError, RowError
from tracker.core.ratios import ratio
from tracker.core.sql import month_of
from tracker.households.care_types import AGE_BANDS, FOSTER_CATEGORIES, PlacementCategory

SSDA903 = "ssda903"
AGGREGATES = "aggregates"
UNKNOWN_AGE = "unknown"
AGE_BAND_NAMES: tuple[str, ...] = tuple(band for band, _, _ in AGE_BANDS)
CATEGORY_NAMES: tuple[str, ...] = tuple(c.value for c in PlacementCategory)
# Length of time in the current period of care: (name, whole years at least).
TIME_BANDS: tuple[tuple[str, int], ...] = (
    ("under_1_year", 0),
    ("1_to_2_years", 1),
    ("2_to_5_years", 2),
    ("5_years_and_over", 5),
)
MAX_FIGURES = 10_000
NO_LOCATION = (
    "the Episodes files hold no PL_LA (placing authority of the placement) for the children "
    "in care, so the share placed within the authority cannot be worked out"
)
NOT_IN_AGGREGATES = (
    "time in care and placement location need SSDA903 episodes; monthly aggregates hold neither"
)


class Metric(enum.StrEnum):
    """What a monthly aggregate counts."""

    STARTERS = "starters"
    CEASED = "ceased"
    CHILDREN_IN_CARE = "children_in_care"
    STAYING_PUT_ELIGIBLE = "staying_put_eligible"
    STAYING_PUT_STAYED = "staying_put_stayed"


# The breakdowns each metric may be entered by ("" is the total).
BREAKDOWNS: dict[Metric, frozenset[str]] = {
    Metric.STARTERS: frozenset({"", *AGE_BAND_NAMES, *CATEGORY_NAMES}),
    Metric.CEASED: frozenset({""}),
    Metric.CHILDREN_IN_CARE: frozenset({"", *CATEGORY_NAMES}),
    Metric.STAYING_PUT_ELIGIBLE: frozenset({""}),
    Metric.STAYING_PUT_STAYED: frozenset({""}),
}

Month = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
Value = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Breakdown = Annotated[
    str,
    msgspec.Meta(
        max_length=30,
        description='"" for the total, or an age band (starters) or a placement category',
    ),
]


class MonthlyFigure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One figure of one month, entered by a council without an SSDA903 extract.

    children_in_care counts children at the end of the month; the others count events in it.
    """

    month: Month
    metric: Metric
    value: Value
    breakdown: Breakdown = ""


class RecordedFigures(msgspec.Struct, frozen=True, kw_only=True):
    """What recording monthly figures did."""

    created: int
    updated: int
    unchanged: int


class StarterMonth(msgspec.Struct, frozen=True, kw_only=True):
    """Children who started to be looked after in a month (None: not entered)."""

    month: str
    starters: int | None
    by_age_band: dict[str, int | None]
    by_category: dict[str, int | None]


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


class CeasedMonth(msgspec.Struct, frozen=True, kw_only=True):
    """Periods of care that ended in a month (None: not entered)."""

    month: str
    ceased: int | None


class CeasedReport(msgspec.Struct, frozen=True, kw_only=True):
    """Children who ceased to be looked after, per month and in all."""

    authority_code: str
    source: str
    date_from: date
    date_to: date
    ceased: int | None
    months: list[CeasedMonth]


class InCare(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care on a date, in all and by placement category (None: not entered)."""

    as_at: date
    children: int | None
    by_category: dict[str, int | None]
    # With aggregates: the month whose figures stand for the date (None with SSDA903).
    figures_month: str | None = None


class InCareReport(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care on a date by placement category."""

    authority_code: str
    source: str
    figures: InCare


class InCareSeries(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care at the end of every month of a range."""

    authority_code: str
    source: str
    months: list[InCare]


class StayingPut(msgspec.Struct, frozen=True, kw_only=True):
    """Staying Put in a month ("2022-05") or a year ending 31 March ("2022-23")."""

    period: str
    eligible: int | None
    stayed: int | None
    rate: float | None


class StayingPutReport(msgspec.Struct, frozen=True, kw_only=True):
    """Young people who ceased care on their 18th birthday from foster care, and how many
    stayed with their carers: per month, and per year ending 31 March (whole years)."""

    authority_code: str
    source: str
    date_from: date
    date_to: date
    months: list[StayingPut]
    years: list[StayingPut]


class TimeInCareReport(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care on a date by time since their period of care began, and how many
    are placed within the authority (where the episodes say where they are placed)."""

    authority_code: str
    source: str
    as_at: date
    children: int | None
    by_time_in_care: dict[str, int | None]
    median_days: float | None
    # Children whose RNE S episode is before the imported years: counted from their
    # earliest imported episode, so their time in care is a lower bound.
    start_not_imported: int | None
    placement_location_known: int | None
    placed_within_authority: int | None
    share_within_authority: float | None
    note: str | None = None


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _year_label(year_end: int) -> str:
    return f"{year_end - 1}-{year_end % 100:02d}"


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return date(day.year - years, 2, 28)


def has_episodes(session: Session, authority_code: str) -> bool:
    """True when SSDA903 episodes have been imported for the authority."""
    query = select(CareEpisode.id).where(CareEpisode.authority_code == authority_code).limit(1)
    return session.scalar(query) is not None


def _source(session: Session, authority_code: str) -> str:
    get_authority(session, authority_code)
    return SSDA903 if has_episodes(session, authority_code) else AGGREGATES


def _category(mapping: Mapping) -> Any:
    return category_case(mapping, CareEpisode.place, CareEpisode.place_provider)


def _age_band() -> Any:
    age = CareEpisode.age_at_start
    return case(
        *[(age.between(low, high), band) for band, low, high in AGE_BANDS],  # type: ignore[union-attr]
        else_=UNKNOWN_AGE,
    )


def _aggregates(
    session: Session, authority_code: str, metrics: Sequence[Metric], first: date, last: date
) -> dict[tuple[str, str, str], int]:
    """Entered values keyed by (metric, month label, breakdown), months first..last."""
    a = MonthlyAggregate
    query = select(a.metric, a.month, a.breakdown, a.value).where(
        a.authority_code == authority_code,
        a.metric.in_([m.value for m in metrics]),  # type: ignore[attr-defined]
        a.month >= _month_start(first),
        a.month <= last,
    )
    return {(m, _label(month), b): v for m, month, b, v in session.execute(query)}


def _entered_total(
    entered: dict[tuple[str, str, str], int], metric: Metric, month: str, parts: Sequence[str]
) -> int | None:
    """The month's total: as entered, else the sum of the parts entered (None: nothing)."""
    if (metric.value, month, "") in entered:
        return entered[(metric.value, month, "")]
    values = [entered.get((metric.value, month, p)) for p in parts]
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _sum(values: Sequence[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


# --- starters and ceased -------------------------------------------------------------------


def starters(
    session: Session, authority_code: str, date_from: date, date_to: date, mapping: Mapping
) -> StartersReport:
    """Children starting to be looked after each month from `date_from`'s month to `date_to`."""
    source = _source(session, authority_code)
    months = month_labels(date_from, date_to)
    bands = (*AGE_BAND_NAMES, UNKNOWN_AGE)
    rows: list[StarterMonth] = []
    if source == SSDA903:
        e = CareEpisode
        month, band, category = month_of(session, e.decom), _age_band(), _category(mapping)
        query = (
            select(month, band, category, func.count())
            .where(
                e.authority_code == authority_code,
                e.rne == codes.STARTED,
                e.decom >= _month_start(date_from),
                e.decom <= date_to,
            )
            .group_by(month, band, category)
        )
        counts: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
        for label, band_name, category_name, count in session.execute(query):
            counts[label][(band_name, category_name)] = int(count)
        for label in months:
            cells = counts.get(label, {})
            rows.append(
                StarterMonth(
                    month=label,
                    starters=sum(cells.values()),
                    by_age_band={
                        b: sum(n for (cb, _), n in cells.items() if cb == b) for b in bands
                    },
                    by_category={
                        c: sum(n for (_, cc), n in cells.items() if cc == c) for c in CATEGORY_NAMES
                    },
                )
            )
    else:
        entered = _aggregates(session, authority_code, [Metric.STARTERS], date_from, date_to)
        metric = Metric.STARTERS.value
        for label in months:
            total = _entered_total(entered, Metric.STARTERS, label, AGE_BAND_NAMES)
            if total is None:
                total = _entered_total(entered, Metric.STARTERS, label, CATEGORY_NAMES)
            rows.append(
                StarterMonth(
                    month=label,
                    starters=total,
                    by_age_band={b: entered.get((metric, label, b)) for b in bands},
                    by_category={c: entered.get((metric, label, c)) for c in CATEGORY_NAMES},
                )
            )
    return StartersReport(
        authority_code=authority_code,
        source=source,
        date_from=date_from,
        date_to=date_to,
        starters=_sum([r.starters for r in rows]),
        by_age_band={b: _sum([r.by_age_band[b] for r in rows]) for b in bands},
        by_category={c: _sum([r.by_category[c] for r in rows]) for c in CATEGORY_NAMES},
        months=rows,
    )


def ceased(session: Session, authority_code: str, date_from: date, date_to: date) -> CeasedReport:
    """Periods of care that ended (DEC set, REC other than X1) each month."""
    source = _source(session, authority_code)
    months = month_labels(date_from, date_to)
    if source == SSDA903:
        e = CareEpisode
        month = month_of(session, e.dec)
        query = (
            select(month, func.count())
            .where(
                e.authority_code == authority_code,
                e.dec >= _month_start(date_from),  # type: ignore[operator]
                e.dec <= date_to,  # type: ignore[operator]
                e.rec != codes.CONTINUES,
            )
            .group_by(month)
        )
        counts = {label: int(n) for label, n in session.execute(query)}
        rows = [CeasedMonth(month=m, ceased=counts.get(m, 0)) for m in months]
    else:
        entered = _aggregates(session, authority_code, [Metric.CEASED], date_from, date_to)
        rows = [
            CeasedMonth(month=m, ceased=entered.get((Metric.CEASED.value, m, ""))) for m in months
        ]
    return CeasedReport(
        authority_code=authority_code,
        source=source,
        date_from=date_from,
        date_to=date_to,
        ceased=_sum([r.ceased for r in rows]),
        months=rows,
    )


# --- children in care ----------------------------------------------------------------------


def _in_care_on(as_at: date) -> list[Any]:
    e = CareEpisode
    return [e.decom <= as_at, or_(e.dec.is_(None), e.dec > as_at)]  # type: ignore[union-attr,operator]


def episodes_in_care(
    session: Session, authority_code: str, as_at: date, mapping: Mapping
) -> dict[PlacementCategory, int]:
    """Children in care on a date by placement category, from the episodes (every category)."""
    category = _category(mapping)
    query = (
        select(category, func.count())
        .where(CareEpisode.authority_code == authority_code, *_in_care_on(as_at))
        .group_by(category)
    )
    counts = {PlacementCategory(c): int(n) for c, n in session.execute(query)}
    return {c: counts.get(c, 0) for c in PlacementCategory}


def _entered_in_care(entered: dict[tuple[str, str, str], int], label: str, as_at: date) -> InCare:
    metric = Metric.CHILDREN_IN_CARE.value
    return InCare(
        as_at=as_at,
        children=_entered_total(entered, Metric.CHILDREN_IN_CARE, label, CATEGORY_NAMES),
        by_category={c: entered.get((metric, label, c)) for c in CATEGORY_NAMES},
        figures_month=label,
    )


def _aggregate_in_care(session: Session, authority_code: str, as_at: date) -> InCare:
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
    entered = _aggregates(session, authority_code, [Metric.CHILDREN_IN_CARE], latest, latest)
    return _entered_in_care(entered, _label(latest), as_at)


def children_in_care(
    session: Session, authority_code: str, as_at: date, mapping: Mapping
) -> InCareReport:
    """Children in care on a date by placement category.

    With aggregates, the figures of the latest month entered up to the date's month stand.
    """
    source = _source(session, authority_code)
    if source == AGGREGATES:
        figures = _aggregate_in_care(session, authority_code, as_at)
    else:
        counts = episodes_in_care(session, authority_code, as_at, mapping)
        figures = InCare(
            as_at=as_at,
            children=sum(counts.values()),
            by_category={c.value: n for c, n in counts.items()},
        )
    return InCareReport(authority_code=authority_code, source=source, figures=figures)


def children_in_care_monthly(
    session: Session, authority_code: str, date_from: date, date_to: date, mapping: Mapping
) -> InCareSeries:
    """Children in care at the end of every month from `date_from`'s month to `date_to`'s.

    From the episodes, each month end's count is the episodes started by then less those
    ended by then (an episode never ends before it starts), so four grouped queries serve
    any number of months.
    """
    source = _source(session, authority_code)
    ends = month_ends(date_from, date_to)
    if source == AGGREGATES:
        entered = _aggregates(session, authority_code, [Metric.CHILDREN_IN_CARE], ends[0], ends[-1])
        return InCareSeries(
            authority_code=authority_code,
            source=source,
            months=[_entered_in_care(entered, _label(end), end) for end in ends],
        )
    e = CareEpisode
    category = _category(mapping)
    first, last = _month_start(ends[0]), ends[-1]
    mine = e.authority_code == authority_code
    running: dict[str, int] = defaultdict(int)
    for column, sign in ((e.decom, 1), (e.dec, -1)):
        before = select(category, func.count()).where(mine, column < first).group_by(category)
        for name, count in session.execute(before):
            running[name] += sign * int(count)
    flows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for column, sign in ((e.decom, 1), (e.dec, -1)):
        month = month_of(session, column)
        query = (
            select(month, category, func.count())
            .where(mine, column >= first, column <= last)
            .group_by(month, category)
        )
        for label, name, count in session.execute(query):
            flows[label][name] += sign * int(count)
    months = []
    for end in ends:
        for name, change in flows.get(_label(end), {}).items():
            running[name] += change
        by_category = {c: running.get(c, 0) for c in CATEGORY_NAMES}
        months.append(
            InCare(as_at=end, children=sum(by_category.values()), by_category=by_category)
        )
    return InCareSeries(authority_code=authority_code, source=source, months=months)


# --- Staying Put ---------------------------------------------------------------------------


def _staying_put_counts(
    session: Session, authority_code: str, first: date, last: date, mapping: Mapping
) -> dict[str, tuple[int, int]]:
    """(eligible, stayed) per month of DEC, from the episodes."""
    e, leaver = CareEpisode, CareLeaverRecord
    collection_year = extract("year", e.dec) + case((extract("month", e.dec) >= 4, 1), else_=0)
    with_former_carers = exists().where(
        leaver.authority_code == e.authority_code,
        leaver.child_key == e.child_key,
        leaver.year == collection_year,
        leaver.accom.like(f"{codes.WITH_FORMER_FOSTER_CARERS}%"),  # type: ignore[union-attr]
    )
    stayed = or_(e.rec == codes.STAYED_PUT, with_former_carers)
    month = month_of(session, e.dec)
    query = (
        select(month, func.count(), func.sum(case((stayed, 1), else_=0)))
        .where(
            e.authority_code == authority_code,
            e.ceased_at_18.is_(True),  # type: ignore[attr-defined]
            _category(mapping).in_([c.value for c in FOSTER_CATEGORIES]),
            e.dec >= first,  # type: ignore[operator]
            e.dec <= last,  # type: ignore[operator]
        )
        .group_by(month)
    )
    return {label: (int(n), int(s or 0)) for label, n, s in session.execute(query)}


def _staying_put(period: str, eligible: int | None, stayed: int | None) -> StayingPut:
    return StayingPut(
        period=period,
        eligible=eligible,
        stayed=stayed,
        rate=ratio(stayed, eligible) if eligible is not None else None,
    )


def staying_put(
    session: Session, authority_code: str, date_from: date, date_to: date, mapping: Mapping
) -> StayingPutReport:
    """Staying Put per month from `date_from`'s month to `date_to`, and per year ending
    31 March for every year the range touches (each year counted whole)."""
    source = _source(session, authority_code)
    first_year, last_year = year_ending_march(date_from), year_ending_march(date_to)
    first, last = date(first_year - 1, 4, 1), date(last_year, 3, 31)
    every_month = month_labels(first, last)
    wanted = set(month_labels(date_from, date_to))
    per_month: dict[str, tuple[int | None, int | None]]
    if source == SSDA903:
        counts = _staying_put_counts(session, authority_code, first, last, mapping)
        per_month = {m: counts.get(m, (0, 0)) for m in every_month}
    else:
        metrics = [Metric.STAYING_PUT_ELIGIBLE, Metric.STAYING_PUT_STAYED]
        entered = _aggregates(session, authority_code, metrics, first, last)
        per_month = {
            m: (entered.get((metrics[0].value, m, "")), entered.get((metrics[1].value, m, "")))
            for m in every_month
        }
    months = [_staying_put(m, *per_month[m]) for m in every_month if m in wanted]
    years = []
    for year_end in range(first_year, last_year + 1):
        inside = [per_month[m] for m in every_month if year_ending_march(_first_of(m)) == year_end]
        years.append(
            _staying_put(
                _year_label(year_end), _sum([e for e, _ in inside]), _sum([s for _, s in inside])
            )
        )
    return StayingPutReport(
        authority_code=authority_code,
        source=source,
        date_from=date_from,
        date_to=date_to,
        months=months,
        years=years,
    )


# --- time in care and placement location ---------------------------------------------------


def _median(days_and_counts: Sequence[tuple[int, int]]) -> float | None:
    """The median of values given with their multiplicities."""
    total = sum(n for _, n in days_and_counts)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for days, count in sorted(days_and_counts):
        while len(found) < 2 and wanted[len(found)] < seen + count:
            found.append(days)
        seen += count
    return (found[0] + found[1]) / 2


def time_in_care(session: Session, authority_code: str, as_at: date) -> TimeInCareReport:
    """Children in care on a date by time since the start of their period of care (median
    in days), and the share placed within the authority when PL_LA is in the episodes."""
    source = _source(session, authority_code)
    if source == AGGREGATES:
        return TimeInCareReport(
            authority_code=authority_code,
            source=source,
            as_at=as_at,
            children=_aggregate_in_care(session, authority_code, as_at).children,
            by_time_in_care=dict.fromkeys(name for name, _ in TIME_BANDS),
            median_days=None,
            start_not_imported=None,
            placement_location_known=None,
            placed_within_authority=None,
            share_within_authority=None,
            note=NOT_IN_AGGREGATES,
        )
    e = CareEpisode
    in_care = [e.authority_code == authority_code, *_in_care_on(as_at)]
    started = session.execute(
        select(e.period_start, func.count()).where(*in_care).group_by(e.period_start)
    ).all()
    children = sum(int(n) for _, n in started)
    days = [((as_at - start).days, int(n)) for start, n in started if start is not None]
    by_time: dict[str, int | None] = {}
    for index, (name, years) in enumerate(TIME_BANDS):
        since = _years_before(as_at, years)
        upper = TIME_BANDS[index + 1][1] if index + 1 < len(TIME_BANDS) else None
        until = _years_before(as_at, upper) if upper is not None else None
        by_time[name] = sum(
            n
            for start, n in started
            if start is not None and start <= since and (until is None or start > until)
        )
    known, within = session.execute(
        select(
            func.count(e.pl_la),
            func.sum(case((e.pl_la == authority_code, 1), else_=0)),
        ).where(*in_care)
    ).one()
    known, within = int(known), int(within or 0)
    first = aliased(CareEpisode)
    begun = exists().where(
        first.authority_code == e.authority_code,
        first.child_key == e.child_key,
        first.decom == e.period_start,
        first.rne == codes.STARTED,
    )
    not_imported = int(session.scalar(select(func.count()).where(*in_care, ~begun)) or 0)
    notes = []
    if not_imported:
        notes.append(
            f"{not_imported} children started their period of care before the imported "
            "years: their time is counted from their earliest imported episode"
        )
    if children and not known:
        notes.append(NO_LOCATION)
    elif known < children:
        notes.append(f"PL_LA is known for {known} of the {children} children in care")
    return TimeInCareReport(
        authority_code=authority_code,
        source=source,
        as_at=as_at,
        children=children,
        by_time_in_care=by_time,
        median_days=_median(days),
        start_not_imported=not_imported,
        placement_location_known=known,
        placed_within_authority=within if known else None,
        share_within_authority=ratio(within, known) if known else None,
        note="; ".join(notes) or None,
    )


# --- monthly aggregates entered by hand ----------------------------------------------------


def _first_of(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def _check_figures(
    session: Session, authority_code: str, figures: Sequence[MonthlyFigure], today: date
) -> list[RowError]:
    errors: list[RowError] = []
    if not figures:
        return [RowError(1, None, "give at least one figure")]
    if len(figures) > MAX_FIGURES:
        return [RowError(1, None, f"at most {MAX_FIGURES} figures at once")]
    seen: dict[tuple[str, str, str], int] = {}
    for row, figure in enumerate(figures, start=1):
        key = (figure.month, figure.metric.value, figure.breakdown)
        if figure.breakdown not in BREAKDOWNS[figure.metric]:
            allowed = ", ".join(sorted(b for b in BREAKDOWNS[figure.metric] if b)) or "none"
            errors.append(
                RowError(
                    row,
                    "breakdown",
                    f"{figure.metric.value} cannot be broken down by {figure.breakdown!r} "
                    f'(use "" or one of: {allowed})',
                )
            )
        if _first_of(figure.month) > today:
            errors.append(RowError(row, "month", f"{figure.month} is in the future"))
        if key in seen:
            errors.append(RowError(row, "month", f"the same figure is given in row {seen[key]}"))
        seen.setdefault(key, row)
    if errors:
        return errors
    # Stayed cannot exceed eligible, taking the figures given with those already stored.
    months = sorted({_first_of(f.month) for f in figures})
    stored = _aggregates(
        session,
        authority_code,
        [Metric.STAYING_PUT_ELIGIBLE, Metric.STAYING_PUT_STAYED],
        months[0],
        months[-1],
    )
    given = {(f.metric.value, f.month, f.breakdown): f.value for f in figures}
    merged = {**stored, **given}
    for row, figure in enumerate(figures, start=1):
        if figure.metric not in (Metric.STAYING_PUT_ELIGIBLE, Metric.STAYING_PUT_STAYED):
            continue
        eligible = merged.get((Metric.STAYING_PUT_ELIGIBLE.value, figure.month, ""))
        stayed = merged.get((Metric.STAYING_PUT_STAYED.value, figure.month, ""))
        if eligible is not None and stayed is not None and stayed > eligible:
            errors.append(
                RowError(
                    row,
                    "value",
                    f"{figure.month}: {stayed} stayed is more than {eligible} eligible",
                )
            )
    return errors


def record_monthly_figures(
    session: Session,
    caller: Caller,
    authority_code: str,
    figures: Sequence[MonthlyFigure],
    today: date,
) -> RecordedFigures:
    """Store monthly figures (all or nothing): a figure already stored with the same value is
    left as it is, with another value it is replaced, so sending the same list twice changes
    nothing. Raises ImportRejectedError naming each faulty figure by its place in the list.

    The figures are used only while the authority has no SSDA903 episodes.
    """
    get_authority(session, authority_code)
    errors = _check_figures(session, authority_code, figures, today)
    if errors:
        raise ImportRejectedError(errors)
    a = MonthlyAggregate
    months = sorted({_first_of(f.month) for f in figures})
    stored = {
        (_label(r.month), r.metric, r.breakdown): r
        for r in session.scalars(
            select(a).where(
                a.authority_code == authority_code,
                a.month >= months[0],
                a.month <= months[-1],
            )
        )
    }
    created = updated = unchanged = 0
    for figure in figures:
        existing = stored.get((figure.month, figure.metric.value, figure.breakdown))
        if existing is None:
            session.add(
                MonthlyAggregate(
                    authority_code=authority_code,
                    month=_first_of(figure.month),
                    metric=figure.metric.value,
                    breakdown=figure.breakdown,
                    value=figure.value,
                )
            )
            created += 1
        elif existing.value == figure.value:
            unchanged += 1
        else:
            existing.value = figure.value
            existing.recorded_at = utcnow()
            updated += 1
    audit.record(
        session,
        caller,
        "import",
        "ssda903_monthly_figures",
        None,
        authority_code=authority_code,
        detail={"figures": len(figures), "created": created, "updated": updated},
    )
    session.flush()
    return RecordedFigures(created=created, updated=updated, unchanged=unchanged)
