"""Reading the spreadsheets people upload (CSV or xlsx): one home for the quirks.

Rows keep the number a spreadsheet shows (the header is row 1, blank lines count, a quoted
cell over several lines is one row), blank rows are skipped, header names are trimmed (a
name given twice is refused), xlsx dates and whole numbers read as their plain text
("2024-01-05", "375"), and unreadable files or NUL characters are refused with the row at
fault.
"""

from __future__ import annotations

import csv
import enum
import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec
import openpyxl

from tracker.core.cancellation import check_stop
from tracker.core.errors import DomainError, ImportRejectedError, RowError, UploadTooLargeError
from tracker.core.upload_limits import (
    MAX_COLUMNS,
    MAX_IMPORT_ROWS,
    MAX_SHEET_ROWS,
    check_header,
    check_rows,
    check_width,
    check_workbook,
    text_lines,
)

XLSX_MAGIC = b"PK\x03\x04"
# Rows read between two looks at whether the client is still there.
CHECK_EVERY = 1_000


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


def repeated_columns(header: Sequence[str], file: str | None = None) -> list[RowError]:
    """An error (row 1) for each column name the header gives more than once: each cell of a
    row is read by its column's name, so one of them would be silently lost. Blank names are
    left to the header's other checks (a CSV saved by Excel may end in empty columns)."""
    places: dict[str, list[int]] = {}
    for number, name in enumerate(header, start=1):
        if name:
            places.setdefault(name, []).append(number)
    return [
        RowError(
            1,
            name,
            f"column {name!r} appears {len(numbers)} times (columns "
            f"{', '.join(map(str, numbers[:-1]))} and {numbers[-1]}): keep one",
            file=file,
        )
        for name, numbers in places.items()
        if len(numbers) > 1
    ]


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
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _unreadable(exc: Exception) -> DomainError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DomainError(
        f"the file is not a readable xlsx workbook: {reason}", rule="unreadable_file", field="file"
    )


def _sheet_rows(sheet: Any, max_rows: int) -> tuple[list[str], list[SheetRow]]:
    """A read-only sheet's header and rows, read as a stream (the limits were checked)."""
    if (sheet.max_row or 0) > MAX_SHEET_ROWS or (sheet.max_column or 0) > MAX_COLUMNS:
        raise UploadTooLargeError(
            f"sheet {sheet.title[:60]!r} says it spans {sheet.max_row:,} rows and "
            f"{sheet.max_column:,} columns: at most {MAX_SHEET_ROWS:,} and {MAX_COLUMNS}",
            rule="sheet_too_large",
            field="file",
        )
    # Writers get the stated size wrong: read every cell up to the limits, as pandas does.
    sheet.reset_dimensions()
    values = sheet.iter_rows(
        min_row=1, max_row=MAX_SHEET_ROWS, max_col=MAX_COLUMNS, values_only=True
    )
    numbered = enumerate(values, start=1)
    first: list[str] = []
    for _, cells in numbered:
        first = [_xlsx_text(v).strip() for v in cells]
        while first and not first[-1]:
            first.pop()
        if first:
            break
    check_header(first)
    width = len(first)
    rows = []
    for line, cells in numbered:
        texts = [_xlsx_text(v) for v in cells]
        while texts and not texts[-1]:
            texts.pop()
        if not texts:
            continue
        row: dict[Any, Any] = dict(zip(first, texts[:width], strict=False))
        row.update((column, "") for column in first[len(texts) :])
        if len(texts) > width:
            row[None] = texts[width:]
        rows.append(SheetRow(line=line, cells=row))
        check_rows(len(rows), max_rows, line)
        if line % CHECK_EVERY == 0:
            check_stop()
    return first, rows


def read_workbook(
    content: bytes, max_rows: int = MAX_SHEET_ROWS
) -> list[tuple[str, list[str], list[SheetRow]]]:
    """Every sheet of an xlsx workbook: its name, header and rows (cells as plain text).

    The workbook is checked against the limits of `tracker.core.upload_limits` first, then
    read in openpyxl's streaming (read-only) mode; a sheet of more than `max_rows` data rows
    is refused.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            check_workbook(archive)
        workbook = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=True, keep_links=False
        )
    except DomainError:
        raise
    except Exception as exc:
        raise _unreadable(exc) from exc
    try:
        return [(str(sheet.title), *_sheet_rows(sheet, max_rows)) for sheet in workbook.worksheets]
    except DomainError:
        raise
    except Exception as exc:
        raise _unreadable(exc) from exc
    finally:
        workbook.close()


def _read_csv(content: bytes, max_rows: int) -> tuple[list[str], list[SheetRow]]:
    reader = csv.reader(text_lines(content))
    rows: list[SheetRow] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        check_header(header)
        # Numbered by record, not by line: a quoted cell may hold line breaks.
        for line, record in enumerate(reader, start=2):
            check_width(len(record), line)
            cells: dict[Any, Any] = dict(zip(header, record, strict=False))
            for column in header[len(record) :]:
                cells[column] = ""
            if len(record) > len(header):
                cells[None] = record[len(header) :]
            rows.append(SheetRow(line=line, cells=cells))
            check_rows(len(rows), max_rows, line)
            if line % CHECK_EVERY == 0:
                check_stop()
    except csv.Error as exc:
        raise ImportRejectedError(
            [RowError(reader.line_num, None, f"unreadable CSV: {exc}")]
        ) from exc
    return header, rows


def read_sheet(
    content: bytes, file_format: FileFormat | None = None
) -> tuple[list[str], list[SheetRow]]:
    """The header and the non-blank data rows of a CSV or xlsx file (its first sheet), at
    most MAX_IMPORT_ROWS of them."""
    is_xlsx = file_format is FileFormat.XLSX or (file_format is None and content[:4] == XLSX_MAGIC)
    if is_xlsx:
        header, rows = read_workbook(content, MAX_IMPORT_ROWS)[0][1:]
    else:
        header, rows = _read_csv(content, MAX_IMPORT_ROWS)
    repeated = repeated_columns(header)
    if repeated:
        raise ImportRejectedError(repeated)
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
