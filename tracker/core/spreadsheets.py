"""Reading the spreadsheets people upload (CSV or xlsx): one home for the quirks.

Rows keep the line number a spreadsheet shows (the header is row 1, blank lines count),
blank rows are skipped, header names are trimmed, xlsx dates and whole numbers read as
their plain text ("2024-01-05", "375"), and unreadable files or NUL characters are refused
with the row at fault.
"""

from __future__ import annotations

import csv
import enum
import io
from datetime import date, datetime
from typing import Any

import msgspec
import pandas as pd

from tracker.core.errors import DomainError, ImportRejectedError, RowError

XLSX_MAGIC = b"PK\x03\x04"


class FileFormat(enum.StrEnum):
    """Spreadsheet formats the imports and exports speak."""

    CSV = "csv"
    XLSX = "xlsx"


class SheetRow(msgspec.Struct, frozen=True):
    """One data row: its line as a spreadsheet numbers it, and its cells by column name.

    Cells beyond the header sit under the key None, as `csv.DictReader` puts them.
    """

    line: int
    cells: dict[Any, Any]


def parse_date(value: str) -> date:
    """YYYY-MM-DD, DD/MM/YYYY, or an xlsx date cell at midnight."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        if parsed.time() == datetime.min.time():
            return parsed.date()
    raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


def _xlsx_text(value: Any) -> str:
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def read_workbook(content: bytes) -> list[tuple[str, list[str], list[SheetRow]]]:
    """Every sheet of an xlsx workbook: its name, header and rows (cells as plain text)."""
    try:
        frames = pd.read_excel(
            io.BytesIO(content), sheet_name=None, dtype=object, keep_default_na=False
        )
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DomainError(
            f"the file is not a readable xlsx workbook: {reason}",
            rule="unreadable_file",
            field="file",
        ) from exc
    sheets = []
    for name, frame in frames.items():
        header = [str(c).strip() for c in frame.columns]
        rows = [
            SheetRow(line=index + 2, cells=dict(zip(header, map(_xlsx_text, values), strict=True)))
            for index, values in enumerate(frame.itertuples(index=False, name=None))
        ]
        sheets.append((str(name), header, rows))
    return sheets


def _read_csv(content: bytes) -> tuple[list[str], list[SheetRow]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[SheetRow] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        line = 1
        for record in reader:
            line = reader.line_num
            cells: dict[Any, Any] = dict(zip(header, record, strict=False))
            for column in header[len(record) :]:
                cells[column] = ""
            if len(record) > len(header):
                cells[None] = record[len(header) :]
            rows.append(SheetRow(line=line, cells=cells))
    except csv.Error as exc:
        raise ImportRejectedError(
            [RowError(reader.line_num, None, f"unreadable CSV: {exc}")]
        ) from exc
    return header, rows


def read_sheet(
    content: bytes, file_format: FileFormat | None = None
) -> tuple[list[str], list[SheetRow]]:
    """The header and the non-blank data rows of a CSV or xlsx file."""
    is_xlsx = file_format is FileFormat.XLSX or (file_format is None and content[:4] == XLSX_MAGIC)
    header, rows = read_workbook(content)[0][1:] if is_xlsx else _read_csv(content)
    kept = []
    for row in rows:
        values = [v for k, v in row.cells.items() if k is not None]
        if not any(str(v).strip() for v in values) and None not in row.cells:
            continue
        for column, value in row.cells.items():
            if isinstance(value, str) and "\x00" in value:
                raise ImportRejectedError(
                    [RowError(row.line, column, "the cell holds a NUL character")]
                )
        kept.append(row)
    return header, kept
