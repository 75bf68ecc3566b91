"""SSDA903 files as councils send them, read into tables of text cells.

A file is CSV (UTF-8 with or without a BOM, UTF-16 with a BOM, or Windows-1252; lines ended
by CR LF, LF or CR alone) or an xlsx workbook, whose every sheet is read as a table of its
own. A table is recognised as a Header, Episodes or OC3 file by its columns. Each row's
collection year (the year ending 31 March it speaks for) comes from a YEAR column (the
multi-year shape regional pipelines write), else the file name, else the dates of an
Episodes file; `tracker.children.years` decides it. A file that cannot be read is one error
naming it, never an exception.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator, Sequence

import msgspec

from tracker.benchmarks.published import load_published
from tracker.children import codes
from tracker.core.cancellation import AbandonedError, check_stop
from tracker.core.errors import DomainError, RowError, UploadTooLargeError
from tracker.core.spreadsheets import (
    CHECK_EVERY,
    XLSX_MAGIC,
    SheetRow,
    read_workbook,
    repeated_columns,
)
from tracker.core.upload_limits import (
    MAX_SSDA903_ROWS,
    check_header,
    check_rows,
    check_width,
    text_encoding,
    text_lines,
)
from tracker.reference import load_reference

# The first bytes of an Excel 97-2003 workbook (an OLE2 compound file).
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
YEAR_COLUMN = "YEAR"
LA_COLUMN = "LA"
Record = tuple[int, list[str]]


class SourceFile(msgspec.Struct, frozen=True):
    """One uploaded file: its name (used for the year when it holds one) and bytes."""

    name: str
    content: bytes


class Table(msgspec.Struct, kw_only=True):
    """One table of a file: a CSV file, or one sheet of a workbook.

    `rows` are (row number as a spreadsheet shows it, cells by column), blank rows left out;
    `years` the collection year of each row and `note` how it was decided, once
    `tracker.children.years` has.
    """

    name: str
    file: str
    sheet: str | None
    kind: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    sha256: str
    years: list[int] = msgspec.field(default_factory=list)
    note: str | None = None


def kind_of(columns: Iterable[str]) -> str | None:
    """Header, episodes or oc3, from the columns a file has."""
    present = set(columns)
    if "DECOM" in present:
        return "episodes"
    if "ACCOM" in present or "IN_TOUCH" in present:
        return "oc3"
    if "SEX" in present or "DOB" in present:
        return "header"
    return None


def _nul_error(name: str, line: int) -> DomainError:
    return DomainError(
        f"{name} cannot be read as CSV at line {line}: it holds a NUL character (is it a CSV file?)"
    )


def _csv_records(name: str, content: bytes) -> Iterator[Record]:
    """Each record of a CSV file with its line number (the header is line 1), read a line at
    a time: a file's decoded text is never held whole."""
    encoding = text_encoding(content)
    nul = -1 if encoding == "utf-16" else content.find(b"\x00")
    if nul >= 0:
        crlf = content.count(b"\r\n", 0, nul)
        raise _nul_error(
            name, content.count(b"\n", 0, nul) + content.count(b"\r", 0, nul) - crlf + 1
        )

    def lines() -> Iterator[str]:
        for number, line in enumerate(text_lines(content, encoding), start=1):
            if "\x00" in line:
                raise _nul_error(name, number)
            yield line

    # The csv module ends lines at CR LF, LF or a CR alone (old Mac Excel), as text_lines keeps.
    reader = csv.reader(lines())
    try:
        # Numbered by record, as a spreadsheet numbers rows (a quoted cell may span lines).
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise DomainError(f"{name} cannot be read as CSV at line {reader.line_num}: {exc}") from exc


def _workbook_records(
    content: bytes, max_rows: int
) -> Iterator[tuple[str | None, Iterator[Record]]]:
    """Each sheet of a workbook as (sheet name, records numbered as the sheet shows them); the
    sheet name is None when the workbook has only one sheet. Each row read is let go as its
    record is made, so a sheet is not held twice."""
    workbook = read_workbook(content, max_rows)
    several = len(workbook) > 1
    workbook.reverse()
    while workbook:
        sheet, header, rows = workbook.pop()
        yield (sheet if several else None), _sheet_records(header, rows)


def _sheet_records(header: list[str], rows: list[SheetRow]) -> Iterator[Record]:
    yield 1, header
    rows.reverse()
    while rows:
        row = rows.pop()
        yield row.line, [str(row.cells.get(c, "")) for c in header]


def _table(
    file: str, sheet: str | None, records: Iterable[Record], digest: str, max_rows: int
) -> tuple[Table | None, list[RowError]]:
    """A recognised table of one file or sheet, or the errors saying why it is not one."""
    name = file if sheet is None else f"{file} [{sheet}]"
    records = iter(records)
    first = next(records, None)
    columns = [c.strip().upper() for c in first[1]] if first else []
    check_header(columns)
    kind = kind_of(columns)
    if kind is None:
        return None, [RowError(1, None, "not a Header, Episodes or OC3 file (columns)", file=name)]
    missing = [c for c in codes.REQUIRED[kind] if c not in columns]
    if missing:
        return None, [RowError(1, c, f"required column {c} is missing", file=name) for c in missing]
    errors, rows, width = repeated_columns(columns, file=name), [], len(columns)
    for number, cells in records:
        check_width(len(cells), number)
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            continue
        if len(cells) > width and any(stripped[width:]):
            errors.append(RowError(number, None, f"{len(cells)} cells but {width} columns", name))
            continue
        if len(stripped) < width:
            stripped += [""] * (width - len(stripped))
        rows.append((number, dict(zip(columns, stripped, strict=False))))
        check_rows(len(rows), max_rows, number)
        if number % CHECK_EVERY == 0:
            check_stop()
    table = Table(
        name=name, file=file, sheet=sheet, kind=kind, columns=columns, rows=rows, sha256=digest
    )
    return table, errors


def council_names(authority_code: str) -> set[str]:
    """The ways an LA column may name the council, as `_plain` spells them: its ONS code,
    its old three-digit LA number (DfE's `old_la_code`) and its name, with or without
    ", City of" or ", County of" (from the shipped reference data)."""
    area = load_published().areas.get(authority_code)
    reference = load_reference().get(authority_code)
    written = [authority_code]
    if area is not None:
        written += [area.old_code, area.name]
    if reference is not None:
        written.append(reference.name)
    plain = {_plain(name) for name in written} | {_plain(name.split(",")[0]) for name in written}
    return plain - {""}


def _plain(name: str) -> str:
    """A council's name or code as compared: lower case, letters and digits only."""
    return "".join(c for c in name.casefold() if c.isalnum())


def _council(authority_code: str) -> str:
    area = load_published().areas.get(authority_code)
    if area is None:
        return authority_code
    number = f", LA number {area.old_code}" if area.old_code else ""
    return f"{area.name} ({authority_code}{number})"


def other_councils(tables: Sequence[Table], authority_code: str) -> list[RowError]:
    """An error for each LA value that does not name the council imported for, at the first
    row holding it: a regional pipeline's file names each row's council, and one council's
    children must never be stored as another's. A row with no LA value is the council's."""
    names = council_names(authority_code)
    errors = []
    for table in tables:
        others: dict[str, list[int]] = {}
        for number, raw in table.rows:
            written = raw.get(LA_COLUMN, "")
            if written and _plain(written) not in names:
                others.setdefault(written, []).append(number)
        for written, numbers in others.items():
            later = len(numbers) - 1
            more = f" (here and in {later} later row{'s' * (later > 1)})" if later else ""
            message = (
                f"LA {written[:40]!r}{more} is not {_council(authority_code)}, the council"
                " this import is for: import each council's rows into its own authority"
            )
            errors.append(RowError(numbers[0], LA_COLUMN, message, file=table.name))
    return errors


def read_tables(
    source: SourceFile, max_rows: int = MAX_SSDA903_ROWS
) -> tuple[list[Table], list[RowError]]:
    """The recognised tables of a file, and the errors of those it could not read (a file
    of more than `max_rows` data rows is one).

    A workbook's sheets that are not SSDA903 tables are skipped when another sheet is one.
    """
    name, content = source.name, source.content
    digest = hashlib.sha256(content).hexdigest()
    if not content or content.isspace():
        return [], [RowError(1, None, "the file is empty", file=name)]
    if content[:4] == XLS_MAGIC:
        message = "an Excel 97-2003 (.xls) workbook cannot be read: save it as xlsx or CSV"
        return [], [RowError(1, None, message, file=name)]
    tables, errors, unrecognised = [], [], []
    try:
        sheets: list[tuple[str | None, Iterable[Record]]] = (
            list(_workbook_records(content, max_rows))
            if content[:4] == XLSX_MAGIC
            else [(None, _csv_records(name, content))]
        )
        for sheet, records in sheets:
            table, problems = _table(name, sheet, records, digest, max_rows)
            max_rows -= len(table.rows) if table is not None else 0
            if table is not None:
                tables.append(table)
                errors += problems
            else:
                unrecognised += problems
    except AbandonedError:
        raise
    except UploadTooLargeError as exc:
        return [], [RowError(exc.row or 1, exc.field, exc.message, file=name)]
    except DomainError as exc:
        return [], [RowError(1, None, exc.message, file=name)]
    if not tables or len(sheets) == 1:
        errors += unrecognised
    return tables, errors
