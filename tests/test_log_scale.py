"""Fitting on the log scale (forecast/log_scale.py): which series, and what the engine does."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from forecast import engine
from forecast.log_scale import LOG_BELOW, LogScale, guerrero_power, wants_log
from forecast.models import Drift
from forecast.types import ForecastOptions, MonthlySeries

MONTHS = np.arange(84)
SEASON = np.sin(MONTHS * np.pi / 6)


def growing_swings(seed: int = 1) -> np.ndarray:
    """A season that is a share of a growing level (AirPassengers' shape)."""
    rng = np.random.default_rng(seed)
    return np.exp(4.5 + 0.02 * MONTHS + 0.25 * SEASON + rng.normal(0, 0.03, MONTHS.size))


def steady_swings(seed: int = 1) -> np.ndarray:
    """A season of the same size whatever the level."""
    rng = np.random.default_rng(seed)
    return 200 + 1.5 * MONTHS + 30 * SEASON + rng.normal(0, 3, MONTHS.size)


def test_a_season_that_grows_with_the_level_is_fitted_on_logs_and_a_steady_one_is_not():
    assert guerrero_power(growing_swings()) < LOG_BELOW  # type: ignore[operator]
    assert wants_log(growing_swings(), seasonal=True)
    assert guerrero_power(steady_swings()) > LOG_BELOW  # type: ignore[operator]
    assert not wants_log(steady_swings(), seasonal=True)


@pytest.mark.parametrize(
    "values, seasonal",
    [
        (np.concatenate(([0.0], growing_swings()[1:])), True),  # a zero: no logarithm
        (-growing_swings(), True),
        (growing_swings()[:23], True),  # under two years: no season to measure the swings by
        (growing_swings(), False),
    ],
)
def test_no_logs_without_positive_figures_or_a_season(values, seasonal):
    assert not wants_log(values, seasonal)


def test_a_log_scale_model_forecasts_on_the_figures_scale():
    values = np.exp(np.linspace(1.0, 3.0, 30))  # grows by the same share each month
    fitted = LogScale(Drift()).fit(values, date(2020, 1, 1))
    step = (3.0 - 1.0) / 29
    expected = np.exp(3.0 + step * np.arange(1, 4))
    assert np.allclose(fitted.forecast(3).mean, expected)
    ahead = np.exp(np.log(values[19]) + step * np.array([1, 2]))
    assert np.allclose(fitted.forward(values[:20], 2), ahead)
    assert np.all(fitted.forecast(3).sd > 0)


def test_the_engine_says_when_it_fitted_on_logs_and_its_forecast_follows_the_growth():
    options = ForecastOptions(horizon=12, paths=50)
    values = growing_swings()
    series = MonthlySeries(
        series_id="growing", start=date(2018, 4, 1), values=list(values), is_count=False
    )
    forecast = engine.forecast_series(series, options)
    assert engine.LOG_NOTE in forecast.notes
    means = np.array([p.mean for p in forecast.points])
    # The season a year on is wider than the last year's, as the share of a higher level.
    assert np.ptp(means) > np.ptp(values[-12:])
    assert all(p.lo95 <= p.lo80 <= p.mean <= p.hi80 <= p.hi95 for p in forecast.points)

    steady = MonthlySeries(
        series_id="steady", start=date(2018, 4, 1), values=list(steady_swings()), is_count=False
    )
    assert engine.LOG_NOTE not in engine.forecast_series(steady, options).notes
