"""The tables, tiles and charts a dashboard page shows, and how their values read to people.

A table keeps raw values (numbers, dates, None): the page formats them for reading, the
downloads write them as they are (see `tracker.table_export`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec
from markupsafe import Markup, escape

from tracker.core.table_export import CellFormat

MISSING = "\u2013"  # an en dash where a figure is not known
NUMERIC = frozenset({CellFormat.INTEGER, CellFormat.DECIMAL, CellFormat.SHARE, CellFormat.MONEY})


class Column(msgspec.Struct, frozen=True):
    """A column: its name in downloads, its heading on the page, and how values read."""

    key: str
    label: str
    format: CellFormat = CellFormat.TEXT

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (right-aligned on the page)."""
        return self.format in NUMERIC


class Table(msgspec.Struct, frozen=True, kw_only=True):
    """A named table of a page; `name` is what `?table=` asks for when downloading."""

    name: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    note: str | None = None
    # Rows (by index) shown in bold, such as a total.
    emphasised: frozenset[int] = frozenset()
    empty: str = "Nothing to show yet."
    # Long tables of detail start folded away (the page shows their title and downloads).
    collapsed: bool = False
    # A link for each row (None: none), shown on the row's cell in column `link_column`.
    row_links: list[str | None] = msgspec.field(default_factory=list)
    link_column: int = 0

    @property
    def keys(self) -> list[str]:
        """The column names of the downloads."""
        return [c.key for c in self.columns]

    @property
    def formats(self) -> list[CellFormat]:
        """Each column's number format."""
        return [c.format for c in self.columns]

    def display_rows(self) -> list[list[str]]:
        """The rows as people read them."""
        return [
            [display(value, column.format) for value, column in zip(row, self.columns, strict=True)]
            for row in self.rows
        ]

    def body_html(self) -> Markup:
        """The table's body rows as GOV.UK table markup, every value escaped: the first cell
        a row header, numbers right-aligned, a row's link on its `link_column` cell. Built
        here in one pass rather than cell by cell in the template (a funnel page has a
        thousand cells)."""
        cell_open = [
            '<td class="govuk-table__cell govuk-table__cell--numeric">'
            if column.numeric
            else '<td class="govuk-table__cell">'
            for column in self.columns
        ]
        cell_open[0] = '<th scope="row" class="govuk-table__header">'
        cell_close = ["</td>"] * len(self.columns)
        cell_close[0] = "</th>"
        parts: list[str] = []
        for index, row in enumerate(self.display_rows()):
            link = self.row_links[index] if self.row_links else None
            emphasised = " emphasised" if index in self.emphasised else ""
            parts.append(f'<tr class="govuk-table__row{emphasised}">')
            for position, cell in enumerate(row):
                # str() before joining: Markup + str would escape the tags.
                if link and position == self.link_column:
                    text = str(Markup('<a class="govuk-link" href="{}">{}</a>').format(link, cell))
                else:
                    text = str(escape(cell))
                parts.append(cell_open[position] + text + cell_close[position])
            parts.append("</tr>\n")
        return Markup("".join(parts))


class Tile(msgspec.Struct, frozen=True, kw_only=True):
    """A headline figure: what it is, the figure, a line of context, and how it stands."""

    label: str
    value: str
    detail: str = ""
    tone: str = "neutral"  # "good", "warning", "bad" or "neutral"
    href: str | None = None


class Chart(msgspec.Struct, frozen=True, kw_only=True):
    """A Plotly figure (data and layout as plain JSON) and a sentence saying what it shows."""

    id: str
    title: str
    figure: dict[str, Any]
    summary: str = ""


def display(value: Any, kind: CellFormat = CellFormat.TEXT) -> str:
    """A value as people read it: 1,234; 45%; 15 Mar 2026; £12,000; a record's number as it
    is (10747); a dash when unknown."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind is CellFormat.SHARE and isinstance(value, int | float):
        return percent(value)
    if kind is CellFormat.MONEY and isinstance(value, int | float):
        return money(value)
    if kind is CellFormat.DECIMAL and isinstance(value, int | float):
        return decimal(value)
    if kind is CellFormat.IDENTIFIER:
        return str(value)
    if kind is CellFormat.INTEGER and isinstance(value, float):
        return f"{value:,.0f}"
    if kind is CellFormat.MONTH and isinstance(value, date):
        return f"{value:%b %Y}"
    if isinstance(value, date):
        return long_date(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    return str(value)


def decimal(value: float) -> str:
    """A number to two decimals at most, without trailing zeros: 33, 22.2, 2.79."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent(share: float | None, digits: int | None = None) -> str:
    """A share (0 to 1) as a percentage: whole numbers, a decimal below 10% where it tells."""
    if share is None:
        return MISSING
    value = share * 100
    if digits is None:
        digits = 1 if 0 < abs(value) < 10 and round(value, 1) != round(value) else 0
    return f"{value:.{digits}f}%"


def money(amount: float | None) -> str:
    """Pounds, whole: £1,234,567 (a minus sign before the pound sign)."""
    if amount is None:
        return MISSING
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.0f}"


def long_date(day: date | None) -> str:
    """15 Mar 2026."""
    return MISSING if day is None else f"{day.day} {day:%b %Y}"


def change(now: float | None, before: float | None) -> str:
    """How `now` compares with `before`, in words: "12% more", "3% fewer", "the same"."""
    if now is None or before is None:
        return MISSING
    if before == 0:
        return "the same" if now == 0 else "up from none"
    ratio = now / before - 1
    if abs(ratio) < 0.005:
        return "the same"
    return f"{percent(abs(ratio))} {'more' if ratio > 0 else 'fewer'}"


def label(code: str | None) -> str:
    """A code as words: "stage_1" -> "Stage 1", "withdrawn_by_applicant" -> "Withdrawn by
    applicant" (names the vocabulary has no better words for)."""
    if code is None:
        return MISSING
    return LABELS.get(code) or (code[:1].upper() + code[1:].replace("_", " "))


LABELS: dict[str, str] = {
    "in_house": "In-house fostering",
    "connected": "Connected carers (family and friends)",
    "supported_lodgings": "Supported lodgings",
    "staying_put": "Staying Put",
    "all": "All care types",
    "first_contact": "First contact",
    "initial_visit": "Initial home visit",
    "stage_1": "Stage 1 checks",
    "stage_2": "Stage 2 assessment",
    "panel": "Fostering panel",
    "approved": "Approved",
    "other_agency": "Went to another agency",
    "no_response": "No response",
    "net_households": "Net change in households",
    "children_in_care": "Children in care",
    "in_house_foster": "In-house foster care",
    "connected_foster": "Connected foster care",
    "ifa_foster": "Independent fostering agency",
    "other_council_foster": "Another council's foster care",
    "childrens_home": "Children's home",
    "ifa_fostering": "Independent fostering agency places",
    "private_childrens_home": "Private children's homes",
    "inhouse_childrens_home": "In-house children's homes",
    "under_1": "Aged under 1",
    "1_4": "Aged 1 to 4",
    "5_9": "Aged 5 to 9",
    "10_15": "Aged 10 to 15",
    "16_17": "Aged 16 to 17",
    "web_form": "Web form",
    "seasonal_naive": "Seasonal naive (same month last year)",
    "naive": "Naive (last month again)",
    "drift": "Drift (trend of the history)",
    "ets": "Exponential smoothing (ETS)",
    "sarima": "SARIMA",
    "prophet": "Prophet",
}


def table(
    name: str,
    title: str,
    columns: Sequence[tuple[str, str, CellFormat]],
    rows: Sequence[Sequence[Any]],
    **extra: Any,
) -> Table:
    """A table from (key, label, format) column triples and rows of raw values."""
    return Table(
        name=name,
        title=title,
        columns=[Column(key, heading, kind) for key, heading, kind in columns],
        rows=[list(r) for r in rows],
        **extra,
    )
