"""A target measured against its actuals and forecast: month by month, at its milestones, and
in one status with the rule that gave it, the chance behind it and the gap in words."""

from __future__ import annotations

import math
from datetime import date

import msgspec
import numpy as np

from forecast.months import add_months, month_name, months_from
from tracker.targets.kinds import TargetSpec
from tracker.targets.measure import (
    History,
    Shape,
    Simulation,
    bands,
    measure_actual,
    measure_paths,
)
from tracker.targets.status import STATUS_RULE, Status, chance, chance_throughout, status_of
from tracker.targets.wording import gap_sentence


class MonthRow(msgspec.Struct, frozen=True, kw_only=True):
    """One month of a trajectory: the target path, the actual and the forecast ranges."""

    month: date
    target: float | None
    target_upper: float | None
    actual: float | None
    median: float | None
    lo80: float | None
    hi80: float | None
    lo95: float | None
    hi95: float | None


class MilestoneRow(msgspec.Struct, frozen=True, kw_only=True):
    """A milestone (each 31 March on the way, and the target date): what the target asks, the
    actual once the month is over (and whether it met the target), else the forecast median
    and the chance of meeting it. `basis`: actual, forecast, beyond_forecast or no_forecast."""

    month: date
    target: float | None
    target_upper: float | None
    basis: str
    actual: float | None = None
    met: bool | None = None
    median: float | None = None
    probability: float | None = None


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    """A target measured against its actuals and forecast: month by month, at its milestones,
    and in one status with the rule that gave it, the chance behind it and the gap."""

    months: list[MonthRow]
    milestones: list[MilestoneRow]
    status: Status
    status_rule: str
    probability: float | None
    probability_at: date | None
    # Floors and bands: the chance of meeting the target in every forecast month to its date.
    probability_throughout: float | None
    # With no forecast: where the latest actual stands against the path (on or off track).
    actual_status: Status | None
    gap: str | None
    gap_value: float | None
    last_actual: date | None
    notes: list[str]


# --- months and the path -------------------------------------------------------------------


# --- measuring a metric ----------------------------------------------------------------------


# --- meeting a target ------------------------------------------------------------------------


# --- the gap in words ----------------------------------------------------------------------


# --- the whole assessment ------------------------------------------------------------------


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def _judged_month(
    spec: TargetSpec, marks: list[date], last: date | None, horizon_end: date | None
) -> tuple[date | None, str]:
    """The month a status is judged at, and why that one when it is not the target date."""
    if not marks:
        return None, ""
    if spec.YEAR_TO_DATE:
        ahead = [m for m in marks if last is None or m > last]
        return (ahead[0], "the year in progress") if ahead else (marks[-1], "")
    end = marks[-1]
    if (last is not None and end <= last) or horizon_end is None or end <= horizon_end:
        return end, ""
    beyond = (
        f"the target date ({month_name(end)}) is beyond the forecast, which runs to "
        f"{month_name(horizon_end)}, so "
    )
    inside = [m for m in marks if (last is None or m > last) and m <= horizon_end]
    if inside:
        return inside[-1], beyond + "the last milestone inside it stands in"
    return horizon_end, beyond + "the target path at the forecast's last month stands in"


def assess(
    spec: TargetSpec,
    shape: Shape,
    history: History,
    simulation: Simulation | None,
    *,
    first_month: date,
    unit: str,
    open_end: date | None = None,
) -> Assessment:
    """Measure a target against its actuals and, when there is one, its forecast.

    The months run from `first_month` to the target month (or, for a floor or band without a
    date, to `open_end`, the forecast's last month). An annual count shows year-to-date values.
    """
    percent = shape.is_proportion
    ytd = spec.YEAR_TO_DATE
    last = history.last
    horizon_end = simulation.last if simulation is not None else None
    end = spec.end or open_end or horizon_end or last or spec.start
    marks = spec.milestones(end)
    notes: list[str] = []

    def forecast_at(month: date) -> np.ndarray | None:
        if simulation is None or (last is not None and month <= last):
            return None
        return measure_paths(shape, history, simulation, month, year_to_date=ytd)

    rows = []
    for month in months_from(first_month, max(end, first_month)):
        spread = forecast_at(month)
        band = bands(spread) if spread is not None else None
        rows.append(
            MonthRow(
                month=month,
                target=_rounded(spec.path_value(month)),
                target_upper=_rounded(spec.path_upper(month)),
                actual=_rounded(measure_actual(shape, history, month, year_to_date=ytd)),
                median=_rounded(band.median) if band else None,
                lo80=_rounded(band.lo80) if band else None,
                hi80=_rounded(band.hi80) if band else None,
                lo95=_rounded(band.lo95) if band else None,
                hi95=_rounded(band.hi95) if band else None,
            )
        )

    milestone_rows = []
    for month in marks:
        target, upper = _rounded(spec.threshold(month)), _rounded(spec.path_upper(month))
        if last is not None and month <= last:
            actual = measure_actual(shape, history, month, year_to_date=ytd)
            milestone_rows.append(
                MilestoneRow(
                    month=month,
                    target=target,
                    target_upper=upper,
                    basis="actual",
                    actual=_rounded(actual),
                    met=spec.meets(actual, month) if actual is not None else None,
                )
            )
            continue
        spread = forecast_at(month)
        if spread is None:
            basis = "no_forecast" if simulation is None else "beyond_forecast"
            milestone_rows.append(
                MilestoneRow(month=month, target=target, target_upper=upper, basis=basis)
            )
            continue
        band = bands(spread)
        milestone_rows.append(
            MilestoneRow(
                month=month,
                target=target,
                target_upper=upper,
                basis="forecast",
                median=_rounded(band.median) if band else None,
                probability=_rounded(chance(spec, spread, month), 4),
            )
        )

    throughout = None
    if simulation is not None and spec.EVERY_MONTH:
        stop = min(end, simulation.last)
        columns = []
        for month in months_from(add_months(last, 1) if last else simulation.first, stop):
            values = forecast_at(month)
            if values is not None:
                columns.append((month, values))
        throughout = _rounded(chance_throughout(spec, columns), 4)
        if throughout is not None:
            notes.append(
                f"the chance of meeting it in every month to {month_name(stop)} is {throughout:.0%}"
            )

    status, probability, probability_at = Status.NO_FORECAST, None, None
    actual_status, gap, gap_value = None, None, None
    judged, why = _judged_month(spec, marks, last, horizon_end)
    row = next((r for r in milestone_rows if r.month == judged), None)
    if judged is not None and row is None:
        # The forecast's last month stands in for a target date beyond it: not a milestone.
        spread = forecast_at(judged)
        band = bands(spread) if spread is not None else None
        if spread is not None and band is not None:
            row = MilestoneRow(
                month=judged,
                target=_rounded(spec.threshold(judged)),
                target_upper=_rounded(spec.path_upper(judged)),
                basis="forecast",
                median=band.median,
                probability=chance(spec, spread, judged),
            )
    if judged is not None and row is not None and row.actual is not None:
        status = Status.MET if row.met else Status.MISSED
        probability, probability_at = (1.0 if row.met else 0.0), judged
        rule = (
            f"the target date has passed: judged on the actual of {month_name(judged)} "
            "(so the chance is 1 or 0)"
        )
        gap_value = spec.shortfall(row.actual, judged)
        gap = gap_sentence(spec, row.actual, judged, unit=unit, percent=percent, basis="actual")
    elif judged is not None and row is not None and row.probability is not None:
        assert row.median is not None
        probability, probability_at = row.probability, judged
        status = status_of(row.probability)
        rule = f"{STATUS_RULE}; judged on the chance of meeting it {spec.when(judged)}"
        rule += f" ({why})" if why else ""
        gap_value = spec.shortfall(row.median, judged)
        gap = gap_sentence(
            spec, row.median, judged, unit=unit, percent=percent, basis="forecast median"
        )
    else:
        rule = (
            "no forecast of this metric: judged on the latest actual against the target path"
            if simulation is None
            else "the forecast reaches no milestone of this target: judged on the latest "
            "actual against the target path"
        )
        level = spec.path_value(last) if last is not None else None
        actual = measure_actual(shape, history, last, year_to_date=ytd) if last else None
        if last is not None and actual is not None and level is not None:
            ok = spec.meets(actual, last, level=level)
            actual_status = Status.ON_TRACK if ok else Status.OFF_TRACK
            rule += f" ({'on' if ok else 'off'} the path in {month_name(last)})"
            gap_value = spec.shortfall(actual, last, level=level)
            gap = gap_sentence(
                spec,
                actual,
                last,
                unit=unit,
                percent=percent,
                basis=f"latest actual ({month_name(last)})",
                level=level,
            )
    return Assessment(
        months=rows,
        milestones=milestone_rows,
        status=status,
        status_rule=rule,
        probability=probability,
        probability_at=probability_at,
        probability_throughout=throughout,
        actual_status=actual_status,
        gap=gap,
        gap_value=_rounded(gap_value, 2),
        last_actual=last,
        notes=notes,
    )
