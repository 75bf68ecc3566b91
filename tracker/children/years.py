"""The collection year each SSDA903 row speaks for: the year ending 31 March of its return.

From a YEAR column when a table has one (the multi-year files regional pipelines write,
where 2023 and 2022-23 both mean the year ending March 2023). Else from the sheet or file
name: "2022-23", "2022_23", "2022/23", "202223" or "2022-2023" mean the year ending March
2023. A year written alone ("2017") is read two ways in the field: DfE names a collection
year by the March it ends in, Social Finance's tools (the demand model's files) by the April
it begins in. An Episodes file settles which by its dates, since a return holds no date after
the 31 March it ends on; a Header or OC3 file follows the Episodes file named with the same
year, and is refused when there is none. Without a year in the name an Episodes file's year
comes from its latest date, and a Header or OC3 file takes the one Episodes year of the
upload. Each table's `note` says how its year was decided.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from forecast.months import year_ending_march
from tracker.children.files import YEAR_COLUMN, Table
from tracker.children.rows import parse_date, year_label
from tracker.core.errors import RowError

YEAR_IN_NAME = re.compile(r"(20\d\d)(?:\s*[-_/]?\s*(?:20)?(\d\d))?")
YEAR_CELL = re.compile(r"^(20\d\d)(?:\s*[-/]\s*(?:20)?(\d\d))?$")


class NameYear(NamedTuple):
    """A year found in a name: with `spans`, the year ending March it means ("2022-23" gives
    2023); without, a four-digit year written alone."""

    number: int
    spans: bool


def year_in_name(name: str) -> NameYear | None:
    """The year a name gives: a span ("2022-23": the year ending March 2023) if it holds
    one, else the first bare year ("2022"), else None."""
    bare = None
    for match in YEAR_IN_NAME.finditer(name):
        first = int(match.group(1))
        if match.group(2) and int(match.group(2)) == (first + 1) % 100:
            return NameYear(first + 1, spans=True)
        bare = bare or NameYear(first, spans=False)
    return bare


def _year_cell(text: str) -> int | None:
    match = YEAR_CELL.match(text.strip())
    if match is None:
        return None
    first = int(match.group(1))
    if match.group(2) is None:
        return first
    return first + 1 if int(match.group(2)) == (first + 1) % 100 else None


def _latest_date(table: Table) -> date | None:
    latest: date | None = None
    for _, raw in table.rows:
        for column in ("DECOM", "DEC"):
            try:
                day = parse_date(raw.get(column, ""))
            except ValueError:
                continue
            latest = day if latest is None or day > latest else latest
    return latest


def _from_dates(table: Table, bare: int) -> tuple[int, str]:
    """The year of an Episodes file whose name gives `bare` alone, and why."""
    latest = _latest_date(table)
    said = f'the name gives "{bare}" alone'
    if latest is not None and latest > date(bare, 3, 31):
        return bare + 1, (
            f"{said} and the dates run to {latest:%d/%m/%Y}, after 31 March {bare}: taken as "
            f"{year_label(bare + 1)}, as Social Finance's tools name it (write the year as "
            f"{year_label(bare)} or {year_label(bare + 1)} to say otherwise)"
        )
    return bare, (
        f"{said} and no date is after 31 March {bare}: taken as {year_label(bare)}, the year "
        f"ending March {bare} as DfE names it (write the year as {year_label(bare)} or "
        f"{year_label(bare + 1)} to say otherwise)"
    )


def _from_column(table: Table, errors: list[RowError]) -> None:
    years = []
    for number, raw in table.rows:
        year = _year_cell(raw.get(YEAR_COLUMN, ""))
        if year is None:
            errors.append(
                RowError(
                    number,
                    YEAR_COLUMN,
                    f"YEAR {raw.get(YEAR_COLUMN, '')!r} is not a collection year "
                    "(2023 or 2022-23 for the year ending March 2023)",
                    file=table.name,
                )
            )
            year = 0
        years.append(year)
    table.years = years
    found = sorted(set(years) - {0})
    shown = ", ".join(year_label(y) for y in found)
    table.note = f"years from the YEAR column, each the year ending 31 March: {shown}"


def assign_years(tables: Sequence[Table]) -> list[RowError]:
    """Set the collection year of every row of every table (and the table's note); the
    errors of tables whose year cannot be told."""
    errors: list[RowError] = []
    decided: dict[int, int] = {}  # a bare year in an Episodes name -> the year it was taken as
    episode_years: set[int] = set()
    later: list[tuple[Table, NameYear | None]] = []
    for table in sorted(tables, key=lambda t: t.kind != "episodes"):
        if YEAR_COLUMN in table.columns:
            _from_column(table, errors)
            episode_years |= set(table.years) if table.kind == "episodes" else set()
            continue
        named = year_in_name(table.sheet or "") or year_in_name(table.file)
        year, note = None, None
        if named is not None and named.spans:
            year = named.number
            where = "sheet's" if year_in_name(table.sheet or "") else "file's"
            note = f"from the {where} name: {year_label(year)}"
        elif table.kind == "episodes" and named is not None:
            year, note = _from_dates(table, named.number)
            decided[named.number] = year
        elif table.kind == "episodes":
            latest = _latest_date(table)
            if latest is not None:
                year = year_ending_march(latest)
                note = f"no year in the name: taken from its latest date, {latest:%d/%m/%Y}"
        if year is None:
            later.append((table, named))
            continue
        table.years, table.note = [year] * len(table.rows), note
        if table.kind == "episodes":
            episode_years.add(year)
    for table, named in later:
        year, note = _for_header_or_oc3(table, named, decided, episode_years)
        if year is None:
            errors.append(RowError(1, None, note, file=table.name))
            continue
        table.years, table.note = [year] * len(table.rows), note
    return errors


def _for_header_or_oc3(
    table: Table, named: NameYear | None, decided: dict[int, int], episode_years: set[int]
) -> tuple[int | None, str]:
    """The year of a Header or OC3 table without a span in its name, or why it has none."""
    if named is not None:
        if named.number in decided:
            year = decided[named.number]
            return year, (
                f'the name gives "{named.number}" alone: taken as {year_label(year)}, like the '
                "Episodes file named with it"
            )
        return None, (
            f'the name gives "{named.number}" alone, which DfE reads as '
            f"{year_label(named.number)} and Social Finance's tools as "
            f"{year_label(named.number + 1)}: write the year as {year_label(named.number)} or "
            f"{year_label(named.number + 1)}, or import it with the Episodes file of that name"
        )
    # With several years at once the file's year cannot be told (and an OC3 row's year
    # decides Staying Put), so it is asked for rather than guessed.
    if len(episode_years) == 1:
        year = next(iter(episode_years))
        return year, f"no year in the name: taken as {year_label(year)}, the Episodes file's"
    return None, (
        "no collection year: put it in the file name (e.g. 2022-23) or "
        "import the year's Episodes file alone with it"
    )
