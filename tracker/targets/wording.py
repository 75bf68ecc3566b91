"""Targets in words: a value as people read it, what a target asks in one line, and the gap
between a value and the target in the metric's units."""

from __future__ import annotations

from datetime import date

from forecast.months import (
    month_start,
    year_label,
)
from tracker.targets import metrics
from tracker.targets.kinds import Band, Direction, Kind, TargetSpec
from tracker.targets.tables import Target


def format_value(value: float, percent: bool) -> str:
    """A metric's value as people read it: "57.8%" or "1,204"."""
    if percent:
        return f"{value:.1f}%"
    return f"{value:,.0f}"


def _amount(value: float, percent: bool) -> str:
    return f"{value:.1f}" if percent else f"{round(value):,}"


def gap_sentence(
    spec: TargetSpec,
    value: float,
    month: date,
    *,
    unit: str,
    percent: bool,
    basis: str,
    level: float | None = None,
) -> str | None:
    """The gap in plain units, e.g. "14 more children in in-house foster care by March 2026
    than the forecast median (200 against a target of 214)"; `basis` names what `value` is,
    `level` (when given) is the path's value it is held to instead of the target's."""
    short = spec.shortfall(value, month, level=level)
    if short is None:
        return None
    when = spec.when(month)
    shown = format_value(value, percent)
    amount = _amount(abs(short), percent)
    if isinstance(spec, Band):
        assert spec.lower is not None and spec.upper is not None
        band = f"{format_value(spec.lower, percent)} to {format_value(spec.upper, percent)}"
        if short <= 0:
            return f"inside the band of {band} {when} on the {basis} ({shown})"
        word = "more" if value < spec.lower else "fewer"
        return (
            f"{amount} {word} {unit} {when} than the {basis} to reach the band of {band} ({shown})"
        )
    if level is None:
        level = spec.threshold(month)
        figures = f"({shown} against a target of {format_value(level or 0.0, percent)})"
    else:
        figures = f"({shown} against {format_value(level, percent)} on the target path)"
    if float(amount.replace(",", "")) == 0:
        return f"level with the target {when} on the {basis} {figures}"
    if short < 0:
        return f"ahead by {amount} {unit} {when} on the {basis} {figures}"
    word = "fewer" if spec.direction is Direction.AT_MOST else "more"
    return f"{amount} {word} {unit} {when} than the {basis} {figures}"


def _figure(value: float | None, percent: bool) -> str:
    if value is None:
        return "?"
    return format_value(value, percent) if percent else f"{value:,.4g}"


def summary(row: Target) -> str:
    """What a target asks, in one line."""
    metric = metrics.get_metric(row.metric)
    label, percent = metric.label, metric.percent
    most = row.direction == Direction.AT_MOST.value

    def when(day: date | None) -> str:
        return f"{day:%-d %B %Y}" if day else "?"

    match Kind(row.kind):
        case Kind.COMPOUND_GROWTH:
            return (
                f"{label}: {row.annual_rate or 0:+g}% a year from "
                f"{_figure(row.baseline_value, percent)} on {when(row.baseline_date)} "
                f"to {when(row.target_date)}"
            )
        case Kind.LEVEL_BY_DATE:
            base, aim = row.baseline_value, row.target_value
            if base is not None and aim is not None and (base <= aim if most else base >= aim):
                return (
                    f"{label}: at {'most' if most else 'least'} {_figure(aim, percent)} "
                    f"by {when(row.target_date)}, already {_figure(base, percent)} on "
                    f"{when(row.baseline_date)}"
                )
            return (
                f"{label}: {'down' if most else 'up'} to {_figure(aim, percent)} "
                f"by {when(row.target_date)}, from {_figure(base, percent)} on "
                f"{when(row.baseline_date)}"
            )
        case Kind.ANNUAL_COUNT:
            first = year_label(row.start_date) if row.start_date else "?"
            last = year_label(month_start(row.target_date)) if row.target_date else "?"
            return (
                f"{label}: at {'most' if most else 'least'} "
                f"{_figure(row.target_value, percent)} a year (years ending 31 March), "
                f"{first} to {last}"
            )
        case Kind.FLOOR:
            level = row.upper if most else row.lower
            until = f" until {when(row.target_date)}" if row.target_date else ""
            return f"{label}: at {'most' if most else 'least'} {_figure(level, percent)}{until}"
        case Kind.BAND:
            until = f" until {when(row.target_date)}" if row.target_date else ""
            return (
                f"{label}: between {_figure(row.lower, percent)} and "
                f"{_figure(row.upper, percent)}{until}"
            )
    raise AssertionError(row.kind)
