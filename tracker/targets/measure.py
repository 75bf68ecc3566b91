"""Measuring a metric at a month, from its actuals or per simulated future.

How a metric is measured depends on its shape:

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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import msgspec
import numpy as np

from forecast.months import add_months, months_between, months_from, year_start
from tracker.targets.kinds import YEAR


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


def window(shape: Shape, month: date, *, year_to_date: bool = False) -> list[date]:
    """The months a metric's value at `month` is measured over."""
    if shape in (Shape.LEVEL, Shape.PROPORTION_STOCK):
        return [month]
    first = year_start(month) if year_to_date else add_months(month, -(YEAR - 1))
    return months_from(first, month)


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
