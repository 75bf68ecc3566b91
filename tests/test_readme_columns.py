"""The README's "Spreadsheet columns" section names every column and code the two imports
read, and no column they do not: the tables and the parsers cannot drift apart."""

from __future__ import annotations

import enum
import re
from pathlib import Path

import pytest

from tracker.enquiries import files as enquiry_files
from tracker.enquiries.stages import ClosureReason, Stage, WithdrawalReason
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest
from tracker.households import sheet
from tracker.households.care_types import (
    CarerAgeBand,
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
    Term,
)

README = Path(__file__).resolve().parent.parent / "README.md"


def _section() -> str:
    text = README.read_text()
    start = text.index("\n## Spreadsheet columns\n")
    return text[start : text.index("\n## ", start + 1)]


def _tables() -> tuple[str, str]:
    """The household register's table and the enquiry spreadsheet's, in the README's order."""
    tables = re.findall(r"\| column \| required \| values \|\n((?:\|.*\n)+)", _section())
    assert len(tables) == 2
    return tables[0], tables[1]


def _columns(table: str) -> set[str]:
    """The backticked names in each row's first cell."""
    return {
        name
        for line in table.splitlines()[1:]
        for name in re.findall(r"`([^`]+)`", line.split("|")[1])
    }


def test_each_table_names_exactly_the_columns_its_import_reads() -> None:
    households, enquiries = _tables()
    assert _columns(households) == {*sheet.COLUMNS, *sheet.EXPORT_ONLY}
    assert _columns(enquiries) == {*enquiry_files.COLUMNS, *enquiry_files.EXPORT_ONLY}
    assert set(sheet.PARSERS) == set(sheet.COLUMNS)
    assert set(enquiry_files.PARSERS) == {*enquiry_files.COLUMNS, "stage"}


@pytest.mark.parametrize(
    "codes",
    [
        HouseholdCareType,
        HouseholdStatus,
        Term,
        DeregistrationReason,
        CarerAgeBand,
        Ethnicity,
        Channel,
        HouseholdType,
        Interest,
        ClosureReason,
        WithdrawalReason,
        Stage,
    ],
)
def test_every_code_a_parser_accepts_is_listed(codes: type[enum.StrEnum]) -> None:
    section = _section()
    assert [c.value for c in codes if f"`{c.value}`" not in section] == []
