"""Import and export of the household register as a spreadsheet (CSV or xlsx).

One row per household reference: its care type, approval, places, age range, terms, status
and undated details. Imports are all-or-nothing and idempotent on `reference`: every row is
checked before anything is written, a row matching the stored register changes nothing, and
a row that differs is applied through the register's own service functions as a dated change
from `status_from`, so the history stays dated and every rule of the register still holds.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import msgspec
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import DomainError, ImportRejectedError, InvalidValueError, RowError
from tracker.core.spreadsheets import FileFormat, SheetRow, parse_date, read_sheet
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
    Term,
)
from tracker.households.service import (
    EARLIEST,
    Age,
    Household,
    HouseholdChange,
    HouseholdDetails,
    HouseholdVersion,
    NewHousehold,
    Places,
    Reference,
    active_on,
    approve_household,
    change_household,
    decode_terms,
    encode_terms,
    to_record,
    update_details,
)

COLUMNS: tuple[str, ...] = (
    "reference",
    "care_type",
    "approved_on",
    "approved_places",
    "age_min",
    "age_max",
    "terms",
    "status",
    "status_from",
    "deregistration_reason",
    "carers_ethnicity",
    "last_review_on",
)
REQUIRED = ("reference", "care_type", "approved_on", "approved_places")
# Figures the export adds for readers (as at the export date); an import ignores them.
EXPORT_ONLY = ("id", "filled_places", "vacant_places", "unavailable_places")
EXPORT_HEADER = (EXPORT_ONLY[0], *COLUMNS, *EXPORT_ONLY[1:])
# The dated part of an entry: a difference here is a change from `status_from`.
STATE_FIELDS = (
    "care_type",
    "status",
    "approved_places",
    "age_min",
    "age_max",
    "terms",
    "deregistration_reason",
)
# What a blank cell in an optional column means (an absent column leaves stored values alone).
BLANK: dict[str, Any] = {
    "age_min": 0,
    "age_max": 17,
    "terms": (),
    "status": HouseholdStatus.ACTIVE,
    "status_from": None,
    "deregistration_reason": None,
    "carers_ethnicity": None,
    "last_review_on": None,
}
# Fields the register's service functions name, as the file's columns name them.
FIELD_COLUMNS = {"effective_on": "status_from", "household_id": "reference"}
MAX_ERRORS = 200
IMPORT_NOTE = "imported"


class HouseholdImportReport(msgspec.Struct, frozen=True, kw_only=True):
    """What an import of the register did (or, in a dry run, would do)."""

    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool


class RegisterEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A household as one file row gives it (stored values fill the columns the file lacks)."""

    row: int
    reference: str
    care_type: HouseholdCareType
    approved_on: date
    approved_places: int
    age_min: int
    age_max: int
    terms: tuple[Term, ...]
    status: HouseholdStatus
    status_from: date | None
    deregistration_reason: DeregistrationReason | None
    carers_ethnicity: Ethnicity | None
    last_review_on: date | None

    @property
    def effective_on(self) -> date:
        """When the row's status and places took effect (its approval when not given)."""
        return self.status_from or self.approved_on

    def state(self) -> tuple[Any, ...]:
        """The dated part (STATE_FIELDS), comparable with `version_state`."""
        return (
            self.care_type.value,
            self.status.value,
            self.approved_places,
            self.age_min,
            self.age_max,
            encode_terms(list(self.terms)),
            self.deregistration_reason.value if self.deregistration_reason else None,
        )


def version_state(version: HouseholdVersion) -> tuple[Any, ...]:
    """The dated part (STATE_FIELDS) of a stored period, comparable with `RegisterEntry.state`."""
    return (
        version.care_type,
        version.status,
        version.approved_places,
        version.age_min,
        version.age_max,
        version.terms,
        version.deregistration_reason,
    )


def _code(kind: type[enum.StrEnum]) -> Callable[[str], Any]:
    allowed = {m.value for m in kind}

    def parse(value: str) -> Any:
        code = value.strip().lower().replace(" ", "_").replace("-", "_")
        if code not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return kind(code)

    return parse


def _constrained(kind: Any, what: str) -> Callable[[Any], Any]:
    """Check a value against one of the register's own constrained types."""

    def parse(value: Any) -> Any:
        try:
            return msgspec.convert(value, kind)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{value!r} is not a valid {what}: {exc}") from None

    return parse


def _whole(kind: Any, what: str) -> Callable[[str], int]:
    check = _constrained(kind, what)

    def parse(value: str) -> int:
        # An xlsx number cell may read as "2.0".
        if not re.fullmatch(r"[0-9]+(\.0*)?", value):
            raise ValueError(f"{value!r} is not a whole number")
        return int(check(int(float(value))))

    return parse


def _terms(value: str) -> tuple[Term, ...]:
    parse = _code(Term)
    return tuple(sorted({parse(part) for part in re.split(r"[;,]", value) if part.strip()}))


PARSERS: dict[str, Callable[[str], Any]] = {
    "reference": _constrained(Reference, "reference (letters, digits, / _ . -; up to 40)"),
    "care_type": _code(HouseholdCareType),
    "approved_on": parse_date,
    "approved_places": _whole(Places, "number of places (0 to 12)"),
    "age_min": _whole(Age, "age (0 to 25)"),
    "age_max": _whole(Age, "age (0 to 25)"),
    "terms": _terms,
    "status": _code(HouseholdStatus),
    "status_from": parse_date,
    "deregistration_reason": _code(DeregistrationReason),
    "carers_ethnicity": _code(Ethnicity),
    "last_review_on": parse_date,
}


def _read(content: bytes, file_format: FileFormat | None) -> list[SheetRow]:
    header, rows = read_sheet(content, file_format)
    if not rows:
        raise ImportRejectedError([RowError(1, None, "the file has no data rows")])
    _check_header(header)
    return rows


def _check_header(header: Iterable[str | None]) -> None:
    columns = [h for h in header if h is not None]
    errors = [
        RowError(1, column, f"unknown column {column!r}")
        for column in columns
        if column not in COLUMNS and column not in EXPORT_ONLY
    ]
    errors += [
        RowError(1, column, f"required column {column!r} is missing")
        for column in REQUIRED
        if column not in columns
    ]
    if errors:
        raise ImportRejectedError(errors)


def parse_cells(row: int, raw: dict[str | None, Any]) -> tuple[dict[str, Any], list[RowError]]:
    """One row's cells, typed (blank cells as their blank meaning), and every problem in them."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    if raw.get(None):
        errors.append(RowError(row, None, "the row has more cells than the header"))
    for column, cell in raw.items():
        if column not in PARSERS:
            continue
        text = str(cell or "").strip()
        if not text:
            if column in REQUIRED:
                errors.append(RowError(row, column, f"{column} is required"))
            else:
                values[column] = BLANK[column]
            continue
        try:
            values[column] = PARSERS[column](text)
        except ValueError as exc:
            errors.append(RowError(row, column, str(exc)))
    return values, errors


def _entry(
    row: int, values: dict[str, Any], stored: Household | None, current: HouseholdVersion | None
) -> RegisterEntry:
    """The row's register entry: its cells over the stored entry (or the blank defaults)."""
    base: dict[str, Any] = dict(BLANK)
    if stored is not None and current is not None:
        base |= {
            "care_type": HouseholdCareType(current.care_type),
            "approved_places": current.approved_places,
            "age_min": current.age_min,
            "age_max": current.age_max,
            "terms": tuple(decode_terms(current.terms)),
            "status": HouseholdStatus(current.status),
            "deregistration_reason": (
                DeregistrationReason(current.deregistration_reason)
                if current.deregistration_reason
                else None
            ),
            "carers_ethnicity": (
                Ethnicity(stored.carers_ethnicity) if stored.carers_ethnicity else None
            ),
            "last_review_on": stored.last_review_on,
        }
    return RegisterEntry(row=row, **(base | values))


def _entry_rules(
    entry: RegisterEntry,
    stored: Household | None,
    current: HouseholdVersion | None,
    today: date,
) -> list[RowError]:
    """The register's rules on one complete entry, and against the stored household."""
    row = entry.row
    errors = [
        RowError(row, column, f"{column} {day.isoformat()} is in the future")
        for column, day in (
            ("approved_on", entry.approved_on),
            ("status_from", entry.status_from),
            ("last_review_on", entry.last_review_on),
        )
        if day is not None and day > today
    ]
    errors += [
        RowError(row, column, f"{column} {day.isoformat()} is before {EARLIEST.isoformat()}")
        for column, day in (
            ("approved_on", entry.approved_on),
            ("last_review_on", entry.last_review_on),
        )
        if day is not None and day < EARLIEST
    ]
    if entry.status_from is not None and entry.status_from < entry.approved_on:
        errors.append(RowError(row, "status_from", "status_from is before approved_on"))
    if entry.age_min > entry.age_max:
        errors.append(
            RowError(row, "age_min", f"age_min {entry.age_min} is above age_max {entry.age_max}")
        )
    deregistered = entry.status is HouseholdStatus.DEREGISTERED
    if deregistered and entry.deregistration_reason is None:
        errors.append(
            RowError(row, "deregistration_reason", "a deregistered household needs a reason")
        )
    if not deregistered and entry.deregistration_reason is not None:
        errors.append(
            RowError(
                row,
                "deregistration_reason",
                f"deregistration_reason applies only with status deregistered, not {entry.status}",
            )
        )
    if stored is None or current is None or errors:
        return errors
    if entry.approved_on != stored.approved_on:
        errors.append(
            RowError(
                row,
                "approved_on",
                f"household {entry.reference} was approved on {stored.approved_on.isoformat()};"
                " an import cannot change the approval date",
            )
        )
    elif entry.state() != version_state(current):
        if current.status == HouseholdStatus.DEREGISTERED:
            errors.append(
                RowError(
                    row,
                    "status",
                    f"household {entry.reference} was deregistered on"
                    f" {current.valid_from.isoformat()}; its entry can no longer change",
                )
            )
        elif entry.effective_on < current.valid_from:
            errors.append(
                RowError(
                    row,
                    "status_from",
                    f"the change would take effect on {entry.effective_on.isoformat()}, before"
                    f" the latest change ({current.valid_from.isoformat()}): give a later"
                    " status_from",
                )
            )
    return errors


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
                    Household.reference.in_(chunk),  # type: ignore[attr-defined]
                )
            )
        }
        latest = select(HouseholdVersion).where(
            HouseholdVersion.household_id.in_(list(households)),  # type: ignore[attr-defined]
            HouseholdVersion.valid_to.is_(None),  # type: ignore[union-attr]
        )
        for version in session.scalars(latest):
            row = households[version.household_id]
            found[row.reference] = (row, version)
    return found


def check_file(
    session: Session,
    authority_code: str,
    content: bytes,
    today: date,
    file_format: FileFormat | None = None,
) -> tuple[list[RegisterEntry], dict[str, tuple[Household, HouseholdVersion]]]:
    """Every row as a register entry, with the stored households they match.

    Raises ImportRejectedError listing every row and column at fault; writes nothing.
    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    rows = _read(content, file_format)
    readable: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, raw in ((row.line, row.cells) for row in rows):
        values, row_errors = parse_cells(number, raw)
        reference = values.get("reference")
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
    stored = _stored(session, authority_code, seen)
    entries = []
    for number, values in readable:
        household, current = stored.get(values["reference"], (None, None))
        entry = _entry(number, values, household, current)
        errors += _entry_rules(entry, household, current, today)
        entries.append(entry)
    if errors:
        raise ImportRejectedError(sorted(errors, key=lambda e: e.row)[:MAX_ERRORS])
    return entries, stored


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

    A refusal by the register while applying (more children placed than the new places, say)
    rolls the session back and raises ImportRejectedError naming that row: the caller must not
    commit after an error. A dry run applies everything, reports, then rolls back.
    """
    get_authority(session, authority_code)
    entries, stored = check_file(session, authority_code, content, today, file_format)
    created: list[int] = []
    updated: list[int] = []
    unchanged = 0
    for entry in entries:
        try:
            if entry.reference not in stored:
                created.append(_create(session, caller, authority_code, entry, today))
            elif _update(session, caller, authority_code, entry, stored[entry.reference], today):
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
    in_force = {
        version.household_id: version
        for version in session.scalars(
            select(HouseholdVersion).where(
                HouseholdVersion.authority_code == authority_code,
                active_on(HouseholdVersion.valid_from, HouseholdVersion.valid_to, as_at),
            )
        )
    }
    query = (
        select(Household)
        .where(
            Household.authority_code == authority_code,
            Household.id.in_(list(in_force)),  # type: ignore[union-attr]
        )
        .order_by(Household.reference)
    )
    rows = []
    for household in session.scalars(query):
        assert household.id is not None
        version = in_force[household.id]
        record = to_record(session, household, as_at)
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
) -> bytes:
    """The register as at a date as a CSV or xlsx file; audited (carers' ethnicity is
    personal data, so the entry names only the date, format and row count)."""
    if as_at > today:
        raise InvalidValueError(f"as_at {as_at.isoformat()} is in the future", field="as_at")
    rows = export_rows(session, authority_code, as_at)
    audit.record(
        session,
        caller,
        "export",
        "household",
        None,
        authority_code=authority_code,
        detail={"rows": len(rows), "format": file_format.value, "as_at": as_at.isoformat()},
    )
    session.flush()
    if file_format is FileFormat.XLSX:
        buffer = io.BytesIO()
        pd.DataFrame(rows, columns=list(EXPORT_HEADER)).to_excel(
            buffer, index=False, sheet_name="households", engine="xlsxwriter"
        )
        return buffer.getvalue()
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=EXPORT_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()
