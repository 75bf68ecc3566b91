"""Proportions with small numbers: Staying Put rates and occupancy, with honest uncertainty.

A rate such as Staying Put (young people staying with their former foster carers out of those
leaving foster care at 18: about 50 a year in a mid-sized council) is not forecast as a series
of its own: a year of 50 leavers moves by ten points on chance alone, and a count model of the
rate would know nothing of that. It is forecast from its parts, numerator and denominator,
month by month:

* flows (`stock=False`; Staying Put): the denominator (leavers a month) is a count at an
  uncertain level: each path draws a monthly level from a gamma around the last three years'
  mean (Jeffreys prior, widened by the year-to-year variation of yearly totals beyond Poisson
  when three complete years show it) and Poisson counts at that level. Leavers come on 18th
  birthdays, so no seasonal shape and no trend are fitted to them. The rate is a binomial model
  of the last five years' months: a constant rate (its beta posterior, Jeffreys prior, which
  stays sensible at 0 or 100%), or a linear trend on the logit scale (statsmodels binomial
  GLM, coefficients drawn from their covariance) when at least three years of data support it
  (Wald test, 5% level, t when the scale is estimated). Over-dispersion is measured on yearly
  totals (12-month blocks back from the cut-off, Pearson statistic): when years vary more than
  binomial chance allows (chi-square test at the lenient DISPERSION_LEVEL), each path draws a
  dispersion factor from the estimate's posterior (few years measure it poorly), scales the
  rate's parameter uncertainty by it and gives each forecast year its own shift of the rate
  (normal on the logit scale, sized so yearly totals vary by that factor).
  Numerators are Binomial(denominator, rate) in every month of every path, so a year's rate
  carries the binomial noise of its ~50 leavers plus the uncertainty about the rate itself.
* stock (`stock=True`; occupancy = filled / approved places at month end, hundreds of places,
  strongly autocorrelated): the empirical logit of the month-end proportion is an AR(1)
  around its mean (statsmodels ARIMA on the last five years, parameters drawn from their
  covariance), or a random walk when persistence is near one or under a year of data is
  there. The observed proportions already hold their sampling noise, so numerators are
  round(rate x denominator), with the denominator held at its last value.

Short, empty or all-zero inputs never fail: the notes say what was done, and the priors and
random-walk spreads make the uncertainty wide. The models are in `forecast.rate_models`; the
rate over some forecast months comes from `ProportionForecast.rate_paths`.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Sequence
from datetime import date

import msgspec
import numpy as np

from forecast.months import add_months, month_label, month_start, months_between
from forecast.rate_models import simulate_flows, simulate_stock

__all__ = [
    "ProportionForecast",
    "forecast_proportion",
]


class ProportionForecast(msgspec.Struct, frozen=True, kw_only=True):
    """Simulated numerators and denominators of a proportion, month by month after `cutoff`.

    `numerator_paths[i][h]` and `denominator_paths[i][h]` are path i's values in the month h+1
    months after the cut-off (the first day of the last observed month)."""

    series_id: str
    cutoff: date
    model: str
    notes: list[str]
    numerator_paths: list[list[float]]
    denominator_paths: list[list[float]]
    stock: bool = False

    @property
    def horizon(self) -> int:
        """Forecast months."""
        return len(self.numerator_paths[0]) if self.numerator_paths else 0

    def rate_paths(
        self,
        months: Sequence[date],
        observed_numerator: float = 0.0,
        observed_denominator: float = 0.0,
    ) -> np.ndarray:
        """Per path, the rate over `months` (forecast months, each once).

        Flows: (observed_numerator + the months' numerators) / (observed_denominator + the
        months' denominators), where the observed parts are what has already happened in the
        same period (a year partly gone). Stock: one month, its numerator / denominator. A path
        with no denominator at all has no rate (NaN)."""
        steps = self._steps(months)
        numerators = np.asarray(self.numerator_paths, dtype=float)[:, steps]
        denominators = np.asarray(self.denominator_paths, dtype=float)[:, steps]
        if self.stock:
            if len(steps) != 1:
                raise ValueError("the rate of a stock is read one month at a time")
            if observed_numerator or observed_denominator:
                raise ValueError("a stock has no observed part to add")
        if observed_numerator < 0 or observed_denominator < observed_numerator:
            raise ValueError("observed numerator must lie between 0 and the observed denominator")
        top = observed_numerator + numerators.sum(axis=1)
        bottom = observed_denominator + denominators.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)

    def _steps(self, months: Sequence[date]) -> list[int]:
        if not months:
            raise ValueError("no months given")
        steps = [months_between(self.cutoff, month_start(m)) - 1 for m in months]
        if len(set(steps)) != len(steps):
            raise ValueError("a month is given twice")
        for month, step in zip(months, steps, strict=True):
            if not 0 <= step < self.horizon:
                raise ValueError(
                    f"{month_label(month)} is outside the forecast of {self.series_id} "
                    f"(months after {month_label(self.cutoff)}, {self.horizon} of them)"
                )
        return steps


def forecast_proportion(
    series_id: str,
    start: date,
    numerators: Sequence[float | None],
    denominators: Sequence[float | None],
    *,
    horizon: int,
    paths: int = 1000,
    seed: int = 2026,
    stock: bool = False,
) -> ProportionForecast:
    """Simulate a monthly proportion's numerator and denominator `horizon` months ahead.

    `start` is the first month of the series; None marks a month with no figure (both parts
    are then ignored). Flows (`stock=False`) are events in the month, summed over a period to
    give its rate; a stock is a month-end figure. ValueError for lengths that differ, negative
    values, a numerator above its denominator, or a horizon or path count below one."""
    num, den = _clean(numerators, denominators)
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    if paths < 1:
        raise ValueError("paths must be at least 1")
    cutoff = add_months(month_start(start), len(num) - 1)
    rng = np.random.default_rng([seed, zlib.crc32(series_id.encode())])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if stock:
            sim = simulate_stock(num, den, horizon, paths, rng)
        else:
            sim = simulate_flows(num, den, horizon, paths, rng)
    return ProportionForecast(
        series_id=series_id,
        cutoff=cutoff,
        model=sim.model,
        notes=sim.notes,
        numerator_paths=sim.numerators.tolist(),
        denominator_paths=sim.denominators.tolist(),
        stock=stock,
    )


def _clean(
    numerators: Sequence[float | None], denominators: Sequence[float | None]
) -> tuple[np.ndarray, np.ndarray]:
    """Arrays with NaN where either part of a month is missing; ValueError for bad figures."""
    if len(numerators) != len(denominators):
        raise ValueError(
            f"numerators ({len(numerators)}) and denominators ({len(denominators)}) differ"
        )
    if not numerators:
        raise ValueError("the series has no months")
    num = np.array([np.nan if v is None else float(v) for v in numerators])
    den = np.array([np.nan if v is None else float(v) for v in denominators])
    both = ~np.isnan(num) & ~np.isnan(den)
    for name, values in (("numerator", num), ("denominator", den)):
        given = values[~np.isnan(values)]
        if not np.all(np.isfinite(given)) or np.any(given < 0):
            raise ValueError(f"a {name} is negative or not a number")
    above = np.flatnonzero(both & (num > den + 1e-9))
    if above.size:
        raise ValueError(f"month {above[0] + 1}: the numerator is above the denominator")
    num[~both], den[~both] = np.nan, np.nan
    return num, den


# Flows ------------------------------------------------------------------------------------


# Stock ------------------------------------------------------------------------------------
