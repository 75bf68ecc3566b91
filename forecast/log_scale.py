"""Fitting on the log scale where a series' spread grows with its level.

Many real monthly series swing further as they grow (sales, passengers, employment): their
seasonal pattern is a share of the level, not a fixed amount. AutoETS can model that itself
(multiplicative error and season), but ARIMA, Theta and CES are additive only, so on such a
series they, and any combination that includes them, miss. Fitted on the logs and turned back
(exp), they model the pattern as a share.

Which series: Guerrero's method (coreforecast's `boxcox_lambda`) picks the Box-Cox power that
makes the spread within each year most even; below LOG_BELOW that power is nearer the log
(power 0) than the figures themselves (power 1), so a seasonal series of positive figures with
Guerrero's power under 0.5 has its fitted models (ETS, Theta, CES, ARIMA) fitted on the log
scale (ETS too: keeping it on the figures, with its own multiplicative forms, did no better on
the validation year); the baselines, Croston and Prophet stay on the figures. The rule was
tried on the year before the held-back one (issue 14, round 6; a threshold of 0.3 scored within
0.01 of it); see forecast/selection.py for the scores.

Forecasts turned back with exp are medians, not means, on the original scale: the mean
absolute error, which MASE scores, is smallest at the median. The model's own spread is turned
back by its slope there (sd times the forecast), which only shapes the sample paths; the ranges
themselves are calibrated on the backtest's errors on the original scale (forecast/intervals.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from forecast.models import SEASON, Fitted, Forecast, Model, from_sd

LOG_BELOW = 0.5
"""Guerrero's Box-Cox power under which a series is fitted on the log scale."""
ON_LOG_SCALE = frozenset({"ets", "ets_damped", "theta", "ces", "arima", "sarima"})
"""Roster names of the models fitted on the log scale when a series wants it (not the
baselines, not Croston, which is for counts near zero, not Prophet)."""


def guerrero_power(values: np.ndarray) -> float | None:
    """Guerrero's Box-Cox power for a monthly series of positive figures (None otherwise)."""
    from coreforecast.scalers import boxcox_lambda

    values = np.asarray(values, dtype=float)
    if values.size < 2 * SEASON or not np.all(values > 0):
        return None
    return float(boxcox_lambda(values, "guerrero", season_length=SEASON))


def wants_log(values: np.ndarray, seasonal: bool) -> bool:
    """Whether a series is fitted on the log scale: seasonal, every figure positive, and
    Guerrero's power under LOG_BELOW."""
    if not seasonal:
        return False
    power = guerrero_power(values)
    return power is not None and power < LOG_BELOW


class LogScale:
    """A model fitted to the logs of a series, forecasting on the original scale."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.name = model.name

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        return _LogFit(self.model.fit(np.log(np.asarray(values, dtype=float)), start))


@dataclass(frozen=True)
class _LogFit:
    fitted: Fitted

    def forecast(self, horizon: int) -> Forecast:
        inner = self.fitted.forecast(horizon)
        mean = np.exp(inner.mean)
        return from_sd(mean, mean * inner.sd)

    def forward(self, values: np.ndarray, horizon: int) -> np.ndarray:
        return np.exp(self.fitted.forward(np.log(np.asarray(values, dtype=float)), horizon))
