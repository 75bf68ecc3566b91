"""The engine's seasonal decomposition is statsmodels' to the last bit, and is what
statsforecast's ETS, CES and Theta use once a model of theirs is built."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.seasonal import seasonal_decompose as statsmodels_decompose

from forecast import decompose
from forecast.roster import MODELS


def _series(rng: np.random.Generator, n: int, period: int) -> np.ndarray:
    season = 1 + 0.3 * np.sin(np.arange(n) * 2 * np.pi / period)
    return rng.gamma(2.0, 10.0, n) * season + rng.integers(0, 3) * 100


@pytest.mark.parametrize("model", ["additive", "multiplicative"])
@pytest.mark.parametrize("period", [4, 7, 12])
def test_seasonal_part_is_identical_to_statsmodels(model: str, period: int) -> None:
    rng = np.random.default_rng(period)
    for n in range(2 * period, 2 * period + 40):
        for values in (_series(rng, n, period), np.round(_series(rng, n, period)) + 1):
            ours = decompose.seasonal_decompose(values, model=model, period=period)
            theirs = statsmodels_decompose(values, model=model, period=period)
            assert np.array_equal(ours.seasonal, theirs.seasonal)
            assert np.array_equal(ours.trend, theirs.trend, equal_nan=True)


def test_refuses_what_statsmodels_refuses() -> None:
    with pytest.raises(ValueError, match="2 complete cycles"):
        decompose.seasonal_decompose(np.arange(1.0, 20.0), period=12)
    with pytest.raises(ValueError, match="zero and negative"):
        decompose.seasonal_decompose(np.arange(0.0, 30.0), model="multiplicative", period=12)


def test_building_a_statsforecast_model_installs_it() -> None:
    import statsforecast.ces
    import statsforecast.ets
    import statsforecast.theta

    MODELS["ets"](True)
    for module in (statsforecast.ets, statsforecast.ces, statsforecast.theta):
        assert module.seasonal_decompose is decompose.seasonal_decompose
