"""Chances from a forecast's simulated sample paths.

"What is the chance that in-house households are at least 160 in March 2026?" is the share of
paths at or above 160 in that month; "...that we approve at least 30 households in 2025-26?"
is the share whose approvals summed over the year's months reach 30. Months must be forecast
months (after the cut-off): for a year partly observed, take the months still to come and
subtract what has already happened from the threshold.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from forecast.months import month_label, month_start, months_between
from forecast.types import SeriesForecast


def chance_at_least(forecast: SeriesForecast, month: date, threshold: float) -> float:
    """The share of sample paths whose value in `month` is at least `threshold`."""
    paths = _paths(forecast)
    return float(np.mean(paths[:, _step(forecast, month)] >= threshold))


def chance_cumulative_at_least(
    forecast: SeriesForecast, months: list[date], threshold: float
) -> float:
    """The share of sample paths whose total over `months` is at least `threshold`."""
    if not months:
        raise ValueError("no months given")
    steps = sorted({_step(forecast, month) for month in months})
    if len(steps) != len(months):
        raise ValueError("a month is given twice")
    paths = _paths(forecast)
    return float(np.mean(paths[:, steps].sum(axis=1) >= threshold))


def _paths(forecast: SeriesForecast) -> np.ndarray:
    if not forecast.paths:
        raise ValueError(f"the forecast of {forecast.series_id} has no sample paths")
    return np.asarray(forecast.paths, dtype=float)


def _step(forecast: SeriesForecast, month: date) -> int:
    step = months_between(forecast.cutoff, month_start(month)) - 1
    horizon = len(forecast.paths[0]) if forecast.paths else 0
    if not 0 <= step < horizon:
        raise ValueError(
            f"{month_label(month)} is outside the forecast of {forecast.series_id} "
            f"(months after {month_label(forecast.cutoff)}, {horizon} of them)"
        )
    return step
