"""The household register as a spreadsheet: its columns, and one row read into a checked
entry (typed cells, the rules a row must meet on its own and against the stored register)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec

from tracker.core.cells import check_header, code_of, codes_of, conforming, whole
from tracker.core.errors import ImportRejectedError, InvalidValueError, RowError
from tracker.core.spreadsheets import FileFormat, SheetRow, parse_date, read_sheet
from tracker.core.table_export import read_text
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    CarerAgeBand,
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
    Term,
)
from tracker.households.rules import EARLIEST, check_carers
from tracker.households.schemas import (
    Age,
    Carers,
    CarersDisabled,
    Places,
    Reference,
)
from tracker.households.tables import Household, HouseholdVersion, decode_terms, encode_terms

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
    "carers",
    "carers_age_bands",
    "carers_disabled",
)


REQUIRED = ("reference", "care_type", "approved_on", "approved_places")


# Figures the export adds for readers (as at the export date); an import does not store them,
# and warns of any that differ from the register (`NOT_IMPORTED` says where each comes from).
EXPORT_ONLY = ("id", "filled_places", "vacant_places", "unavailable_places")


NOT_IMPORTED = {
    "id": "Households are matched by reference; the register numbers each household itself.",
    "filled_places": "Filled places are the children placed with each household, recorded"
    " one child at a time, not from this file: record each child placed with POST"
    " /api/v1/authorities/{code}/households/{{id}}/placements (the child's reference and the"
    " day the placement started), and end one with POST"
    " /api/v1/authorities/{code}/placements/{{id}}/end.",
    "vacant_places": "Vacant places are worked out: approved places less filled places and"
    " places not available.",
    "unavailable_places": "Places not available are recorded for each household, not from this"
    " file: POST /api/v1/authorities/{code}/households/{{id}}/unavailability (how many places,"
    " why, and from when).",
}


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
    "carers": None,
    "carers_age_bands": (),
    "carers_disabled": None,
}


# Fields the register's service functions name, as the file's columns name them.
FIELD_COLUMNS = {"effective_on": "status_from", "household_id": "reference"}


MAX_ERRORS = 200


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
    carers: int | None
    carers_age_bands: tuple[CarerAgeBand, ...]
    carers_disabled: int | None

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


PARSERS: dict[str, Callable[[str], Any]] = {
    "reference": conforming(Reference, "reference (letters, digits, / _ . -; up to 40)"),
    "care_type": code_of(HouseholdCareType),
    "approved_on": parse_date,
    "approved_places": whole(Places, "number of places (0 to 12)"),
    "age_min": whole(Age, "age (0 to 25)"),
    "age_max": whole(Age, "age (0 to 25)"),
    "terms": lambda value: tuple(codes_of(Term)(value)),
    "status": code_of(HouseholdStatus),
    "status_from": parse_date,
    "deregistration_reason": code_of(DeregistrationReason),
    "carers_ethnicity": code_of(Ethnicity),
    "last_review_on": parse_date,
    "carers": whole(Carers, "number of carers (1 to 4)"),
    "carers_age_bands": lambda value: tuple(
        code_of(CarerAgeBand)(band) for band in re.split(r"[;,]", value) if band.strip()
    ),
    "carers_disabled": whole(CarersDisabled, "number of disabled carers (0 to 4)"),
}


def read_register(content: bytes, file_format: FileFormat | None) -> list[SheetRow]:
    """The data rows of a register file, refused whole when it has none or its header is wrong."""
    header, rows = read_sheet(content, file_format)
    if not rows:
        raise ImportRejectedError([RowError(1, None, "the file has no data rows")])
    check_header(header, (*COLUMNS, *EXPORT_ONLY), REQUIRED)
    return rows


def parse_cells(row: int, raw: dict[str | None, Any]) -> tuple[dict[str, Any], list[RowError]]:
    """One row's cells, typed (blank cells as their blank meaning), and every problem in them."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    if raw.get(None):
        errors.append(RowError(row, None, "the row has more cells than the header"))
    for column, cell in raw.items():
        if column not in PARSERS:
            continue
        # An exported file comes back as stored: the formula guard's quote is dropped.
        text = read_text(str(cell or "").strip())
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


def entry_of(
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
            "carers": stored.carers,
            "carers_age_bands": tuple(CarerAgeBand(b) for b in stored.carers_age_bands or []),
            "carers_disabled": stored.carers_disabled,
        }
    return RegisterEntry(row=row, **(base | values))


def entry_rules(
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
    try:
        check_carers(entry.carers, entry.carers_age_bands, entry.carers_disabled)
    except InvalidValueError as exc:
        errors.append(RowError(row, exc.field, exc.message))
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
