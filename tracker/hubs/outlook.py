"""The hub as a whole: its councils' enquiries, applications and approvals per month summed,
forecast by the service's engine (`forecast.engine`), and each of the hub's targets for a
year starting 1 April with the chance of meeting it (the share of the forecast's sample
paths that reach it, on top of the year's actual months)."""

from __future__ import annotations

import enum
from datetime import date

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from forecast import engine
from forecast.months import add_months
from forecast.types import ForecastOptions, ForecastPoint, MonthlySeries
from tracker.core import audit
from tracker.core.access import Caller
from tracker.enquiries.funnel import monthly_series
from tracker.enquiries.tables import Enquiry
from tracker.hubs.routing import member_codes
from tracker.hubs.service import get_hub_row
from tracker.hubs.tables import HubTarget
from tracker.series.window import first_full_month, last_complete_month


class HubMetric(enum.StrEnum):
    """What the hub forecasts and sets targets on."""

    ENQUIRIES = "enquiries"
    APPLICATIONS = "applications"
    APPROVALS = "approvals"


class TargetIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A target for the year starting 1 April of `year`."""

    metric: HubMetric
    year: int = msgspec.field()
    target: int

    def __post_init__(self) -> None:
        if not 2000 <= self.year <= 2100:
            raise msgspec.ValidationError("year must be between 2000 and 2100")
        if not 0 <= self.target <= 1_000_000:
            raise msgspec.ValidationError("target must be between 0 and 1000000")


class MetricOutlook(msgspec.Struct, frozen=True, kw_only=True):
    """One metric of the hub: history, forecast and, when set, its target this year."""

    metric: HubMetric
    model: str
    history_start: date
    history: list[float]
    forecast: list[ForecastPoint]
    year: int
    actual_to_date: int
    projected: float
    projected_lo80: float
    projected_hi80: float
    target: int | None
    chance: float | None
    notes: list[str]


class HubOutlook(msgspec.Struct, frozen=True, kw_only=True):
    """Every metric of the hub, forecast from the last complete month."""

    hub_id: int
    cutoff: date
    metrics: list[MetricOutlook]


def set_target(session: Session, caller: Caller, hub_id: int, given: TargetIn) -> HubTarget:
    """Set (or replace) the hub's target for a metric and year; audited."""
    get_hub_row(session, hub_id)
    row = session.get(HubTarget, (hub_id, given.metric.value, given.year))
    if row is None:
        row = HubTarget(hub_id=hub_id, metric=given.metric.value, year=given.year, target=0)
        session.add(row)
    row.target = given.target
    audit.record(
        session,
        caller,
        "target",
        "hub",
        hub_id,
        detail={"metric": given.metric.value, "year": given.year, "target": given.target},
    )
    session.flush()
    return row


def year_of(day: date) -> int:
    """The year starting 1 April that `day` falls in (2025 for 2025-26)."""
    return day.year if day.month >= 4 else day.year - 1


def hub_history(
    session: Session, hub_id: int, cutoff: date
) -> tuple[date, dict[HubMetric, list[float]]] | None:
    """Each metric per month summed over the hub's councils, from the first full month of
    their earliest enquiry to `cutoff` (a month's first day); None without enquiries."""
    codes = member_codes(session, hub_id)
    first = session.scalar(
        select(func.min(Enquiry.received_on)).where(col(Enquiry.authority_code).in_(codes))
    )
    start = first_full_month(first)
    if start is None or start > cutoff:
        return None
    months = 0
    while add_months(start, months) <= cutoff:
        months += 1
    totals = {m: [0.0] * months for m in HubMetric}
    last_day = add_months(cutoff, 1).toordinal() - 1
    for code in codes:
        points = monthly_series(session, code, start, date.fromordinal(last_day)).points
        for i, point in enumerate(points[:months]):
            for metric in HubMetric:
                totals[metric][i] += getattr(point, metric.value)
    return start, totals


def hub_outlook(session: Session, hub_id: int, today: date, options: ForecastOptions) -> HubOutlook:
    """The hub's forecasts from the last complete month, with this year's targets."""
    get_hub_row(session, hub_id)
    cutoff = last_complete_month(today)
    found = hub_history(session, hub_id, cutoff)
    year = year_of(cutoff)
    targets = {
        t.metric: t.target
        for t in session.scalars(
            select(HubTarget).where(HubTarget.hub_id == hub_id, HubTarget.year == year)
        )
    }
    if found is None:
        return HubOutlook(hub_id=hub_id, cutoff=cutoff, metrics=[])
    start, totals = found
    year_start, year_end = date(year, 4, 1), date(year + 1, 3, 1)
    metrics = []
    for metric, values in totals.items():
        result = engine.forecast_series(
            MonthlySeries(
                series_id=f"hub-{hub_id}:{metric.value}", start=start, values=list(values)
            ),
            options,
        )
        done = sum(v for i, v in enumerate(values) if year_start <= add_months(start, i) <= cutoff)
        remaining = [i for i, p in enumerate(result.points) if p.month <= year_end]
        totals_by_path = sorted(done + sum(path[i] for i in remaining) for path in result.paths)
        target = targets.get(metric.value)
        metrics.append(
            MetricOutlook(
                metric=metric,
                model=result.model,
                history_start=start,
                history=values,
                forecast=result.points,
                year=year,
                actual_to_date=int(done),
                projected=round(_quantile(totals_by_path, 0.5, done), 1),
                projected_lo80=round(_quantile(totals_by_path, 0.1, done), 1),
                projected_hi80=round(_quantile(totals_by_path, 0.9, done), 1),
                target=target,
                chance=(
                    round(sum(1 for t in totals_by_path if t >= target) / len(totals_by_path), 3)
                    if target is not None and totals_by_path
                    else None
                ),
                notes=result.notes,
            )
        )
    return HubOutlook(hub_id=hub_id, cutoff=cutoff, metrics=metrics)


def _quantile(ordered: list[float], q: float, fallback: float) -> float:
    if not ordered:
        return fallback
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
