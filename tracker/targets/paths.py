"""The arithmetic of strategy targets, pure: a target's path month by month, its milestones, a
metric's value over its measuring window (from actuals, or per simulated future), the chance of
meeting a target read off sample paths, the status that chance gives, and the gap in words.

Months are first days of months and stand for the month's end ("March 2026" is 31 March
2026). Values are in the metric's own units: levels and counts as numbers, proportions in
percent. How a metric is measured at a month depends on its shape:

- level: its value at the month's end (children, households);
- flow: its count over the 12 months ending with the month (a yearly rate), or, for an annual
  count target, over the year to date (years end 31 March);
- proportion_flow: the sum of numerators over the sum of denominators in the 12 months ending
  with the month (Staying Put: stayed / leavers), in percent;
- proportion_stock: numerator / denominator at the month's end (occupancy), in percent.

A window partly observed takes the observed months from the actuals and the rest from each
sample path, so "33 approvals by 31 March" counts what has happened and simulates the rest.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import msgspec
import numpy as np

from forecast.months import add_months, months_between, year_label, year_start

YEAR = 12
ON_TRACK_AT = 0.7
AT_RISK_AT = 0.3
STATUS_RULE = (
    "on track when the chance of meeting the target is at least 70%, at risk when it is at "
    "least 30%, off track below 30%"
)
# Paths and targets are compared with this slack, so a path exactly on a target meets it.
TOLERANCE = 1e-9
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


class Kind(enum.StrEnum):
    """What a target asks for."""

    COMPOUND_GROWTH = "compound_growth"
    LEVEL_BY_DATE = "level_by_date"
    ANNUAL_COUNT = "annual_count"
    FLOOR = "floor"
    BAND = "band"


class Direction(enum.StrEnum):
    """Whether the metric should be at least (growth) or at most (reduction) the target."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Shape(enum.StrEnum):
    """How a metric is measured at a month (see the module's docstring)."""

    LEVEL = "level"
    FLOW = "flow"
    PROPORTION_FLOW = "proportion_flow"
    PROPORTION_STOCK = "proportion_stock"

    @property
    def is_proportion(self) -> bool:
        """True for the shapes measured as a percentage."""
        return self in (Shape.PROPORTION_FLOW, Shape.PROPORTION_STOCK)


class Status(enum.StrEnum):
    """Where a target stands: from the chance of meeting it, or from the actual once its date
    has passed, or with no forecast at all."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_FORECAST = "no_forecast"
    MET = "met"
    MISSED = "missed"


class TargetSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A target's arithmetic: its path starts at `start` (the baseline month; the first April
    of an annual count; a floor's first month) and ends at `end` (the target month; None for a
    floor or band without a date). Values are in the metric's units; `annual_rate` in percent."""

    kind: Kind
    start: date
    end: date | None = None
    direction: Direction = Direction.AT_LEAST
    baseline_value: float | None = None
    annual_rate: float | None = None
    target_value: float | None = None
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class History:
    """Monthly actuals from `start`: levels, counts or numerators, and the denominators of a
    proportion (None: no figure for the month)."""

    start: date
    values: Sequence[float | None]
    denominators: Sequence[float | None] | None = None

    @property
    def last(self) -> date | None:
        """The last month with a figure."""
        for index in range(len(self.values) - 1, -1, -1):
            if self.values[index] is not None:
                return add_months(self.start, index)
        return None

    def at(self, month: date) -> tuple[float | None, float | None]:
        """The month's value and denominator (None outside the history)."""
        index = months_between(self.start, month)
        if not 0 <= index < len(self.values):
            return None, None
        denominator = self.denominators[index] if self.denominators is not None else None
        return self.values[index], denominator


@dataclass(frozen=True)
class Simulation:
    """Simulated futures of a metric's monthly figures from `first` (paths x months): levels,
    counts or numerators, and the denominators of a proportion."""

    first: date
    values: np.ndarray
    denominators: np.ndarray | None = None

    @property
    def horizon(self) -> int:
        """How many months the paths run."""
        return int(self.values.shape[1]) if self.values.ndim == 2 else 0

    @property
    def last(self) -> date:
        """The last simulated month."""
        return add_months(self.first, self.horizon - 1)


class Bands(msgspec.Struct, frozen=True, kw_only=True):
    """The median and the 80% and 95% ranges of a month's simulated values."""

    median: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


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


def month_name(month: date) -> str:
    """A month in words, as "March 2026"."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def _months(first: date, last: date) -> list[date]:
    return [add_months(first, i) for i in range(months_between(first, last) + 1)]


def path_value(spec: TargetSpec, month: date) -> float | None:
    """The target path at `month` (None outside the target's months). An annual count's path
    is the year-to-date share of the yearly number, reaching it each March."""
    if month < spec.start or (spec.end is not None and month > spec.end):
        return None
    elapsed = months_between(spec.start, month)
    match spec.kind:
        case Kind.COMPOUND_GROWTH:
            assert spec.baseline_value is not None and spec.annual_rate is not None
            return spec.baseline_value * (1 + spec.annual_rate / 100) ** (elapsed / YEAR)
        case Kind.LEVEL_BY_DATE:
            assert spec.baseline_value is not None and spec.target_value is not None
            assert spec.end is not None
            span = months_between(spec.start, spec.end)
            if span == 0:
                return spec.target_value
            return spec.baseline_value + (spec.target_value - spec.baseline_value) * elapsed / span
        case Kind.ANNUAL_COUNT:
            assert spec.target_value is not None
            return spec.target_value * (months_between(year_start(month), month) + 1) / YEAR
        case Kind.FLOOR:
            return spec.lower if spec.direction is Direction.AT_LEAST else spec.upper
        case Kind.BAND:
            return spec.lower
    raise AssertionError(spec.kind)


def path_upper(spec: TargetSpec, month: date) -> float | None:
    """The upper edge of a band's path (None for every other kind)."""
    if spec.kind is not Kind.BAND or path_value(spec, month) is None:
        return None
    return spec.upper


def threshold(spec: TargetSpec, month: date) -> float | None:
    """What the metric is held to at a milestone: an annual count's whole yearly number, else
    the path's value (a band's lower edge)."""
    if spec.kind is Kind.ANNUAL_COUNT:
        return spec.target_value if path_value(spec, month) is not None else None
    return path_value(spec, month)


def milestones(spec: TargetSpec, open_end: date | None = None) -> list[date]:
    """Each March after the start up to the end, and the end itself (`open_end` stands in for
    the end of a floor or band without a date)."""
    end = spec.end or open_end
    if end is None or end < spec.start:
        return []
    marches = [date(year, 3, 1) for year in range(spec.start.year, end.year + 1)]
    result = [m for m in marches if spec.start < m < end]
    return [*result, end]


# --- measuring a metric ----------------------------------------------------------------------


def window(shape: Shape, month: date, *, year_to_date: bool = False) -> list[date]:
    """The months a metric's value at `month` is measured over."""
    if shape in (Shape.LEVEL, Shape.PROPORTION_STOCK):
        return [month]
    first = year_start(month) if year_to_date else add_months(month, -(YEAR - 1))
    return _months(first, month)


def _ratio(numerator: float, denominator: float) -> float | None:
    return 100 * numerator / denominator if denominator > 0 else None


def measure_actual(
    shape: Shape, history: History, month: date, *, year_to_date: bool = False
) -> float | None:
    """The metric's actual value at `month` (None unless every month of its window is known)."""
    total = denominator = 0.0
    for m in window(shape, month, year_to_date=year_to_date):
        value, den = history.at(m)
        if value is None or (shape.is_proportion and den is None):
            return None
        total += value
        denominator += den or 0.0
    if shape.is_proportion:
        return _ratio(total, denominator)
    return total


def measure_paths(
    shape: Shape,
    history: History,
    simulation: Simulation,
    month: date,
    *,
    year_to_date: bool = False,
) -> np.ndarray | None:
    """The metric's value at `month` per sample path: observed months from the actuals, later
    ones from the paths (None when the window is all observed or reaches past the paths).
    A proportion whose denominators sum to zero on a path is NaN on that path."""
    last = history.last
    observed = observed_den = 0.0
    columns: list[int] = []
    for m in window(shape, month, year_to_date=year_to_date):
        if last is not None and m <= last:
            value, den = history.at(m)
            if value is None or (shape.is_proportion and den is None):
                return None
            observed += value
            observed_den += den or 0.0
            continue
        step = months_between(simulation.first, m)
        if not 0 <= step < simulation.horizon:
            return None
        columns.append(step)
    if not columns:
        return None
    values = simulation.values[:, columns].sum(axis=1) + observed
    if not shape.is_proportion:
        return values
    assert simulation.denominators is not None
    denominators = simulation.denominators[:, columns].sum(axis=1) + observed_den
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominators > 0, 100 * values / denominators, np.nan)


def bands(values: np.ndarray) -> Bands | None:
    """Median and 80% and 95% ranges of simulated values (NaN paths left out)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    median, lo80, hi80, lo95, hi95 = np.quantile(finite, [0.5, 0.1, 0.9, 0.025, 0.975])
    return Bands(
        median=float(median), lo80=float(lo80), hi80=float(hi80), lo95=float(lo95), hi95=float(hi95)
    )


# --- meeting a target ------------------------------------------------------------------------


def meeting(
    spec: TargetSpec, values: np.ndarray, month: date, *, level: float | None = None
) -> np.ndarray:
    """Per value, whether it meets the target at `month` (NaN never does); `level` holds the
    values to another level than the target's at that month (a path's year to date)."""
    if spec.kind is Kind.BAND:
        assert spec.lower is not None and spec.upper is not None
        return (values >= spec.lower - TOLERANCE) & (values <= spec.upper + TOLERANCE)
    level = threshold(spec, month) if level is None else level
    if level is None:
        return np.zeros(values.shape, dtype=bool)
    if spec.direction is Direction.AT_MOST:
        return values <= level + TOLERANCE
    return values >= level - TOLERANCE


def meets(spec: TargetSpec, value: float, month: date, *, level: float | None = None) -> bool:
    """Whether one value meets the target at `month` (or `level`, when given)."""
    return bool(meeting(spec, np.array([value], dtype=float), month, level=level)[0])


def chance(spec: TargetSpec, values: np.ndarray, month: date) -> float | None:
    """The share of sample paths meeting the target at `month` (paths whose value is not a
    number are left out; None when none is left)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(np.mean(meeting(spec, finite, month)))


def chance_throughout(spec: TargetSpec, columns: Sequence[tuple[date, np.ndarray]]) -> float | None:
    """The share of sample paths meeting the target in every one of the months given (each
    month with its values per path); paths not a number in any month are left out."""
    if not columns:
        return None
    matrix = np.column_stack([values for _, values in columns])
    keep = np.isfinite(matrix).all(axis=1)
    if not keep.any():
        return None
    met = np.column_stack([meeting(spec, values, month) for month, values in columns])
    return float(np.mean(met[keep].all(axis=1)))


def status_of(probability: float) -> Status:
    """The status a chance of meeting the target gives (the rule in STATUS_RULE)."""
    if probability >= ON_TRACK_AT:
        return Status.ON_TRACK
    if probability >= AT_RISK_AT:
        return Status.AT_RISK
    return Status.OFF_TRACK


# --- the gap in words ----------------------------------------------------------------------


def shortfall(
    spec: TargetSpec, value: float, month: date, *, level: float | None = None
) -> float | None:
    """How far `value` falls short of the target at `month` (or of `level`, when given):
    positive is short (more needed, or fewer for a reduction), negative is ahead (or inside a
    band by that much)."""
    if spec.kind is Kind.BAND:
        assert spec.lower is not None and spec.upper is not None
        if value < spec.lower:
            return spec.lower - value
        if value > spec.upper:
            return value - spec.upper
        return -min(value - spec.lower, spec.upper - value)
    level = threshold(spec, month) if level is None else level
    if level is None:
        return None
    return value - level if spec.direction is Direction.AT_MOST else level - value


def when_phrase(spec: TargetSpec, month: date) -> str:
    """ "by March 2026", or for an annual count "in 2025-26", or for a floor "in March 2026"."""
    if spec.kind is Kind.ANNUAL_COUNT:
        return f"in {year_label(month)}"
    if spec.kind in (Kind.FLOOR, Kind.BAND):
        return f"in {month_name(month)}"
    return f"by {month_name(month)}"


def format_value(value: float, percent: bool) -> str:
    """A metric's value as people read it: "57.8%" or "1,204"."""
    if percent:
        return f"{value:.1f}%"
    return f"{value:,.0f}"


def _amount(value: float, percent: bool) -> str:
    return f"{value:.1f}" if percent else f"{round(value):,}"


def gap_sentence(
    spec: TargetSpec,
    value: float,
    month: date,
    *,
    unit: str,
    percent: bool,
    basis: str,
    level: float | None = None,
) -> str | None:
    """The gap in plain units, e.g. "14 more children in in-house foster care by March 2026
    than the forecast median (200 against a target of 214)"; `basis` names what `value` is,
    `level` (when given) is the path's value it is held to instead of the target's."""
    short = shortfall(spec, value, month, level=level)
    if short is None:
        return None
    when = when_phrase(spec, month)
    shown = format_value(value, percent)
    amount = _amount(abs(short), percent)
    if spec.kind is Kind.BAND:
        assert spec.lower is not None and spec.upper is not None
        band = f"{format_value(spec.lower, percent)} to {format_value(spec.upper, percent)}"
        if short <= 0:
            return f"inside the band of {band} {when} on the {basis} ({shown})"
        word = "more" if value < spec.lower else "fewer"
        return (
            f"{amount} {word} {unit} {when} than the {basis} to reach the band of {band} ({shown})"
        )
    if level is None:
        level = threshold(spec, month)
        figures = f"({shown} against a target of {format_value(level or 0.0, percent)})"
    else:
        figures = f"({shown} against {format_value(level, percent)} on the target path)"
    if float(amount.replace(",", "")) == 0:
        return f"level with the target {when} on the {basis} {figures}"
    if short < 0:
        return f"ahead by {amount} {unit} {when} on the {basis} {figures}"
    word = "fewer" if spec.direction is Direction.AT_MOST else "more"
    return f"{amount} {word} {unit} {when} than the {basis} {figures}"


# --- the whole assessment ------------------------------------------------------------------


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def _judged_month(
    spec: TargetSpec, marks: list[date], last: date | None, horizon_end: date | None
) -> tuple[date | None, str]:
    """The month a status is judged at, and why that one when it is not the target date."""
    if not marks:
        return None, ""
    if spec.kind is Kind.ANNUAL_COUNT:
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
    ytd = spec.kind is Kind.ANNUAL_COUNT
    last = history.last
    horizon_end = simulation.last if simulation is not None else None
    end = spec.end or open_end or horizon_end or last or spec.start
    marks = milestones(spec, end)
    notes: list[str] = []

    def forecast_at(month: date) -> np.ndarray | None:
        if simulation is None or (last is not None and month <= last):
            return None
        return measure_paths(shape, history, simulation, month, year_to_date=ytd)

    rows = []
    for month in _months(first_month, max(end, first_month)):
        spread = forecast_at(month)
        band = bands(spread) if spread is not None else None
        rows.append(
            MonthRow(
                month=month,
                target=_rounded(path_value(spec, month)),
                target_upper=_rounded(path_upper(spec, month)),
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
        target, upper = _rounded(threshold(spec, month)), _rounded(path_upper(spec, month))
        if last is not None and month <= last:
            actual = measure_actual(shape, history, month, year_to_date=ytd)
            milestone_rows.append(
                MilestoneRow(
                    month=month,
                    target=target,
                    target_upper=upper,
                    basis="actual",
                    actual=_rounded(actual),
                    met=meets(spec, actual, month) if actual is not None else None,
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
    if simulation is not None and spec.kind in (Kind.FLOOR, Kind.BAND):
        stop = min(end, simulation.last)
        columns = []
        for month in _months(add_months(last, 1) if last else simulation.first, stop):
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
                target=_rounded(threshold(spec, judged)),
                target_upper=_rounded(path_upper(spec, judged)),
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
        gap_value = shortfall(spec, row.actual, judged)
        gap = gap_sentence(spec, row.actual, judged, unit=unit, percent=percent, basis="actual")
    elif judged is not None and row is not None and row.probability is not None:
        assert row.median is not None
        probability, probability_at = row.probability, judged
        status = status_of(row.probability)
        rule = f"{STATUS_RULE}; judged on the chance of meeting it {when_phrase(spec, judged)}"
        rule += f" ({why})" if why else ""
        gap_value = shortfall(spec, row.median, judged)
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
        level = path_value(spec, last) if last is not None else None
        actual = measure_actual(shape, history, last, year_to_date=ytd) if last else None
        if last is not None and actual is not None and level is not None:
            ok = meets(spec, actual, last, level=level)
            actual_status = Status.ON_TRACK if ok else Status.OFF_TRACK
            rule += f" ({'on' if ok else 'off'} the path in {month_name(last)})"
            gap_value = shortfall(spec, actual, last, level=level)
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
