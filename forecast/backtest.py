"""Rolling-origin backtests: how well each model would have forecast the series' own past.

A model is fitted once, on the months before the first origin, and then forecasts from every
later month as if it stood there: `forward` runs the fit, parameters unchanged, through the
months up to that origin and forecasts the horizon the user asked for (or what history
allows). So every forecast is out of sample (no parameter has seen the months it forecasts)
and a series of a few years still gives a few dozen origins, at the cost of one fit. Errors are
scaled by the in-sample mean absolute error of seasonal naive at each origin (lag 12, or lag 1
under two years), which gives MASE: 1.0 means "as good as seasonal naive in-sample". The same
origins serve every model of a series, so their scores compare like with like, and the same
errors, pooled over the months ahead, calibrate the intervals (forecast/intervals.py).

What round 2 of issue 14 found wrong with this scheme on real series, and changed: a seasonal
series' first fit was on two years, too few for AutoETS to fit a seasonal model, so ETS ran
flat through the whole backtest (now three years where the series allows, forecast/engine.py);
statsforecast's CES run forward diverged (now refitted at an origin where it leaves the
history's range, forecast/statsforecast_models.py); and a forecast that still runs far away
fails the backtest (`ran_away`) instead of dragging a combination's score with it. ETS and
CES keep the form (components, seasonal type) chosen on the whole history, so their
backtests' parameters are out of sample but their form is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from forecast.models import SEASON, Model

ORIGIN_STEP = 3
"""Months between origins: every third month costs two thirds of every other month in running
the fits forward (Theta's forward pass redoes its seasonal decomposition, a tenth of a series'
time) and still leaves every month after the first origin forecast, so the ranges are calibrated
from errors about every one of those months (forecast/intervals.py). Measured on the validation
year (issue 14, round 2), every third month instead of every other one changed no point forecast
and moved 80% coverage by about one point."""


def plan_origins(length: int, horizon: int, wanted: int, min_train: int) -> list[int]:
    """Training lengths of the backtest's origins, every ORIGIN_STEP months to the end of the
    history (empty if none fit): from where `wanted` origins have the whole horizon still
    ahead, where history allows, with at least `min_train` months to fit on."""
    if length - min_train < 1 or wanted < 1:
        return []
    first = max(min_train, length - horizon - (wanted - 1) * ORIGIN_STEP)
    return list(range(first, length, ORIGIN_STEP))


def mase_scale(train: np.ndarray) -> float:
    """In-sample mean absolute error of seasonal naive (lag 1 under two years); never 0."""
    return _naive_scale(train, np.mean)


def median_scale(train: np.ndarray) -> float:
    """In-sample median absolute error of seasonal naive (lag 1 under two years); never 0.
    A one-off break moves a year of seasonal differences, which the mean counts in full and
    the median hardly at all."""
    return _naive_scale(train, np.median)


def recent_scale(train: np.ndarray, months: int) -> float:
    """Mean absolute error of seasonal naive over the last `months` months of `train` only
    (lag 1 under two years; the whole history's MASE scale where that error is 0): how
    unsettled the series is lately, not on average since it began."""
    lag = SEASON if len(train) >= 2 * SEASON else 1
    recent = np.abs(train[lag:] - train[:-lag])[-months:]
    scale = float(np.mean(recent)) if recent.size else 0.0
    return scale if scale > 0 else mase_scale(train)


def _naive_scale(train: np.ndarray, average: Callable[[np.ndarray], Any]) -> float:
    lag = SEASON if len(train) >= 2 * SEASON else 1
    for errors in (train[lag:] - train[:-lag], np.diff(train), train - np.mean(train)):
        scale = float(average(np.abs(errors))) if errors.size else 0.0
        if scale > 0:
            return scale
    return max(float(np.mean(np.abs(train))), 1.0)


@dataclass(frozen=True)
class Backtest:
    """A model's backtest on one series (or why it could not run): per origin (rows) and
    month ahead (columns) its forecast and what happened, NaN past the end of the history."""

    model: str
    origins: tuple[int, ...] = ()
    forecasts: np.ndarray | None = None
    actuals: np.ndarray | None = None
    scales: np.ndarray | None = None
    """Each origin's MASE scale: the seasonal-naive in-sample error of its training months."""
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None and bool(self.origins)

    @property
    def errors(self) -> np.ndarray:
        """Actual minus forecast, origins x months ahead."""
        assert self.actuals is not None and self.forecasts is not None
        return self.actuals - self.forecasts

    @property
    def scaled_errors(self) -> np.ndarray:
        """Absolute errors over each origin's scale."""
        assert self.scales is not None
        return np.abs(self.errors) / self.scales[:, None]

    @property
    def mase(self) -> float | None:
        """Mean absolute scaled error, month ahead by month ahead, then averaged over the
        months ahead (so each step counts once, as in a held-back year)."""
        if not self.ok:
            return None
        per_step = self.scaled_errors
        tested = ~np.all(np.isnan(per_step), axis=0)
        return float(np.mean(np.nanmean(per_step[:, tested], axis=0)))

    @property
    def origin_mase(self) -> np.ndarray:
        """Each origin's MASE over the months ahead it tested."""
        return np.nanmean(self.scaled_errors, axis=1)

    def mase_at(self, origin: int) -> float | None:
        """The MASE of the forecast from one origin (None if the backtest has no such row)."""
        if not self.ok or origin not in self.origins:
            return None
        return float(np.nanmean(self.scaled_errors[self.origins.index(origin)]))

    def with_forecasts(self, model: str, forecasts: np.ndarray) -> Backtest:
        """The same origins and actuals with other forecasts (a combination's)."""
        return Backtest(model, self.origins, forecasts, self.actuals, self.scales)


def run_backtest(
    name: str,
    model: Model,
    values: np.ndarray,
    start: date,
    origins: list[int],
    horizon: int,
    is_count: bool,
) -> Backtest:
    """Fit `model` before the first origin and forecast from every origin; a failure is
    recorded, not raised, so one model's trouble never stops the others."""
    n = len(values)
    forecasts = np.full((len(origins), horizon), np.nan)
    actuals = np.full((len(origins), horizon), np.nan)
    try:
        fitted = model.fit(values[: origins[0]], start)
        for row, origin in enumerate(origins):
            steps = min(horizon, n - origin)
            point = fitted.forward(values[:origin], steps)
            if point.shape != (steps,) or not np.all(np.isfinite(point)):
                raise ValueError("the forecast is not finite")
            if ran_away(point, values[:origin]):
                raise ValueError(f"the forecast from month {origin} ran far outside the history")
            forecasts[row, :steps] = np.maximum(point, 0.0) if is_count else point
            actuals[row, :steps] = values[origin : origin + steps]
    except Exception as exc:
        return Backtest(name, failure=describe_failure(exc))
    scales = np.array([mase_scale(values[:origin]) for origin in origins])
    return Backtest(name, tuple(origins), forecasts, actuals, scales)


RUNAWAY = 10.0
"""A forecast further than this many times the history's range beyond it has run away."""


def ran_away(point: np.ndarray, history: np.ndarray) -> bool:
    """Whether a forecast left the history's range by more than RUNAWAY times that range (a
    model run forward with parameters that no longer fit, such as an unstable CES)."""
    low, high = float(np.min(history)), float(np.max(history))
    margin = RUNAWAY * max(high - low, abs(high), 1e-9)
    return bool(np.any(point > high + margin) or np.any(point < low - margin))


def describe_failure(exc: BaseException) -> str:
    """An exception as one short line for a note."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
