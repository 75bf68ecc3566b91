"""The forecasts page's plain words on why a model was chosen, and its warning when the chosen
model did worse than seasonal naive in the backtest. Pure functions: no database or HTTP."""

from __future__ import annotations

from datetime import date

import numpy as np

from api.dashboard.forecasts import why_chosen
from forecast import engine
from forecast.types import CandidateScore, ForecastOptions, MonthlySeries


def scores(**mase: float) -> list[CandidateScore]:
    return [CandidateScore(model=model, mase=value) for model, value in mase.items()]


def test_a_model_that_lost_to_seasonal_naive_without_a_reason_is_flagged():
    # What a new user saw: a run of the earlier engine picked ETS at 1.10 against 0.89.
    why = why_chosen("ets", scores(seasonal_naive=0.89, drift=1.4, ets=1.10), [])
    assert why.tone == "warning"
    assert why.badge == "Did worse than seasonal naive in the backtest"
    assert "Its backtest error (1.10) was higher than seasonal naive's (0.89)" in why.text
    assert "gave no reason for preferring it: treat it with care" in why.text


def test_a_combination_kept_over_a_luckier_seasonal_naive_says_why():
    note = (
        "chosen by backtest: the mean of ETS, Theta and CES (MASE 1.02 against 1.05 for ETS "
        "alone); averaging these models is the default. Seasonal naive (0.97) did better in the "
        "backtest, but not clearly enough to replace it (a test over the backtest at 5%)"
    )
    candidates = scores(seasonal_naive=0.97, ets=1.05, combination_mean=1.02)
    why = why_chosen("combination_mean", candidates, [note, "80% and 95% ranges set from ..."])
    assert why.text.startswith("Why Mean combination: the mean of ETS, Theta")
    assert "Its backtest error (1.02) was higher than seasonal naive's (0.97)" in why.text
    assert "gave no reason" not in why.text
    assert why.reason_note == note


def test_a_model_that_beat_seasonal_naive_gets_a_good_badge():
    note = "chosen by backtest: Theta, because it beat the median combination clearly"
    why = why_chosen("theta", scores(naive=1.3, theta=0.8), [note])
    assert (why.badge, why.tone) == ("Beat seasonal naive in the backtest", "good")
    # The model is named once.
    assert why.text == "Why Theta: because it beat the median combination clearly."


def test_a_forecast_without_a_backtest_says_so():
    why = why_chosen("mean", scores(seasonal_naive=None), ["only 3 months of history"])
    assert why.badge is None
    assert why.text == "The mean made this forecast without a backtest (see the notes)."


def test_every_engine_choice_is_explained_and_never_silently_worse_than_the_baseline():
    options = ForecastOptions(
        horizon=6, paths=20, models=("seasonal_naive", "drift", "ets", "theta", "combination_mean")
    )
    for seed in range(6):
        rng = np.random.default_rng(seed)
        values = rng.poisson(3 + 2 * np.sin(np.arange(54) * np.pi / 6)).astype(float)
        forecast = engine.forecast_series(
            MonthlySeries(series_id=f"s{seed}", start=date(2020, 1, 1), values=list(values)),
            options,
        )
        why = why_chosen(forecast.model, forecast.candidates, forecast.notes)
        assert why.reason_note is not None and why.text.startswith("Why ")
        assert "gave no reason" not in why.text
