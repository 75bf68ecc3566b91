"""The forecasting models, each a small class behind one interface.

`Model.fit(values, start)` fits on a plain array of monthly values (`start` is the first month,
which only Prophet needs) and returns a `Fitted`, whose `forecast(horizon)` gives the point
forecast for each step ahead together with the model's own error structure: the one-step
standard deviation `sigma` and the weights `psi` of its moving-average representation (the effect
of a surprise now on each later month). forecast/intervals.py turns those into calibrated
intervals and sample paths, the same way for every model.

The roster: seasonal naive (naive below two years), drift, exponential smoothing (statsmodels
Holt-Winters, damped additive trend, additive seasonality), SARIMA (statsmodels SARIMAX, the
airline model), Prophet, and the mean for the shortest series. Fits are kept fast on purpose:
Holt-Winters without the brute-force start search, SARIMAX on the differenced series with the
scale concentrated out and warm starts from the previous backtest origin.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

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


class Fitted(Protocol):
    """A model fitted to one stretch of a series."""

    def forecast(self, horizon: int) -> Forecast: ...


class Model(Protocol):
    """A forecasting method: fits on an array of monthly values."""

    name: str

    def fit(self, values: np.ndarray, start: date, previous: Fitted | None = None) -> Fitted:
        """Fit on `values` (first month `start`); `previous` is the fit at the last origin."""
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
    """A fit whose forecast is a closed formula of the last values."""

    point: Callable[[int], np.ndarray]
    sigma: float
    weights: Callable[[int], np.ndarray]

    def forecast(self, horizon: int) -> Forecast:
        return Forecast(self.point(horizon), self.sigma, self.weights(horizon))


class SeasonalNaive:
    """Each month as it was a year before: the yardstick every other model must beat."""

    name = "seasonal_naive"

    def fit(self, values: np.ndarray, start: date, previous: Fitted | None = None) -> Fitted:
        last_year = values[-SEASON:]
        sigma = residual_sd(values[SEASON:] - values[:-SEASON])

        def point(horizon: int) -> np.ndarray:
            return last_year[np.arange(horizon) % SEASON].astype(float)

        def weights(horizon: int) -> np.ndarray:
            return (np.arange(horizon) % SEASON == 0).astype(float)

        return _Simple(point, sigma, weights)


class Naive:
    """The last value carried forward (the yardstick for series under two years)."""

    name = "naive"

    def fit(self, values: np.ndarray, start: date, previous: Fitted | None = None) -> Fitted:
        last = float(values[-1])
        return _Simple(lambda h: np.full(h, last), residual_sd(np.diff(values)), _ones)


class Drift:
    """The last value plus the average monthly change so far (a random walk with drift)."""

    name = "drift"

    def fit(self, values: np.ndarray, start: date, previous: Fitted | None = None) -> Fitted:
        last = float(values[-1])
        steps = np.diff(values)
        slope = float(np.mean(steps))
        return _Simple(
            lambda h: last + slope * np.arange(1, h + 1), residual_sd(steps - slope), _ones
        )


class Mean:
    """The mean of the months there are, with the spread of those months (shortest series)."""

    name = "mean"

    def fit(self, values: np.ndarray, start: date, previous: Fitted | None = None) -> Fitted:
        level = float(np.mean(values))
        spread = float(np.std(values, ddof=1)) if len(values) > 1 else abs(level) / 2
        sigma = spread * float(np.sqrt(1 + 1 / len(values)))
        return _Simple(lambda h: np.full(h, level), sigma, impulse)


class Constant:
    """A series that never moved: the value held, with no spread."""

    name = "constant"

    def fit(self, values: np.ndarray, start: date, previous: Fitted | None = None) -> Fitted:
        level = float(values[-1])
        return _Simple(lambda h: np.full(h, level), 0.0, impulse)


@dataclass(frozen=True)
class _HoltWintersFit:
    result: Any
    alpha: float
    beta: float
    gamma: float
    phi: float
    seasonal: bool
    sigma: float

    def forecast(self, horizon: int) -> Forecast:
        mean = np.asarray(self.result.forecast(horizon), dtype=float)
        # Error-correction form: a surprise moves the level by alpha, the trend by alpha*beta
        # (damped by phi each month after) and this month's seasonal by gamma.
        steps = np.arange(1, horizon)
        damped = np.cumsum(self.phi ** np.arange(1, horizon + 1))[: horizon - 1]
        psi = self.alpha + self.alpha * self.beta * damped
        if self.seasonal:
            psi = psi + self.gamma * (steps % SEASON == 0)
        return Forecast(mean, self.sigma, np.concatenate(([1.0], psi)))


class ExponentialSmoothing:
    """statsmodels Holt-Winters: damped additive trend, additive seasonality when seasonal."""

    name = "ets"

    def __init__(self, seasonal: bool) -> None:
        self.seasonal = seasonal

    def fit(self, values: np.ndarray, start: date, previous: Fitted | None = None) -> Fitted:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing as HoltWinters

        trend = len(values) >= 10
        model = HoltWinters(
            values,
            trend="add" if trend else None,
            damped_trend=trend,
            seasonal="add" if self.seasonal else None,
            seasonal_periods=SEASON if self.seasonal else None,
            initialization_method="heuristic" if self.seasonal else "estimated",
        )
        with quiet_warnings():
            result = model.fit(use_brute=False)
        params = result.params
        residuals = values - np.asarray(result.fittedvalues, dtype=float)
        return _HoltWintersFit(
            result=result,
            alpha=float(params["smoothing_level"]),
            beta=float(params.get("smoothing_trend") or 0.0) if trend else 0.0,
            gamma=float(params.get("smoothing_seasonal") or 0.0) if self.seasonal else 0.0,
            phi=float(params.get("damping_trend") or 1.0) if trend else 1.0,
            seasonal=self.seasonal,
            sigma=residual_sd(residuals),
        )


@dataclass(frozen=True)
class _SarimaFit:
    values: np.ndarray
    seasonal: bool
    params: np.ndarray
    result: Any

    def forecast(self, horizon: int) -> Forecast:
        from statsmodels.tsa.arima_process import arma2ma

        differences = np.asarray(self.result.forecast(horizon), dtype=float)
        history = list(self.values)
        for change in differences:
            if self.seasonal:
                history.append(change + history[-1] + history[-SEASON] - history[-SEASON - 1])
            else:
                history.append(change + history[-1])
        mean = np.array(history[len(self.values) :])
        ar = np.convolve(self.result.polynomial_reduced_ar, _difference_polynomial(self.seasonal))
        psi = arma2ma(ar, self.result.polynomial_reduced_ma, lags=horizon)
        return Forecast(mean, float(np.sqrt(self.result.scale)), np.asarray(psi, dtype=float))


def _difference_polynomial(seasonal: bool) -> np.ndarray:
    """(1 - L), times (1 - L^12) when seasonal, lowest power first."""
    first = np.array([1.0, -1.0])
    if not seasonal:
        return first
    yearly = np.zeros(SEASON + 1)
    yearly[0], yearly[SEASON] = 1.0, -1.0
    return np.convolve(first, yearly)


class Sarima:
    """statsmodels SARIMAX: the airline model (0,1,1)(0,1,1)12, or (0,1,1) with drift."""

    name = "sarima"

    def __init__(self, seasonal: bool) -> None:
        self.seasonal = seasonal

    def fit(self, values: np.ndarray, start: date, previous: Fitted | None = None) -> Fitted:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        if self.seasonal:
            changes = np.convolve(values, _difference_polynomial(True))[SEASON + 1 : len(values)]
            model = SARIMAX(
                changes, order=(0, 0, 1), seasonal_order=(0, 0, 1, SEASON), concentrate_scale=True
            )
            start_params = [-0.4, -0.6]
        else:
            changes = np.diff(values)
            model = SARIMAX(changes, order=(0, 0, 1), trend="c", concentrate_scale=True)
            start_params = [float(np.mean(changes)), -0.4]
        if isinstance(previous, _SarimaFit) and previous.seasonal == self.seasonal:
            start_params = list(previous.params)
        with quiet_warnings():
            # A loose stopping rule (relative change 1e-5 rather than 1e-12) halves the fit time;
            # the forecasts move by far less than their standard error.
            result = model.fit(
                start_params=start_params, disp=False, cov_type="none", factr=1e10, pgtol=1e-4
            )
        return _SarimaFit(np.asarray(values, dtype=float), self.seasonal, result.params, result)


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """Keep the libraries' convergence and estimation warnings out of the service's logs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
