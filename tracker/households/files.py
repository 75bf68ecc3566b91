"""Import and export of the household register as a spreadsheet (CSV or xlsx).

One row per household reference: its care type, approval, places, age range, terms, status
and undated details. Imports are all-or-nothing and idempotent on `reference`: every row is
checked before anything is written, a row matching the stored register changes nothing, and
a row that differs is applied through the register's own service functions as a dated change
from `status_from`, so the history stays dated and every rule of the register still holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import DomainError, ImportRejectedError, InvalidValueError, RowError
from tracker.core.monthly_upkeep import register_batch
from tracker.core.spreadsheets import FileFormat
from tracker.core.table_export import csv_bytes, read_text, xlsx_bytes
from tracker.households.care_types import (
    HouseholdStatus,
)
from tracker.households.queries import register_as_at
from tracker.households.schemas import (
    HouseholdChange,
    HouseholdDetails,
    NewHousehold,
)
from tracker.households.service import approve_household, change_household, update_details
from tracker.households.sheet import (
    EXPORT_HEADER,
    EXPORT_ONLY,
    FIELD_COLUMNS,
    MAX_ERRORS,
    NOT_IMPORTED,
    STATE_FIELDS,
    RegisterEntry,
    entry_of,
    entry_rules,
    parse_cells,
    read_register,
    version_state,
)
from tracker.households.tables import Household, HouseholdVersion, decode_terms

IMPORT_NOTE = "imported"
# The rows a warning names (its `row_count` counts them all).
LISTED_ROWS = 5


class HouseholdImportWarning(msgspec.Struct, frozen=True, kw_only=True):
    """An export-only column whose cells differ from the register: they were not imported."""

    column: str
    rows: list[int]
    row_count: int
    message: str

    def rows_words(self) -> str:
        """The rows as people read them: "2, 3, 5, 8, 9 and 16 more"."""
        listed = ", ".join(str(row) for row in self.rows)
        more = self.row_count - len(self.rows)
        return f"{listed} and {more} more" if more > 0 else listed


class HouseholdImportReport(msgspec.Struct, frozen=True, kw_only=True):
    """What an import of the register did (or, in a dry run, would do), and the export-only
    cells it did not store."""

    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool
    warnings: list[HouseholdImportWarning] = msgspec.field(default_factory=list)


def _stored(
    session: Session, authority_code: str, references: Iterable[str]
) -> dict[str, tuple[Household, HouseholdVersion]]:
    """Stored households by reference, each with its latest period."""
    found: dict[str, tuple[Household, HouseholdVersion]] = {}
    wanted = list(references)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        households = {
            row.id: row
            for row in session.scalars(
                select(Household).where(
                    Household.authority_code == authority_code,
                    col(Household.reference).in_(chunk),
                )
            )
        }
        latest = select(HouseholdVersion).where(
            col(HouseholdVersion.household_id).in_(list(households)),
            col(HouseholdVersion.valid_to).is_(None),
        )
        for version in session.scalars(latest):
            row = households[version.household_id]
            found[row.reference] = (row, version)
    return found


class ReadRows(msgspec.Struct, frozen=True, kw_only=True):
    """A register file's rows read and typed, before any stored household is looked at."""

    readable: list[tuple[int, dict[str, Any]]]
    seen: dict[str, int]
    errors: list[RowError]
    export_only: list[tuple[int, str, dict[str, str]]] = msgspec.field(default_factory=list)
    """Each row's non-empty export-only cells: row, reference, {column: text}."""


def read_rows(content: bytes, file_format: FileFormat | None = None) -> ReadRows:
    """Read and type every row (no database: an import does this before any transaction).

    Raises ImportRejectedError once `MAX_ERRORS` problems are found.
    """
    rows = read_register(content, file_format)
    readable: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    export_only: list[tuple[int, str, dict[str, str]]] = []
    for number, raw in ((row.line, row.cells) for row in rows):
        values, row_errors = parse_cells(number, raw)
        reference = values.get("reference")
        given = {c: read_text(str(raw.get(c) or "").strip()) for c in EXPORT_ONLY}
        if reference and any(given.values()):
            export_only.append((number, reference, {c: t for c, t in given.items() if t}))
        if reference and reference in seen:
            row_errors.append(
                RowError(number, "reference", f"{reference!r} repeats row {seen[reference]}")
            )
        elif reference:
            seen[reference] = number
        errors += row_errors
        if not row_errors:
            readable.append((number, values))
        if len(errors) >= MAX_ERRORS:
            raise ImportRejectedError(errors[:MAX_ERRORS])
    return ReadRows(readable=readable, seen=seen, errors=errors, export_only=export_only)


def check_file(
    session: Session, authority_code: str, read: ReadRows, today: date
) -> tuple[list[RegisterEntry], dict[str, tuple[Household, HouseholdVersion]]]:
    """Every row as a register entry, with the stored households they match.

    Raises ImportRejectedError listing every row and column at fault; writes nothing.
    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    stored = _stored(session, authority_code, read.seen)
    entries = []
    errors = list(read.errors)
    for number, values in read.readable:
        household, current = stored.get(values["reference"], (None, None))
        entry = entry_of(number, values, household, current)
        errors += entry_rules(entry, household, current, today)
        entries.append(entry)
    if errors:
        raise ImportRejectedError(sorted(errors, key=lambda e: e.row)[:MAX_ERRORS])
    return entries, stored


def _same_figure(given: str, held: str) -> bool:
    """A cell and the register's figure agree ("2.0" from an xlsx number cell is 2)."""
    if given == held:
        return True
    try:
        return float(given) == float(held)
    except ValueError:
        return False


def not_imported(
    session: Session, authority_code: str, read: ReadRows, today: date
) -> list[HouseholdImportWarning]:
    """A warning per export-only column whose cells differ from the register as it stands
    (after the import, as at today): those figures are not taken from the file, so a
    re-imported export warns of nothing and a file claiming filled places is told so."""
    if not read.export_only:
        return []
    register = {row["reference"]: row for row in export_rows(session, authority_code, today)}
    differing: dict[str, list[tuple[int, str, str]]] = {}
    for number, reference, cells in read.export_only:
        held = register.get(reference, {})
        for column, given in cells.items():
            if not _same_figure(given, held.get(column, "")):
                differing.setdefault(column, []).append((number, given, held.get(column, "")))
    warnings = []
    for column in EXPORT_ONLY:
        found = differing.get(column)
        if not found:
            continue
        first, given, held = found[0]
        rows = "1 row gives" if len(found) == 1 else f"{len(found)} rows give"
        warnings.append(
            HouseholdImportWarning(
                column=column,
                rows=[number for number, _, _ in found[:LISTED_ROWS]],
                row_count=len(found),
                message=f"{column} was not imported: {rows} a figure the register does not"
                f" hold on {today.isoformat()} (row {first}: {given} in the file,"
                f" {held or 'none'} in the register). "
                + NOT_IMPORTED[column].format(code=authority_code),
            )
        )
    return warnings


def _row_error(entry: RegisterEntry, exc: DomainError) -> RowError:
    field = FIELD_COLUMNS.get(exc.field or "", exc.field)
    return RowError(entry.row, field, f"{exc.rule}: {exc.message}")


def _create(
    session: Session, caller: Caller, authority_code: str, entry: RegisterEntry, today: date
) -> int:
    record = approve_household(
        session,
        caller,
        authority_code,
        NewHousehold(
            reference=entry.reference,
            care_type=entry.care_type,
            approved_places=entry.approved_places,
            age_min=entry.age_min,
            age_max=entry.age_max,
            terms=list(entry.terms),
            approved_on=entry.approved_on,
            carers_ethnicity=entry.carers_ethnicity,
            carers=entry.carers,
            carers_age_bands=list(entry.carers_age_bands),
            carers_disabled=entry.carers_disabled,
            last_review_on=entry.last_review_on,
        ),
        today,
    )
    if entry.status is not HouseholdStatus.ACTIVE:
        change = HouseholdChange(
            effective_on=entry.effective_on,
            status=entry.status,
            deregistration_reason=entry.deregistration_reason,
            note=IMPORT_NOTE,
        )
        change_household(session, caller, authority_code, record.id, change, today)
    return record.id


def _update(
    session: Session,
    caller: Caller,
    authority_code: str,
    entry: RegisterEntry,
    stored: tuple[Household, HouseholdVersion],
    today: date,
) -> bool:
    """Apply what differs; False when the stored household already matches the row."""
    household, current = stored
    assert household.id is not None
    changed = False
    if entry.state() != version_state(current):
        differing = {
            name
            for name, stored_value, value in zip(
                STATE_FIELDS, version_state(current), entry.state(), strict=True
            )
            if stored_value != value
        }
        given = {
            name: list(entry.terms) if name == "terms" else getattr(entry, name)
            for name in differing - {"deregistration_reason"}
        }
        change = HouseholdChange(
            effective_on=entry.effective_on,
            deregistration_reason=entry.deregistration_reason,
            note=IMPORT_NOTE,
            **given,
        )
        change_household(session, caller, authority_code, household.id, change, today)
        changed = True
    ethnicity = entry.carers_ethnicity.value if entry.carers_ethnicity else None
    details: dict[str, Any] = {}
    if ethnicity != household.carers_ethnicity:
        details["carers_ethnicity"] = entry.carers_ethnicity
    if entry.last_review_on != household.last_review_on:
        details["last_review_on"] = entry.last_review_on
    carers = (entry.carers, [b.value for b in entry.carers_age_bands], entry.carers_disabled)
    if carers != (household.carers, household.carers_age_bands or [], household.carers_disabled):
        details |= {
            "carers": entry.carers,
            "carers_age_bands": list(entry.carers_age_bands),
            "carers_disabled": entry.carers_disabled,
        }
    if details:
        update_details(
            session, caller, authority_code, household.id, HouseholdDetails(**details), today
        )
        changed = True
    return changed


def import_households(
    session: Session,
    caller: Caller,
    authority_code: str,
    content: bytes,
    today: date,
    *,
    file_format: FileFormat | None = None,
    dry_run: bool = False,
) -> HouseholdImportReport:
    """Check every row, then approve, change or leave each household; all or nothing.
    Export-only figures (filled places and the like) are never imported; the report warns
    of those that differ from the register (`not_imported`).

    A refusal by the register while applying (more children placed than the new places, say)
    rolls the session back and raises ImportRejectedError naming that row: the caller must not
    commit after an error. A dry run applies everything, reports, then rolls back.
    """
    # The file is read and typed before the session's transaction (and SQLite's write lock)
    # begins: only matching, checking and applying happen inside it.
    read = read_rows(content, file_format)
    get_authority(session, authority_code)
    entries, stored = check_file(session, authority_code, read, today)
    created: list[int] = []
    updated: list[int] = []
    unchanged = 0
    with register_batch(session, today):
        for entry in entries:
            try:
                if entry.reference not in stored:
                    created.append(_create(session, caller, authority_code, entry, today))
                elif _update(
                    session, caller, authority_code, entry, stored[entry.reference], today
                ):
                    updated.append(stored[entry.reference][0].id or 0)
                else:
                    unchanged += 1
            except DomainError as exc:
                session.rollback()
                raise ImportRejectedError([_row_error(entry, exc)]) from exc
    report = HouseholdImportReport(
        rows=len(entries),
        created=len(created),
        updated=len(updated),
        unchanged=unchanged,
        dry_run=dry_run,
        warnings=not_imported(session, authority_code, read, today),
    )
    if dry_run:
        session.rollback()
        return report
    audit.record(
        session,
        caller,
        "import",
        "household",
        None,
        authority_code=authority_code,
        detail={
            "rows": report.rows,
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
        },
    )
    session.flush()
    return report


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def export_rows(session: Session, authority_code: str, as_at: date) -> list[dict[str, str]]:
    """The register as at a date, by reference: the import's columns plus id and places."""
    get_authority(session, authority_code)
    rows = []
    for household, version, record in register_as_at(session, authority_code, as_at):
        cells: dict[str, Any] = {
            "id": household.id,
            "reference": household.reference,
            "care_type": version.care_type,
            "approved_on": household.approved_on,
            # The register's figure: a deregistered household keeps the places it had.
            "approved_places": version.approved_places,
            "age_min": version.age_min,
            "age_max": version.age_max,
            "terms": ";".join(decode_terms(version.terms)),
            "status": version.status,
            "status_from": version.valid_from,
            "deregistration_reason": version.deregistration_reason,
            "carers_ethnicity": household.carers_ethnicity,
            "last_review_on": household.last_review_on,
            "carers": household.carers,
            "carers_age_bands": ";".join(household.carers_age_bands or []),
            "carers_disabled": household.carers_disabled,
            "filled_places": record.filled_places,
            "vacant_places": record.vacant_places,
            "unavailable_places": record.unavailable_places,
        }
        rows.append({column: _cell(cells[column]) for column in EXPORT_HEADER})
    return rows


def export_households(
    session: Session,
    caller: Caller,
    authority_code: str,
    as_at: date,
    today: date,
    file_format: FileFormat,
    *,
    writer: Session | None = None,
) -> bytes:
    """The register as at a date as a CSV or xlsx file; audited (carers' ethnicity is
    personal data, so the entry names only the date, format and row count).

    Read with `session` (a read session: on SQLite it takes no write lock); the audit entry
    is written with `writer` (default `session`), which the caller commits."""
    if as_at > today:
        raise InvalidValueError(f"as_at {as_at.isoformat()} is in the future", field="as_at")
    rows = export_rows(session, authority_code, as_at)
    if writer is not None and writer is not session:
        session.rollback()  # the read snapshot is no longer needed
    # Names and notes are users' text: one rule for every export (tracker.core.table_export).
    table = [[row[column] for column in EXPORT_HEADER] for row in rows]
    if file_format is FileFormat.XLSX:
        content = xlsx_bytes(EXPORT_HEADER, table, sheet_name="households")
    else:
        content = csv_bytes(EXPORT_HEADER, table, byte_order_mark=False, line_end="\n")
    # The audit entry last: its write (and SQLite's lock) lasts only until the caller commits.
    writer = writer if writer is not None else session
    audit.record(
        writer,
        caller,
        "export",
        "household",
        None,
        authority_code=authority_code,
        detail={"rows": len(rows), "format": file_format.value, "as_at": as_at.isoformat()},
    )
    writer.flush()
    return content
