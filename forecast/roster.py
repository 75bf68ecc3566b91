"""The roster of models the engine backtests, by name.

Each entry builds the model for a seasonal or non-seasonal series. Prophet and statsforecast
are imported only when a model of theirs is built, so a process that never fits one never pays
for importing it. Combinations (forecast/selection.py, COMBINATIONS) are named in the roster's
options too but built from the others' backtests, not here.
"""

from __future__ import annotations

from collections.abc import Callable

from forecast import statsforecast_models as sf
from forecast.models import Drift, Mean, Model, Naive, SeasonalNaive


def _prophet(seasonal: bool) -> Model:
    from forecast.prophet_fit import ProphetModel

    return ProphetModel(seasonal)


MODELS: dict[str, Callable[[bool], Model]] = {
    "seasonal_naive": lambda seasonal: SeasonalNaive() if seasonal else Naive(),
    "naive": lambda seasonal: Naive(),
    "drift": lambda seasonal: Drift(),
    "ets": sf.auto_ets,
    "ets_damped": sf.auto_ets_damped,
    "ets_figures": sf.auto_ets_figures,
    "arima": sf.auto_arima,
    "sarima": sf.airline,
    "theta": sf.auto_theta,
    "ces": sf.auto_ces,
    "croston": sf.croston,
    "prophet": _prophet,
    "mean": lambda seasonal: Mean(),
}
"""The roster by name; each entry builds the model for a seasonal or non-seasonal series."""

ON_LOGS: dict[str, Callable[[bool], Model]] = {
    "ets": sf.auto_ets_on_logs,
    "ets_damped": sf.auto_ets_damped_on_logs,
}
"""Builders used instead of MODELS' for a series fitted on the log scale (forecast/log_scale.py):
ETS searches its additive forms only there."""
