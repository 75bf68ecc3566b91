"""The forecasts page: how past forecast runs (vintages) compare with what happened, and one
chosen series drawn with its actuals, each past run's forecast and the latest forecast's
80% and 95% intervals, with why its model was chosen in plain words (and a warning whenever
that model did worse than seasonal naive in its backtest)."""

from __future__ import annotations

from datetime import date
from statistics import fmean

import msgspec
from sqlalchemy.orm import Session

from api.dashboard import charts
from api.dashboard.layout import Choice, Chooser, Page, Section
from api.dashboard.scope import Scope
from api.dashboard.tables import Chart, Tile, display, label, long_date, percent, table
from forecast.months import add_months
from forecast.selection import label as model_name
from forecast.types import CandidateScore
from tracker.children.mapping import Mapping
from tracker.core.table_export import CellFormat
from tracker.forecasting.accuracy import VintageAccuracy, vintage_accuracy
from tracker.forecasting.results import latest_forecast, latest_series, run_results
from tracker.series.keys import parse_series_id
from tracker.series.registry import series_for_authority
from tracker.series.window import last_complete_month

C = CellFormat
VINTAGES_DRAWN = 5
ACTUAL_MONTHS_DRAWN = 36
PREFERRED = ("enquiries/total", "approvals/total", "households/total")
CHOSEN = "chosen by backtest: "
"""How the engine's note on its choice begins."""
BASELINES = ("seasonal_naive", "naive")
"""The yardstick's names among the candidates (plain naive under two years of history)."""


def model_label(model: str) -> str:
    """A model's name for the page."""
    name = model_name(model)
    return name[:1].upper() + name[1:]


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """Why a forecast's model was chosen, and how it did against seasonal naive."""

    text: str
    badge: str | None
    tone: str
    reason_note: str | None
    """The engine's own note on its choice (shown here rather than among the notes)."""


def why_chosen(model: str, candidates: list[CandidateScore], notes: list[str]) -> Explanation:
    """Why `model` made the forecast, in plain words; a warning when its backtest error was
    higher than seasonal naive's, saying so even where the run itself gave no reason."""
    reason = next((n for n in notes if n.startswith(CHOSEN)), None)
    if reason is not None:
        name, why = model_label(model), reason.removeprefix(CHOSEN)
        # The engine's note names the model first ("Theta, because ..."): said once here.
        if why.lower().startswith(f"{name.lower()}, "):
            why = why[len(name) + 2 :]
        text = f"Why {name}: {why}."
    else:
        text = f"{model_label(model)} made this forecast without a backtest (see the notes)."
    scores = {c.model: c.mase for c in candidates}
    ours = scores.get(model)
    base_model = next((m for m in BASELINES if scores.get(m) is not None), None)
    base = scores.get(base_model) if base_model else None
    if ours is None or base is None:
        return Explanation(text=text, badge=None, tone="neutral", reason_note=reason)
    if model in BASELINES:
        return Explanation(
            text=text, badge="The yardstick itself: no model beat it clearly", tone="neutral",
            reason_note=reason,
        )  # fmt: skip
    if ours <= base:
        return Explanation(
            text=text, badge="Beat seasonal naive in the backtest", tone="good", reason_note=reason
        )
    text += (
        f" Its backtest error ({ours:.2f}) was higher than seasonal naive's ({base:.2f}): in the "
        "backtest it did worse than simply repeating last year's figures."
    )
    if reason is None or "did better" not in reason:
        text += " The run that made it gave no reason for preferring it: treat it with care."
    return Explanation(
        text=text, badge="Did worse than seasonal naive in the backtest", tone="warning",
        reason_note=reason,
    )  # fmt: skip


def series_label(series_id: str) -> str:
    """ "E06000021/children_in_care/category=ifa_foster" -> "Children in care: Independent
    fostering agency"; the breakdown's value in the pages' words, never its code."""
    _, metric, breakdown = parse_series_id(series_id)
    name = label(metric)
    if breakdown in ("", "total"):
        return name
    return f"{name}: {label(breakdown.partition('=')[2] or breakdown)}"


def _chosen(series_ids: list[str], requested: str | None) -> str | None:
    if requested in series_ids:
        return requested
    for suffix in PREFERRED:
        for series_id in series_ids:
            if series_id.endswith("/" + suffix):
                return series_id
    return series_ids[0] if series_ids else None


def _summary_rows(accuracy: list[VintageAccuracy]) -> list[list[object]]:
    by_series: dict[str, list[VintageAccuracy]] = {}
    for row in accuracy:
        by_series.setdefault(row.series_id, []).append(row)
    rows = []
    for series_id, vintages in sorted(by_series.items()):
        scaled = [v.scaled_error for v in vintages if v.scaled_error is not None]
        rows.append(
            [
                series_label(series_id),
                len(vintages),
                sum(v.months_compared for v in vintages),
                fmean(scaled) if scaled else None,
                fmean(v.coverage80 for v in vintages),
                fmean(v.coverage95 for v in vintages),
            ]
        )
    return rows


def build(
    session: Session, scope: Scope, today: date, mapping: Mapping, requested: str | None
) -> Page:
    """The forecasts page of the authority in scope, drawing the requested series."""
    code = scope.authority_code
    assert code is not None
    available = latest_series(session, code)
    ids = [s.series_id for s in available]
    chosen = _chosen(ids, requested)
    if chosen is None:
        return Page(
            key="forecasts",
            title="Forecasts",
            intro=f"{scope.where}: no forecast has been run yet.",
            notes=[
                "Forecasts are refreshed on the 1st of each month at 02:00 (the schedule is "
                "configurable), or when a manager starts a run through the API "
                "(POST /api/v1/authorities/{code}/forecasts/runs)."
            ],
        )
    cutoff = last_complete_month(today)
    accuracy = vintage_accuracy(session, code, None, cutoff=cutoff, mapping=mapping)
    mine = [a for a in accuracy if a.series_id == chosen]
    latest = latest_forecast(session, code, chosen)
    _, metric, _ = parse_series_id(chosen)
    actual_series = next(
        (
            s
            for s in series_for_authority(session, code, cutoff, metrics={metric}, mapping=mapping)
            if s.series_id == chosen
        ),
        None,
    )
    traces: list[dict[str, object]] = []
    months_x = [f"{p.month:%Y-%m-%d}" for p in latest.points]
    traces += charts.band(
        months_x, [p.lo95 for p in latest.points], [p.hi95 for p in latest.points],
        "95% interval", charts.BAND_95,
    )  # fmt: skip
    traces += charts.band(
        months_x, [p.lo80 for p in latest.points], [p.hi80 for p in latest.points],
        "80% interval", charts.BAND_80,
    )  # fmt: skip
    earliest_drawn: date | None = None
    if actual_series is not None:
        values = actual_series.values[-ACTUAL_MONTHS_DRAWN:]
        first = add_months(actual_series.start, len(actual_series.values) - len(values))
        earliest_drawn = first
        traces.append(
            charts.line(
                [f"{add_months(first, i):%Y-%m-%d}" for i in range(len(values))],
                values,
                "Actual",
                charts.ACTUAL,
                markers=True,
            )
        )
    past_runs = sorted({a.run_id for a in mine} - {latest.run_id})[-VINTAGES_DRAWN:]
    for position, run_id in enumerate(past_runs):
        result = next(
            (r for r in run_results(session, code, run_id).results if r.series_id == chosen), None
        )
        if result is None:
            continue
        points = [p for p in result.points if earliest_drawn is None or p.month >= earliest_drawn]
        traces.append(
            charts.line(
                [f"{p.month:%Y-%m-%d}" for p in points],
                [p.mean for p in points],
                f"Forecast from {result.cutoff:%b %Y}",
                charts.VINTAGES[position % len(charts.VINTAGES)],
                dash="dash",
                width=1.8,
            )
        )
    traces.append(
        charts.line(
            months_x,
            [p.mean for p in latest.points],
            f"Latest forecast (from {latest.cutoff:%b %Y})",
            charts.FORECAST,
            width=3,
        )
    )
    chosen_label = series_label(chosen)
    chart = Chart(
        id="chart-forecast",
        title=f"{chosen_label}: actuals, past forecasts and the latest forecast",
        figure=charts.figure(traces, charts.layout(y_title=chosen_label, height=400)),
        summary="Shaded: the range the latest forecast expects 8 times in 10 (darker) and "
        "19 times in 20 (lighter). Dashed lines: what earlier runs forecast.",
    )
    vintages = table(
        "accuracy",
        f"{chosen_label}: each past run against what happened",
        [
            ("run_id", "Run", C.IDENTIFIER),
            ("run_created_at", "Run on", C.DATE),
            ("cutoff", "Data up to", C.MONTH),
            ("model", "Model", C.TEXT),
            ("months_compared", "Months compared", C.INTEGER),
            ("mae", "Mean absolute error", C.DECIMAL),
            ("scaled_error", "Error against repeating last year", C.DECIMAL),
            ("bias", "Bias (forecast minus actual)", C.DECIMAL),
            ("coverage80", "Actuals inside 80% interval", C.SHARE),
            ("coverage95", "Actuals inside 95% interval", C.SHARE),
        ],
        [
            [
                a.run_id,
                a.run_created_at.date(),
                a.cutoff,
                model_label(a.model),
                a.months_compared,
                a.mae,
                a.scaled_error,
                a.bias,
                a.coverage80,
                a.coverage95,
            ]
            for a in sorted(mine, key=lambda a: a.run_id, reverse=True)
        ],
        note="Scaled error below 1 means the forecast beat simply repeating last year's figure.",
        empty="No run of this series is old enough to compare with actuals yet.",
    )
    summary = table(
        "accuracy-summary",
        "Every series: past runs against actuals",
        [
            ("series", "Series", C.TEXT),
            ("runs", "Runs compared", C.INTEGER),
            ("months", "Months compared", C.INTEGER),
            ("mean_scaled_error", "Mean scaled error", C.DECIMAL),
            ("coverage80", "Inside 80% interval", C.SHARE),
            ("coverage95", "Inside 95% interval", C.SHARE),
        ],
        _summary_rows(accuracy),
        empty="No past run can be compared with actuals yet.",
    )
    forecast_table = table(
        "latest",
        f"{chosen_label}: the latest forecast",
        [
            ("month", "Month", C.MONTH),
            ("mean", "Expected", C.DECIMAL),
            ("lo80", "80% low", C.DECIMAL),
            ("hi80", "80% high", C.DECIMAL),
            ("lo95", "95% low", C.DECIMAL),
            ("hi95", "95% high", C.DECIMAL),
        ],
        [[p.month, p.mean, p.lo80, p.hi80, p.lo95, p.hi95] for p in latest.points],
    )
    candidates = table(
        "models",
        "Models tried for the latest forecast",
        [
            ("model", "Model", C.TEXT),
            ("mase", "Backtest error (MASE)", C.DECIMAL),
            ("note", "Note", C.TEXT),
        ],
        [[model_label(c.model), c.mase, c.note] for c in latest.candidates],
        note="Backtest error: the forecasts' mean absolute error over the series' own past, "
        "scaled so that 1.0 is as good as repeating the same month of last year; lower is "
        "better.",
    )
    why = why_chosen(latest.model, latest.candidates, latest.notes)
    covered = [a.coverage80 for a in accuracy]
    tiles = [
        Tile(label="Series forecast", value=display(len(ids))),
        Tile(
            label="Latest run",
            value=long_date(max(s.run_created_at for s in available).date()),
            detail=f"data up to {latest.cutoff:%B %Y}",
        ),
        Tile(
            label="Past runs compared",
            value=display(len({a.run_id for a in accuracy})),
            detail=f"{display(len(accuracy))} series forecasts with actuals since",
        ),
        Tile(
            label="Actuals inside the 80% interval",
            value=percent(fmean(covered) if covered else None),
            detail="about 80% is right",
        ),
    ]
    return Page(
        key="forecasts",
        title="Forecasts",
        intro=f"{scope.where}: forecasts against what happened, with actuals up to the end "
        f"of {cutoff:%B %Y}.",
        tiles=tiles,
        chooser=Chooser(
            name="series",
            label="Series",
            options=[Choice(i, series_label(i)) for i in ids],
            selected=chosen,
        ),
        sections=[
            Section(
                title=chosen_label,
                intro=why.text,
                anchor="series",
                badge=why.badge,
                badge_tone=why.tone,
                charts=[chart],
                tables=[vintages, forecast_table, candidates],
                notes=[n for n in latest.notes if n != why.reason_note],
            ),
            Section(title="All series", anchor="all", tables=[summary]),
        ],
    )
