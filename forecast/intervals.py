"""Calibrated intervals and simulated sample paths.

A model's own intervals ignore parameter uncertainty and misfit, so they are often too narrow
(or, for a model that doubts itself, too wide). The backtest shows how far off its forecasts
really were: the 80% and 95% ranges are set separately from those errors, conformal-style.
Errors are compared in units of each origin's MASE scale (so a series whose level has grown
since the early origins is not given their narrower ranges) and divided by how the model's own
spread grows with the month ahead, so every month ahead's range rests on all the backtest's
errors, not on the few dozen (from a dozen origins) of one month and its neighbours, whose
quantile moved the coverage by several points from one year to the next (issue 14, round 7).
The finite-sample correction counts the months the errors are about, not the errors: origins
every third month forecast the same months several times, and those errors share one surprise.
Recent origins can be made to count for more (`Recency`; ForecastOptions.range_decay, 1 by
default: every error alike): each error weighs `decay` to the power of its origin's age in
months, the forecast's own month weighs 1, and the quantile is the weighted one of Barber,
Candes, Ramdas and Tibshirani (2023, "Conformal prediction beyond exchangeability"), its
correction counting the months times their mean weight; optionally only the origins of the
last `window` months count. On the benchmark panels it changed nothing that held.

Sample paths add to the point forecast the model's own surprises passed through its moving-
average weights (so errors are correlated across the horizon as the model says: a random
walk's stay, a seasonal naive's repeat a year on), each month's spread then mapped onto the
calibrated 80% and 95% ranges. Counts are whole and never below zero, in intervals and paths.
Sparse counts (mostly zeros) are not forecast by a model at all: their paths are whole numbers
drawn at an uncertain rate (`rate_paths`) and their intervals are read off those paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from forecast.backtest import Backtest
from forecast.models import Forecast
from forecast.prepare import RATE_MONTHS

Z80 = 1.2815515655446004
Z95 = 1.959963984540054
MIN_ERRORS = 8
"""Backtest errors (over every month ahead) needed to calibrate the ranges at all."""

Bounds = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Recency:
    """How much a backtest error counts by the age of its origin (months before the month the
    forecast is made from): `decay` ** age (1: all alike), and only origins at most `window`
    months old (None: all; all again if fewer than MIN_ERRORS errors are that recent)."""

    decay: float = 1.0
    window: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.decay <= 1 or (self.window is not None and self.window < 1):
            raise ValueError("decay must be in (0, 1] and window at least 1")

    @property
    def plain(self) -> bool:
        return self.decay == 1 and self.window is None


ALIKE = Recency()


@dataclass(frozen=True)
class Calibration:
    """Half-widths of the 80% and 95% ranges per month ahead, and the evidence behind them;
    None: the model's own intervals (no backtest to calibrate from)."""

    half80: np.ndarray | None
    half95: np.ndarray | None
    errors: int
    own_ratio: float | None = None
    """The calibrated 80% range over the model's own, on average over the horizon."""
    df: int | None = None
    """Degrees of freedom of Student-t surprises (the shortest series), None for normal."""
    months: int | None = None
    """Distinct months the backtest errors are about (the sample size the correction uses)."""
    recency: Recency = ALIKE
    """How the errors were weighted by the age of their origins."""

    def note(self) -> str | None:
        """How the ranges were set, in plain words."""
        if self.half80 is None:
            return None
        if self.own_ratio is None or abs(self.own_ratio - 1) < 0.1:
            compared = "about as wide as the model's own"
        else:
            compared = f"{self.own_ratio:.1f} times as wide as the model's own"
        about = f" about {self.months} different months" if self.months else ""
        return (
            f"80% and 95% ranges set from {self.errors} backtest errors{about}"
            f"{self._weighting()}, widening with the months ahead as the model's own ranges "
            f"do ({compared})"
        )

    def _weighting(self) -> str:
        parts = []
        if self.recency.window is not None:
            parts.append(f"from the origins of the last {self.recency.window} months")
        if self.recency.decay < 1:
            half_life = np.log(0.5) / np.log(self.recency.decay)
            parts.append(
                f"an error counting half as much for every {half_life:.0f} months its origin "
                "is older"
            )
        return "".join(f", {part}" for part in parts)


def conformal_half_width(
    scores: np.ndarray, level: float, months: float, weights: np.ndarray | None = None
) -> float:
    """The `level` quantile of the scores with the finite-sample correction for `months`
    independent ones (level * (months + 1) / months, interpolated; the largest score when
    that reaches 1), weighted by `weights` when given."""
    corrected = min(1.0, level * (months + 1) / months)
    if weights is None:
        return float(np.quantile(scores, corrected))
    return weighted_quantile(scores, weights, corrected)


def weighted_quantile(scores: np.ndarray, weights: np.ndarray, level: float) -> float:
    """The `level` quantile of scores with positive weights, interpolated linearly between
    positions (cumulative weight below a score over the total but the largest score's), which
    are numpy's default (k / (n - 1)) when the weights are equal."""
    order = np.argsort(scores, kind="stable")
    ranked, weight = scores[order], weights[order]
    if ranked.size == 1:
        return float(ranked[0])
    below = np.cumsum(weight) - weight
    return float(np.interp(level, below / below[-1], ranked))


def _half_widths(
    scores: np.ndarray, months: float, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """The 80% and 95% half-widths from scores about `months` distinct months. At 19 months
    or fewer the largest score is no 95% bound (the correction asks for more), so the 95% range
    is then at least the 80% one widened as a normal distribution widens."""
    half80 = conformal_half_width(scores, 0.8, months, weights)
    half95 = conformal_half_width(scores, 0.95, months, weights)
    if 0.95 * (months + 1) / months >= 1:
        half95 = max(half95, half80 * Z95 / Z80)
    return half80, half95


def spread_growth(sd: np.ndarray) -> np.ndarray:
    """The model's own forecast sd at each month ahead over its first month's (all ones when
    the model claims no spread)."""
    if sd.size == 0 or not sd[0] > 0 or not np.all(np.isfinite(sd)):
        return np.ones(sd.size)
    return sd / sd[0]


def calibrate(
    backtest: Backtest,
    forecast: Forecast,
    scale: float,
    recency: Recency = ALIKE,
    history: int | None = None,
    origin_scales: np.ndarray | None = None,
) -> Calibration:
    """The 80% and 95% half-widths of `forecast` (the chosen model's on the whole history of
    `history` months, whose MASE scale is `scale`) from the backtest's errors, pooled over the
    months ahead; `recency` weighs them by the age of their origins (which needs `history`).
    `origin_scales`, when given, scale each origin's errors in place of the backtest's MASE
    scales, and must be of the same kind as `scale` (forecast.backtest.median_scale)."""
    growth = spread_growth(forecast.sd)
    scaled = (
        backtest.scaled_errors
        if origin_scales is None
        else np.abs(backtest.errors) / np.asarray(origin_scales)[:, None]
    )
    steps = min(len(growth), scaled.shape[1])
    scores = scaled[:, :steps] / growth[:steps]
    kept = np.isfinite(scores)
    if np.count_nonzero(kept) < MIN_ERRORS:
        return Calibration(None, None, int(np.count_nonzero(kept)))
    weights = None
    if not recency.plain:
        if history is None:
            raise ValueError("weighing errors by the age of their origins needs the history")
        ages = np.broadcast_to(history - np.asarray(backtest.origins)[:, None], scores.shape)
        if recency.window is not None:
            recent = kept & (ages <= recency.window)
            if np.count_nonzero(recent) >= MIN_ERRORS:
                kept = recent
        weights = recency.decay ** ages[kept].astype(float)
    targets = np.asarray(backtest.origins)[:, None] + np.arange(steps)
    months = len(np.unique(targets[kept]))
    # The forecast's own month weighs 1 against `months` of errors weighing their mean weight.
    effective = months if weights is None else months * float(np.mean(weights))
    if recency.decay == 1:
        weights = None
    half80, half95 = _half_widths(scores[kept], effective, weights)
    half = np.vstack([half80 * growth, half95 * growth]) * scale
    own = Z80 * forecast.sd
    ratio = float(np.mean(half[0][own > 0] / own[own > 0])) if np.any(own > 0) else None
    errors = int(np.count_nonzero(kept))
    return Calibration(half[0], half[1], errors, ratio, months=months, recency=recency)


def intervals(
    forecast: Forecast, point: np.ndarray, calibration: Calibration, is_count: bool
) -> Bounds:
    """lo80, hi80, lo95, hi95 around `point`; whole numbers from zero up for counts."""
    if calibration.half80 is None or calibration.half95 is None:
        z80, z95 = _quantiles(calibration.df)
        half80, half95 = z80 * forecast.sd, z95 * forecast.sd
    else:
        half80, half95 = calibration.half80, calibration.half95
    lo80, hi80, lo95, hi95 = point - half80, point + half80, point - half95, point + half95
    if not is_count:
        return lo80, hi80, lo95, hi95
    return (*_whole(lo80, hi80, point), *_whole(lo95, hi95, point))


def _whole(lo: np.ndarray, hi: np.ndarray, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi] rounded to whole numbers, never below zero and always holding the point
    forecast between them. Rounding to the nearest, not inwards: calibrated half-widths of a
    count sit on the whole-number distances the backtest saw, and rescaling by the series'
    scale moves them a hair either way, which inward rounding would turn into a whole count."""
    low = np.minimum(np.floor(lo + 0.5), np.floor(point))
    high = np.maximum(np.floor(hi + 0.5), np.ceil(point))
    return np.maximum(low, 0.0), np.maximum(high, 0.0)


def _quantiles(df: int | None) -> tuple[float, float]:
    if df is None:
        return Z80, Z95
    return float(stats.t.ppf(0.9, df)), float(stats.t.ppf(0.975, df))


def sample_paths(
    forecast: Forecast,
    point: np.ndarray,
    calibration: Calibration,
    count: int,
    rng: np.random.Generator,
    is_count: bool,
) -> np.ndarray:
    """`count` simulated futures (rows) over the horizon (columns)."""
    horizon = len(point)
    if calibration.df is None:
        shocks = rng.standard_normal((count, horizon))
    else:
        shocks = rng.standard_t(calibration.df, (count, horizon))
    psi = forecast.psi[:horizon]
    steps = np.arange(horizon)
    lag = steps[:, None] - steps[None, :]
    weights = np.where(lag >= 0, psi[np.clip(lag, 0, None)], 0.0)
    deviations = (shocks * forecast.sigma) @ weights.T
    if calibration.half80 is not None and calibration.half95 is not None:
        sd = forecast.sd
        z = np.where(sd > 0, deviations / np.where(sd > 0, sd, 1.0), shocks)
        size = np.abs(z)
        half80, half95 = calibration.half80, calibration.half95
        beyond = half80 + (size - Z80) * (half95 - half80) / (Z95 - Z80)
        mapped = np.where(size <= Z80, size * half80 / Z80, beyond)
        deviations = np.sign(z) * mapped
    paths = point + deviations
    return np.maximum(np.round(paths), 0.0) if is_count else paths


def rate_paths(
    history: np.ndarray, horizon: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Whole-number futures of a sparse count: each path draws a monthly rate from what the
    last RATE_MONTHS months say of it (gamma, Jeffreys prior), then Poisson counts at that rate.
    The rate's uncertainty makes a path's months move together, as they do in a quiet year."""
    recent = history[-RATE_MONTHS:]
    rates = rng.gamma(float(np.sum(recent)) + 0.5, 1.0 / len(recent), size=(count, 1))
    return rng.poisson(np.broadcast_to(rates, (count, horizon))).astype(float)


def path_bounds(paths: np.ndarray) -> Bounds:
    """lo80, hi80, lo95, hi95 read off the sample paths, month by month."""
    lo80, hi80, lo95, hi95 = np.quantile(paths, [0.1, 0.9, 0.025, 0.975], axis=0)
    return lo80, hi80, lo95, hi95
