"""Prophet as one of the engine's models, kept quiet.

Prophet and cmdstanpy talk through their loggers (plotly missing at import, seasonality
choices and a cmdstan start/finish line at every fit); the cmdstan process's own output is
captured by cmdstanpy. Importing this module switches those loggers off before Prophet is
imported, so nothing reaches the service's logs or console. It is imported only when Prophet
is needed (or preloaded by a process pool that wants it ready).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

for _name in ("cmdstanpy", "prophet", "prophet.plot", "prophet.models", "prophet.forecaster"):
    logging.getLogger(_name).disabled = True

from prophet import Prophet  # noqa: E402

from forecast.models import Fitted, Forecast, impulse, quiet_warnings, residual_sd  # noqa: E402


@dataclass(frozen=True)
class _ProphetFit:
    model: Any
    start: date
    length: int
    sigma: float

    def forecast(self, horizon: int) -> Forecast:
        return Forecast(self._curve(self.length, horizon), self.sigma, impulse(horizon))

    def forward(self, values: np.ndarray, horizon: int) -> np.ndarray:
        """Prophet's forecast is a curve of time alone: later months do not move it."""
        return self._curve(len(values), horizon)

    def _curve(self, after: int, horizon: int) -> np.ndarray:
        months = pd.date_range(self.start, periods=after + horizon, freq="MS")
        with quiet_warnings():
            predicted = self.model.predict(pd.DataFrame({"ds": months[after:]}))
        return predicted["yhat"].to_numpy(dtype=float)


class ProphetModel:
    """Prophet with yearly seasonality (on seasonal series) and no interval sampling: the
    engine calibrates intervals from backtest errors, so Prophet's own sampling would be
    wasted time. Its own spread is taken as its in-sample residual sd, month by month. It
    has no `forward`: the backtest fits it at one origin (forecast/selection.py says why)."""

    name = "prophet"

    def __init__(self, seasonal: bool) -> None:
        self.seasonal = seasonal

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        months = pd.date_range(start, periods=len(values), freq="MS")
        history = pd.DataFrame({"ds": months, "y": values})
        model = Prophet(
            yearly_seasonality=self.seasonal,
            weekly_seasonality=False,
            daily_seasonality=False,
            uncertainty_samples=0,
        )
        with quiet_warnings():
            model.fit(history)
            fitted = model.predict(history[["ds"]])["yhat"].to_numpy(dtype=float)
        return _ProphetFit(model, start, len(values), residual_sd(values - fitted))
