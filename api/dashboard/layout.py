"""What a dashboard page holds: headline tiles, then sections of charts and tables.

Every page is built by one function of its own module from the tracker's figures and drawn
by one template, so the same tables serve the page and its CSV and Excel downloads.
"""

from __future__ import annotations

from datetime import date

import msgspec
from dateutil.relativedelta import relativedelta

from api.dashboard.tables import Chart, Table, Tile
from forecast.months import year_start


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


class Period(msgspec.Struct, frozen=True):
    """A span of days, both ends included."""

    start: date
    end: date


def this_and_last_year(today: date) -> tuple[Period, Period]:
    """This year to date, and the same span a year earlier."""
    start = year_start(today)
    year = relativedelta(years=1)
    return Period(start, today), Period(start - year, today - year)
