"""The fitted models, from statsforecast: AutoETS, AutoARIMA, the airline SARIMA, AutoTheta,
AutoCES and Croston (SBA) for small and intermittent counts.

Each is fitted once per backtest (at its first origin) and then run forward, parameters fixed,
through every later month (`forward`), which costs a fraction of a millisecond (a fit whose run
forward leaves the history's range is refitted there, and the refit runs on). The model form is
chosen at a series' first fit, the engine's on the whole history, and kept by its later fits
for ETS (components: the search over ETS_FORMS below), CES (season type) and ARIMA (orders);
Theta chooses its variant at every fit. Their own intervals give the sd at each step ahead
(`Forecast.sd`); forecast/intervals.py calibrates them against backtest errors. statsforecast's
seasonal decomposition is replaced by a faster identical one (forecast/decompose.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from forecast import decompose
from forecast.models import SEASON, Fitted, Forecast, from_sd, quiet_warnings, residual_sd

Z80 = 1.2815515655446004


@dataclass
class _StatsForecastFit:
    model: Any
    values: np.ndarray
    has_levels: bool
    rebuild: Callable[[], Any]
    """A new, unfitted model of the same form (to refit where running forward goes wrong)."""

    def forecast(self, horizon: int) -> Forecast:
        with quiet_warnings():
            if self.has_levels:
                out = self.model.predict(h=horizon, level=[80])
                mean = np.asarray(out["mean"], dtype=float)
                return from_sd(mean, (np.asarray(out["hi-80"], dtype=float) - mean) / Z80)
            mean = np.asarray(self.model.predict(h=horizon)["mean"], dtype=float)
            fitted = np.asarray(self.model.predict_in_sample()["fitted"], dtype=float)
        # No intervals of its own: a level model's spread, from its one-step errors.
        return from_sd(mean, residual_sd(self.values - fitted) * np.sqrt(np.arange(1, horizon + 1)))

    def forward(self, values: np.ndarray, horizon: int) -> np.ndarray:
        """The fit run forward through `values`; refitted there (same form) if that forecast
        leaves the history's range by more than the range itself: statsforecast's CES run
        forward with parameters near the edge of stability (a partial seasonal CES with
        alpha_1 of 0.9999) diverges to thousands of times the series' level. The refit then
        replaces the fit, so later (longer) `values` run it forward rather than the fit that
        went wrong: a fit that diverged once tended to diverge at every later origin, and
        refitting at each was a fifth of the engine's time on the synthetic region (825 refits
        of 2,688 forward runs; issue 14, bench/forecast_profile.py)."""
        with quiet_warnings():
            if hasattr(self.model, "forward"):
                out = np.asarray(self.model.forward(y=values, h=horizon)["mean"], dtype=float)
                if not _plausible(out, values):
                    refit = self.rebuild()
                    refit.fit(values)
                    self.model, self.values = refit, values
                    out = np.asarray(refit.predict(h=horizon)["mean"])
            else:  # a model without parameters to keep (Croston SBA): fitting anew is the same
                out = np.asarray(self.rebuild().forecast(y=values, h=horizon)["mean"])
        return out.astype(float)


def _plausible(point: np.ndarray, history: np.ndarray) -> bool:
    low, high = float(np.min(history)), float(np.max(history))
    spread = max(high - low, 1e-9)
    return bool(
        np.all(np.isfinite(point))
        and np.all(point >= low - spread)
        and np.all(point <= high + spread)
    )


class StatsForecastModel:
    """A statsforecast model behind the engine's interface; `build(season_length)` makes it."""

    def __init__(
        self,
        name: str,
        build: Callable[[int], Any],
        seasonal: bool,
        has_levels: bool = True,
        after_fit: Callable[[Any], None] | None = None,
    ) -> None:
        self.name = name
        self.build = build
        self.seasonal = seasonal
        self.has_levels = has_levels
        self.after_fit = after_fit

    def fit(self, values: np.ndarray, start: date) -> Fitted:
        season = SEASON if self.seasonal else 1
        model = self.build(season)
        values = np.asarray(values, dtype=float)
        with quiet_warnings():
            model.fit(values)
        if self.after_fit is not None:
            self.after_fit(model)
        return _StatsForecastFit(model, values, self.has_levels, lambda: self.build(season))


EtsForm = tuple[str, str, str, bool]
"""An ETS form: error (A, M), trend (N, A), season (N, A, M), damped."""
ETS_FORMS_DAMPED: tuple[EtsForm, ...] = tuple(
    (error, trend, season, damped)
    for error in "AM"
    for trend in "NA"
    for season in "NAM"
    for damped in (True, False)
    if not (trend == "N" and damped) and not (error == "A" and season == "M")
)
"""Every form of statsforecast's AutoETS search (additive or multiplicative error, no or
additive trend, no, additive or multiplicative season, damped or not; no additive error with
a multiplicative season), in its order: 15. The "ets_damped" candidate searches them all
(issue 14, round 12)."""
ETS_FORMS = tuple(form for form in ETS_FORMS_DAMPED if not (form[3] and form[2] != "N"))
"""The ETS forms searched (error, trend, season, damped), in statsforecast's order: its
AutoETS forms without the damped seasonal ones. Those three (A,Ad,A), (M,Ad,A) and (M,Ad,M)
cost 7-8 ms a fit each against 4 ms for an undamped seasonal form, about 40% of the search on
a seasonal series of positive figures, and were chosen for 13 of the 217 series of the three
benchmark panels in their validation-year fits; without them the engine's mean MASE over
seasonal naive's moved from 0.790, 0.745 and 0.399 to 0.791, 0.745 and 0.386 on the real,
synthetic and fresh panels' validation years (issue 14, the time round; the rule is in that
round's first commit)."""
ETS_FORMS_ON_LOGS = tuple(form for form in ETS_FORMS if form[0] == "A" and form[2] != "M")
"""The forms searched on the logarithms of a series (forecast/log_scale.py): additive only.
The logs already make the season and the errors a share of the level, and a multiplicative
form on logs (tried wherever every log is positive) has no such meaning: it makes them a
share of the log. This leaves 5 forms of 12, and moved the validation-year MASE over seasonal
naive's by +0.000, +0.003 and +0.001 on the three panels."""
ETS_FORMS_DAMPED_ON_LOGS = tuple(
    form for form in ETS_FORMS_DAMPED if form[0] == "A" and form[2] != "M"
)
"""ETS_FORMS_ON_LOGS with the damped trend and additive season, (A,Ad,A), back."""


def auto_ets(
    seasonal: bool, forms: tuple[EtsForm, ...] = ETS_FORMS, name: str = "ets"
) -> StatsForecastModel:
    """AutoETS. Its first fit of a series (the engine makes it on the whole history,
    forecast/engine.py SEARCH_FIRST) searches `forms` (_ETSSearch, statsforecast's AutoETS
    form by form, the lowest AICc winning as in its own search); later fits of the same series
    (the backtest's, before its first origin) keep that form and estimate its parameters anew,
    at a tenth of the cost of the search (the search is most of the engine's time on a series
    without Prophet)."""
    from statsforecast.models import AutoETS

    decompose.install()
    form: dict[str, Any] = {}

    def build(m: int) -> Any:
        return AutoETS(season_length=m, **form) if form else _ETSSearch(m, forms)

    def chosen(fitted: Any) -> None:
        if not form:
            error, trend, season, damped = fitted.model_["components"][:4]
            form.update(model=f"{error}{trend}{season}", damped=damped == "D")

    return StatsForecastModel(name, build, seasonal, after_fit=chosen)


def auto_ets_on_logs(seasonal: bool) -> StatsForecastModel:
    """AutoETS searching ETS_FORMS_ON_LOGS, for a series fitted on the log scale."""
    return auto_ets(seasonal, ETS_FORMS_ON_LOGS)


def auto_ets_figures(seasonal: bool) -> StatsForecastModel:
    """AutoETS over ETS_FORMS that stays on the figures where a series is fitted on the log
    scale (forecast/log_scale.py, ON_LOG_SCALE leaves it out): its multiplicative forms make
    the season a share of the level themselves (issue 14, round 13)."""
    return auto_ets(seasonal, ETS_FORMS, "ets_figures")


def auto_ets_damped(seasonal: bool) -> StatsForecastModel:
    """AutoETS searching every form statsforecast's does (ETS_FORMS_DAMPED)."""
    return auto_ets(seasonal, ETS_FORMS_DAMPED, "ets_damped")


def auto_ets_damped_on_logs(seasonal: bool) -> StatsForecastModel:
    """AutoETS searching ETS_FORMS_DAMPED_ON_LOGS, for a series fitted on the log scale."""
    return auto_ets(seasonal, ETS_FORMS_DAMPED_ON_LOGS, "ets_damped")


class _ETSSearch:
    """statsforecast's AutoETS search over given forms: each form that fits these figures is
    fitted (a seasonal one only with a season and more than one of it, a multiplicative one
    only on positive figures, as statsforecast skips them) and the lowest AICc is kept (the
    first of equals, forms in the order given); it then forecasts as that fit."""

    def __init__(self, season_length: int, forms: tuple[EtsForm, ...]) -> None:
        self.season_length, self.forms = season_length, forms
        self.best: Any = None

    def fit(self, y: np.ndarray) -> _ETSSearch:
        from statsforecast.models import AutoETS

        y = np.asarray(y, dtype=float)
        positive = bool(np.min(y) > 0)
        seasons = self.season_length > 1 and len(y) > self.season_length
        best_ic = np.inf
        for error, trend, season, damped in self.forms:
            if season != "N" and not seasons:
                continue
            if not positive and "M" in (error, season):
                continue
            model = AutoETS(
                season_length=self.season_length, model=f"{error}{trend}{season}", damped=damped
            )
            try:
                model.fit(y)
            except Exception:  # a form statsforecast refuses for these figures (too few)
                continue
            ic = model.model_["aicc"]
            if not np.isnan(ic) and ic < best_ic:
                self.best, best_ic = model, ic
        if self.best is None:
            self.best = AutoETS(season_length=self.season_length).fit(y)
        return self

    def __getattr__(self, name: str) -> Any:
        if name in ("best", "season_length", "forms"):
            raise AttributeError(name)
        return getattr(self.best, name)


def auto_arima(seasonal: bool) -> StatsForecastModel:
    """AutoARIMA with orders up to 2 (seasonal up to 1): the full search costs ten times as
    much on monthly series of a few years, for orders these series rarely support. Its search
    still costs 0.1-0.3 s a series, more than the rest of the engine together, so it is in
    the roster but not among the default candidates (forecast/types.py). Like ETS's, its
    first fit of a series (on the whole history, forecast/engine.py SEARCH_FIRST) chooses the
    orders, differences, mean and drift; later fits keep them and only estimate the
    coefficients (a plain ARIMA fit: a few milliseconds)."""
    from statsforecast.models import ARIMA, AutoARIMA

    form: dict[str, Any] = {}

    def build(m: int) -> Any:
        if form:
            return ARIMA(season_length=m, **form)
        return AutoARIMA(season_length=m, max_p=2, max_q=2, max_P=1, max_Q=1, approximation=True)

    def chosen(fitted: Any) -> None:
        if not form:
            p, q, P, Q, _, d, D = fitted.model_["arma"]
            coef = fitted.model_["coef"]
            form.update(
                order=(p, d, q),
                seasonal_order=(P, D, Q),
                include_mean="intercept" in coef,
                include_drift="drift" in coef,
            )

    return StatsForecastModel("arima", build, seasonal, after_fit=chosen)


def airline(seasonal: bool) -> StatsForecastModel:
    """SARIMA (0,1,1)(0,1,1)12, the airline model; (0,1,1) with drift when not seasonal."""
    from statsforecast.models import ARIMA

    def build(m: int) -> Any:
        if m > 1:
            return ARIMA(order=(0, 1, 1), seasonal_order=(0, 1, 1), season_length=m)
        return ARIMA(order=(0, 1, 1), include_drift=True)

    return StatsForecastModel("sarima", build, seasonal)


def auto_theta(seasonal: bool) -> StatsForecastModel:
    from statsforecast.models import AutoTheta

    decompose.install()
    return StatsForecastModel("theta", lambda m: AutoTheta(season_length=m), seasonal)


def auto_ces(seasonal: bool) -> StatsForecastModel:
    from statsforecast.models import AutoCES

    decompose.install()
    form: dict[str, Any] = {}

    def build(m: int) -> Any:
        return AutoCES(season_length=m, **form)

    def chosen(fitted: Any) -> None:
        form.setdefault("model", fitted.model_["seasontype"])

    # No intervals of its own asked for: CES simulates them, at 40 ms a forecast. Its form
    # (seasonal type) is kept after the first fit, as ETS's is (auto_ets).
    return StatsForecastModel("ces", build, seasonal, has_levels=False, after_fit=chosen)


def croston(seasonal: bool) -> StatsForecastModel:
    """Croston's method with the SBA correction: no parameters, refitted at every origin."""
    from statsforecast.models import CrostonSBA

    return StatsForecastModel("croston", lambda m: CrostonSBA(), False, has_levels=False)
