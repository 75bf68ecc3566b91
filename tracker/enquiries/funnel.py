"""Funnel analytics: stage counts, conversion, closures, durations and monthly series.

A period's funnel follows the cohort of enquiries *received* in the period (how many of
them reached each stage); monthly series count events in the month they happened
(enquiries received, applications made, approvals), as Ofsted's return does.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlmodel import col

from forecast.months import month_label, month_labels, year_ending_march
from tracker.core.approvals_targets import target_history, target_in_force
from tracker.core.authorities import get_authority
from tracker.core.disclosure import SMALL_COUNT
from tracker.core.histograms import Histogram
from tracker.core.prepared import is_prepared, target_and_prepared
from tracker.core.ratios import ratio
from tracker.core.sql import days_between_in, month_of_in
from tracker.enquiries.stages import STAGE_ORDER, Stage
from tracker.enquiries.tables import Enquiry

# What the monthly series counts, by the date column of each event.
MONTHLY_EVENTS: dict[str, Any] = {
    "enquiries": Enquiry.received_on,
    "applications": Enquiry.application_on,
    "approvals": Enquiry.approved_on,
    "closures": Enquiry.closed_on,
}
# Stage pairs whose elapsed days are reported: each step, and the headline spans.
DURATION_PAIRS: tuple[tuple[Stage, Stage], ...] = (
    *itertools.pairwise(STAGE_ORDER),
    (Stage.ENQUIRY, Stage.APPLICATION),
    (Stage.APPLICATION, Stage.APPROVED),
    (Stage.ENQUIRY, Stage.APPROVED),
)


class Dimension(enum.StrEnum):
    """What a funnel can be broken down by."""

    CHANNEL = "channel"
    CAMPAIGN = "campaign"
    MONTH = "month"


# The key of the group of campaigns too small to be named to readers outside the authority.
SMALL_CAMPAIGNS = f"campaigns with fewer than {SMALL_COUNT} enquiries"


class StageCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many of the cohort reached a stage, and the share of the stage before."""

    stage: Stage
    reached: int
    conversion_from_previous: float | None


class StageDuration(msgspec.Struct, frozen=True, kw_only=True):
    """Days between two stages for the enquiries that reached both."""

    from_stage: Stage
    to_stage: Stage
    count: int
    median_days: float | None
    p90_days: float | None


class ClosureCount(msgspec.Struct, frozen=True, kw_only=True):
    """Closures at one stage for one reason."""

    stage: Stage
    reason: str
    count: int


class FunnelFigures(msgspec.Struct, frozen=True, kw_only=True):
    """The funnel of one cohort (the whole period, or one group of a breakdown)."""

    enquiries: int
    stages: list[StageCount]
    enquiry_to_application: float | None
    enquiry_to_approval: float | None
    open: int
    closed: int
    approved: int


class FunnelGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One group of a breakdown (a channel, a campaign or a month of receipt).

    `combined` > 0: campaigns too small to be named to this reader (under `SMALL_COUNT`
    enquiries each), counted together under the key `SMALL_CAMPAIGNS`.
    """

    key: str | None
    figures: FunnelFigures
    combined: int = 0


class YearApprovals(msgspec.Struct, frozen=True, kw_only=True):
    """Approvals in one year ending 31 March against the annual approvals target."""

    year: str
    approvals: int
    target: int | None
    expected_to_date: float | None
    share_of_target: float | None
    target_set_on: date | None = None
    target_of_the_year: bool = True
    """False when no target was recorded by the year's end: `target` is then the earliest
    recorded one (or the current one, when none is), not the year's own."""


class FunnelReport(msgspec.Struct, frozen=True, kw_only=True):
    """The funnel of an authority for a period, with breakdown and approvals to target."""

    authority_code: str
    date_from: date
    date_to: date
    overall: FunnelFigures
    closures: list[ClosureCount]
    durations: list[StageDuration]
    approvals_by_year: list[YearApprovals]
    by: Dimension | None = None
    groups: list[FunnelGroup] = msgspec.field(default_factory=list)


class MonthPoint(msgspec.Struct, frozen=True, kw_only=True):
    """Events in one calendar month."""

    month: str
    enquiries: int
    applications: int
    approvals: int
    closures: int


class MonthlySeries(msgspec.Struct, frozen=True, kw_only=True):
    """Monthly counts, every month of the range present (zeros included)."""

    authority_code: str
    points: list[MonthPoint]


def _reached_expression(stage: Stage, rows: Any = Enquiry) -> ColumnElement[Any]:
    """Non-null when the stage or any later one was reached (stages may be skipped);
    `rows`: the enquiry table, or the columns of a selection of its rows."""
    if stage is Stage.ENQUIRY:
        return col(rows.received_on)
    columns = [getattr(rows, s.date_column) for s in STAGE_ORDER[stage.rank :]]
    return columns[0] if len(columns) == 1 else func.coalesce(*columns)


def _cohort(parts: int = 1) -> list[ColumnElement[bool]]:
    """The enquiries of the bound "code" received in one date range ("date_from" to
    "date_to") or, with `parts` > 1, in any of several ("date_from_1" to "date_to_1", ...):
    each range its own index search (SQLite reads an OR of whole index terms as one search
    per term; a range of days alone in the OR would read all the council's enquiries)."""
    received = col(Enquiry.received_on)
    if parts == 1:
        return [
            Enquiry.authority_code == bindparam("code"),
            received >= bindparam("date_from", type_=Date),
            received <= bindparam("date_to", type_=Date),
        ]
    return [
        or_(
            *(
                and_(
                    Enquiry.authority_code == bindparam("code"),
                    received >= bindparam(f"date_from_{i}", type_=Date),
                    received <= bindparam(f"date_to_{i}", type_=Date),
                )
                for i in range(1, parts + 1)
            )
        )
    ]


def _cohort_params(code: str, ranges: Sequence[tuple[date, date]]) -> dict[str, Any]:
    """The bound values of `_cohort(len(ranges))`."""
    if len(ranges) == 1:
        return {"code": code, "date_from": ranges[0][0], "date_to": ranges[0][1]}
    params: dict[str, Any] = {"code": code}
    for i, (first, last) in enumerate(ranges, start=1):
        params[f"date_from_{i}"], params[f"date_to_{i}"] = first, last
    return params


def _figures(row: Any) -> FunnelFigures:
    counts = [int(row[f"reached_{s.value}"]) for s in STAGE_ORDER]
    stages = [
        StageCount(
            stage=stage,
            reached=counts[i],
            conversion_from_previous=ratio(counts[i], counts[i - 1]) if i else None,
        )
        for i, stage in enumerate(STAGE_ORDER)
    ]
    enquiries = counts[0]
    return FunnelFigures(
        enquiries=enquiries,
        stages=stages,
        enquiry_to_application=ratio(counts[Stage.APPLICATION.rank], enquiries),
        enquiry_to_approval=ratio(counts[Stage.APPROVED.rank], enquiries),
        open=enquiries - int(row["closed"]) - int(row["approved"]),
        closed=int(row["closed"]),
        approved=int(row["approved"]),
    )


def _aggregates(rows: Any = Enquiry) -> list[Any]:
    """The cohort's counts (`rows`: the enquiry table, or a selection's columns)."""
    columns = [
        func.count(_reached_expression(s, rows)).label(f"reached_{s.value}") for s in STAGE_ORDER
    ]
    columns.append(func.count(rows.closed_on).label("closed"))
    # An approved enquiry cannot be closed, so every approval date is a standing approval.
    columns.append(func.count(rows.approved_on).label("approved"))
    return columns


class _Statements(NamedTuple):
    """The funnel's queries of one dialect, built once: only their bound values change."""

    overall: Any
    closures: Any
    durations: Any
    approvals: Any
    monthly: Any


@cache
def _statements(dialect: str, parts: int = 1) -> _Statements:
    cohort = _cohort(parts)
    closures = (
        select(Enquiry.stage, Enquiry.closure_reason, func.count())
        .where(*cohort, col(Enquiry.closed_on).is_not(None))
        .group_by(Enquiry.stage, Enquiry.closure_reason)
    )
    return _Statements(
        overall=select(*_aggregates()).where(*cohort),
        closures=closures,
        durations=_histograms(dialect, parts),
        approvals=_approvals(dialect),
        monthly=_monthly(dialect),
    )


def _histograms(dialect: str, parts: int) -> Any:
    """Each stage pair's distinct day counts with their frequencies (a few hundred rows
    however many enquiries there are), every pair in one statement.

    SQLite reads the cohort once per pair, which its index makes cheap. PostgreSQL reads it
    once: the cohort's stage dates, materialised, paired with the number of each pair (the
    days between two dates are NULL unless the enquiry reached both stages).
    """
    if dialect == "sqlite":
        histograms = []
        for i, (start, end) in enumerate(DURATION_PAIRS):
            first, second = getattr(Enquiry, start.date_column), getattr(Enquiry, end.date_column)
            days = days_between_in(dialect, first, second).label("days")
            histograms.append(
                select(literal_column(str(i), Integer).label("pair"), days, func.count())
                .where(*_cohort(parts), first.is_not(None), second.is_not(None))
                .group_by(days)
            )
        return union_all(*histograms)
    dates = select(*(getattr(Enquiry, s.date_column) for s in STAGE_ORDER)).where(*_cohort(parts))
    cohort = dates.cte("cohort").prefix_with("MATERIALIZED")
    pairs = union_all(
        *(select(literal_column(str(i), Integer).label("pair")) for i in range(len(DURATION_PAIRS)))
    ).subquery("pairs")
    days = case(
        *(
            (
                pairs.c.pair == literal_column(str(i), Integer),
                days_between_in(dialect, cohort.c[start.date_column], cohort.c[end.date_column]),
            )
            for i, (start, end) in enumerate(DURATION_PAIRS)
        )
    ).label("days")
    return (
        select(pairs.c.pair, days, func.count())
        .select_from(cohort.join(pairs, true()))
        .where(days.is_not(None))
        .group_by(pairs.c.pair, days)
    )


def _approvals(dialect: str) -> Any:
    """Approvals per month of the bound "code" from "start" to "end"."""
    approved_month = month_of_in(dialect, Enquiry.approved_on)
    return (
        select(approved_month, func.count())
        .where(
            Enquiry.authority_code == bindparam("code"),
            col(Enquiry.approved_on) >= bindparam("start", type_=Date),
            col(Enquiry.approved_on) <= bindparam("end", type_=Date),
        )
        .group_by(approved_month)
    )


def _monthly(dialect: str) -> Any:
    """Each event's count per month of the bound "code", from "month_from" to "date_to"."""
    series = []
    for index, column in enumerate(MONTHLY_EVENTS.values()):
        month = month_of_in(dialect, column)
        series.append(
            select(
                literal_column(str(index), Integer).label("event"),
                month.label("month"),
                func.count().label("n"),
            )
            .where(
                Enquiry.authority_code == bindparam("code"),
                column >= bindparam("month_from", type_=Date),  # type: ignore[operator]
                column <= bindparam("date_to", type_=Date),  # type: ignore[operator]
            )
            .group_by(month)
        )
    return union_all(*series)


@cache
def _breakdown(dialect: str, by: Dimension, parts: int = 1) -> Any:
    """The funnel per channel, campaign or month of receipt, built once per dialect."""
    key = {
        Dimension.CHANNEL: Enquiry.channel,
        Dimension.CAMPAIGN: Enquiry.campaign,
        Dimension.MONTH: month_of_in(dialect, Enquiry.received_on),
    }[by]
    return select(key.label("key"), *_aggregates()).where(*_cohort(parts)).group_by(key)


def pair_histograms(rows: Iterable[Any]) -> list[Histogram]:
    """Each duration pair's histogram from (pair, days, count) rows."""
    pairs: list[list[tuple[int, int]]] = [[] for _ in DURATION_PAIRS]
    for pair, days, count in rows:
        pairs[pair].append((int(days), int(count)))
    return [Histogram(p) for p in pairs]


def _durations(histograms: Sequence[Histogram]) -> list[StageDuration]:
    """Median and 90th percentile of days between stages, read off each pair's histogram."""
    return [
        StageDuration(
            from_stage=start,
            to_stage=end,
            count=histogram.size,
            median_days=histogram.quantile(0.5),
            p90_days=histogram.quantile(0.9),
        )
        for (start, end), histogram in zip(DURATION_PAIRS, histograms, strict=True)
    ]


def _year_label(year_end: int) -> str:
    return f"{year_end - 1}-{str(year_end)[-2:]}"


def _approval_span(date_from: date, date_to: date) -> tuple[date, date]:
    """The first and last day of the years ending 31 March that a period touches."""
    first, last = year_ending_march(date_from), year_ending_march(date_to)
    return date(first - 1, 4, 1), date(last, 3, 31)


def _approvals_by_year(
    session: Session,
    authority_code: str,
    current_target: int | None,
    date_from: date,
    date_to: date,
    today: date,
    approvals: list[tuple[str, int]] | None = None,
) -> list[YearApprovals]:
    """Approvals per year ending 31 March against the target in force at the year's end (or
    today, for the year under way); `approvals` (month label, count) when already read,
    else counted from the enquiries."""
    first, last = year_ending_march(date_from), year_ending_march(date_to)
    start, end = _approval_span(date_from, date_to)
    per_year: dict[int, int] = {}
    if approvals is None:
        query = _statements(session.get_bind().dialect.name).approvals
        params = {"code": authority_code, "start": start, "end": end}
        approvals = list(session.execute(query, params))
    for label, count in approvals:
        year, mon = int(label[:4]), int(label[5:7])
        key = year + 1 if mon >= 4 else year
        per_year[key] = per_year.get(key, 0) + int(count)
    history = target_history(session, authority_code)
    result = []
    for year_end in range(first, last + 1):
        approved = per_year.get(year_end, 0)
        year_start, year_stop = date(year_end - 1, 4, 1), date(year_end, 3, 31)
        in_force = target_in_force(history, current_target, min(today, year_stop))
        target = in_force.target
        expected = None
        if target is not None:
            elapsed = (min(today, year_stop) - year_start).days + 1
            length = (year_stop - year_start).days + 1
            expected = round(target * max(0, min(elapsed, length)) / length, 1)
        result.append(
            YearApprovals(
                year=_year_label(year_end),
                approvals=approved,
                target=target,
                expected_to_date=expected,
                share_of_target=ratio(approved, target) if target else None,
                target_set_on=in_force.set_on,
                target_of_the_year=in_force.of_the_year,
            )
        )
    return result


def _groups(rows: list[Any], by: Dimension, name_small_campaigns: bool) -> list[FunnelGroup]:
    """The breakdown's groups; unless small campaigns may be named, those with fewer than
    `SMALL_COUNT` enquiries are summed into one group without their names."""
    enquiries = f"reached_{Stage.ENQUIRY.value}"
    rows = sorted(rows, key=lambda r: (r["key"] is None, r["key"] or ""))
    hidden = not name_small_campaigns and by is Dimension.CAMPAIGN
    small = [r for r in rows if hidden and r["key"] is not None and r[enquiries] < SMALL_COUNT]
    small_keys = {r["key"] for r in small}
    groups = [
        FunnelGroup(key=r["key"], figures=_figures(r)) for r in rows if r["key"] not in small_keys
    ]
    if small:
        summed = {name: sum(int(r[name]) for r in small) for name in small[0] if name != "key"}
        groups.append(
            FunnelGroup(key=SMALL_CAMPAIGNS, figures=_figures(summed), combined=len(small))
        )
    return groups


class _Cohort(NamedTuple):
    """A cohort's summed counts, closures, duration histograms and breakdown rows."""

    totals: dict[str, int]
    closures: list[tuple[str, str, int]]
    histograms: list[Histogram]
    groups: list[dict[str, Any]]


def _raw_cohort(
    session: Session,
    code: str,
    ranges: Sequence[tuple[date, date]],
    by: Dimension | None,
    totals_only: bool,
) -> _Cohort:
    """The cohort received in `ranges`, computed from the enquiries."""
    dialect = session.get_bind().dialect.name
    statements = _statements(dialect, len(ranges))
    params = _cohort_params(code, ranges)
    groups = (
        [dict(r) for r in session.execute(_breakdown(dialect, by, len(ranges)), params).mappings()]
        if by is not None
        else []
    )
    totals = dict(session.execute(statements.overall, params).mappings().one())
    if totals_only:
        return _Cohort(totals=totals, closures=[], histograms=pair_histograms([]), groups=groups)
    return _Cohort(
        totals=totals,
        closures=[(s, r, int(n)) for s, r, n in session.execute(statements.closures, params)],
        histograms=pair_histograms(session.execute(statements.durations, params)),
        groups=groups,
    )


def _read_cohort(
    session: Session,
    code: str,
    span: tuple[date, date, date],
    by: Dimension | None,
    prepared: bool | None,
    totals_only: bool = False,
) -> tuple[int | None, _Cohort, list[tuple[str, int]] | None]:
    """The council's annual approvals target (or NotFoundError), and the cohort received
    from `span`'s first to second date (the third is today), with the approvals per month
    of the years it touches when read off the prepared rows (None when computed from the
    enquiries): when the council's are built, its whole months off them and the days at its
    edges from the enquiries, in one statement after the one that finds the council."""
    from tracker.enquiries import monthly, period  # (they build on this module)

    date_from, date_to, today = span
    if prepared is False:
        target = target_and_prepared(session, code)[0]
        return target, _raw_cohort(session, code, [(date_from, date_to)], by, totals_only), None
    months, edges = monthly.split_period(date_from, date_to, today)
    dialect = session.get_bind().dialect.name
    statement = period.planned(dialect, len(edges), by, totals_only)
    target, built, ready = target_and_prepared(session, code, statement)
    if not built:
        return target, _raw_cohort(session, code, [(date_from, date_to)], by, totals_only), None
    start, end = _approval_span(date_from, date_to)
    approvals = (month_label(start), month_label(end))
    rows = period.read_period(session, code, months, edges, approvals, by, totals_only, ready)
    cohort = _Cohort(rows.totals, rows.closures, rows.histograms, rows.groups)
    return target, cohort, rows.approvals


class FunnelSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A cohort's headline figures and approvals to target, without the breakdowns."""

    overall: FunnelFigures
    approvals_by_year: list[YearApprovals]


def funnel_summary(
    session: Session,
    authority_code: str,
    date_from: date,
    date_to: date,
    today: date,
    *,
    prepared: bool | None = None,
) -> FunnelSummary:
    """The headline figures of `funnel_report` (its `overall` and `approvals_by_year`),
    without the closures, durations and breakdown it would also compute."""
    span = (date_from, date_to, today)
    target, cohort, approvals = _read_cohort(
        session, authority_code, span, None, prepared, totals_only=True
    )
    return FunnelSummary(
        overall=_figures(cohort.totals),
        approvals_by_year=_approvals_by_year(session, authority_code, target, *span, approvals),
    )


def funnel_report(
    session: Session,
    authority_code: str,
    date_from: date,
    date_to: date,
    today: date,
    by: Dimension | None = None,
    *,
    name_small_campaigns: bool = True,
    prepared: bool | None = None,
) -> FunnelReport:
    """The funnel of enquiries received between two dates (inclusive); for readers outside
    the authority (`name_small_campaigns=False`) campaigns under `SMALL_COUNT` enquiries are
    shown together, unnamed.

    When the council's prepared monthly rows are built (`prepared=None`), the whole months
    inside the period are read off them and only the days at its edges are computed from
    the enquiries; `prepared=False` computes it all from the enquiries (the reference).
    """
    span = (date_from, date_to, today)
    target, cohort, approvals = _read_cohort(session, authority_code, span, by, prepared)
    closures = sorted(
        (ClosureCount(stage=Stage(s), reason=r, count=int(c)) for s, r, c in cohort.closures),
        key=lambda c: (c.stage.rank, c.reason),
    )
    return FunnelReport(
        authority_code=authority_code,
        date_from=date_from,
        date_to=date_to,
        overall=_figures(cohort.totals),
        closures=closures,
        durations=_durations(cohort.histograms),
        approvals_by_year=_approvals_by_year(session, authority_code, target, *span, approvals),
        by=by,
        groups=_groups(cohort.groups, by, name_small_campaigns) if by is not None else [],
    )


def monthly_series(
    session: Session,
    authority_code: str,
    date_from: date,
    date_to: date,
    today: date = date.max,
    *,
    prepared: bool | None = None,
) -> MonthlySeries:
    """Enquiries received, applications, approvals and closures per calendar month: off the
    prepared rows when the council's are built (the last month, when `date_to` ends neither
    it nor at `today` or later, from the enquiries: nothing is dated after today), else from
    the enquiries (`prepared=False`, the reference)."""
    get_authority(session, authority_code)
    months = month_labels(date_from, date_to)
    names = list(MONTHLY_EVENTS)
    counts: dict[str, dict[str, int]] = {m: {} for m in months}
    raw_from = date(date_from.year, date_from.month, 1)
    if prepared is not False and is_prepared(session, authority_code):
        from tracker.enquiries import monthly  # (it builds on this module)

        whole, edges = monthly.split_period(raw_from, date_to, today)
        if whole is not None:
            counts.update(monthly.event_counts(session, authority_code, *whole))
        raw_from = edges[0][0] if edges else date.max
    if raw_from <= date_to:
        query = _statements(session.get_bind().dialect.name).monthly
        params = {"code": authority_code, "month_from": raw_from, "date_to": date_to}
        for event, label, count in session.execute(query, params):
            if label in counts:
                counts[label][names[event]] = int(count)
    points = [
        MonthPoint(month=m, **{name: counts[m].get(name, 0) for name in names}) for m in months
    ]
    return MonthlySeries(authority_code=authority_code, points=points)
