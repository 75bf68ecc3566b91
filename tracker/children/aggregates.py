"""Monthly figures a council without an SSDA903 extract enters by hand: what may be entered,
recording them (all or nothing, safe to repeat) and reading them back for the figures."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date
from typing import Annotated

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from forecast.months import month_label
from tracker.children.rows import EARLIEST_YEAR, LATEST_YEAR
from tracker.children.sources import AGE_BAND_NAMES, CATEGORY_NAMES, sum_known
from tracker.children.tables import MonthlyAggregate
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import ImportRejectedError, RowError
from tracker.core.patterns import MONTH

MAX_FIGURES = 10_000


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

Month = Annotated[str, msgspec.Meta(pattern=MONTH, description="YYYY-MM")]
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


def first_of(month: str) -> date:
    """The first day of a YYYY-MM month."""
    return date(int(month[:4]), int(month[5:7]), 1)


def entered(
    session: Session, authority_code: str, metrics: Sequence[Metric], first: date, last: date
) -> dict[tuple[str, str, str], int]:
    """Entered values keyed by (metric, month label, breakdown), months first..last."""
    a = MonthlyAggregate
    query = select(a.metric, a.month, a.breakdown, a.value).where(
        a.authority_code == authority_code,
        a.metric.in_([m.value for m in metrics]),  # type: ignore[attr-defined]
        a.month >= first.replace(day=1),
        a.month <= last,
    )
    return {(m, month_label(month), b): v for m, month, b, v in session.execute(query)}


def entered_total(
    values: dict[tuple[str, str, str], int], metric: Metric, month: str, parts: Sequence[str]
) -> int | None:
    """The month's total: as entered, else the sum of the parts entered (None: nothing)."""
    if (metric.value, month, "") in values:
        return values[(metric.value, month, "")]
    return sum_known([values.get((metric.value, month, p)) for p in parts])


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
        if not EARLIEST_YEAR <= int(figure.month[:4]) <= LATEST_YEAR:
            errors.append(
                RowError(
                    row,
                    "month",
                    f"{figure.month} is not a month from {EARLIEST_YEAR} to {LATEST_YEAR}",
                )
            )
        elif first_of(figure.month) > today:
            errors.append(RowError(row, "month", f"{figure.month} is in the future"))
        if key in seen:
            errors.append(RowError(row, "month", f"the same figure is given in row {seen[key]}"))
        seen.setdefault(key, row)
    if errors:
        return errors
    # Stayed cannot exceed eligible, taking the figures given with those already stored.
    months = sorted({first_of(f.month) for f in figures})
    stored = entered(
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
    months = sorted({first_of(f.month) for f in figures})
    stored = {
        (month_label(r.month), r.metric, r.breakdown): r
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
                    month=first_of(figure.month),
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
