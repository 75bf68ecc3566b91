"""A faster classical seasonal decomposition for statsforecast's ETS, CES and Theta.

statsforecast sets the seasonal starting states of ETS and CES, and Theta's deseasonalising,
from statsmodels' `seasonal_decompose` (moving-average trend, then each month's mean of what is
left). statsmodels' version goes through pandas for each month's mean and validates its
arguments on every call; the engine calls it about thirty times a series (every CES fit and
forward run with a seasonal form, every seasonal ETS form of the search, every Theta fit), and
on the synthetic region it was about a tenth of the engine's time (bench/forecast_profile.py).
`seasonal_decompose` below does the same arithmetic in the same order on plain arrays (the
same convolution, sums and divisions), so its result is identical to the last bit
(tests/test_decompose.py); `install` puts it in place of statsmodels' in those three modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PATCHED_MODULES = ("statsforecast.ets", "statsforecast.ces", "statsforecast.theta")
"""The statsforecast modules whose `seasonal_decompose` is replaced by `install`."""


@dataclass(frozen=True)
class Decomposition:
    """The parts statsforecast reads (it reads only `seasonal`)."""

    seasonal: np.ndarray
    trend: np.ndarray


def seasonal_decompose(
    x: np.ndarray, model: str = "additive", period: int | None = None
) -> Decomposition:
    """statsmodels' `seasonal_decompose(x, model, period=period)` for a 1-d array of finite
    figures, with its defaults (centred moving average, no extrapolated trend)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or period is None or period < 1:
        raise ValueError("a 1-d series and a period are needed")
    multiplicative = model in ("multiplicative", "mul")
    if not np.all(np.isfinite(x)):
        raise ValueError("This function does not handle missing values")
    if multiplicative and np.any(x <= 0):
        raise ValueError(
            "Multiplicative seasonality is not appropriate for zero and negative values"
        )
    n = len(x)
    if n < 2 * period:
        raise ValueError(f"x must have 2 complete cycles requires {2 * period} observations")
    if period % 2 == 0:
        filt = np.array([0.5] + [1] * (period - 1) + [0.5]) / period
    else:
        filt = np.repeat(1.0 / period, period)
    head = int(np.ceil(len(filt) / 2.0) - 1)
    tail = int(np.ceil(len(filt) / 2.0) - len(filt) % 2)
    trend = np.full(n, np.nan)
    trend[head : n - tail] = np.convolve(x, filt, mode="valid")
    detrended = x / trend if multiplicative else x - trend
    averages = np.empty(period)
    filled = np.where(np.isnan(detrended), 0.0, detrended)
    counts = (~np.isnan(detrended)).astype(float)
    for month in range(period):
        # As pandas' nanmean sums: the missing months as zeros, in place (same rounding).
        count = counts[month::period].sum()
        averages[month] = filled[month::period].sum() / count if count > 0 else np.nan
    if multiplicative:
        averages /= np.mean(averages, axis=0)
    else:
        averages -= np.mean(averages, axis=0)
    seasonal = np.tile(averages, n // period + 1)[:n]
    return Decomposition(seasonal=seasonal, trend=trend)


_installed = False


def install() -> None:
    """Use `seasonal_decompose` in statsforecast's ETS, CES and Theta (once per process)."""
    global _installed
    if _installed:
        return
    import importlib

    for name in PATCHED_MODULES:
        module = importlib.import_module(name)
        if not hasattr(module, "seasonal_decompose"):
            raise RuntimeError(f"{name} no longer uses seasonal_decompose")
        module.seasonal_decompose = seasonal_decompose  # type: ignore[attr-defined]
    _installed = True
