"""What a dashboard page holds: headline tiles, then sections of charts and tables.

Every page is built by one function of its own module from the tracker's figures and drawn
by one template, so the same tables serve the page and its CSV and Excel downloads.
"""

from __future__ import annotations

from datetime import date

import msgspec
from dateutil.relativedelta import relativedelta

from api.dashboard.tables import Chart, Table, Tile
from forecast.months import year_label, year_start


class Choice(msgspec.Struct, frozen=True):
    """One option of a chooser."""

    value: str
    label: str


class Chooser(msgspec.Struct, frozen=True, kw_only=True):
    """A GET form that picks what the page shows (a forecast series, say)."""

    name: str
    label: str
    options: list[Choice]
    selected: str


class Action(msgspec.Struct, frozen=True):
    """A link to a task (a form) the page offers."""

    label: str
    href: str


class Picker(msgspec.Struct, frozen=True, kw_only=True):
    """A GET form of checkboxes that picks several things to show (scenarios to compare)."""

    name: str
    legend: str
    hint: str
    options: list[Choice]
    selected: list[str]
    button: str
    error: str | None = None
    """Why the choice made cannot be shown (the page's error summary and the checkboxes'
    error message say so; `selected` keeps what was chosen)."""

    def items(self) -> list[dict[str, object]]:
        """The checkboxes, the selected ones ticked."""
        return [
            {"value": o.value, "text": o.label, "checked": o.value in self.selected}
            for o in self.options
        ]


class Section(msgspec.Struct, frozen=True, kw_only=True):
    """A titled part of a page."""

    title: str
    intro: str = ""
    anchor: str = ""
    badge: str | None = None
    badge_tone: str = "neutral"
    tiles: list[Tile] = msgspec.field(default_factory=list)
    charts: list[Chart] = msgspec.field(default_factory=list)
    tables: list[Table] = msgspec.field(default_factory=list)
    notes: list[str] = msgspec.field(default_factory=list)
    actions: list[Action] = msgspec.field(default_factory=list)
    picker: Picker | None = None


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """A whole page."""

    key: str
    title: str
    intro: str = ""
    tiles: list[Tile] = msgspec.field(default_factory=list)
    sections: list[Section] = msgspec.field(default_factory=list)
    chooser: Chooser | None = None
    notes: list[str] = msgspec.field(default_factory=list)
    actions: list[Action] = msgspec.field(default_factory=list)

    def tables(self) -> dict[str, Table]:
        """Every table of the page by name (what a download asks for)."""
        return {t.name: t for s in self.sections for t in s.tables}

    def charts(self) -> list[Chart]:
        """Every chart of the page."""
        return [c for s in self.sections for c in s.charts]

    def errors(self) -> list[dict[str, str]]:
        """The error summary's list: each picker's error, linking to its first checkbox."""
        return [
            {"text": s.picker.error, "href": f"#{s.picker.name}"}
            for s in self.sections
            if s.picker is not None and s.picker.error
        ]


class Period(msgspec.Struct, frozen=True):
    """A span of days, both ends included."""

    start: date
    end: date


def this_and_last_year(today: date) -> tuple[Period, Period]:
    """This year to date, and the same span a year earlier."""
    start = year_start(today)
    year = relativedelta(years=1)
    return Period(start, today), Period(start - year, today - year)


def year_chooser(today: date, selected: int) -> Chooser:
    """A choice of year ending 31 March: this one (to date) and the ten before it."""
    current = year_start(today).year
    options = [
        Choice(str(y), year_label(date(y, 4, 1)) + (" (to date)" if y == current else ""))
        for y in range(current, current - 11, -1)
    ]
    return Chooser(
        name="year", label="Year (April to March)", options=options, selected=str(selected)
    )


def day_chooser(today: date, selected: date) -> Chooser:
    """A choice of day to see figures as at: today, the ends of the last twelve months and
    the 31 Marches of the five years before them (any other day can be given as ?as_at=)."""
    ends = [today.replace(day=1) - relativedelta(days=1)]
    for _ in range(11):
        ends.append(ends[-1].replace(day=1) - relativedelta(days=1))
    marches = [date(y, 3, 31) for y in range(ends[-1].year, ends[-1].year - 6, -1)]
    days = [today, *ends, *(m for m in marches if m < ends[-1])]
    if selected not in days:
        days.append(selected)
    options = [
        Choice(d.isoformat(), ("Today, " if d == today else "") + f"{d.day} {d:%B %Y}")
        for d in days
    ]
    return Chooser(
        name="as_at", label="Figures as at", options=options, selected=selected.isoformat()
    )


def year_end(year: int, today: date) -> date:
    """The last day of the year starting 1 April `year` that has begun: its 31 March, or today."""
    return min(date(year + 1, 3, 31), today)
