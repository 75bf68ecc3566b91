"""The funnel's prepared monthly rows: how they are recomputed from the enquiries of a
council's months (the raw computation stays the reference), and the funnel read off them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlmodel import col

from forecast.months import add_months, month_label, month_start
from tracker.core.monthly_tables import (
    FunnelMonth,
    FunnelMonthClosure,
    FunnelMonthEvents,
    FunnelMonthHistogram,
    PreparedAuthority,
)
from tracker.core.prepared import is_prepared
from tracker.core.sql import days_between_in, month_of_in
from tracker.enquiries.funnel import (
    DURATION_PAIRS,
    MONTHLY_EVENTS,
    _reached_expression,
)
from tracker.enquiries.stages import STAGE_ORDER
from tracker.enquiries.tables import Enquiry

REACHED = tuple(f"reached_{s.value}" for s in STAGE_ORDER)
COUNTS = (*REACHED, "closed", "approved")
PREPARED_TABLES = (FunnelMonth, FunnelMonthClosure, FunnelMonthHistogram, FunnelMonthEvents)


def enquiry_months(row: Enquiry) -> set[date]:
    """The first days of the months an enquiry's figures fall in (receipt and every stage
    and closure date): what a change to it touches."""
    dates = [getattr(row, s.date_column) for s in STAGE_ORDER]
    dates.append(row.closed_on)
    return {month_start(d) for d in dates if d is not None}


def _spans(months: Iterable[date]) -> list[tuple[date, date]]:
    """Runs of consecutive months, as (first day, last day) pairs."""
    runs: list[list[date]] = []
    for month in sorted({month_start(m) for m in months}):
        if runs and add_months(runs[-1][-1], 1) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return [(r[0], add_months(r[-1], 1) - timedelta(days=1)) for r in runs]


def refresh_funnel_months(session: Session, authority_code: str, months: Iterable[date]) -> None:
    """Recompute the prepared funnel rows of a council's months from its enquiries."""
    for first, last in _spans(months):
        _refresh_span(session, authority_code, first, last)


def _refresh_span(session: Session, code: str, first: date, last: date) -> None:
    dialect = session.get_bind().dialect.name
    labels = {month_label(first), month_label(last)}
    low, high = min(labels), max(labels)
    for table in PREPARED_TABLES:
        session.execute(
            delete(table).where(
                table.authority_code == code, table.month >= low, table.month <= high
            )
        )
    received = month_of_in(dialect, Enquiry.received_on).label("month")
    cohort = [
        Enquiry.authority_code == code,
        col(Enquiry.received_on) >= first,
        col(Enquiry.received_on) <= last,
    ]
    counts = [
        func.count(_reached_expression(s)).label(n)
        for s, n in zip(STAGE_ORDER, REACHED, strict=True)
    ]
    cohort_rows = session.execute(
        select(
            received,
            Enquiry.channel,
            Enquiry.campaign,
            *counts,
            func.count(Enquiry.closed_on).label("closed"),
            func.count(Enquiry.approved_on).label("approved"),
        )
        .where(*cohort)
        .group_by(received, Enquiry.channel, Enquiry.campaign)
    ).mappings()
    _insert(session, FunnelMonth, [{"authority_code": code, **r} for r in cohort_rows])
    closures = session.execute(
        select(received, Enquiry.stage, Enquiry.closure_reason, func.count())
        .where(*cohort, col(Enquiry.closed_on).is_not(None))
        .group_by(received, Enquiry.stage, Enquiry.closure_reason)
    )
    _insert(
        session,
        FunnelMonthClosure,
        [
            {"authority_code": code, "month": m, "stage": s, "reason": r, "count": n}
            for m, s, r, n in closures
        ],
    )
    durations = []
    for index, (start, end) in enumerate(DURATION_PAIRS):
        one, two = getattr(Enquiry, start.date_column), getattr(Enquiry, end.date_column)
        days = days_between_in(dialect, one, two).label("days")
        durations.append(
            select(received, literal_column(str(index), Integer).label("pair"), days, func.count())
            .where(*cohort, one.is_not(None), two.is_not(None))
            .group_by(received, days)
        )
    rows = session.execute(durations[0].union_all(*durations[1:])).all()
    _insert(session, FunnelMonthHistogram, packed_histograms(code, rows))
    events: dict[str, dict[str, Any]] = {}
    for name, column in MONTHLY_EVENTS.items():
        month = month_of_in(dialect, column)
        for label, n in session.execute(
            select(month, func.count())
            .where(Enquiry.authority_code == code, column >= first, column <= last)
            .group_by(month)
        ):
            row = events.setdefault(label, dict.fromkeys(MONTHLY_EVENTS, 0))
            row[name] = n
    _insert(
        session,
        FunnelMonthEvents,
        [{"authority_code": code, "month": m, **n} for m, n in events.items()],
    )


def packed_histograms(code: str, rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """A council's (month, pair, days, count) rows packed into one row a month and pair:
    the day counts in order and the enquiries of each."""
    packed: dict[tuple[str, int], dict[int, int]] = {}
    for month, pair, days, count in rows:
        histogram = packed.setdefault((month, int(pair)), {})
        histogram[int(days)] = histogram.get(int(days), 0) + int(count)
    rows = []
    for (month, pair), histogram in sorted(packed.items()):
        days = sorted(histogram)
        counts = [histogram[d] for d in days]
        rows.append(
            {"authority_code": code, "month": month, "pair": pair, "days": days, "counts": counts}
        )
    return rows


def count_new_enquiries(session: Session, created: list[tuple[str, date, str, str | None]]) -> None:
    """Add enquiries just logged at the enquiry stage (each a council, receipt date, channel and
    campaign) to their months' prepared rows, where the council's are built: the cohort's row
    of each channel and campaign, and the month's events. A new enquiry has no other date,
    closure or duration, so an UPDATE a row does where a refresh of the month takes a dozen
    statements. Each UPDATE asks itself whether the council's figures are built; only when one
    finds no row (a month's first enquiry of its kind) is that asked apart, before the row is
    inserted."""
    cohorts: Counter[tuple[str, str, str, str | None]] = Counter(
        (code, month_label(received_on), channel, campaign)
        for code, received_on, channel, campaign in created
    )
    events: Counter[tuple[str, str]] = Counter(
        (code, month) for code, month, _, _ in cohorts.elements()
    )
    bump_named, bump_unnamed, bump_events = _count_statements()
    connection = session.connection()
    built: dict[str, bool] = {}

    def bump(statement: Any, key: dict[str, Any], table: Any, row: dict[str, Any]) -> None:
        if connection.execute(statement, key).rowcount:  # type: ignore[attr-defined]
            return
        code = row["authority_code"]
        if code not in built:
            built[code] = is_prepared(session, code)
        if built[code]:
            connection.execute(insert(table), row)

    for (code, month, channel, campaign), n in cohorts.items():
        key = {"b_code": code, "b_month": month, "b_channel": channel, "b_campaign": campaign}
        row = {"authority_code": code, "month": month, "channel": channel, "campaign": campaign}
        statement = bump_unnamed if campaign is None else bump_named
        bump(statement, key | {"b_n": n}, FunnelMonth.__table__, row | {"reached_enquiry": n})
    for (code, month), n in events.items():
        key = {"b_code": code, "b_month": month, "b_n": n}
        row = {"authority_code": code, "month": month, "enquiries": n}
        bump(bump_events, key, FunnelMonthEvents.__table__, row)


@cache
def _count_statements() -> tuple[Any, Any, Any]:
    """The UPDATEs of `count_new_enquiries`, built once as Core statements on the tables, with
    only their bound values changing: the cohort's row of a named campaign, of none, and the
    events'; each only where the council's prepared figures are built."""
    cohort: Any = FunnelMonth.__table__
    events: Any = FunnelMonthEvents.__table__
    built: Any = PreparedAuthority.__table__
    prepared = exists().where(built.c.authority_code == bindparam("b_code"))
    same = (
        (cohort.c.authority_code == bindparam("b_code"))
        & (cohort.c.month == bindparam("b_month"))
        & (cohort.c.channel == bindparam("b_channel"))
    )
    bump = {"reached_enquiry": cohort.c.reached_enquiry + bindparam("b_n")}
    return (
        update(cohort)
        .where(same, cohort.c.campaign == bindparam("b_campaign"), prepared)
        .values(bump),
        update(cohort).where(same, cohort.c.campaign.is_(None), prepared).values(bump),
        update(events)
        .where(events.c.authority_code == bindparam("b_code"))
        .where(events.c.month == bindparam("b_month"), prepared)
        .values(enquiries=events.c.enquiries + bindparam("b_n")),
    )


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), rows)


# -- reads: statements built once, only their bound values change ------------------------


def _bound(table: Any) -> list[Any]:
    return [
        table.authority_code == bindparam("code"),
        table.month >= bindparam("low"),
        table.month <= bindparam("high"),
    ]


@cache
def _events_query() -> Any:
    t = FunnelMonthEvents
    return select(t.month, *(getattr(t, n) for n in MONTHLY_EVENTS)).where(*_bound(t))


def event_counts(session: Session, code: str, low: str, high: str) -> dict[str, dict[str, int]]:
    """Events per month label from `low` to `high` (months with none left out)."""
    params = {"code": code, "low": low, "high": high}
    names = list(MONTHLY_EVENTS)
    return {
        row[0]: dict(zip(names, row[1:], strict=True))
        for row in session.execute(_events_query(), params)
    }


def split_period(
    date_from: date, date_to: date, today: date
) -> tuple[tuple[str, str] | None, list[tuple[date, date]]]:
    """The labels of the first and last whole months inside a cohort's period (None when
    there is none) and the days before and after them (`(first, last)` ranges, at most two).

    A month counts as whole when the period covers it to its end, or to today: nothing is
    received after today.
    """
    if date_to < date_from:
        return None, [(date_from, date_to)]
    first = date_from if date_from.day == 1 else add_months(month_start(date_from), 1)
    next_month = add_months(month_start(date_to), 1)
    ends = next_month - timedelta(days=1) == date_to or date_to >= today
    last = month_start(date_to) if ends else add_months(month_start(date_to), -1)
    if first > last:
        return None, [(date_from, date_to)]
    edges = []
    if date_from < first:
        edges.append((date_from, first - timedelta(days=1)))
    if not ends:
        edges.append((add_months(last, 1), date_to))
    return (month_label(first), month_label(last)), edges
