"""A prepared council's funnel for any period in one statement: its whole months off the
prepared monthly rows and the days at its edges from the enquiries, summed in SQL, with the
approvals per month the report's years need.

Each part of the answer is a row shape of one UNION ALL, told apart by its first column
(`Part`): the cohort's counts, closures by stage and reason (one row: a JSON list), the
duration histograms (a row a pair, its months' packed lists joined, and one for the edges),
approvals per month (one row: a JSON list) and, with a breakdown, the counts per group. A
first read of a new period then costs one statement and about fifteen rows, not the seven
to nine statements its parts took one by one. Few rows matter: Python's sqlite3 gives up
the interpreter lock at each row SQLite steps to, and waits to take it back behind the
other requests running.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from tracker.core.db import PlannedOnce
from tracker.core.histograms import Histogram
from tracker.core.monthly_tables import (
    FunnelMonth,
    FunnelMonthClosure,
    FunnelMonthEvents,
    FunnelMonthHistogram,
)
from tracker.core.sql import (
    days_between_in,
    joined_json_in,
    json_array_in,
    json_list_in,
    month_of_in,
)
from tracker.enquiries.funnel import (
    DURATION_PAIRS,
    Dimension,
    _aggregates,
    _cohort,
    _cohort_params,
)
from tracker.enquiries.monthly import COUNTS
from tracker.enquiries.stages import STAGE_ORDER
from tracker.enquiries.tables import Enquiry

_MONTHS_DAYS = msgspec.json.Decoder(list[tuple[list[int], list[int]]])
_EDGE_DAYS = msgspec.json.Decoder(list[list[int] | None])
_CLOSURES = msgspec.json.Decoder(list[tuple[str, str | None, int]])
_APPROVALS = msgspec.json.Decoder(list[tuple[str, int]])
NOTHING = ("9999-12", "0000-01")
"""Month bounds no month lies between: a period with no whole month reads no prepared row."""


class Part(enum.IntEnum):
    """What a row of the statement holds."""

    TOTALS = 0
    CLOSURES = 1
    DURATIONS = 2
    APPROVALS = 3
    GROUPS = 4


class PeriodRows(NamedTuple):
    """A period's cohort as read: summed counts, closures, histograms, approvals per month
    (label, count) and breakdown rows."""

    totals: dict[str, int]
    closures: list[tuple[str, str, int]]
    histograms: list[Histogram]
    approvals: list[tuple[str, int]]
    groups: list[dict[str, Any]]


def _row(part: Part, key: Any = None, pair: Any = None, counts: Any = ()) -> Any:
    """The columns of one part's rows: part, a text key, a whole-number key, counts."""
    counts = list(counts)
    filler = [cast(null(), Integer)] * (len(COUNTS) - len(counts))
    return [
        literal(int(part), Integer).label("part"),
        cast(key, String) if key is not None else cast(null(), String),
        pair if pair is not None else cast(null(), Integer),
        *counts,
        *filler,
    ]


def _months(table: Any) -> list[Any]:
    return [
        table.authority_code == bindparam("code"),
        table.month >= bindparam("low"),
        table.month <= bindparam("high"),
    ]


def _summed(part: Part, rows: Any, key: Any = None) -> Any:
    """The counts of `rows` (a subquery with the `COUNTS` columns) summed, per `key`."""
    sums = [func.coalesce(func.sum(rows.c[n]), 0) for n in COUNTS]
    query = select(*_row(part, key=rows.c[key] if key else None, counts=sums)).select_from(rows)
    return query.group_by(rows.c[key]) if key else query


def _group_key(dialect: str, by: Dimension, rows: Any) -> Any:
    """The breakdown's key in the prepared rows (`rows` None) or in the edges' enquiries."""
    if rows is None:
        return getattr(FunnelMonth, by.value)
    if by is Dimension.MONTH:
        return month_of_in(dialect, rows.received_on)
    return getattr(rows, by.value)


# The columns of the edges' enquiries the statement reads.
EDGE_COLUMNS = (
    "stage",
    "closure_reason",
    "channel",
    "campaign",
    *(s.date_column for s in STAGE_ORDER),
    "closed_on",
)


@cache
def _statement(dialect: str, edges: int, by: Dimension | None, totals_only: bool) -> Any:
    """The one statement of a period with `edges` raw ranges (0 to 2), built once. The
    edges' enquiries are read once (a materialised CTE), however many parts count them."""
    prepared_counts = [getattr(FunnelMonth, n).label(n) for n in COUNTS]
    edge = None
    if edges:
        columns = [getattr(Enquiry, name) for name in EDGE_COLUMNS]
        edge = select(*columns).where(*_cohort(edges)).cte("edge").prefix_with("MATERIALIZED")
    counts_parts = [select(*prepared_counts).where(*_months(FunnelMonth))]
    if edge is not None:
        counts_parts.append(select(*_aggregates(edge.c)))
    parts = [_summed(Part.TOTALS, union_all(*counts_parts).subquery("counts"))]
    if by is not None:
        key = _group_key(dialect, by, None).label("key")
        grouped = [select(key, *prepared_counts).where(*_months(FunnelMonth))]
        if edge is not None:
            raw_key = _group_key(dialect, by, edge.c).label("key")
            grouped.append(select(raw_key, *_aggregates(edge.c)).group_by(raw_key))
        parts.append(_summed(Part.GROUPS, union_all(*grouped).subquery("grouped"), key="key"))
    events = FunnelMonthEvents
    # The approvals per month, as one JSON list of [month, approvals].
    approvals = joined_json_in(dialect, json_array_in(dialect, [events.month, events.approvals]))
    parts.append(
        select(*_row(Part.APPROVALS, key=approvals)).where(
            events.authority_code == bindparam("code"),
            events.month >= bindparam("approvals_low"),
            events.month <= bindparam("approvals_high"),
        )
    )
    if not totals_only:
        parts += [_closures(dialect, edge), *_durations(dialect, edge)]
    return union_all(*parts)


def _closures(dialect: str, edge: Any) -> Any:
    """The closures by stage and reason, as one JSON list of [stage, reason, count]."""
    t = FunnelMonthClosure
    rows = [select(t.stage, t.reason, t.count.label("n")).where(*_months(t))]
    if edge is not None:
        rows.append(
            select(edge.c.stage, edge.c.closure_reason, func.count().label("n"))
            .where(edge.c.closed_on.is_not(None))
            .group_by(edge.c.stage, edge.c.closure_reason)
        )
    u = union_all(*rows).subquery("closures")
    stage, reason = u.c[0], u.c[1]
    summed = (
        select(stage.label("stage"), reason.label("reason"), func.sum(u.c.n).label("n"))
        .group_by(stage, reason)
        .subquery("summed")
    )
    each = json_array_in(dialect, [summed.c.stage, summed.c.reason, summed.c.n])
    return select(*_row(Part.CLOSURES, key=joined_json_in(dialect, each))).select_from(summed)


def _durations(dialect: str, edge: Any) -> list[Any]:
    """The months' packed histograms, one row a pair (each month's day counts and enquiries
    of each, joined as stored into one JSON list of lists), and the edges' enquiries' days of
    every pair as one JSON list of lists, in one pass over them. The counts are summed in
    Python: a large council's year is ten rows of twelve months' packed lists, where a GROUP BY
    over day counts returned 500 to 700 rows, and a row a month and pair 120 (each row a
    step of SQLite's, for which Python's sqlite3 gives up the interpreter lock and waits to
    take it back while other requests run)."""
    t = FunnelMonthHistogram
    # Each month's [days, counts] (one value, so the two never fall out of step).
    month = literal("[") + cast(t.days, String) + literal(",") + cast(t.counts, String) + "]"
    stored = _row(Part.DURATIONS, key=joined_json_in(dialect, month), pair=t.pair)
    rows = [select(*stored).where(*_months(t)).group_by(t.pair)]
    if edge is not None:
        lists = []
        for start, end in DURATION_PAIRS:
            first, second = getattr(edge.c, start.date_column), getattr(edge.c, end.date_column)
            days = json_list_in(dialect, days_between_in(dialect, first, second))
            lists.append(days.filter(first.is_not(None), second.is_not(None)))
        rows.append(select(*_row(Part.DURATIONS, key=json_array_in(dialect, lists))))
    return rows


@cache
def planned(dialect: str, edges: int, by: Dimension | None, totals_only: bool) -> PlannedOnce:
    """The statement of a period with `edges` raw ranges, planned once per connection on
    PostgreSQL (planned afresh, its planning cost about as much as its execution), as is on
    SQLite."""
    # The bound values' names, as `read_period` gives them (`_cohort_params` the edges').
    texts = ["code", "low", "high", "approvals_low", "approvals_high"]
    suffixes = [""] if edges == 1 else [f"_{i}" for i in range(1, edges + 1)]
    dates = [f"date_{end}{suffix}" for suffix in suffixes[:edges] for end in ("from", "to")]
    types: dict[str, TypeEngine[Any]] = {n: String() for n in texts} | {n: Date() for n in dates}
    return PlannedOnce(
        f"funnel_period_{edges}_{by.value if by is not None else 'all'}_{int(totals_only)}",
        lambda: _statement(dialect, edges, by, totals_only),
        types,
    )


def read_period(
    session: Session,
    code: str,
    months: tuple[str, str] | None,
    edges: Sequence[tuple[date, date]],
    approvals: tuple[str, str],
    by: Dimension | None,
    totals_only: bool,
    ready: bool | None = None,
) -> PeriodRows:
    """The cohort of the whole `months` (labels, or None) and the `edges` days (at most two
    ranges), and the approvals per month from `approvals[0]` to `approvals[1]`, in one
    statement run on the session's connection (`planned`); `ready`: whether that statement
    is prepared on the connection, as a query just before told (`PlannedOnce.readiness`),
    or None."""
    dialect = session.get_bind().dialect.name
    statement = planned(dialect, len(edges), by, totals_only)
    low, high = months or NOTHING
    params = {"low": low, "high": high, "approvals_low": approvals[0]}
    params["approvals_high"] = approvals[1]
    params |= _cohort_params(code, edges) if edges else {"code": code}
    totals: dict[str, int] = dict.fromkeys(COUNTS, 0)
    closures, approved, groups = [], [], []
    days: list[list[int]] = [[] for _ in DURATION_PAIRS]
    counts_of: list[list[int]] = [[] for _ in DURATION_PAIRS]
    rows = statement.execute(session.connection(), params, ready).all()
    for part, key, pair, *counts in rows:
        if part == Part.TOTALS:
            totals = {n: int(v) for n, v in zip(COUNTS, counts, strict=True)}
        elif part == Part.CLOSURES:
            closures = _CLOSURES.decode(key) if key is not None else []
        elif part == Part.DURATIONS and pair is not None:
            # One pair's packed histograms of the months: their day counts and the enquiries
            # of each.
            for month_days, month_counts in _MONTHS_DAYS.decode(key):
                days[pair] += month_days
                counts_of[pair] += month_counts
        elif part == Part.DURATIONS:
            # The edges' days of every pair, one enquiry each (a pair's list is NULL on
            # PostgreSQL when no edge enquiry reached both of its stages).
            for i, values in enumerate(_EDGE_DAYS.decode(key)):
                days[i] += values or ()
                counts_of[i] += [1] * len(values or ())
        elif part == Part.APPROVALS:
            approved = _APPROVALS.decode(key) if key is not None else []
        else:
            groups.append({"key": key} | {n: int(v) for n, v in zip(COUNTS, counts, strict=True)})
    histograms = [Histogram.of(d, n) for d, n in zip(days, counts_of, strict=True)]
    return PeriodRows(totals, closures, histograms, approved, groups)
