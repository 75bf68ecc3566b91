"""The proportion model: calibration by simulation, trend recovery, known answers, stock and
degenerate inputs."""

from datetime import date

import numpy as np
import pytest

from forecast.months import add_months
from forecast.proportions import (
    ProportionForecast,
    forecast_proportion,
)

START = date(2019, 4, 1)


def _next_year(forecast: ProportionForecast) -> list[date]:
    return [add_months(forecast.cutoff, h) for h in range(1, 13)]


def _coverage(rng, replications, *, p, per_year, years, year_sd=0.0):
    """Share of replications whose next-year rate falls in the 80% and 95% bands."""
    hits80 = hits95 = 0
    widths = []
    logit = np.log(p / (1 - p))
    for replication in range(replications):
        months = 12 * (years + 1)
        shifts = np.repeat(year_sd * rng.standard_normal(years + 1), 12)
        rate = 1 / (1 + np.exp(-(logit + shifts)))
        leavers = rng.poisson(per_year / 12, months)
        stayed = rng.binomial(leavers, rate)
        forecast = forecast_proportion(
            "sp",
            START,
            stayed[:-12].tolist(),
            leavers[:-12].tolist(),
            horizon=12,
            paths=250,
            seed=replication,
        )
        rates = forecast.rate_paths(_next_year(forecast))
        truth = stayed[-12:].sum() / leavers[-12:].sum()
        lo80, hi80, lo95, hi95 = np.nanquantile(rates, [0.1, 0.9, 0.025, 0.975])
        hits80 += lo80 <= truth <= hi80
        hits95 += lo95 <= truth <= hi95
        widths.append(hi80 - lo80)
    return hits80 / replications, hits95 / replications, float(np.mean(widths))


def test_bands_cover_the_next_year_at_about_the_stated_rates():
    # p = 0.6, about 50 leavers a year, six years of history; the next year's rate alone moves
    # by about +-9 points (binomial), so the true 80% band is about 0.18 wide. With 160
    # replications the sd of an 80% coverage is about 0.03.
    rng = np.random.default_rng(11)
    cover80, cover95, width = _coverage(rng, 160, p=0.6, per_year=50, years=6)
    assert 0.72 <= cover80 <= 0.92, cover80
    assert 0.89 <= cover95 <= 0.995, cover95
    assert 0.17 <= width <= 0.30, width


def test_bands_widen_when_years_vary_more_than_chance():
    # The same, with the rate itself moving from year to year (logit sd 0.4): binomial noise
    # alone would cover far too little; the dispersion factor keeps coverage near 80%.
    rng = np.random.default_rng(12)
    cover80, cover95, width = _coverage(rng, 100, p=0.6, per_year=50, years=6, year_sd=0.4)
    assert 0.68 <= cover80 <= 0.92, cover80
    assert cover95 >= 0.85, cover95
    assert width > 0.24, width


def test_a_supported_trend_is_found_and_continued():
    rng = np.random.default_rng(3)
    months = 72
    t = (np.arange(months) - (months - 1)) / 12  # years before the cut-off
    # Logit rises 0.25 a year: about 41% six years ago, 70% at the cut-off, 75% a year on.
    logit = np.log(0.7 / 0.3) + 0.25 * t
    leavers = rng.poisson(150 / 12, months)
    stayed = rng.binomial(leavers, 1 / (1 + np.exp(-logit)))
    forecast = forecast_proportion(
        "sp", START, stayed.tolist(), leavers.tolist(), horizon=12, paths=1000
    )
    assert "logit trend +" in forecast.model
    assert any("risen" in note for note in forecast.notes)
    true_next = float(
        np.mean(1 / (1 + np.exp(-(np.log(0.7 / 0.3) + 0.25 * np.arange(1, 13) / 12))))
    )
    rates = forecast.rate_paths(_next_year(forecast))
    assert abs(np.mean(rates) - true_next) < 0.05
    lo, hi = np.quantile(rates, [0.1, 0.9])
    assert lo < true_next < hi


def test_a_flat_rate_gets_no_trend():
    rng = np.random.default_rng(4)
    leavers = rng.poisson(50 / 12, 72)
    stayed = rng.binomial(leavers, 0.6)
    forecast = forecast_proportion("sp", START, stayed.tolist(), leavers.tolist(), horizon=24)
    assert "no trend" in forecast.model
    assert forecast.cutoff == date(2025, 3, 1)
    assert len(forecast.numerator_paths) == 1000 and len(forecast.numerator_paths[0]) == 24
    num, den = np.array(forecast.numerator_paths), np.array(forecast.denominator_paths)
    assert np.all(num == np.round(num)) and np.all(num <= den) and np.all(num >= 0)
    # Leavers keep their level (about 50 a year) and the rate its 60%, give or take.
    assert 40 <= den[:, :12].sum(axis=1).mean() <= 60
    assert 0.5 <= np.mean(forecast.rate_paths(_next_year(forecast))) <= 0.7


HAND = ProportionForecast(
    series_id="hand",
    cutoff=date(2025, 3, 1),
    model="hand-built",
    notes=[],
    # Four paths, two months (April and May 2025).
    numerator_paths=[[3, 2], [1, 0], [4, 4], [0, 0]],
    denominator_paths=[[4, 4], [2, 2], [5, 5], [0, 0]],
)
APRIL, MAY = date(2025, 4, 1), date(2025, 5, 15)


def share_at_least(rates: np.ndarray, threshold: float) -> float:
    """The share of paths whose rate is at least `threshold` (a path with no rate never is)."""
    return float(np.mean(np.nan_to_num(rates, nan=-1.0) >= threshold))


def test_rate_paths_and_chances_on_hand_built_paths():
    rates = HAND.rate_paths([APRIL, MAY])
    assert rates[:3].tolist() == [5 / 8, 1 / 4, 8 / 10] and np.isnan(rates[3])
    # A year partly gone: 6 of 10 already stayed.
    with_observed = HAND.rate_paths([APRIL, MAY], observed_numerator=6, observed_denominator=10)
    assert with_observed.tolist() == [11 / 18, 7 / 14, 14 / 20, 6 / 10]
    assert HAND.rate_paths([APRIL]).tolist()[:3] == [0.75, 0.5, 0.8]
    # Paths 1 and 3 reach 0.6 (0.625, 0.8); path 4 has no leavers and no rate.
    assert share_at_least(rates, 0.6) == 0.5
    assert share_at_least(rates, 0.625) == 0.5  # exactly equal counts
    assert share_at_least(rates, 0.63) == 0.25
    assert share_at_least(with_observed, 0.6) == 0.75
    for months in ([], [date(2025, 3, 1)], [date(2025, 6, 1)], [APRIL, APRIL]):
        with pytest.raises(ValueError):
            HAND.rate_paths(months)
    with pytest.raises(ValueError):
        HAND.rate_paths([APRIL], observed_numerator=3, observed_denominator=2)


def test_a_stock_is_read_one_month_at_a_time():
    stock = msgspec_replace(HAND, stock=True)
    assert stock.rate_paths([MAY]).tolist()[:3] == [0.5, 0.0, 0.8]
    with pytest.raises(ValueError):
        stock.rate_paths([APRIL, MAY])
    with pytest.raises(ValueError):
        stock.rate_paths([APRIL], observed_numerator=1, observed_denominator=2)
    assert share_at_least(stock.rate_paths([APRIL]), 0.75) == 0.5


def msgspec_replace(forecast: ProportionForecast, **changes) -> ProportionForecast:
    import msgspec

    return msgspec.structs.replace(forecast, **changes)


def test_occupancy_as_a_stock_stays_near_its_level():
    rng = np.random.default_rng(8)
    level = np.log(0.8 / 0.2)
    x = np.empty(60)
    x[0] = level
    for t in range(1, 60):
        x[t] = level + 0.8 * (x[t - 1] - level) + 0.08 * rng.standard_normal()
    places = np.full(60, 400)
    filled = np.rint(places / (1 + np.exp(-x)))
    forecast = forecast_proportion(
        "occupancy", START, filled.tolist(), places.tolist(), horizon=24, paths=500, stock=True
    )
    assert "AR(1)" in forecast.model
    assert np.all(np.array(forecast.denominator_paths) == 400)
    num = np.array(forecast.numerator_paths)
    assert np.all(num == np.round(num)) and np.all((num >= 0) & (num <= 400))
    months = [add_months(forecast.cutoff, step + 1) for step in range(24)]
    bands = []
    for month in months:
        rates = forecast.rate_paths([month])
        lo95, lo80, mean, hi80, hi95 = np.quantile(rates, [0.025, 0.1, 0.5, 0.9, 0.975])
        assert 0.72 < lo95 <= lo80 <= mean <= hi80 <= hi95 < 0.88
        bands.append(hi95 - lo95)
    # One month on, the band is narrower than a year on (the AR(1) remembers the last month).
    assert bands[0] < bands[11]
    assert 0.0 < share_at_least(forecast.rate_paths([months[11]]), 0.8) < 1.0


@pytest.mark.parametrize(
    ("numerators", "denominators", "stock", "expect"),
    [
        ([0] * 30, [0] * 30, False, "no leavers"),
        ([None] * 5, [None] * 5, False, "no month has figures"),
        ([1, 2], [2, 3], False, "only 2 month"),
        ([2] * 40, [2] * 40, False, "all 80 stayed"),
        ([0] * 40, [3] * 40, False, "all 120 left"),
        ([0] * 30, [0] * 30, True, "no places"),
        ([300, 310], [400, 400], True, "only 2 month"),
        ([400] * 30, [400] * 30, True, "the same in all 30 months"),
    ],
)
def test_degenerate_inputs_give_a_forecast_and_say_why(numerators, denominators, stock, expect):
    forecast = forecast_proportion(
        "odd", START, numerators, denominators, horizon=12, paths=200, stock=stock
    )
    assert any(expect in note for note in forecast.notes), forecast.notes
    months = [add_months(forecast.cutoff, 12)] if stock else _next_year(forecast)
    rates = forecast.rate_paths(months)
    defined = rates[~np.isnan(rates)]
    assert np.all((defined >= 0) & (defined <= 1))


def test_short_history_gives_wider_bands_than_long():
    rng = np.random.default_rng(9)
    leavers = rng.poisson(50 / 12, 72)
    stayed = rng.binomial(leavers, 0.6)
    long = forecast_proportion("a", START, stayed.tolist(), leavers.tolist(), horizon=12)
    short = forecast_proportion("a", START, stayed[-6:].tolist(), leavers[-6:].tolist(), horizon=12)
    width = {}
    for name, forecast in (("long", long), ("short", short)):
        lo, hi = np.nanquantile(forecast.rate_paths(_next_year(forecast)), [0.1, 0.9])
        width[name] = hi - lo
    assert width["short"] > width["long"] * 1.1


def test_bad_inputs_are_refused_and_seeds_repeat():
    with pytest.raises(ValueError, match="differ"):
        forecast_proportion("x", START, [1, 2], [3], horizon=3)
    with pytest.raises(ValueError, match="above"):
        forecast_proportion("x", START, [1, 5], [3, 4], horizon=3)
    with pytest.raises(ValueError, match="negative"):
        forecast_proportion("x", START, [-1], [3], horizon=3)
    with pytest.raises(ValueError, match="horizon"):
        forecast_proportion("x", START, [1], [3], horizon=0)
    first = forecast_proportion("x", START, [1, 2, 3], [3, 4, 5], horizon=6, paths=50)
    again = forecast_proportion("x", START, [1, 2, 3], [3, 4, 5], horizon=6, paths=50)
    other = forecast_proportion("y", START, [1, 2, 3], [3, 4, 5], horizon=6, paths=50)
    assert first.numerator_paths == again.numerator_paths
    assert first.numerator_paths != other.numerator_paths
