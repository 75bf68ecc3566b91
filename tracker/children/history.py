"""A child's care history across returns: birthdays, the start of each period of care, and
the time in care a young person needs to be eligible for care-leaver support.

Each return is kept whole (`tracker.children.tables.CareEpisode`), so a child's history is
read one return at a time: a return's own episodes, preceded by the episodes of earlier
returns that had ended before its first one began (a period of care can begin years before
the return that still carries it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from tracker.children import codes

# Eligible for care-leaver support: looked after for at least 13 weeks since the 14th birthday.
ELIGIBLE_DAYS = 13 * 7


def birthday(birth: date, age: int) -> date:
    """The day a child born on `birth` turns `age` (29 February: 1 March)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return date(birth.year + age, 3, 1)


def age_on(birth: date, day: date) -> int:
    """Whole years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def years_before(day: date, years: int) -> date:
    """The same day `years` years earlier (29 February: 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return date(day.year - years, 2, 28)


def timeline(returns: Mapping[int, Sequence[dict[str, Any]]], year: int) -> list[dict[str, Any]]:
    """One child's episodes as the return of `year` sees them: its own, preceded by those of
    earlier returns (the latest version of each) that ended before its first episode began."""
    own = sorted(returns.get(year, ()), key=lambda e: e["decom"])
    if not own or len(returns) == 1:
        return own
    first = own[0]["decom"]
    earlier: dict[date, dict[str, Any]] = {}
    for other in sorted(y for y in returns if y < year):
        for episode in returns[other]:
            if episode["dec"] is not None and episode["dec"] <= first:
                earlier[episode["decom"]] = episode
    return [earlier[d] for d in sorted(earlier)] + own


def period_starts(episodes: Sequence[dict[str, Any]]) -> dict[date, date]:
    """The start of the period of care of each episode of a timeline, by its DECOM.

    A period begins with RNE S, or (a file missing its S) with the first episode, or with one
    that follows an episode that ceased.
    """
    starts: dict[date, date] = {}
    period_start: date | None = None
    ended = False
    for episode in episodes:
        if episode["rne"] == codes.STARTED or period_start is None or ended:
            period_start = episode["decom"]
        starts[episode["decom"]] = period_start
        ended = episode["dec"] is not None and episode["rec"] != codes.CONTINUES
    return starts


def ceased_at_18(episode: dict[str, Any], birth: date | None, birth_month: date | None) -> bool:
    """Whether the episode ended the period of care on the 18th birthday (with only the month
    of birth known, in the month of the 18th birthday)."""
    dec = episode["dec"]
    if dec is None or episode["rec"] == codes.CONTINUES:
        return False
    if birth is not None:
        return dec == birthday(birth, 18)
    if birth_month is not None:
        return (dec.year, dec.month) == (birth_month.year + 18, birth_month.month)
    return False


def days_in_care(episodes: Iterable[dict[str, Any]], since: date, until: date) -> int:
    """Days looked after from `since` to `until` (not short breaks; each day counted once,
    however many returns carry the episode that covers it)."""
    spans = []
    for episode in episodes:
        if episode["ls"] in codes.SHORT_BREAKS:
            continue
        start = max(episode["decom"], since)
        end = min(episode["dec"] or until, until)
        if end > start:
            spans.append((start, end))
    total, reached = 0, since
    for start, end in sorted(spans):
        start = max(start, reached)
        if end > start:
            total += (end - start).days
            reached = end
    return total


def eligible_care_leaver(episodes: Iterable[dict[str, Any]], eighteenth: date) -> bool:
    """Eligible for care-leaver support on leaving care at 18: looked after for at least 13
    weeks since the 14th birthday (time before the first stored return is not seen)."""
    fourteenth = years_before(eighteenth, 4)
    return days_in_care(episodes, fourteenth, eighteenth) >= ELIGIBLE_DAYS


def derive_periods(returns: Mapping[int, Sequence[dict[str, Any]]]) -> None:
    """Set `period_start` on every episode of one child's returns (by return year)."""
    for year, episodes in returns.items():
        starts = period_starts(timeline(returns, year))
        for episode in episodes:
            episode["period_start"] = starts[episode["decom"]]
