"""What goes into and comes out of the forecasting engine: plain structs, no I/O.

A series is monthly: `start` is the first day of its first month and `values` one number
per month from there (None for a month with no figure). The engine returns, per series, the
chosen model, every candidate's backtest score, point forecasts with calibrated 80% and 95%
intervals, simulated sample paths (so callers can ask "what is the chance that X is at
least Y by March 2026?") and plain-language notes on anything unusual about the series.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec


class MonthlySeries(msgspec.Struct, frozen=True, kw_only=True):
    """One monthly series: authority x metric x breakdown, or any id an analyst chooses."""

    series_id: str
    start: date
    values: list[float | None]
    is_count: bool = True


DEFAULT_MODELS = (
    "seasonal_naive",
    "drift",
    "ets",
    "theta",
    "ces",
    "croston",
    "prophet",
    "combination_median",
    "combination_mean",
)
"""The default candidates, in the order they are listed (Croston on counts only). The roster
(forecast/roster.py) also has "arima" (AutoARIMA: slower than the time budget allows), "sarima"
(the airline model), "naive" and "mean", for an installation that names them."""

DEFAULT_MEMBERS = ("ets", "theta", "ces")
"""The combinations' members by default, whatever their backtest scores
(forecast/selection.py says why these three)."""


class ForecastOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to forecast: horizon in months, backtest origins with the whole horizon ahead
    (where history allows; one every third month), paths to simulate, candidate models, and
    how the ranges weigh backtest errors by the age of their origins (forecast/intervals.py)."""

    horizon: int = 24
    origins: int = 12
    paths: int = 500
    models: tuple[str, ...] = DEFAULT_MODELS
    seed: int = 2026
    range_decay: float = 1.0
    """Weight of a backtest error, for the ranges, per month its origin is older (1: alike).
    The coverage round's rule chose 0.99 on the validation years by 0.002 (better on one,
    worse on the other), a gain that came from the smaller effective sample, not the recency
    (bench/results/forecast-2026-12-05-coverage-decision.md): errors stay alike by default."""
    range_window: int | None = None
    """Only origins at most this many months old set the ranges (None: all of them)."""
    range_scale: Literal["mean", "median", "recent"] = "mean"
    """The seasonal-naive error the ranges are measured in, at each backtest origin and at the
    forecast's: its mean over the history so far (MASE's scale), its median, which a one-off
    break hardly moves, or its mean over the last `range_recent` months only, which follows
    a series into and out of an unsettled spell (forecast/backtest.py)."""
    range_recent: int = 24
    """Months of seasonal-naive errors the "recent" range scale averages."""
    members: tuple[str, ...] = DEFAULT_MEMBERS
    """The models the combinations combine, where at least two of them ran (otherwise the
    best fitted models that did); a member must also be among `models` to run."""


class CandidateScore(msgspec.Struct, frozen=True, kw_only=True):
    """A model's rolling-origin backtest: mean MASE (1.0: as good as seasonal naive)."""

    model: str
    mase: float | None
    coverage80: float | None = None
    """Left empty since intervals are calibrated from the backtest (kept for stored runs)."""
    note: str | None = None


class ForecastPoint(msgspec.Struct, frozen=True, kw_only=True):
    """One month ahead: the mean and the 80% and 95% intervals."""

    month: date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class SeriesForecast(msgspec.Struct, frozen=True, kw_only=True):
    """The forecast of one series."""

    series_id: str
    cutoff: date
    model: str
    candidates: list[CandidateScore]
    points: list[ForecastPoint]
    paths: list[list[float]]
    notes: list[str]


class Stopped(Exception):
    """Raised by a progress callback to stop `forecast_many` at once: the series not yet
    forecast are not (a pool's tasks not yet started are cancelled), and it raises this."""
