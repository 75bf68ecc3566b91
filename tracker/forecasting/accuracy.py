"""The accuracy of past forecasts (vintages) against the actuals that have since arrived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import msgspec
from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from forecast.months import add_months
from forecast.types import ForecastPoint
from tracker.children.mapping import Mapping
from tracker.core.authorities import get_authority
from tracker.forecasting import withheld
from tracker.forecasting.results import succeeded
from tracker.forecasting.tables import (
    ForecastResult,
    ForecastRun,
)
from tracker.series.registry import series_for_authority


class VintageAccuracy(msgspec.Struct, frozen=True, kw_only=True):
    """How a past run's forecast of one series compares with what happened since.

    mae is the mean absolute error of the mean forecast; scaled_error divides it by the
    series' in-sample seasonal-naive error (below 1: better than repeating last year); bias
    is the mean of forecast minus actual (above 0: over-forecast); coverage is the share of
    actuals inside the 80% and 95% intervals. To readers outside the authority they are null
    where they would give back a withheld count, and `withheld` says so
    (`tracker.forecasting.withheld`).
    """

    run_id: int
    run_created_at: datetime
    cutoff: date
    series_id: str
    model: str
    months_compared: int
    mae: float | None
    scaled_error: float | None
    bias: float | None
    coverage80: float | None
    coverage95: float | None
    withheld: str | None = None


def seasonal_scale(values: Sequence[float | None], season: int = 12) -> float | None:
    """Mean absolute difference between a month and the same month a year before (the
    month before, with under a year of pairs); None when there is nothing to compare."""
    for lag in (season, 1):
        pairs = [
            abs(b - a)
            for a, b in zip(values[:-lag], values[lag:], strict=True)
            if a is not None and b is not None
        ]
        if len(pairs) >= season or (lag == 1 and pairs):
            scale = sum(pairs) / len(pairs)
            return scale if scale > 0 else None
    return None


def _compare(
    points: Sequence[ForecastPoint], actual: dict[date, float | None], scale: float | None
) -> tuple[int, float, float | None, float, float, float] | None:
    pairs: list[tuple[ForecastPoint, float]] = []
    for point in points:
        value = actual.get(point.month)
        if value is not None:
            pairs.append((point, value))
    if not pairs:
        return None
    n = len(pairs)
    errors = [p.mean - a for p, a in pairs]
    mae = sum(abs(e) for e in errors) / n
    inside80 = sum(1 for p, a in pairs if p.lo80 <= a <= p.hi80)
    inside95 = sum(1 for p, a in pairs if p.lo95 <= a <= p.hi95)
    return (
        n,
        round(mae, 6),
        round(mae / scale, 6) if scale else None,
        round(sum(errors) / n, 6),
        round(inside80 / n, 6),
        round(inside95 / n, 6),
    )


def vintage_accuracy(
    session: Session,
    code: str,
    series_id: str | None,
    *,
    cutoff: date,
    mapping: Mapping | None = None,
    small_counts: bool = True,
) -> list[VintageAccuracy]:
    """For each succeeded run, its forecasts compared with the actuals up to `cutoff`'s month
    (the last complete month); series with no actual month yet are left out.
    `small_counts=False` (readers outside the authority): what would give back a withheld
    count is null."""
    get_authority(session, code)
    query = (
        select(ForecastResult, ForecastRun.created_at)
        .join(ForecastRun, ForecastRun.id == ForecastResult.run_id)
        .where(*succeeded(code))
        .order_by(ForecastResult.run_id, ForecastResult.series_id)
    )
    if series_id is not None:
        query = query.where(ForecastResult.series_id == series_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    metrics = {r.metric for r, _ in rows}
    actuals: dict[str, dict[date, float | None]] = {}
    for s in series_for_authority(session, code, cutoff, metrics=metrics, mapping=mapping):
        actuals[s.series_id] = {add_months(s.start, i): v for i, v in enumerate(s.values)}
    hidden = {} if small_counts else withheld.hidden_months(actuals)
    result = []
    for row, created_at in rows:
        points = msgspec.convert(row.points, list[ForecastPoint])
        compared = _compare(points, actuals.get(row.series_id, {}), row.scale)
        if compared is None:
            continue
        n, mae, scaled, bias, cover80, cover95 = compared
        accuracy = VintageAccuracy(
            run_id=row.run_id,
            run_created_at=created_at,
            cutoff=row.cutoff,
            series_id=row.series_id,
            model=row.model,
            months_compared=n,
            mae=mae,
            scaled_error=scaled,
            bias=bias,
            coverage80=cover80,
            coverage95=cover95,
        )
        result.append(
            accuracy
            if small_counts
            else _withhold(accuracy, points, actuals.get(row.series_id, {}), hidden)
        )
    return result


def _withhold(
    accuracy: VintageAccuracy,
    points: Sequence[ForecastPoint],
    actual: dict[date, float | None],
    hidden: dict[str, set[date]],
) -> VintageAccuracy:
    """The accuracy with what gives back a withheld month of its series nulled: every measure
    when a month compared is withheld, the scaled error also when a month of history is."""
    months = hidden.get(accuracy.series_id, set())
    compared = {p.month for p in points if actual.get(p.month) is not None}
    if compared & months:
        return msgspec.structs.replace(
            accuracy,
            mae=None,
            scaled_error=None,
            bias=None,
            coverage80=None,
            coverage95=None,
            withheld=withheld.ACCURACY_WITHHELD,
        )
    if accuracy.scaled_error is not None and any(m <= accuracy.cutoff for m in months):
        return msgspec.structs.replace(
            accuracy, scaled_error=None, withheld=withheld.ACCURACY_WITHHELD
        )
    return accuracy
