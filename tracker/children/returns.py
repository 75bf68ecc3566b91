"""Returns held: each collection year's SSDA903 return is kept whole and speaks for its year.

The figures for a date come from the return of its collection year, as DfE's do from the
returns as submitted: a child whose episode was open at the end of one return and who is not
in the next is counted in care to that 31 March and not after, and no ceasing is counted
(the import warns, naming the rows). A stock on a date after the latest return (or in a
year without one) comes from the latest return before it, its open episodes carried
forward; before the first return, from the first (a lower bound: children who left before
it are not known). Flows (starters, ceased, Staying Put) have no figure for a year without
its return. Earlier years are not revised by a later return: to revise a year, replace its
return (`tracker.children.importer`) or withdraw it (`tracker.children.withdrawal`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from tracker.children import codes
from tracker.children.rows import EARLIEST_YEAR, LATEST_YEAR, year_label
from tracker.children.tables import CareEpisode, CareLeaverRecord
from tracker.core.authorities import get_authority
from tracker.core.errors import InvalidValueError

Key = tuple[str, date]  # (child, DECOM)


class ReturnSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One stored return: its size, and the episodes open at its end the next one dropped."""

    year: str
    year_ending: int
    episodes: int
    children: int
    # Children in care at its 31 March, short breaks left out.
    in_care_at_end: int
    care_leavers: int
    not_carried_forward: int | None


class Dropped(msgspec.Struct, frozen=True, kw_only=True):
    """An episode open at the end of one return that the next return does not carry.

    `instead` is the DECOM of the episode the next return has for the child from before its
    year began (a changed start date), None when the child is not in it.
    """

    child_key: str
    decom: date
    instead: date | None


def loaded_years(session: Session, code: str) -> list[int]:
    """The collection years whose Episodes return is stored, in order."""
    query = (
        select(CareEpisode.source_year)
        .distinct()
        .where(CareEpisode.authority_code == code)
        .order_by(CareEpisode.source_year)
    )
    return list(session.scalars(query))


def return_for(years: Sequence[int], year: int) -> int | None:
    """The return that speaks for a stock in collection year `year`: its own; else the latest
    before it; else (before the first) the first. None when no return is stored."""
    if not years:
        return None
    if year in years:
        return year
    earlier = [y for y in years if y < year]
    return earlier[-1] if earlier else years[0]


def open_at_end(episode: dict[str, Any], year: int) -> bool:
    """Whether an episode's values say it was open at 31 March `year`."""
    return episode["dec"] is None or episode["dec"] > date(year, 3, 31)


def dropped(year: int, open_keys: Iterable[Key], later: Collection[Key]) -> list[Dropped]:
    """The episodes of the return of `year` open at its end (`open_keys`) that the next
    return (whose episodes are `later`) does not carry."""
    carried_from_before: dict[str, date] = {}
    year_start = date(year, 4, 1)
    for child, decom in later:
        if decom < year_start:
            carried_from_before[child] = max(decom, carried_from_before.get(child, decom))
    return [
        Dropped(child_key=child, decom=decom, instead=carried_from_before.get(child))
        for child, decom in sorted(open_keys)
        if (child, decom) not in later
    ]


def describe(year: int, episode: Dropped) -> str:
    """A warning about a dropped episode, without naming the child."""
    start = f"the episode from {episode.decom:%d/%m/%Y}, open at 31/03/{year}, is not in the "
    start += f"{year_label(year + 1)} return: "
    if episode.instead is not None:
        return start + (
            f"that return has this child's episode from {episode.instead:%d/%m/%Y} instead "
            f"(a changed start date); {year_label(year)} figures keep the start as first returned"
        )
    return start + (
        f"the child is not in it, so is counted in care to 31/03/{year} and not after, and no "
        f"ceasing is counted (replace the {year_label(year)} or {year_label(year + 1)} return "
        "to correct it)"
    )


def _open_keys(session: Session, code: str, year: int) -> dict[Key, str | None]:
    """The episodes of a return open at its end, with their legal status."""
    e = CareEpisode
    query = select(e.child_key, e.decom, e.ls).where(
        e.authority_code == code,
        e.source_year == year,
        or_(e.dec.is_(None), e.dec > date(year, 3, 31)),  # type: ignore[union-attr,operator]
    )
    return {(c, d): ls for c, d, ls in session.execute(query)}


def _keys(session: Session, code: str, year: int) -> dict[Key, None]:
    e = CareEpisode
    query = select(e.child_key, e.decom).where(e.authority_code == code, e.source_year == year)
    return {(c, d): None for c, d in session.execute(query)}


def list_returns(session: Session, code: str) -> list[ReturnSummary]:
    """Every stored return of the authority, oldest first, with its counts (counts only)."""
    get_authority(session, code)
    e, leaver = CareEpisode, CareLeaverRecord
    sizes = {
        year: (int(n), int(children))
        for year, n, children in session.execute(
            select(e.source_year, func.count(), func.count(distinct(e.child_key)))
            .where(e.authority_code == code)
            .group_by(e.source_year)
        )
    }
    leavers = dict(
        session.execute(
            select(leaver.year, func.count())
            .where(leaver.authority_code == code)
            .group_by(leaver.year)
        ).all()
    )
    summaries = []
    for year in sorted(set(sizes) | set(leavers)):
        open_keys = _open_keys(session, code, year) if year in sizes else {}
        in_care = sum(1 for ls in open_keys.values() if ls not in codes.SHORT_BREAKS)
        lost = None
        if year in sizes and year + 1 in sizes:
            lost = len(dropped(year, open_keys, _keys(session, code, year + 1)))
        episodes, children = sizes.get(year, (0, 0))
        summaries.append(
            ReturnSummary(
                year=year_label(year),
                year_ending=year,
                episodes=episodes,
                children=children,
                in_care_at_end=in_care,
                care_leavers=int(leavers.get(year, 0)),
                not_carried_forward=lost,
            )
        )
    return summaries


def parse_year(text: str) -> int:
    """A collection year written 2022-23: the year ending March it means, its dates within
    the years a return may hold (InvalidValueError naming `year` for anything else)."""
    first, _, second = text.partition("-")
    digits = len(first) == 4 and len(second) == 2 and first.isdigit() and second.isdigit()
    if digits and int(second) == (int(first) + 1) % 100:
        ending = int(first) + 1
        if EARLIEST_YEAR < ending <= LATEST_YEAR:
            return ending
        raise InvalidValueError(
            f"{text!r} is outside the collection years {year_label(EARLIEST_YEAR + 1)} to "
            f"{year_label(LATEST_YEAR)}",
            field="year",
        )
    raise InvalidValueError(
        f"{text!r} is not a collection year: write it as 2022-23 (April 2022 to March 2023)",
        field="year",
    )
