"""A table (column names and rows of plain values) as a CSV file or an Excel workbook.

Values keep their type: numbers stay numbers, dates become ISO dates in CSV and date cells
in Excel, None an empty cell. Shares (0 to 1) can be given a percentage format in Excel.

Spreadsheet programs run a cell that starts with "=", "+", "-" or "@" (and some that start
with a tab or carriage return) as a formula. Text from users (a scenario's name, a
campaign) could carry one, so in CSV every such text cell is prefixed with a single quote,
as OWASP advises; in the workbook text is always written as a string cell, never a formula.
Every export (dashboard tables, enquiries, households, the Ofsted return, the regional CSV)
goes through this one rule.

A file exported for re-import must give back what was stored: `read_text` undoes the
prefix, so an import drops one leading quote when a formula character follows it. A value
that is itself quotes then a formula character ("'=x") gets one more quote on export, so the
round trip is exact for every value.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_SHEET_NAME = 31
EXCEL_MAX_ROWS = 1_048_576
CSV_ROW_END = "\r\n"


class CellFormat(enum.StrEnum):
    """How a column's numbers are shown in the workbook."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    SHARE = "share"
    MONEY = "money"
    DATE = "date"
    MONTH = "month"
    IDENTIFIER = "identifier"
    """A record's number: written plain (10747, never 10,747)."""


EXCEL_FORMATS: dict[CellFormat, str] = {
    CellFormat.INTEGER: "#,##0",
    CellFormat.DECIMAL: "#,##0.00",
    CellFormat.SHARE: "0.0%",
    CellFormat.MONEY: "£#,##0",
    CellFormat.DATE: "yyyy-mm-dd",
    CellFormat.MONTH: "mmm yyyy",
    CellFormat.IDENTIFIER: "0",
}


def _looks_like_formula(value: str) -> bool:
    return value.lstrip("'").startswith(FORMULA_STARTS)


def safe_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula: prefixed with a quote when it would
    (or when it is quotes before a formula character, so `read_text` can tell them apart)."""
    return "'" + value if _looks_like_formula(value) else value


def read_text(value: str) -> str:
    """A cell as an import stores it: `safe_text` undone (one leading quote dropped when
    quotes and then a formula character follow); every other value as it is."""
    return value[1:] if value.startswith("'") and _looks_like_formula(value[1:]) else value


def _csv_cell(value: Any, kind: CellFormat | None = None) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind is CellFormat.MONTH and isinstance(value, date):
        return f"{value:%Y-%m}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return value
    return safe_text(str(value))


class _RowEnds:
    """Where `csv_bytes` writes: each row the csv writer ends with CR LF, ended `line_end`.

    Python's csv writer quotes only the characters of its own line terminator, so a writer
    ending rows with LF alone leaves a bare CR in a cell unquoted (a spreadsheet and the
    imports would end the row there). Writing CR LF makes it quote every cell holding
    either; the row's end is then swapped (the writer makes one write a row).
    """

    def __init__(self, out: io.StringIO, line_end: str) -> None:
        self._out = out
        self._line_end = line_end

    def write(self, row: str) -> int:
        return self._out.write(row.removesuffix(CSV_ROW_END) + self._line_end)


def csv_bytes(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    formats: Sequence[CellFormat | None] | None = None,
    byte_order_mark: bool = True,
    line_end: str = CSV_ROW_END,
) -> bytes:
    """The table as UTF-8 CSV (with a byte-order mark unless told not to, so Excel reads
    accents right); months (`formats`) are written as YYYY-MM. Rows end with `line_end`,
    and a cell holding a CR or LF is always quoted, whatever the row's end."""
    kinds = list(formats or [])
    text = io.StringIO()
    writer = csv.writer(_RowEnds(text, line_end), lineterminator=CSV_ROW_END)
    writer.writerow([safe_text(c) for c in columns])
    for row in rows:
        writer.writerow(
            [_csv_cell(v, kinds[i] if i < len(kinds) else None) for i, v in enumerate(row)]
        )
    return (b"\xef\xbb\xbf" if byte_order_mark else b"") + text.getvalue().encode()


def _sheet_name(name: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip("' ")
    return (cleaned or "table")[:MAX_SHEET_NAME]


def xlsx_bytes(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_name: str = "table",
    formats: Sequence[CellFormat | None] | None = None,
) -> bytes:
    """The table as an Excel workbook of one sheet: a bold header row, then the rows.

    `formats` gives each column's number format (None or TEXT: as the value comes).
    """
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(_sheet_name(sheet_name))
    header = workbook.add_format({"bold": True})
    styles = {
        kind: workbook.add_format({"num_format": code}) for kind, code in EXCEL_FORMATS.items()
    }
    date_style = styles[CellFormat.DATE]
    column_formats = list(formats or [])
    widths = [max(8, len(str(c)) + 2) for c in columns]
    for col, name in enumerate(columns):
        sheet.write_string(0, col, str(name), header)
    line = 0
    for line, row in enumerate(rows, start=1):
        if line >= EXCEL_MAX_ROWS:
            raise ValueError("the table has more rows than a worksheet holds")
        for col, value in enumerate(row):
            kind = column_formats[col] if col < len(column_formats) else None
            style = styles.get(kind) if kind is not None else None
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(line, col, value)
            elif isinstance(value, int | float):
                sheet.write_number(line, col, value, style)
            elif isinstance(value, datetime):
                sheet.write_datetime(line, col, value.replace(tzinfo=None), style or date_style)
            elif isinstance(value, date):
                moment = datetime(value.year, value.month, value.day)
                sheet.write_datetime(line, col, moment, style or date_style)
            else:
                text = str(value)
                sheet.write_string(line, col, text)
                if col < len(widths):
                    widths[col] = min(60, max(widths[col], len(text) + 2))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    if line:
        sheet.autofilter(0, 0, line, max(0, len(columns) - 1))
    workbook.close()
    return buffer.getvalue()
