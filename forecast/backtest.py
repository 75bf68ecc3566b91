"""Rolling-origin backtests: how well each model would have forecast the series' own past.

Origins are spaced through the last part of the history. At each origin a model is refitted on
the months before it and forecasts the horizon the user asked for (or what history allows);
its errors are scaled by the in-sample mean absolute error of seasonal naive at that origin
(lag 12, or lag 1 when the training months are under two years), which gives MASE: 1.0 means
"as good as seasonal naive in-sample". The same origins serve every model of a series, so
their scores compare like with like, and the errors standardised by the model's own forecast
standard deviation are what forecast/intervals.py calibrates intervals from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from forecast.models import SEASON, Fitted, Forecast, Model

Z80 = 1.2815515655446004
"""The standard normal quantile that leaves 10% in each tail: 80% intervals."""


def plan_origins(length: int, horizon: int, count: int, min_train: int) -> list[int]:
    """Training lengths for the backtest's origins, earliest first (empty if none fit).

    The latest origin leaves the full horizon to test when the history is long enough, else
    half the months after `min_train`. Earlier ones step back a year at a time, so the tests
    cover several years of the series and every origin ends at the same month of the year;
    where history is too short for that they are squeezed evenly down to `min_train`.
    """
    span = length - min_train
    if span < 1 or count < 1:
        return []
    latest = length - min(horizon, math.ceil(span / 2))
    step = SEASON
    if count > 1 and latest - (count - 1) * step < min_train:
        step = max(1, (latest - min_train) // (count - 1))
    return sorted({max(min_train, latest - k * step) for k in range(count)})


def mase_scale(train: np.ndarray) -> float:
    """In-sample mean absolute error of seasonal naive (lag 1 under two years); never 0."""
    lag = SEASON if len(train) >= 2 * SEASON else 1
    for errors in (train[lag:] - train[:-lag], np.diff(train), train - np.mean(train)):
        scale = float(np.mean(np.abs(errors))) if errors.size else 0.0
        if scale > 0:
            return scale
    return max(float(np.mean(np.abs(train))), 1.0)


@dataclass(frozen=True)
class OriginResult:
    """One origin: the months that followed it and the model's forecast of them."""

    train_length: int
    actual: np.ndarray
    forecast: Forecast
    point: np.ndarray
    scale: float

    @property
    def errors(self) -> np.ndarray:
        return self.actual - self.point

    @property
    def standardised(self) -> np.ndarray:
        """Errors over the model's own forecast sd (NaN where that sd is zero)."""
        sd = self.forecast.sd
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sd > 0, self.errors / np.where(sd > 0, sd, 1.0), np.nan)


@dataclass(frozen=True)
class Backtest:
    """A model's rolling-origin backtest on one series (or why it could not run)."""

    model: str
    origins: tuple[OriginResult, ...]
    failure: str | None = None
    last_fit: Fitted | None = field(default=None, compare=False, repr=False)
    """The fit at the latest origin, to warm-start the fit on the whole history."""

    @property
    def ok(self) -> bool:
        return self.failure is None and bool(self.origins)

    @property
    def origin_mase(self) -> np.ndarray:
        """Each origin's mean absolute scaled error across the steps it tested."""
        return np.array([np.mean(np.abs(o.errors)) / o.scale for o in self.origins])

    @property
    def mase(self) -> float | None:
        """Mean over origins of the mean absolute scaled error across the steps tested."""
        if not self.ok:
            return None
        return float(np.mean(self.origin_mase))

    @property
    def coverage80(self) -> float | None:
        """Share of backtest months inside the model's own (uncalibrated) 80% interval."""
        if not self.ok:
            return None
        z = np.concatenate([o.standardised for o in self.origins])
        errors = np.concatenate([o.errors for o in self.origins])
        inside = np.where(np.isnan(z), errors == 0, np.abs(z) <= Z80)
        return float(np.mean(inside))

    def standardised(self) -> np.ndarray:
        """Every finite standardised error, pooled over origins and steps."""
        if not self.ok:
            return np.zeros(0)
        z = np.concatenate([o.standardised for o in self.origins])
        return z[np.isfinite(z)]


def run_backtest(
    name: str,
    model: Model,
    values: np.ndarray,
    start: date,
    origins: list[int],
    horizon: int,
    is_count: bool,
) -> Backtest:
    """Refit `model` at each origin and forecast what follows; a failure is recorded, not
    raised, so one model's trouble never stops the others."""
    results: list[OriginResult] = []
    previous = None
    try:
        for origin in origins:
            train = values[:origin]
            steps = min(horizon, len(values) - origin)
            fitted = model.fit(train, start, previous)
            forecast = fitted.forecast(steps)
            if not (np.all(np.isfinite(forecast.mean)) and math.isfinite(forecast.sigma)):
                raise ValueError("the forecast is not finite")
            point = np.maximum(forecast.mean, 0.0) if is_count else forecast.mean
            results.append(
                OriginResult(
                    origin, values[origin : origin + steps], forecast, point, mase_scale(train)
                )
            )
            previous = fitted
    except Exception as exc:
        return Backtest(name, (), failure=describe_failure(exc))
    return Backtest(name, tuple(results), last_fit=previous)


def describe_failure(exc: BaseException) -> str:
    """An exception as one short line for a note."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
