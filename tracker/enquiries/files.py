"""Import and export of the recruitment team's enquiry spreadsheet (CSV or xlsx).

Imports are all-or-nothing (every row is checked before anything is written) and
idempotent on `external_ref`: a row matching a stored enquiry changes it only where the
file differs, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.cells import bounded, code_of, codes_of, matching
from tracker.core.clock import utcnow
from tracker.core.errors import DomainError, ImportRejectedError, RowError
from tracker.core.monthly_upkeep import enquiries_imported
from tracker.core.patterns import PHONE, control_character, is_blank
from tracker.core.spreadsheets import FileFormat, parse_date, read_sheet
from tracker.core.table_export import csv_bytes, read_text, xlsx_bytes
from tracker.enquiries.queries import filter_conditions, status_of
from tracker.enquiries.schemas import EARLIEST_DATE, EnquiryFilter
from tracker.enquiries.stages import (
    LATER_STAGES,
    ClosureReason,
    Stage,
    WithdrawalReason,
    check_closure,
    check_history,
)
from tracker.enquiries.tables import ERASED_FIELDS, Enquiry, EnquiryEvent
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest

STAGE_COLUMNS = tuple(stage.date_column for stage in LATER_STAGES)
COLUMNS: tuple[str, ...] = (
    "external_ref",
    "received_on",
    "channel",
    "campaign",
    "enquirer_name",
    "email",
    "phone",
    "postcode_district",
    "household_type",
    "ethnicity",
    "interests",
    *STAGE_COLUMNS,
    "closed_on",
    "closure_reason",
    "withdrawal_reason",
)
REQUIRED = ("external_ref", "received_on", "channel")
# Text on one line (the API's ONE_LINE): a control character in a new or changed value is
# refused; a value the service stored before that rule comes back from an export unchanged.
ONE_LINE_COLUMNS = ("external_ref", "campaign", "enquirer_name")
# Columns the export adds for readers; an import accepts and checks `stage`, ignores the rest.
EXPORT_ONLY = ("id", "stage", "status")
MAX_ERRORS = 200
# The changed enquiries a report names (the counts cover them all).
MAX_LISTED = 50
# A phone number a spreadsheet stored as a number has lost its leading 0: ten digits
# starting 1, 2 or 3 (a landline) or 7 (a mobile) are a UK number without it.
LOST_ZERO = re.compile(r"[1237][0-9]{9}")
ENQUIRY = Enquiry.__table__  # type: ignore[attr-defined]


class ImportWarning(msgspec.Struct, frozen=True, kw_only=True):
    """Something the import read differently from the cell, without stopping it."""

    row: int
    column: str
    message: str


class ChangedEnquiry(msgspec.Struct, frozen=True, kw_only=True):
    """A stored enquiry the import changes, and the columns it changes (in the file's order)."""

    id: int
    external_ref: str | None
    fields: list[str]


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did (or, in a dry run, would do): the counts, the first `MAX_LISTED`
    enquiries it changes, and its warnings."""

    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool
    erased_fields_ignored: int = 0
    changed: list[ChangedEnquiry] = msgspec.field(default_factory=list)
    warnings: list[ImportWarning] = msgspec.field(default_factory=list)


def _withdrawal_code(value: str) -> WithdrawalReason:
    code = value.strip().upper()
    if code not in WithdrawalReason.__members__:
        raise ValueError(f"{value!r} is not one of {', '.join(WithdrawalReason)}")
    return WithdrawalReason(code)


PARSERS: dict[str, Callable[[str], Any]] = {
    "external_ref": bounded(64),
    "received_on": parse_date,
    "channel": code_of(Channel),
    "campaign": bounded(80),
    "enquirer_name": bounded(200),
    "email": matching(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "email address", 254),
    "phone": matching(PHONE, "phone number", 30),
    "postcode_district": lambda v: matching(
        r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]?$", "postcode district (e.g. ST4)", 4
    )(v).upper(),
    "household_type": code_of(HouseholdType),
    "ethnicity": code_of(Ethnicity),
    "interests": codes_of(Interest),
    **{column: parse_date for column in STAGE_COLUMNS},
    "closed_on": parse_date,
    "closure_reason": code_of(ClosureReason),
    "withdrawal_reason": _withdrawal_code,
    "stage": code_of(Stage),
}


def _check_header(header: list[str]) -> None:
    errors = [
        RowError(1, column, f"unknown column {column!r}")
        for column in header
        if column not in COLUMNS and column not in EXPORT_ONLY
    ]
    if "external_ref" not in header and "id" not in header:
        errors.append(RowError(1, "external_ref", "a column external_ref (or id) is required"))
    errors += [
        RowError(1, column, f"required column {column!r} is missing")
        for column in REQUIRED[1:]
        if column not in header
    ]
    if errors:
        raise ImportRejectedError(errors)


def parse_row(
    line: int, raw: dict[Any, Any], warnings: list[ImportWarning] | None = None
) -> tuple[dict[str, Any], list[RowError]]:
    """The typed values of the cells a row has, and every problem found in them; what was
    read differently from the cell is added to `warnings`."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    if None in raw:
        errors.append(RowError(line, None, "the row has more cells than the header"))
    for column, cell in raw.items():
        if column not in PARSERS and column != "id":
            continue
        # An exported file comes back as stored: the formula guard's quote is dropped.
        text = read_text((cell or "").strip())
        if is_blank(text):  # spaces or zero-width characters only: an empty cell
            values[column] = [] if column == "interests" else None
        elif column == "phone" and LOST_ZERO.fullmatch(text):
            values["phone"] = "0" + text
            if warnings is not None:
                warnings.append(_lost_zero(line))
        elif column == "id":
            if text.isdigit() and len(text) < 10:
                values["id"] = int(text)
            else:
                errors.append(RowError(line, "id", f"{text!r} is not an enquiry id"))
        else:
            try:
                values[column] = PARSERS[column](text)
            except ValueError as exc:
                errors.append(RowError(line, column, str(exc)))
    if not values.get("external_ref") and not values.get("id") and not errors:
        errors.append(RowError(line, "external_ref", "external_ref (or id) is required"))
    return values, errors


def _lost_zero(line: int) -> ImportWarning:
    """The warning for a phone number read with its lost 0. It names the row, never the
    number: an import's report is kept for retries, where an erasure cannot reach it."""
    return ImportWarning(
        row=line,
        column="phone",
        message="the phone number was read with a 0 added in front: the spreadsheet stored it "
        "as a number, which drops its first 0 (format the column as text to keep it)",
    )


def _row_rules(row_number: int, values: dict[str, Any], today: date) -> list[RowError]:
    for column in REQUIRED[1:]:
        if values.get(column) is None:
            return [RowError(row_number, column, f"{column} is required")]
    received = values["received_on"]
    if received > today or received < EARLIEST_DATE:
        return [RowError(row_number, "received_on", f"{received} is out of range")]
    reached = {Stage.ENQUIRY: received}
    reached |= {s: values[s.date_column] for s in LATER_STAGES if values.get(s.date_column)}
    try:
        check_history(reached, today)
    except DomainError as exc:
        return [RowError(row_number, exc.field, exc.message)]
    furthest = max(reached, key=lambda s: s.rank)
    if values.get("stage") and values["stage"] != furthest.value:
        return [
            RowError(
                row_number,
                "stage",
                f"stage {values['stage']} does not match the dates (they reach {furthest})",
            )
        ]
    closed_on, reason = values.get("closed_on"), values.get("closure_reason")
    if (closed_on is None) != (reason is None):
        field = "closure_reason" if reason is None else "closed_on"
        return [RowError(row_number, field, "closed_on and closure_reason go together")]
    withdrawal = values.get("withdrawal_reason")
    if withdrawal is not None and closed_on is None:
        return [RowError(row_number, "withdrawal_reason", "withdrawal_reason needs a closure")]
    if closed_on is not None:
        try:
            check_closure(furthest, ClosureReason(reason), withdrawal)
        except DomainError as exc:
            field = "withdrawal_reason" if exc.field == "withdrawal_reason" else "closure_reason"
            return [RowError(row_number, field, exc.message)]
        if closed_on < reached[furthest] or closed_on > today:
            return [
                RowError(
                    row_number,
                    "closed_on",
                    f"closed_on {closed_on} is before {furthest} or in the future",
                )
            ]
    return []


def _line_errors(line: int, values: dict[str, Any], stored: Enquiry | None) -> list[RowError]:
    """The one-line columns of the row whose new or changed value holds a control character
    (an erased enquiry's personal fields are left out: the import ignores them)."""
    erased = stored is not None and stored.erased_at is not None
    errors = []
    for column in ONE_LINE_COLUMNS:
        if erased and column in ERASED_FIELDS:
            continue
        value = values.get(column)
        found = control_character(value) if isinstance(value, str) else None
        if found and (stored is None or getattr(stored, column) != value):
            message = f"{column} holds {found}: write it on one line, without control characters"
            errors.append(RowError(line, column, message))
    return errors


def _stored_fields(values: dict[str, Any]) -> dict[str, Any]:
    fields = {c: values.get(c) for c in COLUMNS}
    fields["interests"] = values.get("interests") or []
    reached = [s for s in LATER_STAGES if values.get(s.date_column)]
    fields["stage"] = (reached[-1] if reached else Stage.ENQUIRY).value
    return fields


def _closure_changed(stored: Enquiry | None, merged: dict[str, Any]) -> bool:
    return stored is not None and (stored.closed_on, stored.closure_reason) != (
        merged.get("closed_on"),
        merged.get("closure_reason"),
    )


def _stored_values(row: Enquiry) -> dict[str, Any]:
    return {column: getattr(row, column) for column in COLUMNS}


class _Changes(msgspec.Struct, kw_only=True):
    """What an import will write: new enquiries' fields; (id, version read, changed fields,
    stage) of stored ones and their references; how many rows change nothing, and erased
    fields the file left out."""

    created: list[dict[str, Any]]
    updated: list[tuple[int, int, dict[str, Any], str]]
    unchanged: int
    ignored: int
    refs: dict[int, str | None] = msgspec.field(default_factory=dict)

    def report(self, rows: int, dry_run: bool, warnings: list[ImportWarning]) -> ImportReport:
        return ImportReport(
            rows=rows,
            created=len(self.created),
            updated=len(self.updated),
            unchanged=self.unchanged,
            dry_run=dry_run,
            erased_fields_ignored=self.ignored,
            changed=[
                ChangedEnquiry(
                    id=i,
                    external_ref=self.refs.get(i),
                    fields=[c for c in (*COLUMNS, "stage") if c in changed],
                )
                for i, _, changed, _ in self.updated[:MAX_LISTED]
            ],
            warnings=warnings,
        )


def _differs(column: str, stored: Any, value: Any) -> bool:
    """Whether the file's value changes the stored one: the kinds of fostering are a set,
    so their order in the cell is no change."""
    if column == "interests":
        return {str(v) for v in stored or []} != {str(v) for v in value or []}
    return bool(stored != value)


def import_enquiries(
    session: Session,
    caller: Caller,
    authority_code: str,
    content: bytes,
    today: date,
    *,
    file_format: FileFormat | None = None,
    dry_run: bool = False,
    writer: Session | None = None,
) -> ImportReport:
    """Check every row, then create, update or leave each enquiry; all or nothing.

    Rows match stored enquiries on external_ref, or on id when the reference is blank (as
    in an export of enquiries logged without one). A column the file leaves out is left as
    stored. Raises ImportRejectedError (nothing written) listing rows and fields at fault;
    rows are numbered as a spreadsheet shows them, the header being row 1.

    The file is read and checked with `session` (a read session is enough: nothing is
    written with it, so on SQLite a dry run never takes the write lock); `writer` (default
    `session`) then writes every change in one short transaction of bulk statements. When an
    enquiry the check read has changed by then, the writer checks the rows again itself.
    """
    header, rows = read_sheet(content, file_format)
    if not rows:
        raise ImportRejectedError([RowError(1, None, "the file has no data rows")])
    _check_header(header)
    cells: list[tuple[int, dict[str, Any], bool]] = []
    errors: list[RowError] = []
    warnings: list[ImportWarning] = []
    seen: dict[object, int] = {}
    for row in rows:
        values, row_errors = parse_row(row.line, row.cells, warnings)
        key = values.get("external_ref") or values.get("id")
        if key and key in seen:
            field = "external_ref" if values.get("external_ref") else "id"
            row_errors.append(RowError(row.line, field, f"{key!r} repeats row {seen[key]}"))
        elif key:
            seen[key] = row.line
        errors += row_errors
        cells.append((row.line, values, not row_errors))
        if len(errors) >= MAX_ERRORS:
            raise ImportRejectedError(errors[:MAX_ERRORS])

    get_authority(session, authority_code)
    changes = _plan(session, authority_code, cells, seen, today, errors)
    if dry_run:
        session.rollback()
        return changes.report(len(cells), dry_run=True, warnings=warnings)
    writer = writer if writer is not None else session
    if writer is not session:
        session.rollback()  # the check's snapshot is no longer needed
        if not _still_current(writer, authority_code, changes):
            changes = _plan(writer, authority_code, cells, seen, today, [])
    _write(writer, caller, authority_code, changes, len(cells))
    if changes.created or changes.updated:
        enquiries_imported(writer, authority_code, today)
    return changes.report(len(cells), dry_run=False, warnings=warnings)


def _plan(
    session: Session,
    authority_code: str,
    cells: list[tuple[int, dict[str, Any], bool]],
    seen: dict[object, int],
    today: date,
    errors: list[RowError],
) -> _Changes:
    """Match the readable rows to stored enquiries and check each one's rules;
    ImportRejectedError listing those problems and `errors` (the cells' own) when there are
    any. Writes nothing."""
    by_ref = _existing_by_ref(session, authority_code, [k for k in seen if isinstance(k, str)])
    by_id = _existing_by_id(session, authority_code, [k for k in seen if isinstance(k, int)])
    plan: list[tuple[Enquiry | None, dict[str, Any]]] = []
    errors = list(errors)
    for line, values, readable in cells:
        if not readable:
            continue
        ref, enquiry_id = values.get("external_ref"), values.get("id")
        stored = by_ref.get(ref) if ref else by_id.get(enquiry_id)
        if stored is None and not ref:
            errors.append(RowError(line, "id", f"no enquiry {enquiry_id} in {authority_code}"))
            continue
        merged = _stored_values(stored) if stored is not None else {}
        merged.update({k: v for k, v in values.items() if k in COLUMNS or k == "stage"})
        if "withdrawal_reason" not in values and _closure_changed(stored, merged):
            # A file without the column keeps a stored withdrawal reason only with its closure.
            merged["withdrawal_reason"] = None
        if stored is not None and not ref:
            merged["external_ref"] = stored.external_ref
        errors += _line_errors(line, values, stored)
        errors += _row_rules(line, merged, today)
        plan.append((stored, merged))
    if errors:
        errors.sort(key=lambda e: e.row)
        raise ImportRejectedError(errors[:MAX_ERRORS])

    changes = _Changes(created=[], updated=[], unchanged=0, ignored=0)
    for stored, merged in plan:
        fields = _stored_fields(merged)
        if stored is None:
            changes.created.append(fields)
            continue
        if stored.erased_at is not None:
            changes.ignored += sum(1 for f in ERASED_FIELDS if fields[f] is not None)
            fields.update({f: None for f in ERASED_FIELDS})
        changed = {k: v for k, v in sorted(fields.items()) if _differs(k, getattr(stored, k), v)}
        if not changed:
            changes.unchanged += 1
            continue
        assert stored.id is not None
        changes.updated.append((stored.id, stored.version, changed, fields["stage"]))
        changes.refs[stored.id] = stored.external_ref
    return changes


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    return (items[start : start + size] for start in range(0, len(items), size))


def _still_current(writer: Session, authority_code: str, changes: _Changes) -> bool:
    """True when, in the writer's transaction, every enquiry to update has the version the
    check read and no enquiry to create exists yet."""
    read = {enquiry_id: version for enquiry_id, version, _, _ in changes.updated}
    for chunk in _chunks(list(read)):
        query = select(Enquiry.id, Enquiry.version).where(col(Enquiry.id).in_(chunk))
        if any(read[i] != v for i, v in writer.execute(query)):
            return False
    refs = [fields["external_ref"] for fields in changes.created]
    for chunk in _chunks(refs):
        query = select(Enquiry.id).where(
            Enquiry.authority_code == authority_code, col(Enquiry.external_ref).in_(chunk)
        )
        if writer.execute(query.limit(1)).first() is not None:
            return False
    return True


def _write(
    session: Session, caller: Caller, authority_code: str, changes: _Changes, rows: int
) -> None:
    """Write the changes, their history and the audit entry as bulk statements (a 60,000-row
    import holds SQLite's write lock for seconds, not minutes)."""
    now = utcnow()
    created_ids: list[int] = []
    if changes.created:
        new_rows = [
            {
                **fields,
                "authority_code": authority_code,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "erased_at": None,
            }
            for fields in changes.created
        ]
        # A plain executemany (no RETURNING: several times quicker), then the new ids by
        # reference (every new row has one: a row without is matched on its id).
        connection = session.connection()
        connection.execute(insert(ENQUIRY), new_rows)
        refs = [fields["external_ref"] for fields in changes.created]
        new_ids: dict[str, int] = {}
        for chunk in _chunks(refs):
            query = select(ENQUIRY.c.external_ref, ENQUIRY.c.id).where(
                ENQUIRY.c.authority_code == authority_code, ENQUIRY.c.external_ref.in_(chunk)
            )
            new_ids.update({ref: new_id for ref, new_id in connection.execute(query)})
        created_ids = [new_ids[ref] for ref in refs]
    if changes.updated:
        session.execute(
            update(Enquiry),
            [
                {"id": enquiry_id, **changed, "version": version + 1, "updated_at": now}
                for enquiry_id, version, changed, _ in changes.updated
            ],
        )
    events = [
        {
            "enquiry_id": enquiry_id,
            "action": "imported",
            "stage": fields["stage"],
            "on_date": fields["received_on"],
            "note": None,
            "actor": caller.actor,
            "recorded_at": now,
        }
        for enquiry_id, fields in zip(created_ids, changes.created, strict=True)
    ]
    events += [
        {
            "enquiry_id": enquiry_id,
            "action": "imported",
            "stage": stage,
            "on_date": None,
            "note": "changed: " + ", ".join(sorted(changed)),
            "actor": caller.actor,
            "recorded_at": now,
        }
        for enquiry_id, _, changed, stage in changes.updated
    ]
    if events:
        session.connection().execute(insert(EnquiryEvent.__table__), events)  # type: ignore[attr-defined]
    audit.record(
        session,
        caller,
        "import",
        "enquiry",
        None,
        authority_code=authority_code,
        detail={
            "rows": rows,
            "created": created_ids,
            "updated": [update[0] for update in changes.updated],
            "unchanged": changes.unchanged,
        },
    )
    session.flush()


def _existing_by_ref(
    session: Session, authority_code: str, refs: Iterable[str]
) -> dict[str, Enquiry]:
    found: dict[str, Enquiry] = {}
    wanted = list(refs)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(Enquiry).where(
            Enquiry.authority_code == authority_code,
            col(Enquiry.external_ref).in_(chunk),
        )
        found.update({row.external_ref: row for row in session.scalars(query) if row.external_ref})
    return found


def _existing_by_id(session: Session, authority_code: str, ids: list[int]) -> dict[int, Enquiry]:
    query = select(Enquiry).where(
        Enquiry.authority_code == authority_code,
        col(Enquiry.id).in_(ids),
    )
    return {row.id: row for row in session.scalars(query) if row.id is not None} if ids else {}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def export_rows(
    session: Session, authority_code: str, filters: EnquiryFilter, today: date
) -> list[dict[str, str]]:
    """The matching enquiries as spreadsheet rows (the import's columns plus id, stage, status)."""
    get_authority(session, authority_code)
    query = (
        select(Enquiry)
        .where(*filter_conditions(authority_code, filters, today))
        .order_by(col(Enquiry.received_on), col(Enquiry.id))
    )
    rows = []
    for row in session.scalars(query).yield_per(1000):
        cells = {"id": str(row.id), "stage": row.stage, "status": status_of(row).value}
        cells |= {column: _cell(getattr(row, column)) for column in COLUMNS}
        rows.append(cells)
    return rows


def export_enquiries(
    session: Session,
    caller: Caller,
    authority_code: str,
    filters: EnquiryFilter,
    today: date,
    file_format: FileFormat,
    *,
    writer: Session | None = None,
) -> bytes:
    """The matching enquiries as a CSV or xlsx file; audited (it carries personal data).

    Read with `session` (a read session: on SQLite a long export takes no write lock); the
    audit entry is written with `writer` (default `session`), which the caller commits."""
    rows = export_rows(session, authority_code, filters, today)
    if writer is not None and writer is not session:
        session.rollback()  # the read snapshot is no longer needed
    header = [*EXPORT_ONLY[:1], *COLUMNS, *EXPORT_ONLY[1:]]
    # Names and notes are users' text: one rule for every export (tracker.core.table_export).
    table = [[row[column] for column in header] for row in rows]
    if file_format is FileFormat.XLSX:
        content = xlsx_bytes(header, table, sheet_name="enquiries")
    else:
        content = csv_bytes(header, table, byte_order_mark=False, line_end="\n")
    # The audit entry last: its write (and SQLite's lock) lasts only until the caller commits.
    writer = writer if writer is not None else session
    audit.record(
        writer,
        caller,
        "export",
        "enquiry",
        None,
        authority_code=authority_code,
        detail={
            "rows": len(rows),
            "format": file_format.value,
            # A search term may be a name or an email, and a campaign is free text ("referred
            # by ...") that erasure blanks: the log says only that there was one.
            "filters": msgspec.to_builtins(filters)
            | {"search": filters.search is not None, "campaign": filters.campaign is not None},
        },
    )
    writer.flush()
    return content
