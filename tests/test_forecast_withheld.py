"""Forecast routes read by a regional token: no actual count from 1 to 4 of a children's or
carers' series, nor what gives one back (the accuracy of a past run, figures quoted in notes);
the council's managers keep everything. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from litestar.testing import TestClient

from forecast.months import add_months, month_start
from forecast.types import CandidateScore, ForecastPoint, MonthlySeries, SeriesForecast
from tests.conftest import STOKE, bearer
from tracker.children.figures import Metric, MonthlyFigure, record_monthly_figures
from tracker.core.access import SYSTEM
from tracker.core.clock import london_today
from tracker.core.db import Database
from tracker.forecasting.lease import claim_run
from tracker.forecasting.runs import finish_run, start_run
from tracker.forecasting.tables import Trigger
from tracker.forecasting.withheld import (
    ACCURACY_WITHHELD,
    COPY_WITHHELD,
    NOTES_WITHHELD,
    hidden_months,
)
from tracker.series.window import last_complete_month

BASE = f"/api/v1/authorities/{STOKE}/forecasts"
LAST = month_start(last_complete_month(london_today()))
"""The last complete month: the one month a run cut off the month before compares."""
CUTOFF = add_months(LAST, -1)
# Per series: its figure in every month before LAST, and in LAST.
FIGURES = {
    "starters/total": (30, 20),
    "starters/age=10_15": (15, 10),
    "starters/age=16_17": (12, 8),
    "staying_put/leavers": (12, 7),
    "staying_put/stayed": (6, 1),
}
SMALL = add_months(CUTOFF, -5)
"""A month of history with 3 starters aged 16 or 17."""
NOTES = [
    "every figure is 3: the forecast holds it, with no spread to estimate",
    "unusual figures treated as a one-off and damped for fitting "
    "(2025-03: 2 against about 9 expected; 2025-07: 14 against about 6.5 expected)",
    "only 12 months of history: seasonal pattern not estimated",
]


def _record(database: Database) -> None:
    """A year of figures entered by hand, ending with the last complete month."""
    metrics = {
        "starters/total": (Metric.STARTERS, ""),
        "starters/age=10_15": (Metric.STARTERS, "10_15"),
        "starters/age=16_17": (Metric.STARTERS, "16_17"),
        "staying_put/leavers": (Metric.STAYING_PUT_ELIGIBLE, ""),
        "staying_put/stayed": (Metric.STAYING_PUT_STAYED, ""),
    }
    figures = []
    for i in range(12, -1, -1):
        month = add_months(LAST, -i)
        for series, (metric, breakdown) in metrics.items():
            before, last = FIGURES[series]
            value = last if month == LAST else before
            if month == SMALL and series == "starters/age=16_17":
                value = 3
            figures.append(
                MonthlyFigure(
                    month=f"{month:%Y-%m}", metric=metric, value=value, breakdown=breakdown
                )
            )
    with database.writing() as session:
        record_monthly_figures(session, SYSTEM, STOKE, figures, london_today())


COPYING = {"starters/age=16_17": "seasonal_naive"}
"""Series whose forecast repeats the history (the rest: drift)."""


def _forecast(series: str, mean: float) -> SeriesForecast:
    points = [
        ForecastPoint(
            month=add_months(LAST, h), mean=mean, lo80=mean - 2, hi80=mean + 2, lo95=0, hi95=99
        )
        for h in range(2)
    ]
    return SeriesForecast(
        series_id=f"{STOKE}/{series}",
        cutoff=CUTOFF,
        model=COPYING.get(series, "drift"),
        candidates=[CandidateScore(model=COPYING.get(series, "drift"), mase=0.9)],
        points=points,
        paths=[],
        notes=NOTES if series == "staying_put/stayed" else [],
    )


@pytest.fixture
def stored(authorities: Database) -> int:
    """Figures, and a succeeded run cut off the month before the last complete one."""
    _record(authorities)
    forecasts = [_forecast(s, before) for s, (before, _) in FIGURES.items()]
    history = [
        MonthlySeries(series_id=f"{STOKE}/{s}", start=add_months(CUTOFF, -3), values=[1, 3, 1, 3])
        for s in FIGURES
    ]
    with authorities.writing() as session:
        run_id = claim_run(
            session,
            STOKE,
            trigger=Trigger.API,
            triggered_by="manager:test",
            holder="here:1:abcd",
            cutoff=CUTOFF,
            horizon=2,
            models=("drift",),
        )
        start_run(session, run_id, len(forecasts))
        finish_run(session, run_id, forecasts, history)
    return run_id


def _accuracy(client: TestClient, secret: str) -> dict[str, dict]:
    answer = client.get(f"{BASE}/accuracy", headers=bearer(secret))
    assert answer.status_code == 200
    return {a["series_id"].split("/", 1)[1]: a for a in answer.json()}


def test_a_regional_token_gets_no_accuracy_that_gives_a_small_count_back(stored, client, tokens):
    regional = _accuracy(client, tokens["regional_wm"])
    manager = _accuracy(client, tokens["manager_stoke"])

    # One month compared: forecast 6, bias 5, so 1 stayed, to the council's managers.
    stayed = manager["staying_put/stayed"]
    assert (stayed["months_compared"], stayed["bias"], stayed["mae"]) == (1, 5.0, 5.0)
    assert stayed["scaled_error"] is not None
    assert all(a["withheld"] is None for a in manager.values())
    # To the regional reader: no measure of it, and the answer says why.
    withheld = regional["staying_put/stayed"]
    assert withheld["months_compared"] == 1
    for measure in ("mae", "scaled_error", "bias", "coverage80", "coverage95"):
        assert withheld[measure] is None, measure
    assert withheld["withheld"] == ACCURACY_WITHHELD
    # 7 leavers (6 of them not staying, withheld with the 1): shown as to managers.
    assert regional["staying_put/leavers"] == manager["staying_put/leavers"]
    # 3 starters aged 16 or 17 in a month of history, 15 aged 10 to 15 withheld with them:
    # the scaled error (its scale the history's month-to-month change) of both withheld.
    for series in ("starters/age=10_15", "starters/age=16_17"):
        assert regional[series]["scaled_error"] is None
        assert manager[series]["scaled_error"] is not None
        assert regional[series]["withheld"] == ACCURACY_WITHHELD
        for measure in ("mae", "bias", "coverage80", "coverage95"):
            assert regional[series][measure] == manager[series][measure]
    # 30 and 20 starters: shown as to managers.
    assert regional["starters/total"] == manager["starters/total"]
    assert manager["starters/total"]["bias"] == 10


def test_figures_of_the_history_in_notes_are_printed_c_to_a_regional_token(stored, client, tokens):
    series = {"series_id": f"{STOKE}/staying_put/stayed"}
    regional, manager = bearer(tokens["regional_wm"]), bearer(tokens["manager_stoke"])

    latest = client.get(f"{BASE}/latest", params=series, headers=regional).json()
    run = client.get(f"{BASE}/runs/{stored}", headers=regional).json()
    own = client.get(f"{BASE}/latest", params=series, headers=manager).json()

    shown = [
        "every figure is c: the forecast holds it, with no spread to estimate",
        "unusual figures treated as a one-off and damped for fitting "
        "(2025-03: c against about c expected; 2025-07: c against about c expected)",
        "only 12 months of history: seasonal pattern not estimated",
    ]
    assert latest["notes"] == shown and latest["withheld"] == NOTES_WITHHELD
    [in_run] = [r for r in run["results"] if r["series_id"] == series["series_id"]]
    assert in_run["notes"] == shown and in_run["withheld"] == NOTES_WITHHELD
    others = [r for r in run["results"] if r is not in_run and r["model"] == "drift"]
    assert others and all(r["withheld"] is None for r in others)
    # The forecast itself stays; the council's managers read the notes as written.
    assert latest["points"] == own["points"]
    assert own["notes"] == NOTES and own["withheld"] is None


def test_a_forecast_that_repeats_the_history_has_no_points_for_a_regional_token(
    stored, client, tokens
):
    series = {"series_id": f"{STOKE}/starters/age=16_17"}
    regional, manager = bearer(tokens["regional_wm"]), bearer(tokens["manager_stoke"])
    latest = client.get(f"{BASE}/latest", params=series, headers=regional).json()
    own = client.get(f"{BASE}/latest", params=series, headers=manager).json()
    # Seasonal naive's points are last year's actual counts: none to outside readers.
    assert latest["model"] == "seasonal_naive" and latest["points"] == []
    assert latest["withheld"] == COPY_WITHHELD
    assert len(own["points"]) == 2 and own["withheld"] is None
    run = client.get(f"{BASE}/runs/{stored}", headers=regional).json()
    [in_run] = [r for r in run["results"] if r["series_id"] == series["series_id"]]
    assert in_run["points"] == [] and in_run["withheld"] == COPY_WITHHELD


def test_a_month_is_withheld_with_the_parts_that_give_it_back():
    month = date(2026, 1, 1)
    actuals = {
        f"{STOKE}/starters/total": {month: 12.0},
        f"{STOKE}/starters/age=10_15": {month: 3.0},
        f"{STOKE}/starters/age=16_17": {month: 9.0},
        f"{STOKE}/staying_put/leavers": {month: 8.0},
        f"{STOKE}/staying_put/stayed": {month: 6.0},
        f"{STOKE}/enquiries/total": {month: 0.0},
    }

    hidden = hidden_months(actuals)

    # 3 of 12 starters aged 10 to 15: the 9 others with them, the total shown.
    assert hidden[f"{STOKE}/starters/age=10_15"] == {month}
    assert hidden[f"{STOKE}/starters/age=16_17"] == {month}
    assert f"{STOKE}/starters/total" not in hidden
    # 6 of 8 leavers stayed: 2 did not, which the 8 and the 6 would give back.
    assert month in hidden[f"{STOKE}/staying_put/stayed"]
    assert f"{STOKE}/enquiries/total" not in hidden  # none is no small count
