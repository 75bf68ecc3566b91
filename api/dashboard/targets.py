"""The targets page: each strategy target with its status, the chance of meeting it, the gap
in words, and its trajectory drawn (actuals, the forecast's median with its 80% and 95%
ranges, the target's path and milestones), with the work-back to recruitment where the
target is one recruiting carers moves."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from api.dashboard import charts
from api.dashboard.layout import Action, Page, Section
from api.dashboard.scope import Scope
from api.dashboard.tables import (
    MISSING,
    Chart,
    Table,
    Tile,
    decimal,
    display,
    label,
    long_date,
    percent,
    table,
)
from tracker.children.mapping import Mapping
from tracker.core.db import Database
from tracker.core.table_export import CellFormat
from tracker.enquiries.timeliness import LONDON
from tracker.targets.stored import Stored, served
from tracker.targets.trajectories import Trajectory
from tracker.targets.workback import RateUsed

C = CellFormat
PATH = "/dashboard/targets"
# Work-back rates that are counts per something, not shares.
COUNT_RATES = {"children_per_household": "children per household"}
STATUS_WORDS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_forecast": "No forecast yet",
    "met": "Met",
    "missed": "Missed",
}
STATUS_TONES = {
    "on_track": "good",
    "met": "good",
    "at_risk": "warning",
    "off_track": "bad",
    "missed": "bad",
    "no_forecast": "neutral",
}
BASIS_WORDS = {
    "actual": "actual",
    "forecast": "forecast",
    "beyond_forecast": "beyond the forecast",
    "no_forecast": "no forecast",
}


def status_counts(
    session: Session, code: str, today: date, mapping: Mapping, database: Database | None = None
) -> dict[str, int]:
    """How many of the authority's targets stand at each status (stored trajectories)."""
    found = served(session, code, today=today, mapping=mapping, database=database)
    counted = Counter(s.trajectory.status.value for s in found)
    return {status: counted[status] for status in STATUS_WORDS if counted[status]}


def computed_words(stored: list[Stored]) -> str:
    """When the trajectories shown were computed (the oldest of them), in London time."""
    oldest = min(s.computed_at for s in stored).astimezone(LONDON)
    return f"Computed at {oldest:%H:%M} on {long_date(oldest.date())}."


def _unit(t: Trajectory, value: float | None) -> str:
    if value is None:
        return MISSING
    if t.metric.percent:
        return f"{display(round(value, 1), C.DECIMAL)}%"
    return display(round(value, 1), C.DECIMAL)


def _chart(t: Trajectory) -> Chart:
    months = [f"{r.month:%Y-%m-%d}" for r in t.months]
    traces: list[dict[str, Any]] = []
    if any(r.median is not None for r in t.months):
        traces += charts.band(
            months, [r.lo95 for r in t.months], [r.hi95 for r in t.months],
            "95% range of the forecast", charts.BAND_95,
        )  # fmt: skip
        traces += charts.band(
            months, [r.lo80 for r in t.months], [r.hi80 for r in t.months],
            "80% range of the forecast", charts.BAND_80,
        )  # fmt: skip
        traces.append(
            charts.line(months, [r.median for r in t.months], "Forecast (median)", charts.FORECAST)
        )
    traces.append(
        charts.line(months, [r.target for r in t.months], "Target path", charts.TARGET, dash="dash")
    )
    if any(r.target_upper is not None for r in t.months):
        traces.append(
            charts.line(
                months,
                [r.target_upper for r in t.months],
                "Target path (upper)",
                charts.TARGET,
                dash="dash",
            )
        )
    traces.append(
        charts.line(
            months, [r.actual for r in t.months], "Actual", charts.ACTUAL, markers=True, width=2.5
        )
    )
    shown = [m for m in t.milestones if m.target is not None]
    if shown:
        traces.append(
            charts.points(
                [f"{m.date:%Y-%m-01}" for m in shown],
                [m.target for m in shown],
                "Milestones",
                charts.TARGET,
                text=[
                    f"{m.label}: target {_unit(t, m.target)}"
                    + (f", chance {percent(m.probability)}" if m.probability is not None else "")
                    for m in shown
                ],
            )
        )
    axis = t.metric.label if t.metric.percent else t.metric.unit
    layout = charts.layout(y_title=_capital(axis), height=380, y_from_zero=False)
    if t.metric.percent:
        layout["yaxis"]["ticksuffix"] = "%"
    return Chart(
        id=f"chart-target-{t.target.id}",
        title=f"{_capital(t.metric.label)}: actuals, forecast and the target's path",
        figure=charts.figure(traces, layout),
        summary=t.gap or "",
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _milestones(t: Trajectory) -> Table:
    return table(
        f"target-{t.target.id}-milestones",
        "Milestones",
        [
            ("milestone", "Milestone", C.TEXT),
            ("date", "Date", C.DATE),
            ("target", "Target", C.DECIMAL),
            ("basis", "Judged on", C.TEXT),
            ("actual", "Actual", C.DECIMAL),
            ("met", "Met", C.TEXT),
            ("median", "Forecast (median)", C.DECIMAL),
            ("probability", "Chance of meeting it", C.SHARE),
        ],
        [
            [
                m.label,
                m.date,
                m.target,
                BASIS_WORDS.get(m.basis, m.basis),
                m.actual,
                None if m.met is None else ("yes" if m.met else "no"),
                m.median,
                m.probability,
            ]
            for m in t.milestones
        ],
        empty="This target has no milestone.",
    )


def _months(t: Trajectory) -> Table:
    return table(
        f"target-{t.target.id}-months",
        "Month by month",
        [
            ("month", "Month", C.MONTH),
            ("target", "Target", C.DECIMAL),
            ("actual", "Actual", C.DECIMAL),
            ("median", "Forecast (median)", C.DECIMAL),
            ("lo80", "80% low", C.DECIMAL),
            ("hi80", "80% high", C.DECIMAL),
            ("lo95", "95% low", C.DECIMAL),
            ("hi95", "95% high", C.DECIMAL),
        ],
        [
            [r.month, r.target, r.actual, r.median, r.lo80, r.hi80, r.lo95, r.hi95]
            for r in t.months
            if r.target is not None or r.actual is not None or r.median is not None
        ],
        collapsed=True,
    )


def _rates(t: Trajectory) -> Table | None:
    w = t.workback
    if w is None or not w.rates:
        return None
    return table(
        f"target-{t.target.id}-rates",
        "Rates the work-back uses",
        [
            ("rate", "Rate", C.TEXT),
            ("value", "Value", C.DECIMAL),
            ("reads", "Reads as", C.TEXT),
            ("source", "Whose figure", C.TEXT),
            ("basis", "What it rests on", C.TEXT),
        ],
        [[label(r.name), r.value, rate_words(r), label(str(r.source)), r.basis] for r in w.rates],
    )


def rate_words(rate: RateUsed) -> str:
    """A work-back rate as people read it: a share as a percentage, a count per household
    as a number ("1.25 children per household", never "125%")."""
    if rate.name in COUNT_RATES:
        return f"{decimal(rate.value)} {COUNT_RATES[rate.name]}"
    return percent(rate.value)


def _workback(t: Trajectory) -> Table | None:
    w = t.workback
    if w is None:
        return None
    rows: list[list[object]] = [
        ["Enquiries a year", w.enquiries_per_year, w.enquiries_per_year_exact],
        ["Applications a year", w.applications_per_year, w.applications_per_year_exact],
        ["Approvals a year", w.approvals_per_year, w.approvals_per_year_exact],
    ]
    if w.households_needed is not None:
        rows.append(["More households needed in all", None, w.households_needed])
    if w.expected_deregistrations_per_year is not None:
        rows.append(
            ["Households expected to leave a year", None, w.expected_deregistrations_per_year]
        )
    return table(
        f"target-{t.target.id}-workback",
        "What recruiting must deliver",
        [
            ("measure", "Measure", C.TEXT),
            ("needed", "Needed (whole)", C.INTEGER),
            ("exact", "Worked out", C.DECIMAL),
        ],
        rows,
        note=" ".join(w.explanation) or None,
    )


def _sentence(text: str) -> str:
    """The text with a capital first letter and a full stop."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _section(t: Trajectory, scope: Scope) -> Section:
    status = t.status.value
    last = next((r for r in reversed(t.months) if r.actual is not None), None)
    tiles = [
        Tile(
            label="Chance of meeting it",
            value=percent(t.probability),
            detail=f"by {long_date(t.probability_at)}" if t.probability_at else "",
            tone=STATUS_TONES.get(status, "neutral"),
        ),
        Tile(
            label=f"Latest actual ({last.month:%B %Y})" if last else "Latest actual",
            value=_unit(t, last.actual if last else None),
            detail=f"target then {_unit(t, last.target)}"
            if last and last.target is not None
            else "",
        ),
    ]
    if t.forecast is not None:
        tiles.append(
            Tile(
                label="Forecast",
                value="fitted now" if t.forecast.fitted_on_demand else f"run {t.forecast.run_id}",
                detail=f"{label(t.forecast.model)}; figures to {t.forecast.cutoff:%B %Y}",
            )
        )
    parts = (_milestones(t), _workback(t), _rates(t), _months(t))
    tables = [part for part in parts if part is not None]
    return Section(
        title=t.target.name,
        anchor=f"target-{t.target.id}",
        intro=_sentence(t.target.summary) + (f" {_sentence(t.gap)}" if t.gap else ""),
        badge=STATUS_WORDS.get(status, label(status)),
        badge_tone=STATUS_TONES.get(status, "neutral"),
        tiles=tiles,
        charts=[_chart(t)],
        tables=tables,
        notes=[f"Status: {t.status_rule}.", *t.notes],
        actions=[
            Action(f"Change {t.target.name}", scope.link(f"{PATH}/{t.target.id}/edit")),
            Action(
                f"Delete {t.target.name}", scope.link(f"/dashboard/delete/targets/{t.target.id}")
            ),
        ],
    )


def build(
    session: Session,
    scope: Scope,
    today: date,
    mapping: Mapping,
    database: Database | None = None,
) -> Page:
    """The targets page of the authority in scope (stored trajectories; those no longer valid
    are computed and stored apart in `database`)."""
    code = scope.authority_code
    assert code is not None
    stored = served(session, code, today=today, mapping=mapping, database=database)
    found = [s.trajectory for s in stored]
    new = [Action("Set a target", scope.link(f"{PATH}/new"))]
    if not found:
        return Page(
            key="targets",
            title="Targets",
            intro=f"{scope.where}: no target has been set yet.",
            actions=new,
        )
    counted = Counter(t.status.value for t in found)
    summary = table(
        "targets",
        "Every target",
        [
            ("target", "Target", C.TEXT),
            ("status", "Status", C.TEXT),
            ("probability", "Chance of meeting it", C.SHARE),
            ("by", "By", C.DATE),
            ("gap", "Where it stands", C.TEXT),
        ],
        [
            [
                t.target.name,
                STATUS_WORDS.get(t.status.value, t.status.value),
                t.probability,
                t.probability_at,
                t.gap,
            ]
            for t in found
        ],
    )
    return Page(
        key="targets",
        title="Targets",
        intro=f"{scope.where}: each strategy target against its actuals and the latest "
        f"forecast, on {long_date(today)}. {computed_words(stored)}",
        actions=new,
        tiles=[
            Tile(
                label=STATUS_WORDS[status],
                value=display(counted[status]),
                tone=STATUS_TONES[status],
            )
            for status in STATUS_WORDS
            if counted[status]
        ],
        sections=[
            Section(title="All targets", anchor="all", tables=[summary]),
            *(_section(t, scope) for t in found),
        ],
    )
