"""The spreadsheets the dashboard imports, each with the domain function that imports it and
how its report reads: the recruitment team's enquiry spreadsheet, the household register and
the SSDA903 return's files. Every import runs twice: first as a dry run for the preview,
then for real when the person confirms (the same bytes, kept in `uploads`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from api.dashboard.enquiry_view import field_words
from api.dashboard.uploads import UploadedFile
from tracker.children.importer import SourceFile, Ssda903Report, import_ssda903
from tracker.children.pseudonym import load_key
from tracker.core.access import Caller
from tracker.core.settings import Settings
from tracker.enquiries.files import ImportReport, import_enquiries
from tracker.households.files import HouseholdImportReport, import_households


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did or would do, as the preview and the banner say it."""

    counts: list[tuple[str, int]]
    files: list[list[str]] = msgspec.field(default_factory=list)
    warnings: list[list[str]] = msgspec.field(default_factory=list)
    warning_count: int = 0
    changed: list[list[str]] = msgspec.field(default_factory=list)
    """The first enquiries (or records) the import changes: what it is, and what changes."""
    changed_total: int = 0


class ImportKind(msgspec.Struct, frozen=True, kw_only=True):
    """One kind of spreadsheet the dashboard takes."""

    key: str
    title: str
    access: str
    hint: str
    back: str
    back_label: str
    banner: str
    nav: str
    several: bool = False
    may_replace: bool = False
    dry_run_writes: bool = False
    """The dry run applies its changes and rolls them back (so it needs a write session);
    otherwise a read session serves it and, on SQLite, it never takes the write lock."""
    checks_apart: bool = False
    """The import checks with a read session and writes with `Run.writer` in one short
    transaction; otherwise it runs in the write session (`Run.session`) throughout."""


KINDS: dict[str, ImportKind] = {
    k.key: k
    for k in (
        ImportKind(
            key="enquiries",
            title="Import the enquiry spreadsheet",
            access="enquiries.write",
            hint="A CSV or Excel (.xlsx) file with the columns of the enquiry download: "
            "external_ref, received_on and channel at least. A row whose reference matches an "
            "enquiry updates it; the others are new enquiries.",
            back="/dashboard/enquiries",
            back_label="Enquiries",
            banner="imported",
            nav="enquiries",
            checks_apart=True,
        ),
        ImportKind(
            key="households",
            title="Import the household register",
            access="households.write",
            hint="A CSV or Excel (.xlsx) file, one row per approved household, matched on its "
            "reference; a row that differs from the register is a dated change. Filled, "
            "vacant and unavailable places are not read from the file: filled places are the "
            "children placed with each household, recorded through the API.",
            back="/dashboard/capacity",
            back_label="Capacity",
            banner="households-imported",
            nav="capacity",
            dry_run_writes=True,
        ),
        ImportKind(
            key="ssda903",
            title="Upload SSDA903 files",
            access="children.write",
            hint="The return's Header, Episodes and OC3 files (CSV or Excel), of one or several "
            "years, with the year in each file's name (episodes_2024-25.csv) or a YEAR "
            "column. Children's identifiers are pseudonymised; UPNs and postcodes are never "
            "stored.",
            back="/dashboard/capacity",
            back_label="Capacity",
            banner="ssda903-imported",
            nav="capacity",
            several=True,
            may_replace=True,
        ),
    )
}


def _counts(report: ImportReport | HouseholdImportReport) -> Outcome:
    return Outcome(
        counts=[
            ("Rows", report.rows),
            ("New", report.created),
            ("Changed", report.updated),
            ("Unchanged", report.unchanged),
        ]
    )


def _one_file(
    importer: Callable[..., ImportReport | HouseholdImportReport],
) -> Callable[[Run], Outcome]:
    """A runner for an import of one spreadsheet (enquiries, the household register)."""

    def run(r: Run) -> Outcome:
        apart = {"writer": r.writer} if r.writer is not None else {}
        report = importer(
            r.session, r.caller, r.code, r.files[0].data, r.today, dry_run=r.dry_run, **apart
        )
        if not isinstance(report, HouseholdImportReport):
            return _counts(report)
        # A column the register does not take from the file (filled places): said, not dropped.
        return msgspec.structs.replace(
            _counts(report),
            warnings=[
                [r.files[0].name, w.rows_words(), w.column, w.message] for w in report.warnings
            ],
            warning_count=len(report.warnings),
        )

    return run


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _enquiries(r: Run) -> Outcome:
    """The enquiry import: its counts, the enquiries it changes (fields in words) and its
    warnings."""
    apart = {"writer": r.writer} if r.writer is not None else {}
    report = import_enquiries(
        r.session, r.caller, r.code, r.files[0].data, r.today, dry_run=r.dry_run, **apart
    )
    return msgspec.structs.replace(
        _counts(report),
        changed=[
            [
                f"{c.id}" + (f" ({c.external_ref})" if c.external_ref else ""),
                _sentence(", ".join(field_words(f) for f in c.fields)),
            ]
            for c in report.changed
        ],
        changed_total=report.updated,
        warnings=[[r.files[0].name, str(w.row), w.column, w.message] for w in report.warnings],
        warning_count=len(report.warnings),
    )


def _ssda903(run: Run) -> Outcome:
    report: Ssda903Report = import_ssda903(
        run.session,
        run.caller,
        run.code,
        [SourceFile(f.name, f.data) for f in run.files],
        load_key(run.settings),
        dry_run=run.dry_run,
        replace=bool(run.options.get("replace")),
    )
    counts = [("Files", len(report.files))]
    kinds = (
        ("Children", report.children),
        ("Episodes", report.episodes),
        ("Care leavers (OC3)", report.care_leavers),
    )
    for noun, c in kinds:
        counts += [
            (f"{noun}: new", c.created),
            (f"{noun}: changed", c.updated),
            (f"{noun}: removed", c.removed),
            (f"{noun}: unchanged", c.unchanged),
        ]
    if report.children_kept_from_later:
        counts.append(
            ("Children: left as a later year's Header has them", report.children_kept_from_later)
        )
    return Outcome(
        counts=counts,
        files=[
            [f.name, f.kind, f"{f.year - 1}-{f.year % 100:02d}", f"{f.rows:,}", f.note or ""]
            for f in report.files
        ],
        warnings=[[w.file, str(w.row), w.column or "", w.message] for w in report.warnings],
        warning_count=report.warning_count,
    )


class Run(msgspec.Struct, frozen=True, kw_only=True):
    """One run of an import."""

    session: Session
    caller: Caller
    code: str
    files: list[UploadedFile]
    options: dict[str, Any]
    today: date
    settings: Settings
    dry_run: bool
    writer: Session | None = None


RUNNERS: dict[str, Callable[[Run], Outcome]] = {
    "enquiries": _enquiries,
    "households": _one_file(import_households),
    "ssda903": _ssda903,
}
