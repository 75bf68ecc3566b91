"""Capacity returns: the aggregate figures of councils that do not run the service, loaded from
the regional CSV's shape (all or nothing per file, with warnings for figures that do not add
up)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.capacity.regional import (
    ALL,
    CARE_TYPES,
    COLUMNS,
    FIGURES,
    ROLLUP_SOURCE,
    authorities_with_register,
)
from tracker.capacity.tables import CapacityReturn
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import ONS_CODE, Authority, NewAuthority, add_authority
from tracker.core.clock import utcnow
from tracker.core.errors import ImportRejectedError, RowError
from tracker.core.spreadsheets import SheetRow, parse_date, read_sheet
from tracker.core.table_export import read_text
from tracker.households.rules import EARLIEST
from tracker.reference import load_reference

REQUIRED = ("authority_code", "as_at", "care_type")


MAX_COUNT = 1_000_000


MAX_ERRORS = 200


WHOLE_NUMBER = re.compile(r"^\d+$")


class LoadWarning(msgspec.Struct, frozen=True, kw_only=True):
    """Something loaded but worth a look (Ofsted notes exemptions, so not an error)."""

    row: int
    field: str | None
    message: str


class LoadReport(msgspec.Struct, frozen=True, kw_only=True):
    """What loading a file of returns did; `removed` counts rows a corrected return dropped."""

    rows: int
    returns: int
    created: int
    updated: int
    unchanged: int
    removed: int
    authorities_created: list[str]
    warnings: list[LoadWarning]


class _ReturnRow(msgspec.Struct, frozen=True, kw_only=True):
    row: int
    authority_code: str
    as_at: date
    care_type: str
    figures: dict[str, int | None]
    named: tuple[str, str] = ("", "")
    """The row's authority_name and region as written (informational: never stored)."""


def _count(text: str) -> int:
    if not WHOLE_NUMBER.match(text):
        raise ValueError(f"{text!r} is not a whole number")
    value = int(text)
    if value > MAX_COUNT:
        raise ValueError(f"{value} is more than {MAX_COUNT}")
    return value


def _as_at(text: str, today: date) -> date:
    day = parse_date(text)
    if day > today or day < EARLIEST:
        raise ValueError(f"{day.isoformat()} is in the future or before {EARLIEST.isoformat()}")
    return day


def _care_type(text: str) -> str:
    code = text.lower().replace(" ", "_").replace("-", "_")
    if code not in CARE_TYPES:
        raise ValueError(f"{text!r} is not one of {', '.join(CARE_TYPES)}")
    return code


def _check_header(header: list[str], rows: list[SheetRow]) -> None:
    if not rows:
        raise ImportRejectedError([RowError(1, None, "the file has no data rows")])
    errors = [RowError(1, c, f"unknown column {c!r}") for c in header if c not in COLUMNS]
    errors += [
        RowError(1, c, f"required column {c!r} is missing") for c in REQUIRED if c not in header
    ]
    if errors:
        raise ImportRejectedError(errors)


def _parse_row(
    number: int, raw: dict[str, str], known: set[str], today: date
) -> tuple[_ReturnRow | None, list[RowError]]:
    # The regional CSV guards names against formulas (table_export): read them as stored.
    cells = {
        (k or "").strip(): read_text((v or "").strip()) for k, v in raw.items() if k is not None
    }
    errors = []
    if None in raw:
        errors.append(RowError(number, None, "the row has more cells than the header"))
    code = cells.get("authority_code", "").upper()
    if not code:
        errors.append(RowError(number, "authority_code", "authority_code is required"))
    elif code not in known:
        errors.append(
            RowError(
                number,
                "authority_code",
                f"{code!r} is not an English local authority this installation or the"
                " reference data knows",
            )
        )
    parsed: dict[str, Any] = {}
    for field, parse in (("as_at", lambda t: _as_at(t, today)), ("care_type", _care_type)):
        if not cells.get(field):
            errors.append(RowError(number, field, f"{field} is required"))
            continue
        try:
            parsed[field] = parse(cells[field])
        except ValueError as exc:
            errors.append(RowError(number, field, str(exc)))
    figures: dict[str, int | None] = {}
    for field in FIGURES:
        text = cells.get(field, "")
        try:
            figures[field] = _count(text) if text else None
        except ValueError as exc:
            errors.append(RowError(number, field, str(exc)))
    care_type = parsed.get("care_type")
    if care_type is not None and care_type != ALL:
        errors += [
            RowError(number, f, f"{f} is required on a care type's row")
            for f in ("households", "approved_places")
            if f in figures and figures[f] is None
        ]
        if figures.get("children_in_care") is not None:
            errors.append(
                RowError(number, "children_in_care", "children_in_care belongs on the 'all' row")
            )
    elif care_type == ALL and not errors and all(v is None for v in figures.values()):
        errors.append(RowError(number, None, "the row gives no figures"))
    if errors:
        return None, errors
    return (
        _ReturnRow(
            row=number,
            authority_code=code,
            as_at=parsed["as_at"],
            care_type=parsed["care_type"],
            figures=figures,
            named=(cells.get("authority_name", ""), cells.get("region", "")),
        ),
        [],
    )


def _warnings(row: _ReturnRow) -> list[LoadWarning]:
    approved = row.figures["approved_places"]
    parts = [row.figures[f] for f in ("filled_places", "vacant_places", "unavailable_places")]
    given = sum(p for p in parts if p is not None)
    if approved is not None and given > approved:
        return [
            LoadWarning(
                row=row.row,
                field="approved_places",
                message=f"filled, vacant and unavailable places add up to {given}, more than"
                f" the {approved} approved",
            )
        ]
    return []


def _total_warnings(rows: list[_ReturnRow]) -> list[LoadWarning]:
    """A warning for each figure of a return's "all" row that is less than its care types'
    rows add up to (more is possible: a return may leave a care type out)."""
    whole = next((r for r in rows if r.care_type == ALL), None)
    if whole is None:
        return []
    warnings = []
    for field in FIGURES:
        total = whole.figures.get(field)
        parts = [r.figures.get(field) for r in rows if r.care_type != ALL]
        given = sum(p for p in parts if p is not None)
        if total is not None and given > total:
            warnings.append(
                LoadWarning(
                    row=whole.row,
                    field=field,
                    message=f"{field} on the 'all' row is {total}, less than the {given} of"
                    " the care types' rows",
                )
            )
    return warnings


def _plain(text: str) -> str:
    """A name as compared: lower case, letters and digits only."""
    return "".join(c for c in text.lower() if c.isalnum())


def _same_name(written: str, expected: str) -> bool:
    """Whether a written name is the expected one, as people write it: "Herefordshire" for
    "Herefordshire, County of", "Bristol City of" for "Bristol, City of"."""
    a, b = _plain(written), _plain(expected)
    return a == b or (min(len(a), len(b)) >= 4 and (a in b or b in a))


def _name_warnings(
    parsed: list[_ReturnRow], names: dict[str, tuple[str, str]]
) -> list[LoadWarning]:
    """A warning on the first row of each authority whose written name or region is not its
    code's (a wrong code would load the figures under another council): the code decides,
    the name and region written are never stored."""
    warnings: list[LoadWarning] = []
    seen: set[tuple[str, str]] = set()
    for row in parsed:
        known = names[row.authority_code]
        for field, written, expected in zip(
            ("authority_name", "region"), row.named, known, strict=True
        ):
            key = (row.authority_code, field)
            if not written or key in seen or _same_name(written, expected):
                continue
            seen.add(key)
            warnings.append(
                LoadWarning(
                    row=row.row,
                    field=field,
                    message=f"{field} {written[:80]!r} is not {row.authority_code}'s"
                    f" ({expected}): the figures are loaded as {known[0]}'s, by the code",
                )
            )
    return warnings


def _parse(content: bytes, known: set[str], today: date) -> list[_ReturnRow]:
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        # Read as CSV, JSON would be a header of its own text and "no data rows".
        message = "the file is JSON: send the returns as CSV or xlsx, in the regional CSV's columns"
        raise ImportRejectedError([RowError(1, None, message)])
    header, table = read_sheet(content) if content.strip() else ([], [])
    _check_header(header, table)
    parsed: list[_ReturnRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, date, str], int] = {}
    for number, raw in ((row.line, row.cells) for row in table):
        if (raw.get("source") or "").strip() == ROLLUP_SOURCE:
            continue  # the region's roll-up in an exported file: sums, not a return
        row, row_errors = _parse_row(number, raw, known, today)
        if row is not None:
            key = (row.authority_code, row.as_at, row.care_type)
            if key in seen:
                row_errors.append(
                    RowError(number, "care_type", f"{row.care_type} repeats row {seen[key]}")
                )
            seen.setdefault(key, number)
            parsed.append(row)
        errors += row_errors
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ImportRejectedError(errors[:MAX_ERRORS])
    return parsed


def load_returns(session: Session, caller: Caller, content: bytes, today: date) -> LoadReport:
    """Load other councils' aggregate returns from CSV (or xlsx) in the exported shape.

    All or nothing: every row is checked first and ImportRejectedError names each row and
    field at fault. A return is an authority's rows on one date: loading it replaces the
    stored return of that authority and date (rows it no longer has are removed), so the
    same file twice changes nothing. Unknown authorities are added from the reference data.
    """
    reference = load_reference()
    names = {
        code: (name, region)
        for code, name, region in session.execute(
            select(Authority.code, Authority.name, Authority.region)
        )
    }
    stored = set(names)
    known = stored | {code for code, item in reference.items() if ONS_CODE.match(code)}
    parsed = _parse(content, known, today)
    for code in {r.authority_code for r in parsed} - stored:
        names[code] = (reference[code].name, reference[code].region or "")

    warnings = [w for row in parsed for w in _warnings(row)]
    warnings += _name_warnings(parsed, names)
    added = sorted({r.authority_code for r in parsed} - stored)
    for code in added:
        item = reference[code]
        assert item.region is not None
        add_authority(session, NewAuthority(code=code, name=item.name, region=item.region))
        audit.record(session, caller, "create", "authority", code, authority_code=code)

    groups: dict[tuple[str, date], list[_ReturnRow]] = {}
    for row in parsed:
        groups.setdefault((row.authority_code, row.as_at), []).append(row)
    warnings += [w for rows in groups.values() for w in _total_warnings(rows)]
    registers = {
        code for code, as_at in groups if code in authorities_with_register(session, [code], as_at)
    }
    warnings += [
        LoadWarning(
            row=rows[0].row,
            field="authority_code",
            message=f"{code} keeps its own household register: the register, not this"
            " return, is shown",
        )
        for (code, _), rows in groups.items()
        if code in registers
    ]

    created = updated = unchanged = removed = 0
    changes: dict[str, dict[str, Any]] = {}
    now = utcnow()
    for (code, as_at), rows in groups.items():
        current = {
            r.care_type: r
            for r in session.scalars(
                select(CapacityReturn).where(
                    CapacityReturn.authority_code == code, CapacityReturn.as_at == as_at
                )
            )
        }
        change = changes.setdefault(
            code, {"as_at": [], "created": 0, "updated": 0, "unchanged": 0, "removed": 0}
        )
        change["as_at"].append(as_at.isoformat())
        kept: list[CapacityReturn] = []
        touched = False
        for row in rows:
            stored_row = current.pop(row.care_type, None)
            if stored_row is None:
                stored_row = CapacityReturn(
                    authority_code=code,
                    as_at=as_at,
                    care_type=row.care_type,
                    loaded_by=caller.actor,
                    **row.figures,
                )
                session.add(stored_row)
                change["created"] += 1
                touched = True
            elif any(getattr(stored_row, f) != v for f, v in row.figures.items()):
                for field, value in row.figures.items():
                    setattr(stored_row, field, value)
                change["updated"] += 1
                touched = True
            else:
                change["unchanged"] += 1
            kept.append(stored_row)
        for gone in current.values():
            session.delete(gone)
            change["removed"] += 1
            touched = True
        if touched:
            # The whole return was reloaded: its rows share the load's time and loader.
            for stored_row in kept:
                stored_row.loaded_at, stored_row.loaded_by = now, caller.actor
    for code, change in sorted(changes.items()):
        created += change["created"]
        updated += change["updated"]
        unchanged += change["unchanged"]
        removed += change["removed"]
        audit.record(
            session, caller, "load", "capacity_return", None, authority_code=code, detail=change
        )
    session.flush()
    return LoadReport(
        rows=len(parsed),
        returns=len(groups),
        created=created,
        updated=updated,
        unchanged=unchanged,
        removed=removed,
        authorities_created=added,
        warnings=sorted(warnings, key=lambda w: w.row),
    )
