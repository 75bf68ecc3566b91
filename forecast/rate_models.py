"""The models behind `forecast.proportions` (see its docstring for what they assume): leavers
and the rate of flows such as Staying Put, with over-dispersion between years, and an AR(1)
on the logit of a stock such as occupancy; each simulates sample paths of numerator and
denominator."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

RATE_MONTHS = 60
"""The rate model (flows) and the AR(1) (stock) are fitted on the last five years."""


LEVEL_MONTHS = 36
"""The denominator's level (flows) is the mean of the last three years' months."""


TREND_MONTHS = 36
"""A trend is considered only when the months with data span at least three years."""


TREND_LEVEL = 0.05
"""A trend is kept when its Wald test (dispersion-scaled) rejects no trend at this level."""


MIN_BLOCKS = 3
"""Complete 12-month blocks needed to measure year-to-year variation."""


DISPERSION_LEVEL = 0.25
"""Extra year-to-year variation is allowed for when a chi-square test on yearly totals rejects
binomial-only variation at this (lenient) level. In simulations of six years of 50 leavers a
year, 600 replications, the next year's 80%/95% bands held 83%/95% of outcomes with no extra
variation and 79%/93% with it (logit sd 0.4 between years); always allowing for it gave
88%/97% and 80%/95%, never allowing for it far too narrow bands in the second case."""


MAX_DISPERSION = 10.0


SHORT_MONTHS = 12
"""Below a year of data the stock model is a random walk with a wide step."""


MIN_STEP = 0.1
"""The smallest monthly step (logit scale) of the random walk for short stock series."""


RANDOM_WALK_PERSISTENCE = 0.98
"""AR(1) persistence at or above this is treated as a random walk (the mean is not pinned)."""


@dataclass(frozen=True)
class Simulation:
    """Simulated numerators and denominators (paths x months), the model that made them and
    notes on what was done."""

    numerators: np.ndarray
    denominators: np.ndarray
    model: str
    notes: list[str]


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _expit(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def simulate_flows(
    num: np.ndarray, den: np.ndarray, horizon: int, paths: int, rng: np.random.Generator
) -> Simulation:
    """Paths of a flow's denominator (gamma-Poisson leavers) and numerator (binomial at a rate
    drawn with its uncertainty and any over-dispersion between years)."""
    notes: list[str] = []
    observed = int(np.sum(~np.isnan(den)))
    if observed == 0:
        notes.append("no month has figures: there is nothing to forecast from")
        zeros = np.zeros((paths, horizon))
        return Simulation(zeros, zeros.copy(), "no rate (no figures)", notes)
    if observed < SHORT_MONTHS:
        notes.append(
            f"only {observed} month(s) with figures: the rate and the number of leavers are "
            "barely known, so the bands are wide"
        )
    denominators, level_text = _denominator_paths(den, horizon, paths, rng, notes)
    rate = _fit_rate(num[-RATE_MONTHS:], den[-RATE_MONTHS:], notes)
    logits = rate.draw(horizon, paths, rng)
    numerators = rng.binomial(denominators.astype(np.int64), _expit(logits)).astype(float)
    return Simulation(numerators, denominators, f"{rate.describe()}; {level_text}", notes)


def _blocks(values: np.ndarray) -> list[np.ndarray]:
    """Complete 12-month blocks counted back from the last month (every month present)."""
    blocks = []
    for end in range(len(values), 11, -12):
        block = values[end - 12 : end]
        if np.isnan(block).any():
            break
        blocks.append(block)
    return blocks


def _denominator_paths(
    den: np.ndarray, horizon: int, paths: int, rng: np.random.Generator, notes: list[str]
) -> tuple[np.ndarray, str]:
    recent = den[-LEVEL_MONTHS:]
    recent = recent[~np.isnan(recent)]
    months = max(1, recent.size)
    total = float(recent.sum())
    mean = (total + 0.5) / months
    if total == 0:
        notes.append(
            "no leavers in the months used: the denominator is forecast from a prior, mostly "
            "zeros, and the rate from its prior too"
        )
    dispersion = 1.0
    totals = [b.sum() for b in _blocks(den[-RATE_MONTHS:])]
    if len(totals) >= MIN_BLOCKS and np.mean(totals) > 0:
        index = float(np.var(totals, ddof=1) / np.mean(totals))
        dispersion = float(np.clip(index, 1.0, MAX_DISPERSION))
        if dispersion > 1.2:
            notes.append(
                f"the yearly number of leavers varies {dispersion:.1f} times as much as chance "
                "alone would make it: the forecast allows for that"
            )
    level = rng.gamma((total + 0.5) / dispersion, dispersion / months, size=(paths, 1))
    # A forecast year's own shift of the level: the year-to-year variation beyond Poisson.
    spread = (dispersion - 1.0) / (12.0 * mean)
    years = math.ceil(horizon / 12)
    if spread > 0:
        shifts = rng.gamma(1.0 / spread, spread, size=(paths, years))
    else:
        shifts = np.ones((paths, years))
    per_month = level * np.repeat(shifts, 12, axis=1)[:, :horizon]
    shown = f"{mean:.1f}" if mean >= 1 else f"{mean:.2g}"
    return rng.poisson(per_month).astype(float), f"denominator about {shown} a month"


@functools.cache
def _critical_dispersion(df: int) -> float:
    return float(stats.chi2.isf(DISPERSION_LEVEL, df)) / df


@dataclass(frozen=True)
class _Dispersion:
    """How much more yearly totals vary than binomial chance allows (Pearson statistic over
    degrees of freedom), with the yearly trials and mean rate needed to turn it into a shift."""

    estimate: float
    df: int
    per_year: float
    rate: float

    @property
    def known(self) -> bool:
        """Whether there were enough complete years to measure it."""
        return self.df >= MIN_BLOCKS - 1

    @property
    def shown(self) -> bool:
        """Whether the years vary beyond chance by the lenient test of DISPERSION_LEVEL."""
        return self.known and self.estimate > _critical_dispersion(self.df)

    def draw(self, paths: int, rng: np.random.Generator) -> np.ndarray:
        """Per path, a factor of at least 1 when the extra variation is shown: the estimate's
        posterior (scale-invariant prior, estimate ~ factor x chi-square(df) / df), so a factor
        measured on a handful of years carries its own uncertainty instead of being trusted."""
        if not self.shown:
            return np.ones((paths, 1))
        factor = self.estimate * self.df / rng.chisquare(self.df, size=(paths, 1))
        return np.clip(factor, 1.0, MAX_DISPERSION)

    def year_sd(self, factor: np.ndarray) -> np.ndarray:
        """The sd of a year's own shift of the logit rate that gives yearly totals `factor`
        times the binomial variance (delta method on the logit)."""
        if self.per_year <= 0:
            return np.zeros_like(factor)
        binomial = self.per_year * self.rate * (1 - self.rate)
        return np.sqrt((factor - 1.0) / binomial)


@dataclass(frozen=True)
class _Rate:
    """The fitted rate: logit = intercept + slope x years after the cut-off, with uncertainty
    (a beta posterior for a constant rate, the GLM covariance for a trend)."""

    coefficients: np.ndarray
    covariance: np.ndarray | None
    counts: tuple[float, float] | None
    dispersion: _Dispersion
    trend: bool

    def draw(self, horizon: int, paths: int, rng: np.random.Generator) -> np.ndarray:
        """Logit of the rate per path and forecast month."""
        years = np.arange(1, horizon + 1) / 12.0
        factor = self.dispersion.draw(paths, rng)
        if self.counts is not None:
            stayed, left = self.counts
            p = rng.beta(stayed / factor + 0.5, left / factor + 0.5)
            p = np.clip(p, 1e-9, 1 - 1e-9)
            logits = np.broadcast_to(np.log(p / (1 - p)), (paths, horizon)).copy()
        else:
            assert self.covariance is not None
            zero = np.zeros(len(self.coefficients))
            noise = rng.multivariate_normal(zero, self.covariance, size=paths) * np.sqrt(factor)
            draws = self.coefficients + noise
            logits = draws[:, [0]] + draws[:, [1]] * years[None, :]
        count = math.ceil(horizon / 12)
        shifts = rng.standard_normal((paths, count)) * self.dispersion.year_sd(factor)
        return logits + np.repeat(shifts, 12, axis=1)[:, :horizon]

    def describe(self) -> str:
        at_cutoff = float(_expit(self.coefficients[0]))
        text = f"binomial rate, {_percent(at_cutoff)} at the cut-off"
        if self.trend:
            text += f", logit trend {self.coefficients[1]:+.2f} a year"
        else:
            text += ", no trend"
        if self.dispersion.shown:
            text += f", years vary x{self.dispersion.estimate:.1f}"
        return text


def _fit_rate(num: np.ndarray, den: np.ndarray, notes: list[str]) -> _Rate:
    """The rate model on the months with a denominator (see the module docstring)."""
    used = ~np.isnan(den) & (den > 0)
    s, n = num[used], den[used]
    positions = np.flatnonzero(used)
    # Years after the cut-off (negative in the past): the intercept is the rate at the cut-off.
    t = (positions - (len(den) - 1)) / 12.0
    successes, trials = float(s.sum()), float(n.sum())
    if trials == 0:
        unknown = _Dispersion(1.0, 0, 0.0, 0.5)
        return _Rate(np.array([0.0, 0.0]), None, (0.0, 0.0), unknown, False)
    if successes in (0.0, trials):
        notes.append(
            f"all {trials:.0f} {'stayed' if successes else 'left'}: the rate is near its limit, "
            "taken from a beta posterior with wide bounds"
        )
    if positions[-1] - positions[0] + 1 >= TREND_MONTHS and 0 < successes < trials:
        trend = _trend_fit(s, n, t, positions, len(den), notes)
        if trend is not None:
            return trend
    p_hat = np.full(s.size, successes / trials)
    dispersion = _dispersion(s, n, p_hat, positions, len(den), 1)
    _note_dispersion(dispersion, notes)
    mean = (successes + 0.5) / (trials + 1.0)
    coefficients = np.array([math.log(mean / (1 - mean)), 0.0])
    return _Rate(coefficients, None, (successes, trials - successes), dispersion, False)


def _trend_fit(
    s: np.ndarray,
    n: np.ndarray,
    t: np.ndarray,
    positions: np.ndarray,
    length: int,
    notes: list[str],
) -> _Rate | None:
    """A binomial GLM with a logit trend, kept only when the trend is supported."""
    import statsmodels.api as sm  # deferred: statsmodels is slow to import

    exog = sm.add_constant(t, has_constant="add")
    try:
        fit = sm.GLM(np.column_stack([s, n - s]), exog, family=sm.families.Binomial()).fit()
    except Exception:
        notes.append("the trend model could not be fitted: a constant rate is used")
        return None
    params = np.asarray(fit.params, dtype=float)
    covariance = np.asarray(fit.cov_params(), dtype=float)
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(covariance))):
        return None
    fitted = np.asarray(fit.fittedvalues, dtype=float)
    dispersion = _dispersion(s, n, fitted, positions, length, 2)
    scale = max(1.0, dispersion.estimate) if dispersion.known else 1.0
    slope, slope_se = float(params[1]), math.sqrt(covariance[1, 1] * scale)
    if slope_se <= 0:
        return None
    z = abs(slope) / slope_se
    # With a scale measured on a few years the test statistic is t, not normal.
    p_value = 2 * (stats.t.sf(z, dispersion.df) if scale > 1 else stats.norm.sf(z))
    if p_value >= TREND_LEVEL:
        return None
    first, last = float(_expit(params[0] + slope * t[0])), float(_expit(params[0]))
    direction = "risen" if slope > 0 else "fallen"
    notes.append(
        f"the rate has {direction} from about {_percent(first)} to {_percent(last)} over "
        f"{(t[-1] - t[0]):.1f} years (trend p = {p_value:.3f}); the forecast continues it, "
        "with the trend's own uncertainty"
    )
    _note_dispersion(dispersion, notes)
    return _Rate(params, covariance, None, dispersion, True)


def _yearly(values: np.ndarray, positions: np.ndarray, length: int) -> list[float]:
    """Sums of `values` (one per used month at `positions`) over 12-month blocks back from the
    last month of the series, complete blocks only (every month there, with or without data)."""
    blocks = length // 12
    sums = [0.0] * blocks
    for value, position in zip(values, positions, strict=True):
        block = (length - 1 - int(position)) // 12
        if block < blocks:
            sums[block] += float(value)
    return sums


def _dispersion(
    s: np.ndarray,
    n: np.ndarray,
    p: np.ndarray,
    positions: np.ndarray,
    length: int,
    parameters: int,
) -> _Dispersion:
    """Pearson dispersion of the yearly totals around the fitted rate."""
    observed = _yearly(s, positions, length)
    expected = _yearly(n * p, positions, length)
    variance = _yearly(n * p * (1 - p), positions, length)
    trials = _yearly(n, positions, length)
    terms = [
        (o - e) ** 2 / v for o, e, v in zip(observed, expected, variance, strict=True) if v > 0
    ]
    df = len(terms) - parameters
    per_year = float(np.mean([x for x in trials if x > 0])) if any(trials) else 0.0
    rate = float(np.clip(np.sum(n * p) / np.sum(n), 0.01, 0.99))
    if df < 1:
        return _Dispersion(1.0, 0, per_year, rate)
    return _Dispersion(sum(terms) / df, df, per_year, rate)


def _note_dispersion(dispersion: _Dispersion, notes: list[str]) -> None:
    if not dispersion.known:
        notes.append(
            "too few complete years to tell whether the rate varies from year to year more "
            "than its numbers explain: only the binomial noise and the rate's uncertainty count"
        )
    elif dispersion.shown:
        notes.append(
            f"the rate varies from year to year {dispersion.estimate:.1f} times as much as the "
            "numbers alone explain: the bands are widened to match"
        )


def simulate_stock(
    num: np.ndarray, den: np.ndarray, horizon: int, paths: int, rng: np.random.Generator
) -> Simulation:
    """Paths of a stock's numerator (an AR(1) or random walk on the logit of its proportion),
    its denominator held at the last value."""
    notes: list[str] = []
    given = np.flatnonzero(~np.isnan(den))
    last_den = float(den[given[-1]]) if given.size else 0.0
    denominators = np.full((paths, horizon), last_den)
    recent_num, recent_den = num[-RATE_MONTHS:], den[-RATE_MONTHS:]
    usable = ~np.isnan(recent_den) & (recent_den > 0)
    if not usable.any() or last_den == 0:
        notes.append("no places in the latest month with figures: there is no rate to forecast")
        return Simulation(np.zeros((paths, horizon)), denominators, "no rate (no places)", notes)
    x = np.full(recent_den.size, np.nan)
    x[usable] = np.log((recent_num[usable] + 0.5) / (recent_den[usable] - recent_num[usable] + 0.5))
    last = int(np.flatnonzero(usable)[-1])
    gap = recent_den.size - 1 - last  # months from the last usable figure to the cut-off
    logits, model = _ar1_paths(x, int(usable.sum()), gap, horizon, paths, rng, notes)
    numerators = np.rint(_expit(logits) * last_den)
    text = f"{model}; denominator held at {last_den:.0f}"
    return Simulation(numerators, denominators, text, notes)


def _ar1_paths(
    x: np.ndarray,
    count: int,
    gap: int,
    horizon: int,
    paths: int,
    rng: np.random.Generator,
    notes: list[str],
) -> tuple[np.ndarray, str]:
    """Logit paths from an AR(1) around the mean, or a random walk (see the module docstring)."""
    valid = x[~np.isnan(x)]
    start = float(valid[-1])
    steps = gap + horizon
    mean = persistence = sigma = None
    if count >= SHORT_MONTHS and np.ptp(valid) == 0:
        notes.append(
            f"the rate was the same in all {count} months: a random walk with a small step "
            "keeps some room for change"
        )
    elif count >= SHORT_MONTHS:
        fitted = _ar1_fit(x)
        if fitted is None:
            notes.append("the AR(1) model could not be fitted: a random walk is used")
        else:
            params, covariance = fitted
            if params[1] >= RANDOM_WALK_PERSISTENCE:
                notes.append("the rate wanders without returning to a level: a random walk")
            else:
                draws = rng.multivariate_normal(params, covariance, size=paths)
                mean = draws[:, [0]]
                persistence = np.clip(draws[:, [1]], -0.95, RANDOM_WALK_PERSISTENCE)
                sigma = np.sqrt(np.clip(draws[:, [2]], params[2] * 0.25, None))
    else:
        notes.append(
            f"only {count} month(s) with figures: a random walk from the last rate, "
            "with a wide monthly step"
        )
    if mean is None or persistence is None or sigma is None:
        diffs = np.diff(valid)
        step = float(np.std(diffs, ddof=1)) if diffs.size >= 2 else 0.0
        if count < SHORT_MONTHS or step == 0:
            step = max(step, MIN_STEP)
        shocks = rng.normal(0.0, max(step, 1e-6), size=(paths, steps)).cumsum(axis=1)
        model = f"logit random walk from {_percent(float(_expit(start)))}"
        return (start + shocks)[:, gap:], model
    level = np.empty((paths, steps))
    current = np.full((paths, 1), start)
    shocks = rng.standard_normal((paths, steps))
    for h in range(steps):
        current = mean + persistence * (current - mean) + sigma * shocks[:, [h]]
        level[:, h] = current[:, 0]
    model = (
        f"logit AR(1) around {_percent(float(_expit(np.median(mean))))} "
        f"(persistence {float(np.median(persistence)):.2f} a month)"
    )
    return level[:, gap:], model


def _ar1_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, persistence, innovation variance) and their covariance, or None on failure."""
    from statsmodels.tsa.arima.model import ARIMA  # deferred: slow to import

    try:
        result = ARIMA(x, order=(1, 0, 0), trend="c").fit()
        params = np.asarray(result.params, dtype=float)
        covariance = np.asarray(result.cov_params(), dtype=float)
    except Exception:
        return None
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(covariance))):
        return None
    # A covariance that is not positive semi-definite (a boundary fit) keeps only its diagonal.
    if np.min(np.linalg.eigvalsh(covariance)) < 0:
        covariance = np.diag(np.clip(np.diag(covariance), 0.0, None))
    return params, covariance
