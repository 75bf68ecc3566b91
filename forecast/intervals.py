"""Calibrated intervals and simulated sample paths.

A model's own intervals come from its one-step sd and moving-average weights (`Forecast.sd`),
which ignore parameter uncertainty and model misfit and so are often too narrow. The backtest
shows by how much: its errors divided by the model's own sd at each step (pooled over origins
and steps, so the model's growth of uncertainty with the horizon is kept) should be standard
normal. The 80th percentile of their size over 1.2816 is the factor that scales the model's sd
until 80% of backtest errors fall inside; 95% intervals use the same factor.

Sample paths add to the point forecast simulated surprises passed through the model's own
moving-average weights (so errors are correlated across the horizon as the model says: a
random walk's stay, a seasonal naive's repeat a year on), scaled by the same factor. Counts are
clipped at zero, in intervals and in paths. Sparse counts (mostly zeros) are not forecast by a
model at all: their paths are whole numbers drawn at an uncertain rate (`rate_paths`) and their
intervals are read off those paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from forecast.backtest import Z80, Backtest
from forecast.models import Forecast
from forecast.prepare import RATE_MONTHS

Z95 = 1.959963984540054
MIN_ERRORS = 6
"""With fewer standardised errors than this the model's own intervals are used as they are."""
FACTOR_BOUNDS = (0.8, 5.0)
"""Calibration may narrow a model's intervals a little and widen them a lot: backtest errors
are few and correlated, and too narrow an interval misleads more than too wide a one."""


@dataclass(frozen=True)
class Calibration:
    """How much the model's own spread is scaled, and on what evidence."""

    factor: float
    errors: int
    own_coverage: float | None
    df: int | None = None
    """Degrees of freedom of Student-t surprises (the shortest series), None for normal."""

    def note(self) -> str | None:
        """A plain-language note when the intervals were noticeably changed."""
        if self.errors < MIN_ERRORS or abs(self.factor - 1) < 0.1 or self.own_coverage is None:
            return None
        verb = "widened" if self.factor > 1 else "narrowed"
        return (
            f"intervals {verb} x{self.factor:.2f} to match backtest errors (the model's own 80% "
            f"intervals held {self.own_coverage:.0%} of them)"
        )


def calibrate(backtest: Backtest) -> Calibration:
    """The factor that brings the model's own 80% intervals to 80% coverage in the backtest."""
    z = np.abs(backtest.standardised())
    if z.size < MIN_ERRORS:
        return Calibration(1.0, int(z.size), backtest.coverage80)
    factor = float(np.quantile(z, 0.8)) / Z80
    return Calibration(float(np.clip(factor, *FACTOR_BOUNDS)), int(z.size), backtest.coverage80)


def intervals(
    forecast: Forecast, point: np.ndarray, calibration: Calibration, is_count: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """lo80, hi80, lo95, hi95 around `point` from the calibrated sd."""
    sd = forecast.sd * calibration.factor
    if calibration.df is None:
        z80, z95 = Z80, Z95
    else:
        z80, z95 = (float(stats.t.ppf(q, calibration.df)) for q in (0.9, 0.975))
    bounds = (point - z80 * sd, point + z80 * sd, point - z95 * sd, point + z95 * sd)
    if is_count:
        return tuple(np.maximum(b, 0.0) for b in bounds)  # type: ignore[return-value]
    return bounds


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
    paths = point + (shocks * forecast.sigma * calibration.factor) @ weights.T
    return np.maximum(paths, 0.0) if is_count else paths


def rate_paths(
    history: np.ndarray, horizon: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Whole-number futures of a sparse count: each path draws a monthly rate from what the
    last RATE_MONTHS months say of it (gamma, Jeffreys prior), then Poisson counts at that rate.
    The rate's uncertainty makes a path's months move together, as they do in a quiet year."""
    recent = history[-RATE_MONTHS:]
    rates = rng.gamma(float(np.sum(recent)) + 0.5, 1.0 / len(recent), size=(count, 1))
    return rng.poisson(np.broadcast_to(rates, (count, horizon))).astype(float)


def path_bounds(paths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """lo80, hi80, lo95, hi95 read off the sample paths, month by month."""
    lo80, hi80, lo95, hi95 = np.quantile(paths, [0.1, 0.9, 0.025, 0.975], axis=0)
    return lo80, hi80, lo95, hi95
