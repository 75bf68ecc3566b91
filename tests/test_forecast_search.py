"""The ETS form search (which forms are fitted, and that it chooses as statsforecast's own
search does) and the refit kept where a fit run forward goes wrong (issue 14, time round)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from forecast import engine, log_scale
from forecast import statsforecast_models as sf

START = date(2019, 4, 1)
ALL_FORMS = sf.ETS_FORMS_DAMPED
"""statsforecast's AutoETS search (restrict=True, no multiplicative trend): 15 forms (the
test below checks them against its own AutoETS)."""


def seasonal(n: int, seed: int, level: float = 60.0, growth: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = 1 + 0.25 * np.sin(2 * np.pi * t / 12)
    return np.round((level + growth * t) * season + rng.normal(0, 3.0, n)).clip(1)


@pytest.fixture
def fitted_forms(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The forms every AutoETS built from here on is asked to fit ("ZZZ" for a whole search)."""
    import statsforecast.models

    forms: list[str] = []
    original = statsforecast.models.AutoETS

    def spy(*args: Any, **kwargs: Any) -> Any:
        model = kwargs.get("model", "ZZZ")
        damped = kwargs.get("damped")
        forms.append(f"{model[0]}{model[1]}{'d' if damped else ''}{model[2]}")
        return original(*args, **kwargs)

    monkeypatch.setattr(statsforecast.models, "AutoETS", spy)
    return forms


def test_the_search_chooses_as_statsforecasts_own_over_the_same_forms() -> None:
    from statsforecast.models import AutoETS

    for seed, growth in [(1, 0.0), (2, 0.4), (3, -0.2), (4, 1.0), (5, 0.1)]:
        values = seasonal(72, seed, growth=growth)
        ours = sf._ETSSearch(12, ALL_FORMS).fit(values)
        theirs = AutoETS(season_length=12).fit(values)
        assert ours.model_["components"] == theirs.model_["components"]
        assert ours.model_["aicc"] == pytest.approx(theirs.model_["aicc"])


def test_no_damped_seasonal_form_is_searched(fitted_forms: list[str]) -> None:
    sf.auto_ets(True).fit(seasonal(72, 1), START)
    assert len(fitted_forms) == 12
    assert not {"AAdA", "MAdA", "MAdM"} & set(fitted_forms)
    assert {"ANA", "AAA", "MAM", "MAdN"} <= set(fitted_forms)


def test_a_series_with_zeros_searches_no_multiplicative_form(fitted_forms: list[str]) -> None:
    values = seasonal(72, 2)
    values[[5, 30]] = 0.0
    sf.auto_ets(True).fit(values, START)
    assert fitted_forms == ["ANN", "ANA", "AAdN", "AAN", "AAA"]


def test_on_the_log_scale_only_additive_forms_are_searched(fitted_forms: list[str]) -> None:
    # A season growing with the level: Guerrero's power is under 0.5, so the fitted models
    # are fitted on the logs, which are all positive (the figures are above 1).
    values = seasonal(72, 3, level=20.0, growth=3.0)
    assert log_scale.wants_log(values, True)
    models, _, _ = engine._roster(engine.DEFAULT_OPTIONS, True, True, on_logs=True)
    models["ets"].fit(values, START)
    assert fitted_forms == ["ANN", "ANA", "AAdN", "AAN", "AAA"]
    fitted_forms.clear()
    models, _, _ = engine._roster(engine.DEFAULT_OPTIONS, True, True, on_logs=False)
    models["ets"].fit(values, START)
    assert "MAM" in fitted_forms and len(fitted_forms) == 12


def test_later_fits_keep_the_searched_form_without_a_search(fitted_forms: list[str]) -> None:
    model = sf.auto_ets(True)
    whole = model.fit(seasonal(72, 4, growth=0.5), START)
    chosen = whole.model.model_["components"]  # type: ignore[attr-defined]
    fitted_forms.clear()
    early = model.fit(seasonal(72, 4, growth=0.5)[:36], START)
    assert len(fitted_forms) == 1
    assert early.model.model_["components"] == chosen  # type: ignore[attr-defined]


class _Diverging:
    """A statsforecast-like model whose fit runs forward to nonsense until refitted."""

    fits = 0

    def __init__(self, diverges: bool) -> None:
        self.diverges = diverges

    def fit(self, y: np.ndarray) -> _Diverging:
        _Diverging.fits += 1
        self.level = float(np.mean(y[-12:]))
        return self

    def forward(self, y: np.ndarray, h: int) -> dict[str, np.ndarray]:
        level = 1e6 if self.diverges else float(np.mean(y[-12:]))
        return {"mean": np.full(h, level)}

    def predict(self, h: int) -> dict[str, np.ndarray]:
        return {"mean": np.full(h, self.level)}


def test_a_refit_where_running_forward_went_wrong_is_kept_for_later_origins() -> None:
    values = seasonal(72, 5)
    first = _Diverging(diverges=True).fit(values[:36])
    fit = sf._StatsForecastFit(first, values[:36], False, lambda: _Diverging(diverges=False))
    _Diverging.fits = 0
    point = fit.forward(values[:39], 6)
    assert _Diverging.fits == 1 and fit.model is not first
    assert np.allclose(point, np.mean(values[27:39]))
    later = fit.forward(values[:42], 6)
    assert _Diverging.fits == 1  # run forward from the refit: no second refit
    assert np.allclose(later, np.mean(values[30:42]))
