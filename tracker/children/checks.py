"""Rules of an SSDA903 import that look at more than one row: a child twice in a year's
Header, an episode twice or overlapping another of the same return, a care leaver twice in
a year's OC3, and files that would change a return already stored."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from tracker.children.files import Table
from tracker.children.rows import Row, RowChecker, year_label
from tracker.children.writing import EPISODE_FIELDS, LEAVER_FIELDS

EpisodeKey = tuple[int, str, date]


def _where(row: Row, other: Row) -> str:
    """How to name `other` in a message about `row`: its row, and its file if another."""
    return f"row {other.row}" + ("" if other.file == row.file else f" of {other.file}")


def _dmy(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "none"


def check_headers(checker: RowChecker, rows: Sequence[Row]) -> dict[str, dict[int, date | None]]:
    """Each child's date of birth by year. A child twice in one year's Header with two dates
    of birth is an error naming both rows; twice with the same one, a warning."""
    seen: dict[tuple[int, str], Row] = {}
    births: dict[str, dict[int, date | None]] = defaultdict(dict)
    for row in rows:
        child, birth = row.values["child_key"], row.values["birth"]
        first = seen.setdefault((row.year, child), row)
        if first is not row:
            earlier = first.values["birth"]
            if birth is not None and earlier is not None and birth != earlier:
                checker.error(
                    row.file,
                    row.row,
                    "DOB",
                    f"the same CHILD is in {_where(row, first)} of the {year_label(row.year)} "
                    f"Header with DOB {_dmy(earlier)}, and here with DOB {_dmy(birth)}: "
                    "one child has one date of birth",
                )
                continue
            checker.warn(
                row.file,
                row.row,
                "CHILD",
                f"the same CHILD as {_where(row, first)} of the {year_label(row.year)} Header",
            )
        if birth is not None or row.year not in births[child]:
            births[child][row.year] = birth
    return births


def check_episodes(checker: RowChecker, rows: Sequence[Row]) -> dict[EpisodeKey, Row]:
    """The episodes by (return year, child, DECOM): one episode twice in a return, or two of
    one child that overlap in a return, is an error."""
    incoming: dict[EpisodeKey, Row] = {}
    by_child: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for row in rows:
        key = (row.year, row.values["child_key"], row.values["decom"])
        earlier = incoming.get(key)
        if earlier is not None:
            checker.error(
                row.file,
                row.row,
                "DECOM",
                f"the same child and DECOM appear twice in {row.year} ({_where(row, earlier)})",
            )
            continue
        incoming[key] = row
        by_child[key[:2]].append(row)
    for episodes in by_child.values():
        ordered = sorted(episodes, key=lambda r: r.values["decom"])
        for first, second in itertools.pairwise(ordered):
            ended = first.values["dec"]
            if ended is None or ended > second.values["decom"]:
                checker.error(
                    second.file,
                    second.row,
                    "DECOM",
                    f"episodes of one child overlap in the {year_label(second.year)} return: "
                    f"{_where(second, first)} from {first.values['decom'].isoformat()} "
                    f"({ended.isoformat() if ended else 'open'}) and this one from "
                    f"{second.values['decom'].isoformat()}",
                )
    return incoming


def check_leavers(checker: RowChecker, rows: Sequence[Row]) -> dict[tuple[int, str], Row]:
    """The OC3 rows by (year, child); a young person twice in a year's OC3 is warned about
    and the later row kept."""
    leavers: dict[tuple[int, str], Row] = {}
    for row in rows:
        key = (row.year, row.values["child_key"])
        if key in leavers:
            checker.warn(
                row.file,
                row.row,
                "CHILD",
                f"the same CHILD as {_where(row, leavers[key])} of the {year_label(row.year)} "
                "OC3: this later row is kept",
            )
        leavers[key] = row
    return leavers


def _differences(
    incoming: Mapping[Any, Row], stored: Mapping[Any, Any], fields: Sequence[str]
) -> tuple[int, int, int]:
    """(new, changed, gone) between the rows of one year and what is stored for it."""
    new = sum(1 for k in incoming if k not in stored)
    gone = sum(1 for k in stored if k not in incoming)
    changed = sum(
        1
        for k, row in incoming.items()
        if k in stored and any(getattr(stored[k], f) != row.values[f] for f in fields)
    )
    return new, changed, gone


def conflicts(
    checker: RowChecker,
    tables: Sequence[Table],
    incoming: Mapping[EpisodeKey, Row],
    stored: Mapping[EpisodeKey, Any],
    leavers: Mapping[tuple[int, str], Row],
    stored_oc3: Mapping[tuple[int, str], Any],
    *,
    replace: bool,
) -> set[int]:
    """The years whose stored return the files change: replaced when `replace` is asked
    for, else an error naming the file of each such year."""
    replaced: set[int] = set()
    kinds = (
        ("episodes", "Episodes", incoming, stored, EPISODE_FIELDS),
        ("oc3", "OC3", leavers, stored_oc3, LEAVER_FIELDS),
    )
    for kind, label, given, held, fields in kinds:
        given_by_year: dict[int, dict[Any, Row]] = defaultdict(dict)
        for key, row in given.items():
            given_by_year[key[0]][key] = row
        for year, rows in sorted(given_by_year.items()):
            kept = {k: v for k, v in held.items() if k[0] == year}
            new, changed, gone = _differences(rows, kept, fields) if kept else (0, 0, 0)
            if not (new or changed or gone):
                continue
            if replace:
                replaced.add(year)
                continue
            file = next(t.name for t in tables if t.kind == kind and year in t.years)
            checker.error(
                file,
                1,
                None,
                f"the {year_label(year)} {label} return is already stored and these files "
                f"change it ({new} new, {changed} changed, {gone} no longer in it): import "
                "again asking to replace it (the replace option) to make the files that "
                "year's return",
            )
    return replaced
