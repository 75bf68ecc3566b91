"""The roster of models the engine backtests, by name.

Each entry builds the model for a seasonal or non-seasonal series. Prophet is imported only
when it is built, so a process that never fits it never pays for importing it.
"""

from __future__ import annotations

from collections.abc import Callable

from forecast.models import Drift, ExponentialSmoothing, Mean, Model, Naive, Sarima, SeasonalNaive


def _prophet(seasonal: bool) -> Model:
    from forecast.prophet_fit import ProphetModel

    return ProphetModel(seasonal)


MODELS: dict[str, Callable[[bool], Model]] = {
    "seasonal_naive": lambda seasonal: SeasonalNaive() if seasonal else Naive(),
    "naive": lambda seasonal: Naive(),
    "drift": lambda seasonal: Drift(),
    "ets": ExponentialSmoothing,
    "sarima": Sarima,
    "prophet": _prophet,
    "mean": lambda seasonal: Mean(),
}
"""The roster by name; each entry builds the model for a seasonal or non-seasonal series."""
