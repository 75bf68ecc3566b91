"""Forecasts as readers outside the council (regional tokens) are shown them: the forecasts
(model estimates) stay, but no actual count from 1 to 4 of a children's or carers' series,
nor anything that gives one back, as DfE publishes council figures
(`tracker.core.disclosure`). The council's own managers keep everything.

Two things quote actuals beside a forecast. The accuracy of a past run: its bias is the mean
of forecast minus actual, so with the forecast it gives back the actuals' sum over the
months compared (one month, or a month as the difference of two runs' ranges); its error,
scaled error and coverage narrow the actual down too. They are withheld for a run and series
whose months compared hold a withheld count (the scaled error also when its history does:
its scale is the history's own month-to-month change). And the engine's notes, which quote
figures of the history ("every figure is 3"): those figures are printed "c".

A month's counts are withheld as in the children's reports: counts from 1 to 4, then others
of the same month where a total (the metric's total over its parts, those who left care over
those who stayed and the rest) would give one back. Every month of every series of a metric
is judged alike whatever is asked, so that no two answers differ by a withheld count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

import msgspec

from tracker.core.disclosure import WITHHELD, Line, withheld
from tracker.forecasting.results import RunResults, SeriesResult
from tracker.series.keys import TOTAL, parse_series_id

Cell = tuple[str, date]

ACCURACY_WITHHELD = (
    "error, bias and coverage are withheld (null) where a month compared holds a withheld "
    "count (the scaled error also where its history does), as they would give it back: " + WITHHELD
)
NOTES_WITHHELD = (
    "figures of the history quoted in the notes are printed c, as DfE prints a withheld count"
)

WHOLES = {"staying_put": ("leavers", "stayed")}
"""Series of a metric that count part of another series (those who stayed, of the leavers):
the whole, the part, and the rest a cell of its own."""

# The engine's notes that quote a figure of the history (forecast/prepare.py).
_FIGURES = (
    (re.compile(r"only one figure \([^)]*\)"), "only one figure (c)"),
    (re.compile(r"every figure is (?!zero\b)-?\d[\d.]*"), "every figure is c"),
    (
        re.compile(r": -?\d[\d.]* against about -?\d[\d.]* expected"),
        ": c against about c expected",
    ),
)


def hidden_months(actuals: Mapping[str, Mapping[date, float | None]]) -> dict[str, set[date]]:
    """The months withheld of each series (by id), from every series of the metrics asked."""
    cells: dict[Cell, int | None] = {}
    for series_id, values in actuals.items():
        for month, value in values.items():
            cells[(series_id, month)] = None if value is None else abs(round(value))
    months = {month for _, month in cells}
    lines: list[Line[Cell]] = []
    groups: dict[tuple[str, str, str], list[str]] = {}
    for series_id in actuals:
        code, metric, breakdown = parse_series_id(series_id)
        prefix, sep, _ = breakdown.partition("=")
        if sep:
            groups.setdefault((code, metric, prefix), []).append(series_id)
    for (code, metric, _), parts in groups.items():
        total = f"{code}/{metric}/{TOTAL}"
        if total in actuals:
            lines += [Line((total, m), tuple((p, m) for p in parts)) for m in months]
    for series_id in actuals:
        code, metric, breakdown = parse_series_id(series_id)
        whole, part = WHOLES.get(metric, ("", ""))
        part_id = f"{code}/{metric}/{part}"
        if breakdown != whole or part_id not in actuals:
            continue
        rest = f"{code}/{metric}/{whole}-{part}"
        for m in months:
            a, b = cells.get((series_id, m)), cells.get((part_id, m))
            cells[(rest, m)] = a - b if a is not None and b is not None else None
            lines.append(Line((series_id, m), ((part_id, m), (rest, m))))
    hidden: dict[str, set[date]] = {}
    for series_id, month in withheld(cells, lines):
        hidden.setdefault(series_id, set()).add(month)
    return hidden


COPIES = frozenset({"seasonal_naive", "naive", "mean"})
"""Models whose forecast repeats figures of the history (the same month a year before, the
last month, the mean of the history): their points are the actuals themselves."""
COPY_WITHHELD = (
    "the forecast is withheld (no points): its model repeats figures of the history, which "
    "would show actual counts that may be under 5"
)


def notes(result: SeriesResult) -> SeriesResult:
    """A forecast as readers outside the council see it: the figures of the history its notes
    quote printed "c", and no points at all where its model repeats the history (`COPIES`)."""
    shown = []
    for note in result.notes:
        for pattern, replacement in _FIGURES:
            note = pattern.sub(replacement, note)
        shown.append(note)
    if result.model in COPIES:
        return msgspec.structs.replace(
            result, notes=shown, points=[], paths=None, withheld=COPY_WITHHELD
        )
    if shown == result.notes:
        return result
    return msgspec.structs.replace(result, notes=shown, withheld=NOTES_WITHHELD)


def run_notes(run: RunResults) -> RunResults:
    """A run's forecasts, each with `notes` applied."""
    return msgspec.structs.replace(run, results=[notes(r) for r in run.results])
