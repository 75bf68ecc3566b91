"""Plotly figure specifications as plain JSON: lines, bars, bands and one house layout.

The page embeds each figure as JSON and the dashboard's own script draws it with the
Plotly.js the service serves, so charts draw with no internet access. Plotly reads tags in
trace names, labels and categories (`<a href>` becomes a live link), so every text people
typed (a scenario's or campaign's name) goes in escaped and shows as written.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

# Colours chosen to stay apart for the common kinds of colour blindness.
THIS_YEAR = "#1d70b8"
LAST_YEAR = "#7a7f87"
TARGET = "#d4351c"
ACTUAL = "#0b0c0c"
FORECAST = "#5b2c91"
BAND_80 = "rgba(91, 44, 145, 0.28)"
BAND_95 = "rgba(91, 44, 145, 0.12)"
GOOD = "#00703c"
WARNING = "#f47738"
PALETTE = ("#1d70b8", "#f47738", "#00703c", "#5b2c91", "#d4351c", "#28a197", "#7a7f87", "#b58840")
# Past forecasts: every colour but the latest forecast's purple.
VINTAGES = ("#f47738", "#28a197", "#b58840", "#1d70b8", "#d4351c")
# About how many pixels one character of the axis titles' 14px font takes.
CHARACTER_PX = 8
FONT = "arial, sans-serif"


def plain(value: Any) -> Any:
    """Text shown as written: Plotly turns entities back into characters, never into tags."""
    return html.escape(value, quote=False) if isinstance(value, str) else value


def layout(
    *,
    y_title: str = "",
    x_title: str = "",
    y_format: str | None = None,
    y_prefix: str | None = None,
    height: int = 340,
    barmode: str | None = None,
    y_from_zero: bool = True,
    horizontal_bars: bool = False,
) -> dict[str, Any]:
    """The house layout: plain background, legend above, readable axis titles (a long value
    axis title is wrapped onto lines that fit the chart's height)."""
    value_span = (height - 120) if not horizontal_bars else 900
    y_axis: dict[str, Any] = {
        "title": {"text": wrap_title(y_title, max(12, value_span // CHARACTER_PX))},
        "gridcolor": "#e5e6e7",
        "zeroline": False,
        "automargin": True,
    }
    if y_format:
        y_axis["tickformat"] = y_format
    if y_prefix:
        y_axis["tickprefix"] = y_prefix
    if y_from_zero:
        y_axis["rangemode"] = "tozero"
    x_axis: dict[str, Any] = {"title": {"text": x_title}, "automargin": True, "showgrid": False}
    result: dict[str, Any] = {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
        "font": {"family": FONT, "size": 14, "color": "#0b0c0c"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "hovermode": "x unified" if not horizontal_bars else "closest",
        "xaxis": y_axis if horizontal_bars else x_axis,
        "yaxis": x_axis if horizontal_bars else y_axis,
    }
    if horizontal_bars:
        result["yaxis"] = {**x_axis, "autorange": "reversed"}
        result["legend"]["traceorder"] = "normal"
    if barmode:
        result["barmode"] = barmode
    return result


def wrap_title(text: str, width: int) -> str:
    """An axis title broken into lines of at most `width` characters (Plotly's <br>),
    at spaces; a word longer than a line stays whole."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def line(
    x: Sequence[Any],
    y: Sequence[float | None],
    name: str,
    colour: str,
    *,
    dash: str | None = None,
    width: float = 2.5,
    markers: bool = False,
    hover: str | None = None,
) -> dict[str, Any]:
    """A line (None leaves a gap)."""
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines+markers" if markers else "lines",
        "x": list(x),
        "y": list(y),
        "name": plain(name),
        "line": {"color": colour, "width": width, **({"dash": dash} if dash else {})},
    }
    if markers:
        trace["marker"] = {"size": 7, "color": colour}
    if hover:
        trace["hovertemplate"] = hover
    return trace


def points(
    x: Sequence[Any],
    y: Sequence[float | None],
    name: str,
    colour: str,
    *,
    symbol: str = "diamond",
    text: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Markers only (milestones, say)."""
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "markers",
        "x": list(x),
        "y": list(y),
        "name": plain(name),
        "marker": {"size": 11, "color": colour, "symbol": symbol, "line": {"width": 1}},
    }
    if text is not None:
        trace["text"] = [plain(t) for t in text]
        trace["hovertemplate"] = "%{text}<extra></extra>"
    return trace


def band(
    x: Sequence[Any],
    low: Sequence[float | None],
    high: Sequence[float | None],
    name: str,
    colour: str,
) -> list[dict[str, Any]]:
    """A shaded interval between two lines (drawn as two traces, the second filled)."""
    edge = {"width": 0, "color": colour}
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "x": list(x),
            "y": list(low),
            "line": edge,
            "showlegend": False,
            "hoverinfo": "skip",
            "name": plain(f"{name} (low)"),
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": list(x),
            "y": list(high),
            "fill": "tonexty",
            "fillcolor": colour,
            "line": edge,
            "name": plain(name),
            "hoverinfo": "skip",
        },
    ]


def bars(
    x: Sequence[Any],
    y: Sequence[float | None],
    name: str,
    colour: str,
    *,
    horizontal: bool = False,
    hover: str | None = None,
) -> dict[str, Any]:
    """Bars (horizontal ones take the categories on y)."""
    categories = [plain(c) for c in x]
    trace: dict[str, Any] = {
        "type": "bar",
        "x": list(y) if horizontal else categories,
        "y": categories if horizontal else list(y),
        "name": plain(name),
        "marker": {"color": colour},
    }
    if horizontal:
        trace["orientation"] = "h"
    if hover:
        trace["hovertemplate"] = hover
    return trace


def figure(traces: Sequence[dict[str, Any]], figure_layout: dict[str, Any]) -> dict[str, Any]:
    """A figure: its traces and layout."""
    return {"data": list(traces), "layout": figure_layout}
