"""Getting a series ready to fit, on purpose rather than by accident.

A series may start mid-way (months with no figures, or a long run of zeros before the service
recorded anything), miss months, carry a one-off spike (a campaign, COVID), be constant, all
zeros, or short. `prepare` trims, fills and damps what it must, decides which kind of models the
series can support (its regime), and says so in plain-language notes that travel with the
forecast.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from forecast.months import add_months, month_label
from forecast.types import MonthlySeries

SEASON = 12
MIN_MONTHS = 6
"""Below this, only the mean of the months there are: nothing to backtest against."""
SEASONAL_NOTE_MONTHS = 24
"""Below two years a seasonal pattern cannot be estimated at all."""
SEASONAL_MONTHS = 30
"""Seasonal models need two years to fit at the earliest backtest origin plus months to test."""
LEADING_ZEROS = 3
"""A leading run of zeros this long, in a series that is otherwise rarely zero, is a late start."""
SPARSE_SHARE = 0.5
"""A count series zero in at least this share of months is forecast as a rate: models fitted
to absolute errors would forecast zero, and intervals around a point would make no sense."""
RATE_MONTHS = 24
"""The months a sparse series' rate is taken from."""
SPIKE_SCALES = 4.0
"""A jump beyond this many usual month-to-month changes (robust sd) is unusual."""
SPIKE_RUN = 3
"""A one-off lasts at most this many months before the series comes back."""


class Regime(enum.StrEnum):
    """What a series can support, from its cleaned length and values."""

    EMPTY = "empty"
    CONSTANT = "constant"
    SHORT = "short"
    SPARSE = "sparse"
    NON_SEASONAL = "non_seasonal"
    SEASONAL = "seasonal"


@dataclass(frozen=True)
class PreparedSeries:
    """A series cleaned for fitting: values from `start`, its regime and the notes on it."""

    values: np.ndarray
    start: date
    regime: Regime
    notes: tuple[str, ...]

    @property
    def cutoff(self) -> date:
        """The last month with a figure (the month before `start` if there is none)."""
        return add_months(self.start, len(self.values) - 1)


def prepare(series: MonthlySeries) -> PreparedSeries:
    """Trim, fill and damp the series, decide its regime and note anything unusual."""
    raw = np.array([np.nan if v is None else v for v in series.values], dtype=float)
    raw[~np.isfinite(raw)] = np.nan  # infinities are as good as no figure
    notes: list[str] = []
    observed = np.flatnonzero(~np.isnan(raw))
    if observed.size == 0:
        notes.append("no figures in the series: nothing to forecast")
        return PreparedSeries(np.zeros(0), series.start, Regime.EMPTY, tuple(notes))

    first, last = int(observed[0]), int(observed[-1])
    start = add_months(series.start, first)
    if first > 0:
        before = (
            "the month before it had no figure and was"
            if first == 1
            else f"the {first} months before it had no figures and were"
        )
        notes.append(f"series starts in {month_label(start)}: {before} left out")
    if last < len(raw) - 1:
        notes.append(
            f"no figures after {month_label(add_months(series.start, last))}: "
            "the forecast starts from the month after"
        )
    values = raw[first : last + 1]

    finite = values[~np.isnan(values)]
    if finite.size == 1:
        notes.append(
            f"only one figure ({_number(finite[0])}): the forecast holds it, with no spread "
            "to estimate"
        )
        return PreparedSeries(finite.copy(), start, Regime.CONSTANT, tuple(notes))
    if np.all(finite == finite[0]):
        return _constant(values, start, finite[0], notes)

    values, start = _trim_leading_zeros(values, start, notes)
    values = _fill_gaps(values, start, notes)
    values = _damp_one_offs(values, start, series.is_count, notes)
    if np.all(values == values[0]):
        return _constant(values, start, values[0], notes)

    n = len(values)
    if n < MIN_MONTHS:
        regime = Regime.SHORT
        notes.append(
            f"only {_months(n)} of history: the forecast is their mean, with wide intervals; "
            "too short to backtest"
        )
    elif n < SEASONAL_NOTE_MONTHS:
        regime = Regime.NON_SEASONAL
        notes.append(f"only {_months(n)} of history: seasonal pattern not estimated")
    elif n < SEASONAL_MONTHS:
        regime = Regime.NON_SEASONAL
        notes.append(
            f"only {_months(n)} of history: too few to fit a seasonal pattern on two years and "
            "test it on the rest, so it was not estimated"
        )
    else:
        regime = Regime.SEASONAL
    zeros = int(np.sum(values == 0))
    if series.is_count and regime is not Regime.SHORT and zeros >= SPARSE_SHARE * n:
        regime = Regime.SPARSE
        notes.append(
            f"mostly zeros ({zeros} of {n} months): forecast as a monthly rate from the last "
            f"{min(n, RATE_MONTHS)} months, with whole-number sample paths"
        )
    return PreparedSeries(values, start, regime, tuple(notes))


def _months(count: int) -> str:
    return f"{count} month" if count == 1 else f"{count} months"


def _constant(values: np.ndarray, start: date, level: float, notes: list[str]) -> PreparedSeries:
    filled = np.full(len(values), float(level))
    if level == 0:
        notes.append("every figure is zero: the forecast is zero, with no spread to estimate")
    else:
        notes.append(
            f"every figure is {_number(level)}: the forecast holds it, with no spread to estimate"
        )
    return PreparedSeries(filled, start, Regime.CONSTANT, tuple(notes))


def _trim_leading_zeros(
    values: np.ndarray, start: date, notes: list[str]
) -> tuple[np.ndarray, date]:
    nonzero = np.flatnonzero(np.nan_to_num(values, nan=0.0) != 0)
    run = int(nonzero[0])
    rest = values[run:]
    rest = rest[~np.isnan(rest)]
    if run < LEADING_ZEROS or np.mean(rest == 0) >= 0.1:
        return values, start
    new_start = add_months(start, run)
    notes.append(
        f"series starts in {month_label(new_start)}: the {run} months before it were all zero "
        "and are taken as before the series began"
    )
    return values[run:], new_start


def _fill_gaps(values: np.ndarray, start: date, notes: list[str]) -> np.ndarray:
    gaps = np.flatnonzero(np.isnan(values))
    if gaps.size == 0:
        return values
    known = np.flatnonzero(~np.isnan(values))
    filled = values.copy()
    filled[gaps] = np.interp(gaps, known, values[known])
    listed = ", ".join(month_label(add_months(start, int(i))) for i in gaps[:4])
    more = f" and {gaps.size - 4} more" if gaps.size > 4 else ""
    notes.append(
        f"{_months(int(gaps.size))} missing ({listed}{more}): filled by straight-line interpolation"
    )
    if gaps.size > len(values) / 4:
        notes.append("more than a quarter of the months are missing: treat the forecast with care")
    return filled


def seasonal_profile(values: np.ndarray) -> np.ndarray:
    """Each month's robust seasonal effect (median of the detrended months), zero under two
    years; detrended by a rolling 13-month median, so one-offs barely move it."""
    n = len(values)
    if n < 2 * SEASON:
        return np.zeros(n)
    trend = np.array([np.median(values[max(0, i - 6) : i + 7]) for i in range(n)], dtype=float)
    detrended = values - trend
    profile = np.array([np.median(detrended[k::SEASON]) for k in range(SEASON)])
    return (profile - profile.mean())[np.arange(n) % SEASON]


def _damp_one_offs(values: np.ndarray, start: date, is_count: bool, notes: list[str]) -> np.ndarray:
    """Damp departures that come back: a jump away from the seasonally adjusted level and a
    jump back of the other sign within SPIKE_RUN months, both far beyond the series' usual
    month-to-month change. A jump that stays is a new level, kept; so is the latest month."""
    n = len(values)
    if n < MIN_MONTHS:
        return values
    season = seasonal_profile(values)
    adjusted = values - season
    jumps = np.diff(adjusted)
    spread = _robust_scale(jumps, is_count)
    large = np.abs(jumps) > SPIKE_SCALES * spread
    damped = values.copy()
    described = []
    i = 0
    while i < len(jumps):
        ends = [
            j
            for j in range(i + 1, min(i + SPIKE_RUN, len(jumps) - 1) + 1)
            if large[i] and large[j] and np.sign(jumps[j]) != np.sign(jumps[i])
        ]
        if not ends:
            i += 1
            continue
        j = ends[0]
        before, after = adjusted[i], adjusted[j + 1]
        block = np.arange(i + 1, j + 1)
        level = np.interp(block, [i, j + 1], [before, after])
        if np.min(np.abs(adjusted[block] - level)) <= SPIKE_SCALES * spread:
            i += 1
            continue
        expected = level + season[block]
        for k, month in enumerate(block):
            described.append(
                f"{month_label(add_months(start, int(month)))}: {_number(values[month])} "
                f"against about {_number(expected[k])} expected"
            )
        damped[block] = expected
        i = j + 1
    if described:
        kind = "a one-off" if len(described) == 1 else "one-offs"
        notes.append(
            f"unusual figures treated as {kind} and damped for fitting ({'; '.join(described)})"
        )
    return damped


def _robust_scale(changes: np.ndarray, is_count: bool) -> float:
    """The usual size of a month-to-month change, ignoring the outliers and never zero."""
    mad = 1.4826 * float(np.median(np.abs(changes - np.median(changes))))
    size = np.sort(np.abs(changes))
    trimmed = 1.2533 * float(np.mean(size[: max(1, int(0.9 * len(size)))]))
    floor = 1.0 if is_count else 1e-9 * max(1.0, float(np.max(size)))
    return max(mad, trimmed, floor)


def _number(value: float) -> str:
    if math.isclose(value, round(value), abs_tol=0.05):
        return str(round(value))
    return f"{value:.1f}"
