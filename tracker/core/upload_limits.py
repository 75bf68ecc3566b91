"""What an uploaded spreadsheet may hold before it is read: the limits that keep one upload
from costing the server memory and CPU out of proportion to its size, checked as the file is
read and refused with `UploadTooLargeError` naming the limit.

CSV text is read a line at a time (never decoded whole). An xlsx workbook is a zip archive of
XML: its entries' sizes and compression ratios are checked from the archive's directory (a
member cannot unpack to more than its declared size), then each sheet's XML is scanned with
expat, counting rows and cells and stopping at the first limit passed, before openpyxl reads
it in streaming mode.
"""

from __future__ import annotations

import codecs
import io
import zipfile
import zlib
from collections.abc import Iterator
from xml.parsers import expat

from tracker.core.cancellation import check_stop
from tracker.core.errors import DomainError, UploadTooLargeError

# A header or a row: columns, and characters of a column's name.
MAX_COLUMNS = 250
MAX_COLUMN_NAME = 100
# A CSV line (a record's text; the longest real rows are a few hundred characters).
MAX_LINE_CHARS = 100_000
# Data rows of an enquiry or household import (one sheet), and of an SSDA903 upload (all its
# files): far beyond a council's real files, and what keeps the server's memory in bounds.
MAX_IMPORT_ROWS = 40_000
MAX_SSDA903_ROWS = 60_000
# An xlsx workbook: rows of a sheet, cells and shared strings of the workbook, zip entries,
# bytes once unpacked, and how far one entry of more than a megabyte may be compressed.
MAX_SHEET_ROWS = 60_000
MAX_CELLS = 1_000_000
# xlsx text: characters between two tags (Excel's own cell limit is 32,767), and in all (a
# workbook holds no more text than twice the largest CSV upload).
MAX_TEXT_RUN = 40_000
MAX_TEXT_CHARS = 40_000_000
MAX_ZIP_ENTRIES = 1_000
MAX_UNPACKED_BYTES = 200_000_000
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = 1_000_000
_SCAN_CHUNK = 1 << 16
# Column MAX_COLUMNS (250) in the letters of a cell reference.
_LAST_COLUMN = "IP"


def _is_utf8(content: bytes) -> bool:
    """Whether the bytes are UTF-8, checked a chunk at a time (no decoded copy is kept)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(content)
    try:
        for start in range(0, len(view), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def text_encoding(content: bytes) -> str:
    """UTF-16 with its BOM, UTF-8 (a BOM dropped), else Windows-1252."""
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    return "utf-8-sig" if _is_utf8(content) else "cp1252"


def text_lines(content: bytes, encoding: str | None = None) -> Iterator[str]:
    """The lines of a text file, each ending as written (CR LF, LF or a CR alone), for
    `csv.reader`; UploadTooLargeError for a line longer than MAX_LINE_CHARS."""
    chosen = encoding or text_encoding(content)
    stream = io.TextIOWrapper(io.BytesIO(content), encoding=chosen, errors="replace", newline="")
    number = 0
    while line := stream.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise UploadTooLargeError(
                f"line {number} is longer than {MAX_LINE_CHARS:,} characters "
                "(is the file a CSV file with one record a line?)",
                rule="line_too_long",
                field="file",
                row=number,
            )
        yield line


def check_header(header: list[str], row: int = 1) -> None:
    """Refuse a header of more than MAX_COLUMNS columns or a column name longer than
    MAX_COLUMN_NAME characters."""
    if len(header) > MAX_COLUMNS:
        raise UploadTooLargeError(
            f"the header has {len(header):,} columns: at most {MAX_COLUMNS} are read",
            rule="too_many_columns",
            field="header",
            row=row,
        )
    for name in header:
        if len(name) > MAX_COLUMN_NAME:
            raise UploadTooLargeError(
                f"column {name[:40]!r}... has a name longer than {MAX_COLUMN_NAME} characters",
                rule="column_name_too_long",
                field=name[:40],
                row=row,
            )


def check_width(cells: int, row: int) -> None:
    """Refuse a row of more than MAX_COLUMNS cells."""
    if cells > MAX_COLUMNS:
        raise UploadTooLargeError(
            f"row {row} has {cells:,} cells: at most {MAX_COLUMNS} columns are read",
            rule="too_many_columns",
            field="file",
            row=row,
        )


def check_rows(rows: int, limit: int, row: int) -> None:
    """Refuse a file once it has more than `limit` data rows (`row` is where it passed)."""
    if rows > limit:
        raise UploadTooLargeError(
            f"the file passes the limit on rows read ({limit:,} here, at row {row}): split it",
            rule="too_many_rows",
            field="file",
            row=row,
        )


def _too_large(message: str, rule: str) -> UploadTooLargeError:
    return UploadTooLargeError(f"the xlsx workbook {message}", rule=rule, field="file")


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook of too many entries, too many bytes once unpacked, or an entry
    compressed beyond MAX_COMPRESSION_RATIO (a zip bomb), from the archive's directory."""
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _too_large(f"has {len(entries):,} parts: at most {MAX_ZIP_ENTRIES:,}", "zip_entries")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise _too_large(
            f"unpacks to {unpacked:,} bytes: at most {MAX_UNPACKED_BYTES:,}", "unpacked_size"
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise _too_large(
                f"part {entry.filename[:60]!r} is compressed {ratio:,.0f} times: at most "
                f"{MAX_COMPRESSION_RATIO} (a zip bomb?)",
                "compression_ratio",
            )


class WorkbookScan:
    """Counts, as expat reads a workbook's XML parts, each sheet's rows and each row's cells,
    the workbook's cells and shared strings, refusing at the first limit passed (cells placed
    beyond row MAX_SHEET_ROWS or column MAX_COLUMNS too, which openpyxl would read as blank
    rows and columns up to them)."""

    def __init__(self) -> None:
        self.cells = 0
        self.strings = 0
        self.part = ""
        self.rows = 0
        self.row_cells = 0
        self.run = 0
        self.text = 0

    def _refuse(self, what: str, rule: str, row: int | None = None) -> UploadTooLargeError:
        return UploadTooLargeError(
            f"the xlsx workbook's part {self.part[:60]!r} {what}", rule=rule, field="file", row=row
        )

    def _characters(self, data: str) -> None:
        self.run += len(data)
        self.text += len(data)
        if self.run > MAX_TEXT_RUN:
            raise self._refuse(
                f"holds a text of more than {MAX_TEXT_RUN:,} characters", "text_too_long"
            )
        if self.text > MAX_TEXT_CHARS:
            raise self._refuse(
                f"brings the text past {MAX_TEXT_CHARS:,} characters", "text_too_long"
            )

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self.run = 0
        tag = name.rpartition(":")[2]
        if tag == "c":
            self.cells += 1
            self.row_cells += 1
            letters = attributes.get("r", "").rstrip("0123456789")
            if (
                self.row_cells > MAX_COLUMNS
                or len(letters) > 2
                or (len(letters) == 2 and letters > _LAST_COLUMN)
            ):
                message = f"has a row with cells beyond column {MAX_COLUMNS}"
                raise self._refuse(message, "too_many_columns", self.rows)
            if self.cells > MAX_CELLS:
                raise self._refuse(f"brings the cells past {MAX_CELLS:,}", "too_many_cells")
        elif tag == "row":
            self.rows += 1
            check_stop()
            self.row_cells = 0
            number = attributes.get("r", "")
            if self.rows > MAX_SHEET_ROWS or (number.isdecimal() and int(number) > MAX_SHEET_ROWS):
                raise self._refuse(f"has rows beyond row {MAX_SHEET_ROWS:,}", "too_many_rows")
        elif tag == "si":
            self.strings += 1
            if self.strings > MAX_CELLS:
                message = f"has more than {MAX_CELLS:,} shared strings"
                raise self._refuse(message, "too_many_cells")

    def scan(self, archive: zipfile.ZipFile, part: str) -> None:
        """Read one part of the workbook through the counts (a part that is not XML, such as
        an image, is left alone unless its name says it is XML)."""
        self.part, self.rows, self.row_cells = part, 0, 0
        parser = expat.ParserCreate()
        parser.StartElementHandler = self._start
        parser.CharacterDataHandler = self._characters
        try:
            with archive.open(part) as stream:
                while chunk := stream.read(_SCAN_CHUNK):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            if part.lower().endswith((".xml", ".rels")):
                raise _unreadable(part, exc) from exc
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise _unreadable(part, exc) from exc


def _unreadable(part: str, exc: Exception) -> DomainError:
    return DomainError(
        f"the file is not a readable xlsx workbook: {part[:60]!r}: {exc}",
        rule="unreadable_file",
        field="file",
    )


def check_workbook(archive: zipfile.ZipFile) -> None:
    """Every limit on a workbook, before openpyxl opens it: the archive's directory, then
    each XML part's rows, cells and shared strings."""
    check_archive(archive)
    scan = WorkbookScan()
    for entry in archive.infolist():
        scan.scan(archive, entry.filename)
