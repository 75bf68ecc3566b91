"""A target's trajectory: month by month its path, the actuals so far and the latest forecast;
its milestones with the chance of meeting each; its status with the rule that gave it; the gap
in plain units; and, for targets that recruiting carers moves, the work-back to the approvals,
applications and enquiries a year it needs.

Level and flow metrics take the latest stored forecast of their series, with its sample
paths. Proportions are forecast on demand by `forecast.proportions` from their numerators and
denominators (a count forecast of a rate would hide how much ~50 leavers a year move it).
"""

from __future__ import annotations

import functools
from datetime import date

import msgspec
import numpy as np
from sqlalchemy.orm import Session

from forecast.months import (
    add_months,
    month_end,
    month_name,
    month_start,
    months_between,
    year_label,
)
from forecast.proportions import ProportionForecast, forecast_proportion
from tracker.children.mapping import Mapping, load_mapping
from tracker.core.errors import NotFoundError
from tracker.forecasting.results import latest_forecast
from tracker.targets import metrics
from tracker.targets import service as targets
from tracker.targets.assessment import MonthRow, assess
from tracker.targets.kinds import AnnualCount, TargetSpec
from tracker.targets.measure import Shape, Simulation, measure_actual
from tracker.targets.metrics import Actuals, Metric, MetricKey
from tracker.targets.schemas import TargetRecord
from tracker.targets.status import Status
from tracker.targets.workback import WorkBack, work_back

HISTORY_MONTHS = 36
"""Months of actuals shown before the last complete month (earlier when the baseline is)."""
MAX_HISTORY_MONTHS = 120
"""However early the baseline, at most ten years of actuals are read and shown."""
FIT_MONTHS = 60
"""Months of numerators and denominators a proportion's model is fitted on."""
PROPORTION_PATHS = 1000
OPEN_HORIZON = 24
"""Months ahead a floor or band without a date is followed (and its proportion forecast)."""
MAX_HORIZON = 120


class MetricView(msgspec.Struct, frozen=True, kw_only=True):
    """The metric a trajectory measures, as people read it."""

    key: MetricKey
    label: str
    unit: str
    shape: Shape
    percent: bool
    measured: str


class ForecastSource(msgspec.Struct, frozen=True, kw_only=True):
    """Where a trajectory's forecast comes from: a stored run (`run_id`) or a proportion model
    fitted on demand (`run_id` None), its model, the last month it knew and its notes."""

    series_id: str
    run_id: int | None
    model: str
    cutoff: date
    fitted_on_demand: bool
    notes: list[str]


class Milestone(msgspec.Struct, frozen=True, kw_only=True):
    """A milestone: `date` is its day (31 March, or the target date's month end), `label` says
    it ("March 2026", or "2025-26" for an annual count). `basis` is actual (the month is over:
    `actual` and `met`), forecast (`median` and `probability` of meeting it), beyond_forecast or
    no_forecast."""

    date: date
    label: str
    target: float | None
    target_upper: float | None
    basis: str
    actual: float | None
    met: bool | None
    median: float | None
    probability: float | None


class Trajectory(msgspec.Struct, frozen=True, kw_only=True):
    """A target against its actuals and forecast (see the module's docstring).

    `months` run from the earlier of the baseline and 36 months back to the target date; an
    annual count's months are year-to-date. `probability` is the chance of meeting it at
    `probability_at` (the target date, or the milestone `status_rule` names), `gap` the
    distance there in the metric's unit (`gap_value`: positive is short, negative ahead).
    """

    target: TargetRecord
    metric: MetricView
    as_at: date
    actuals_source: str
    last_actual_month: date | None
    months: list[MonthRow]
    milestones: list[Milestone]
    status: Status
    status_rule: str
    probability: float | None
    probability_at: date | None
    probability_throughout: float | None
    actual_status: Status | None
    gap: str | None
    gap_value: float | None
    forecast: ForecastSource | None
    workback: WorkBack | None
    notes: list[str]


def _stored_forecast(
    session: Session, code: str, found: Actuals
) -> tuple[Simulation | None, ForecastSource | None, list[str]]:
    """The latest stored forecast of the metric's series, with its sample paths."""
    try:
        result = latest_forecast(session, code, found.series_id, with_paths=True)
    except NotFoundError:
        return None, None, [f"no forecast of {found.series_id} is stored yet: run a forecast"]
    if not result.paths:
        return None, None, [f"the forecast of {found.series_id} has no sample paths"]
    simulation = Simulation(
        first=add_months(result.cutoff, 1), values=np.asarray(result.paths, dtype=float)
    )
    source = ForecastSource(
        series_id=found.series_id,
        run_id=result.run_id,
        model=result.model,
        cutoff=result.cutoff,
        fitted_on_demand=False,
        notes=list(result.notes),
    )
    notes = []
    last = found.history().last
    if last is not None and last > result.cutoff:
        notes.append(
            f"the forecast (run {result.run_id}) knew the actuals to {month_name(result.cutoff)}; "
            f"those to {month_name(last)} are newer: a new forecast run would use them"
        )
    return simulation, source, notes


@functools.lru_cache(maxsize=64)
def proportion_paths(
    series_id: str,
    start: date,
    numerators: tuple[float | None, ...],
    denominators: tuple[float | None, ...],
    horizon: int,
    paths: int,
    stock: bool,
) -> ProportionForecast:
    """`forecast_proportion` of these figures, fitted once: it is a pure function of them
    (its random numbers are seeded by the series), so the pages that ask again for the same
    actuals (the targets page, the overview's statuses) reuse the paths instead of fitting
    the model on every request."""
    return forecast_proportion(
        series_id, start, numerators, denominators, horizon=horizon, paths=paths, stock=stock
    )


def _proportion_forecast(
    found: Actuals, metric: Metric, spec: TargetSpec
) -> tuple[Simulation | None, ForecastSource | None, list[str]]:
    """A proportion model fitted now on the actuals to the last month with figures."""
    history = found.history()
    last = history.last
    if last is None or found.denominators is None:
        return None, None, [f"there are no figures of {metric.label} to forecast from"]
    end = spec.end or add_months(last, OPEN_HORIZON)
    horizon = min(max(months_between(last, end), 1), MAX_HORIZON)
    count = months_between(found.start, last) + 1
    try:
        forecast = proportion_paths(
            found.series_id,
            found.start,
            tuple(found.values[:count]),
            tuple(found.denominators[:count]),
            horizon,
            PROPORTION_PATHS,
            metric.shape is Shape.PROPORTION_STOCK,
        )
    except ValueError as exc:  # figures the model refuses (a numerator above its denominator)
        return None, None, [f"{metric.label} could not be forecast: {exc}"]
    simulation = Simulation(
        first=add_months(forecast.cutoff, 1),
        values=np.asarray(forecast.numerator_paths, dtype=float),
        denominators=np.asarray(forecast.denominator_paths, dtype=float),
    )
    source = ForecastSource(
        series_id=found.series_id,
        run_id=None,
        model=forecast.model,
        cutoff=forecast.cutoff,
        fitted_on_demand=True,
        notes=list(forecast.notes),
    )
    return simulation, source, []


def _workback(
    session: Session,
    code: str,
    record: TargetRecord,
    metric: Metric,
    spec: TargetSpec,
    found: Actuals,
    today: date,
) -> tuple[WorkBack | None, list[str]]:
    """What recruiting must deliver a year to meet the target (recruitment metrics only)."""
    if not metric.recruitment:
        return None, []
    if isinstance(spec, AnnualCount):
        increase, years = spec.target_value, 1.0
    else:
        history = found.history()
        last = history.last
        end = spec.end or (add_months(last, OPEN_HORIZON) if last else None)
        if last is None or end is None or end <= last:
            return None, []
        current = measure_actual(metric.shape, history, last)
        goal = spec.threshold(end)
        if current is None or goal is None:
            return None, []
        increase, years = goal - current, months_between(last, end) / 12
    result = work_back(
        session, code, metric=metric.key.value, increase=increase, years=years, as_at=today
    )
    return result, []


def _milestone(row_month: date, spec: TargetSpec) -> tuple[date, str]:
    if spec.YEAR_TO_DATE:
        return month_end(row_month), year_label(row_month)
    return month_end(row_month), month_name(row_month)


def of_record(
    session: Session,
    code: str,
    record: TargetRecord,
    *,
    today: date,
    mapping: Mapping,
) -> Trajectory:
    """The trajectory of a target already read, computed now from the stored rows."""
    metric = metrics.get_metric(record.metric)
    spec = targets.spec_of(record)
    last_complete = add_months(month_start(today), -1)
    shown_from = min(spec.start, add_months(last_complete, -(HISTORY_MONTHS - 1)))
    shown_from = max(shown_from, add_months(last_complete, -(MAX_HISTORY_MONTHS - 1)))
    # Flows and Staying Put are measured over 12 months: fetch the year before the first shown.
    fetch_from = add_months(shown_from, -11)
    if metric.percent:
        fetch_from = min(fetch_from, add_months(last_complete, -(FIT_MONTHS - 1)))
    found = metrics.actuals(session, code, metric.key, fetch_from, last_complete, mapping=mapping)
    if metric.percent:
        simulation, source, notes = _proportion_forecast(found, metric, spec)
    else:
        simulation, source, notes = _stored_forecast(session, code, found)
    open_end = None
    if spec.end is None:
        last = found.history().last or last_complete
        open_end = simulation.last if simulation else add_months(last, OPEN_HORIZON)
    assessment = assess(
        spec,
        metric.shape,
        found.history(),
        simulation,
        first_month=shown_from,
        unit=metric.unit,
        open_end=open_end,
    )
    if not any(row.median is not None for row in assessment.months):
        source = None  # the target's months are all behind the forecast: it is not used
    workback, workback_notes = _workback(session, code, record, metric, spec, found, today)
    milestones = []
    for row in assessment.milestones:
        day, label = _milestone(row.month, spec)
        milestones.append(
            Milestone(
                date=day,
                label=label,
                target=row.target,
                target_upper=row.target_upper,
                basis=row.basis,
                actual=row.actual,
                met=row.met,
                median=row.median,
                probability=row.probability,
            )
        )
    return Trajectory(
        target=record,
        metric=MetricView(
            key=metric.key,
            label=metric.label,
            unit=metric.unit,
            shape=metric.shape,
            percent=metric.percent,
            measured=metric.measured,
        ),
        as_at=today,
        actuals_source=found.source,
        last_actual_month=assessment.last_actual,
        months=assessment.months,
        milestones=milestones,
        status=assessment.status,
        status_rule=assessment.status_rule,
        probability=assessment.probability,
        probability_at=(
            month_end(assessment.probability_at) if assessment.probability_at else None
        ),
        probability_throughout=assessment.probability_throughout,
        actual_status=assessment.actual_status,
        gap=assessment.gap,
        gap_value=assessment.gap_value,
        forecast=source,
        workback=workback,
        notes=[*found.notes, *notes, *assessment.notes, *workback_notes],
    )


def trajectory(
    session: Session, code: str, target_id: int, *, today: date, mapping: Mapping | None = None
) -> Trajectory:
    """One target's trajectory as at `today` (`mapping`: the council's SSDA903 placement
    mapping, when it has its own)."""
    record = targets.get_target(session, code, target_id)
    return of_record(session, code, record, today=today, mapping=mapping or load_mapping())


def trajectories(
    session: Session, code: str, *, today: date, mapping: Mapping | None = None
) -> list[Trajectory]:
    """The trajectory of every target of the authority, oldest target first."""
    mapping = mapping or load_mapping()
    return [
        of_record(session, code, record, today=today, mapping=mapping)
        for record in targets.list_targets(session, code)
    ]
