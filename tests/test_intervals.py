"""Calibrated ranges (forecast/intervals.py): backtest errors pooled over the months ahead,
grown as the model's own spread grows, with the finite-sample correction counted in months,
optionally weighted by the age of their origins."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from forecast.backtest import Backtest, mase_scale, median_scale, run_backtest
from forecast.intervals import Recency, calibrate, intervals, sample_paths, weighted_quantile
from forecast.models import Forecast, Naive

START = date(2000, 1, 1)


def backtest(errors, origins) -> Backtest:
    """A backtest whose forecasts were all 0 and whose actuals are `errors`, every scale 1."""
    errors = np.asarray(errors, dtype=float)
    zeros = np.zeros_like(errors)
    return Backtest("ets", tuple(origins), zeros, errors, np.ones(len(errors)))


@pytest.mark.parametrize("scale_of", [mase_scale, median_scale], ids=["mean", "median"])
def test_a_random_walks_ranges_cover_80_and_95_percent_of_its_futures_month_by_month(scale_of):
    rng = np.random.default_rng(11)
    values = 500 + np.cumsum(rng.normal(0, 1.0, 400))
    origins = list(range(60, 400, 3))
    tested = run_backtest("naive", Naive(), values, START, origins, 12, is_count=False)
    forecast = Naive().fit(values, START).forecast(12)
    scales = np.array([scale_of(values[:origin]) for origin in origins])
    calibration = calibrate(tested, forecast, scale_of(values), origin_scales=scales)
    lo80, hi80, lo95, hi95 = intervals(forecast, forecast.mean, calibration, is_count=False)
    futures = values[-1] + np.cumsum(rng.normal(0, 1.0, (20_000, 12)), axis=1)
    coverage80 = np.mean((futures >= lo80) & (futures <= hi80), axis=0)
    coverage95 = np.mean((futures >= lo95) & (futures <= hi95), axis=0)
    # Every month ahead, the first (spread 1) as well as the twelfth (spread 3.5): pooling
    # without the growth would make the first far too wide and the twelfth far too narrow.
    # The bounds allow three standard errors of a quantile from about 350 independent months.
    assert np.all((coverage80 >= 0.74) & (coverage80 <= 0.86)), coverage80
    assert np.all((coverage95 >= 0.915) & (coverage95 <= 0.985)), coverage95


def test_a_one_off_break_moves_the_mean_scale_far_more_than_the_median():
    rng = np.random.default_rng(3)
    season = 10 * np.sin(np.arange(72) * 2 * np.pi / 12)
    calm = 100 + season + rng.normal(0, 1.0, 72)
    broken = calm - 12.0 * (np.arange(72) >= 40)  # a law, a closure: one lasting step down
    # Twelve of the sixty seasonal differences hold the step: the mean counts each in full
    # (about three times the calm scale), the median only moves up its calm neighbours.
    assert mase_scale(broken) / mase_scale(calm) > 2.5
    assert median_scale(broken) / median_scale(calm) < 1.6


def test_a_month_ahead_without_errors_of_its_own_takes_the_pooled_range_grown_as_the_model_says():
    rng = np.random.default_rng(5)
    errors = np.full((40, 12), np.nan)
    errors[:, :3] = rng.normal(0, 1.0, (40, 3)) * np.sqrt([1.0, 2.0, 3.0])
    walk = Forecast(np.zeros(12), 1.0, np.ones(12))  # own sd: the square root of the month ahead
    calibration = calibrate(backtest(errors, range(36, 156, 3)), walk, scale=1.0)
    assert calibration.half80[11] / calibration.half80[0] == pytest.approx(np.sqrt(12))
    assert np.allclose(
        calibration.half95 / calibration.half80, calibration.half95[0] / calibration.half80[0]
    )
    assert calibration.errors == 120


def test_errors_about_the_same_months_count_once_in_the_finite_sample_correction():
    errors = np.arange(1.0, 21.0).reshape(10, 2)
    flat = Forecast(np.zeros(2), 1.0, np.r_[1.0, 0.0])
    # Origins a month apart, two months ahead each: 20 errors about 11 months (36 to 46), so
    # the 0.8 * 12 / 11 quantile of 1..20 (at 16.58 of 19 steps): 17.58.
    overlapping = calibrate(backtest(errors, range(36, 46)), flat, scale=1.0)
    assert overlapping.half80[0] == pytest.approx(17 + 0.8 * 12 / 11 * 19 - 16)
    assert overlapping.months == 11
    # Two months apart: 20 months (36 to 55), the 0.84 quantile: 16.96.
    apart = calibrate(backtest(errors, range(36, 56, 2)), flat, scale=1.0)
    assert apart.half80[0] == pytest.approx(16.96)
    assert apart.months == 20


def test_too_few_errors_leave_the_models_own_ranges():
    calibration = calibrate(
        backtest(np.ones((7, 1)), range(36, 43)), Forecast(np.zeros(1), 1.0, np.ones(1)), 1.0
    )
    assert calibration.half80 is None and calibration.note() is None


def test_sample_paths_spread_as_the_calibrated_ranges_say():
    rng = np.random.default_rng(2)
    errors = rng.normal(0, 3.0, (60, 6)) * np.sqrt(np.arange(1, 7))
    walk = Forecast(np.full(6, 100.0), 1.0, np.ones(6))
    calibration = calibrate(backtest(errors, range(36, 216, 3)), walk, scale=1.0)
    paths = sample_paths(walk, walk.mean, calibration, 40_000, rng, is_count=False)
    lo80, hi80, lo95, hi95 = np.quantile(paths, [0.1, 0.9, 0.025, 0.975], axis=0)
    assert np.allclose(hi80 - 100, calibration.half80, rtol=0.03)
    assert np.allclose(100 - lo80, calibration.half80, rtol=0.03)
    assert np.allclose(hi95 - 100, calibration.half95, rtol=0.03)
    assert np.allclose(100 - lo95, calibration.half95, rtol=0.03)


def test_count_ranges_stay_whole_and_at_zero_or_above():
    rng = np.random.default_rng(9)
    errors = rng.normal(0, 2.0, (40, 6))
    low = Forecast(np.array([0.4, 1.2, 2.0, 2.5, 3.1, 0.0]), 1.0, np.ones(6))
    calibration = calibrate(backtest(errors, range(36, 156, 3)), low, scale=1.3)
    bounds = intervals(low, low.mean, calibration, is_count=True)
    for bound in bounds:
        assert np.all(bound == np.round(bound)) and np.all(bound >= 0)
    lo80, hi80, lo95, hi95 = bounds
    assert np.all((lo95 <= lo80) & (lo80 <= low.mean) & (low.mean <= hi80) & (hi80 <= hi95))


def test_equal_weights_give_numpys_quantile():
    rng = np.random.default_rng(4)
    for size in (2, 9, 40):
        scores = rng.exponential(1.0, size)
        for level in (0.0, 0.1, 0.5, 0.8, 0.8375, 0.95, 1.0):
            expected = np.quantile(scores, level)
            assert weighted_quantile(scores, np.full(size, 0.3), level) == pytest.approx(expected)


def test_a_decay_of_one_sets_the_same_ranges_as_no_weighting():
    rng = np.random.default_rng(8)
    errors = rng.normal(0, 2.0, (30, 4))
    walk = Forecast(np.zeros(4), 1.0, np.sqrt(np.arange(1.0, 5.0)))
    tested = backtest(errors, range(36, 126, 3))
    plain = calibrate(tested, walk, scale=1.5)
    alike = calibrate(tested, walk, scale=1.5, recency=Recency(decay=1.0), history=130)
    assert np.array_equal(plain.half80, alike.half80)
    assert np.array_equal(plain.half95, alike.half95)


def regime_change() -> Backtest:
    """120 monthly origins, one month ahead each, in a history of 121 months: errors of 10
    from the 60 oldest origins (61 to 120 months old), of 1 from the 60 most recent."""
    errors = np.r_[np.full(60, 10.0), np.full(60, 1.0)][:, None]
    return backtest(errors, range(1, 121))


FLAT = Forecast(np.zeros(1), 1.0, np.ones(1))


def test_after_a_regime_change_recency_weighted_ranges_follow_the_recent_errors():
    plain = calibrate(regime_change(), FLAT, scale=1.0)
    assert plain.half80[0] == 10.0  # half the errors are 10: the 0.8 * 121 / 120 quantile
    # Weights 0.97 ** age: the recent 60 weigh 27.1 of 31.5, so 0.86 of the weight (positions
    # of the 1s up to 0.835) against the corrected level 0.8 * (M + 1) / M = 0.825, with
    # M = 120 * mean weight = 31.5 effective months.
    weighted = calibrate(regime_change(), FLAT, 1.0, Recency(decay=0.97), history=121)
    assert weighted.half80[0] == 1.0
    assert weighted.errors == 120 and weighted.months == 120


def test_a_window_keeps_only_the_recent_origins_errors():
    windowed = calibrate(regime_change(), FLAT, 1.0, Recency(window=36), history=121)
    assert windowed.half80[0] == 1.0 and windowed.half95[0] == 1.0
    assert windowed.errors == 36 and windowed.months == 36
    note = windowed.note()
    assert note is not None and "from the origins of the last 36 months" in note


def test_a_window_with_too_few_errors_keeps_them_all():
    windowed = calibrate(regime_change(), FLAT, 1.0, Recency(window=7), history=121)
    plain = calibrate(regime_change(), FLAT, 1.0)
    assert windowed.errors == 120 and windowed.half80[0] == plain.half80[0]


def test_the_note_gives_the_weights_half_life():
    weighted = calibrate(regime_change(), FLAT, 1.0, Recency(decay=0.97), history=121)
    note = weighted.note()
    assert note is not None
    assert "an error counting half as much for every 23 months its origin is older" in note


def test_weighing_by_age_needs_the_history():
    with pytest.raises(ValueError, match="history"):
        calibrate(regime_change(), FLAT, 1.0, Recency(decay=0.99))
