"""The forecasting models, each a small class behind one interface.

`Model.fit(values, start)` fits on a plain array of monthly values (`start` is the first month,
which only Prophet needs) and returns a `Fitted`. Its `forecast(horizon)` gives the point
forecast for each step ahead with the model's own error structure: the one-step standard
deviation `sigma` and the weights `psi` of its moving-average representation (the effect of a
surprise now on each later month). Its `forward(values, horizon)` runs the same fit, parameters
unchanged, through a longer stretch of the series and gives the point forecast from its end:
that is how the backtest forecasts from every month after the fit without refitting.
forecast/intervals.py turns the backtest errors into calibrated intervals and sample paths, the
same way for every model.

This module holds the baselines (seasonal naive, naive, drift, the mean, a constant);
forecast/statsforecast_models.py the fitted models and forecast/prophet_fit.py Prophet.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

SEASON = 12


@dataclass(frozen=True)
class Forecast:
    """A model's forecast: point per step ahead, one-step sd and moving-average weights."""

    mean: np.ndarray
    sigma: float
    psi: np.ndarray

    @property
    def sd(self) -> np.ndarray:
        """The model's own forecast standard deviation at each step ahead."""
        return self.sigma * np.sqrt(np.cumsum(self.psi**2))


def from_sd(mean: np.ndarray, sd: np.ndarray) -> Forecast:
    """A forecast from its point and its own sd at each step ahead: the moving-average
    weights are those whose cumulative squares give that growth of the sd."""
    sd = np.maximum.accumulate(np.nan_to_num(np.asarray(sd, dtype=float), nan=0.0))
    positive = sd[sd > 0]
    if positive.size == 0:
        return Forecast(np.asarray(mean, dtype=float), 0.0, impulse(len(mean)))
    sigma = float(positive[0])
    increments = np.diff(np.concatenate(([0.0], sd**2)))
    psi = np.sqrt(np.maximum(increments, 0.0)) / sigma
    psi[0] = 1.0
    return Forecast(np.asarray(mean, dtype=float), sigma, psi)


class Fitted(Protocol):
    """A model fitted to one stretch of a series."""

    def forecast(self, horizon: int) -> Forecast: ...

    def forward(self, values: np.ndarray, horizon: int) -> np.ndarray:
        """The point forecast after `values` (the fitted stretch and what followed it), with
        the parameters as fitted."""
        ...


class Model(Protocol):
    """A forecasting method: fits on an array of monthly values."""

    name: str

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        """Fit on `values` (first month `start`)."""
        ...


def residual_sd(residuals: np.ndarray) -> float:
    residuals = residuals[np.isfinite(residuals)]
    if residuals.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(residuals**2)))


def _ones(horizon: int) -> np.ndarray:
    return np.ones(horizon)


def impulse(horizon: int) -> np.ndarray:
    psi = np.zeros(horizon)
    psi[:1] = 1.0
    return psi


@dataclass(frozen=True)
class _Simple:
    """A fit whose forecast is a closed formula of the values: `forward` applies it anew."""

    point: Callable[[np.ndarray, int], np.ndarray]
    values: np.ndarray
    sigma: float
    weights: Callable[[int], np.ndarray]

    def forecast(self, horizon: int) -> Forecast:
        return Forecast(self.point(self.values, horizon), self.sigma, self.weights(horizon))

    def forward(self, values: np.ndarray, horizon: int) -> np.ndarray:
        return self.point(values, horizon)


def _last_year(values: np.ndarray, horizon: int) -> np.ndarray:
    return values[-SEASON:][np.arange(horizon) % SEASON].astype(float)


def _last(values: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, float(values[-1]))


def _drift(values: np.ndarray, horizon: int) -> np.ndarray:
    slope = float(np.mean(np.diff(values)))
    return float(values[-1]) + slope * np.arange(1, horizon + 1)


def _mean(values: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, float(np.mean(values)))


class SeasonalNaive:
    """Each month as it was a year before: the yardstick every other model must beat."""

    name = "seasonal_naive"

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        sigma = residual_sd(values[SEASON:] - values[:-SEASON])

        def weights(horizon: int) -> np.ndarray:
            return (np.arange(horizon) % SEASON == 0).astype(float)

        return _Simple(_last_year, values, sigma, weights)


class Naive:
    """The last value carried forward (the yardstick for series under two years)."""

    name = "naive"

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        return _Simple(_last, values, residual_sd(np.diff(values)), _ones)


class Drift:
    """The last value plus the average monthly change so far (a random walk with drift)."""

    name = "drift"

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        steps = np.diff(values)
        return _Simple(_drift, values, residual_sd(steps - np.mean(steps)), _ones)


class Mean:
    """The mean of the months there are, with the spread of those months (shortest series)."""

    name = "mean"

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        level = float(np.mean(values))
        spread = float(np.std(values, ddof=1)) if len(values) > 1 else abs(level) / 2
        sigma = spread * float(np.sqrt(1 + 1 / len(values)))
        return _Simple(_mean, values, sigma, impulse)


class Constant:
    """A series that never moved: the value held, with no spread."""

    name = "constant"

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        return _Simple(_last, values, 0.0, impulse)


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """Keep the libraries' convergence and estimation warnings out of the service's logs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
