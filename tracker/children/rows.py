"""Checking each row of a Header, Episodes or OC3 table before anything is stored: required
values, DfE codes, dates, and that every date falls inside the collection year the row
speaks for. Errors stop the import; warnings flag what the DfE validator would and leave
the figures alone. CHILD becomes its keyed pseudonym here; UPN and postcodes go no further.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime
from functools import cache
from typing import Any

import msgspec

from forecast import months
from tracker.children import codes
from tracker.children.pseudonym import pseudonymise
from tracker.children.tables import CareEpisode, CareLeaverRecord
from tracker.core.errors import RowError

MAX_ISSUES = 200
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100
"""The years a date in a return may fall in (the API's dates keep to the same)."""
UPN = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
# The longest value each free or optional column can store (the tables' column sizes).
LENGTHS: dict[str, int] = {
    "LS": CareEpisode.__table__.c.ls.type.length,  # type: ignore[attr-defined]
    "CIN": CareEpisode.__table__.c.cin.type.length,  # type: ignore[attr-defined]
    "REASON_PLACE_CHANGE": CareEpisode.__table__.c.reason_place_change.type.length,  # type: ignore[attr-defined]
    "PL_LA": CareEpisode.__table__.c.pl_la.type.length,  # type: ignore[attr-defined]
    "ACCOM": CareLeaverRecord.__table__.c.accom.type.length,  # type: ignore[attr-defined]
    "IN_TOUCH": CareLeaverRecord.__table__.c.in_touch.type.length,  # type: ignore[attr-defined]
    "ACTIV": CareLeaverRecord.__table__.c.activ.type.length,  # type: ignore[attr-defined]
}


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    """A warning: something the DfE validator would flag that does not stop the import."""

    file: str
    row: int
    column: str | None
    message: str


class Row(msgspec.Struct, kw_only=True):
    """A checked row: where it came from, the year it speaks for, and its values."""

    file: str
    row: int
    year: int
    values: dict[str, Any]


def parse_date(text: str) -> date:
    """A dd/mm/yyyy date (ISO yyyy-mm-dd also accepted, as regional pipelines write it) from
    `EARLIEST_YEAR` to `LATEST_YEAR`: a child's 18th birthday or a year's bounds are worked
    out from these dates, and a year such as 9999 would take them past the calendar."""
    day = _read_date(text)
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValueError(f"{text!r} is not a date from {EARLIEST_YEAR} to {LATEST_YEAR}")
    return day


def _read_date(text: str) -> date:
    # The usual dd/mm/yyyy is read directly: strptime was most of the time of an import.
    if len(text) == 10 and text[2] == text[5] == "/" and text.replace("/", "").isdecimal():
        with contextlib.suppress(ValueError):
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (dd/mm/yyyy)")


def year_label(year: int) -> str:
    """A collection year (ending 31 March `year`) written 2022-23."""
    return months.year_label(date(year, 3, 31))


@cache
def _bounds(year: int) -> tuple[date, date]:
    """1 April and 31 March of a collection year."""
    return date(year - 1, 4, 1), date(year, 3, 31)


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class RowChecker:
    """Checks rows one by one, keeping the errors and warnings (the first 200 of each)."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.errors: list[RowError] = []
        self.warnings: list[Issue] = []
        self.warning_count = 0
        # A child is in the Header, Episodes and OC3 of several years: keyed once.
        self.pseudonyms: dict[str, str] = {}

    def error(self, file: str, row: int, column: str | None, message: str) -> None:
        """Record an error: the import will store nothing."""
        if len(self.errors) < MAX_ISSUES:
            self.errors.append(RowError(row, column, message, file=file))

    def warn(self, file: str, row: int, column: str | None, message: str) -> None:
        """Record a warning (all are counted, the first 200 kept)."""
        self.warning_count += 1
        if len(self.warnings) < MAX_ISSUES:
            self.warnings.append(Issue(file=file, row=row, column=column, message=message))

    def _child(self, file: str, row: int, raw: dict[str, str]) -> str | None:
        child = raw.get("CHILD", "")
        if not child:
            self.error(file, row, "CHILD", "CHILD is required")
            return None
        key = self.pseudonyms.get(child)
        if key is None:
            key = self.pseudonyms[child] = pseudonymise(self.key, child)
        return key

    def _date(
        self, file: str, row: int, raw: dict[str, str], column: str, required: bool
    ) -> date | None:
        text = raw.get(column, "")
        if not text:
            if required:
                self.error(file, row, column, f"{column} is required")
            return None
        try:
            return parse_date(text)
        except ValueError as exc:
            self.error(file, row, column, str(exc))
            return None

    def _in_year(
        self, file: str, row: int, column: str, day: date | None, year: int, *, ends: bool
    ) -> None:
        """Warn on a date after the collection year (or, for an end, before it begins)."""
        if day is None:
            return
        first, last = _bounds(year)
        if day > last:
            self.warn(
                file,
                row,
                column,
                f"{column} {_dmy(day)} is after the collection year {year_label(year)} ends "
                f"({_dmy(last)})",
            )
        elif ends and day < first:
            self.warn(
                file,
                row,
                column,
                f"{column} {_dmy(day)} is before the collection year {year_label(year)} begins "
                f"({_dmy(first)}): a return holds the episodes open during its year",
            )

    def _fitting(
        self, file: str, row: int, raw: dict[str, str], column: str, length: int
    ) -> str | None:
        """An optional value, dropped with a warning when longer than it can be stored."""
        value = raw.get(column) or None
        if value is not None and len(value) > length:
            self.warn(file, row, column, f"{column} is longer than {length} characters: not kept")
            return None
        return value

    def _code(
        self,
        file: str,
        row: int,
        raw: dict[str, str],
        column: str,
        valid: frozenset[str],
        required: bool,
    ) -> str | None:
        value = raw.get(column, "").upper() or None
        if value is None:
            if required:
                self.error(file, row, column, f"{column} is required")
            return None
        if value not in valid:
            self.error(file, row, column, f"unknown {column} code {value!r}")
            return None
        return value

    def header(self, file: str, row: int, year: int, raw: dict[str, str]) -> Row | None:
        """A Header row: the child's pseudonym, date of birth and sex."""
        key = self._child(file, row, raw)
        birth = self._date(file, row, raw, "DOB", required=False)
        if raw.get("DOB") and birth is None:
            return None
        if birth is None:
            self.warn(file, row, "DOB", "DOB is missing: ages cannot be worked out for this child")
        self._in_year(file, row, "DOB", birth, year, ends=False)
        sex = raw.get("SEX") or None
        if sex is not None and sex not in codes.SEX:
            self.warn(file, row, "SEX", f"SEX {sex!r} is not 1 or 2")
            sex = None
        if raw.get("UPN") and not UPN.fullmatch(raw["UPN"]):
            self.warn(file, row, "UPN", "UPN is not in the DfE format (it is not stored anyway)")
        if key is None:
            return None
        return Row(
            file=file, row=row, year=year, values={"child_key": key, "birth": birth, "sex": sex}
        )

    def episode(self, file: str, row: int, year: int, raw: dict[str, str]) -> Row | None:
        """An Episodes row, with the values the episode table stores."""
        errors_before = len(self.errors)
        key = self._child(file, row, raw)
        decom = self._date(file, row, raw, "DECOM", required=True)
        dec = self._date(file, row, raw, "DEC", required=False)
        rne = self._code(file, row, raw, "RNE", codes.RNE, required=True)
        place = self._code(file, row, raw, "PLACE", codes.PLACES, required=True)
        provider = self._code(file, row, raw, "PLACE_PROVIDER", codes.PROVIDERS, required=False)
        rec = self._code(file, row, raw, "REC", codes.REASON_ENDED, required=dec is not None)
        if rec is not None and dec is None and raw.get("DEC", "") == "":
            self.error(file, row, "DEC", f"REC {rec} is given but DEC is empty")
        if decom and dec and dec < decom:
            self.error(
                file, row, "DEC", f"DEC {dec.isoformat()} is before DECOM {decom.isoformat()}"
            )
        if place in codes.FOSTER_PLACES and place not in {"U1", "U2", "U3"} and provider is None:
            self.error(
                file,
                row,
                "PLACE_PROVIDER",
                "PLACE_PROVIDER is required for foster placements U4-U6",
            )
        self._in_year(file, row, "DECOM", decom, year, ends=False)
        self._in_year(file, row, "DEC", dec, year, ends=True)
        ls, cin = raw.get("LS", "").upper() or None, raw.get("CIN", "").upper() or None
        if ls is not None and ls not in codes.LEGAL_STATUS:
            self.warn(file, row, "LS", f"unknown LS code {ls!r}")
            ls = ls if len(ls) <= LENGTHS["LS"] else None
        if cin is not None and cin not in codes.NEED:
            self.warn(file, row, "CIN", f"unknown CIN code {cin!r}")
            cin = cin if len(cin) <= LENGTHS["CIN"] else None
        if rne in {"P", "T", "B"} and not raw.get("REASON_PLACE_CHANGE"):
            self.warn(file, row, "REASON_PLACE_CHANGE", "missing for a change of placement")
        if len(self.errors) > errors_before or key is None or decom is None:
            return None
        values = {
            "child_key": key,
            "decom": decom,
            "rne": rne,
            "ls": ls,
            "cin": cin,
            "place": place,
            "place_provider": provider,
            "dec": dec,
            "rec": rec,
            "reason_place_change": self._fitting(
                file, row, raw, "REASON_PLACE_CHANGE", LENGTHS["REASON_PLACE_CHANGE"]
            ),
            "pl_la": self._fitting(file, row, raw, "PL_LA", LENGTHS["PL_LA"]),
        }
        return Row(file=file, row=row, year=year, values=values)

    def leaver(self, file: str, row: int, year: int, raw: dict[str, str]) -> Row | None:
        """An OC3 row: whether the council is in touch, activity and accommodation."""
        key = self._child(file, row, raw)
        accom = raw.get("ACCOM", "").upper() or None
        if accom is not None and len(accom) > LENGTHS["ACCOM"]:
            self.error(file, row, "ACCOM", f"ACCOM {accom!r} is not an accommodation code")
            return None
        if accom is not None and accom[0] not in codes.ACCOM_LETTERS:
            self.warn(file, row, "ACCOM", f"unknown ACCOM code {accom!r}")
        in_touch = raw.get("IN_TOUCH", "").upper() or None
        if in_touch is not None and in_touch not in codes.IN_TOUCH:
            self.warn(file, row, "IN_TOUCH", f"unknown IN_TOUCH code {in_touch!r}")
            in_touch = in_touch if len(in_touch) <= LENGTHS["IN_TOUCH"] else None
        birth = None
        if raw.get("DOB"):
            birth = self._date(file, row, raw, "DOB", required=False)
        self._in_year(file, row, "DOB", birth, year, ends=False)
        if key is None:
            return None
        values = {
            "child_key": key,
            "accom": accom,
            "in_touch": in_touch,
            "activ": self._fitting(file, row, raw, "ACTIV", LENGTHS["ACTIV"]),
        }
        return Row(file=file, row=row, year=year, values=values)
