"""Staying Put as DfE publishes it: care leavers who left foster care aged 18 and were
eligible for care-leaver support, and how many live with their former foster carers, at
ages 18, 19 and 20.

The young people are counted from the episodes and OC3 rows of a few dozen children a year
in memory; only counts leave this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from forecast.months import month_label, month_labels, year_ending_march
from tracker.children import codes, history
from tracker.children.aggregates import Metric, entered, first_of
from tracker.children.mapping import Mapping
from tracker.children.returns import loaded_years
from tracker.children.rows import year_label
from tracker.children.sources import SSDA903, collection_year, source_of, sum_known
from tracker.children.tables import CareEpisode, CareLeaverRecord
from tracker.children.writing import among, stored_episodes
from tracker.core.ratios import ratio

DEFINITION = (
    "Staying Put as DfE publishes it. At 18, in the year ending 31 March of the 18th "
    "birthday: young people who ceased to be looked after on their 18th birthday in a foster "
    "placement (PLACE U1-U6) and were eligible for care-leaver support (looked after for at "
    "least 13 weeks since their 14th birthday), leaving out those looked after under an "
    "agreed series of short-term placements (legal status V3, V4), those who died (REC E2, "
    "or OC3 IN_TOUCH DIED), those whose care was taken over by another authority (REC E3) "
    "and those who returned home to parents for six months or more (OC3 IN_TOUCH RHOM). Of "
    "them, those living with their former foster carers: OC3 accommodation of that year "
    "beginning Z, as DfE takes it, and REC E17 (remained with current carers) only for a "
    "young person with no OC3 row that year; each figure says how many were judged each way. "
    "At 19 and 20: the same young people one and two years on, by the OC3 accommodation of "
    "the year of their 19th or 20th birthday (a young person with no OC3 row that year is "
    "counted as not staying; a year without OC3 rows has no figure)."
)
AGGREGATES_NOTE = "figures entered by hand: the council's own counts of eligible and stayed"
EXCLUSIONS = ("short_breaks", "died", "transferred", "returned_home", "not_eligible")


class StayingPut(msgspec.Struct, frozen=True, kw_only=True):
    """Staying Put at 18 in a month ("2022-05") or a year ending 31 March ("2022-23")."""

    period: str
    eligible: int | None
    stayed: int | None
    rate: float | None
    # Of `eligible`, how many were judged on OC3 accommodation and how many, having no OC3
    # row that year, on REC E17 (None with figures entered by hand).
    judged_on_oc3: int | None = None
    judged_on_rec_e17: int | None = None
    # Young people who left foster care on their 18th birthday but are not in the cohort,
    # by reason: short_breaks, died, transferred, returned_home, not_eligible.
    excluded: dict[str, int | None] | None = None
    # Eligible and stayed by placement category of the foster placement they left.
    eligible_by_category: dict[str, int | None] | None = None
    stayed_by_category: dict[str, int | None] | None = None


class StayingPutLater(msgspec.Struct, frozen=True, kw_only=True):
    """Staying Put at 19, at 20, or at 19 to 20 (as DfE now publishes it) in a year."""

    period: str
    age: str
    eligible: int | None
    stayed: int | None
    rate: float | None
    # Young people of the cohort with no OC3 row that year (counted as not staying).
    without_oc3: int | None


class StayingPutReport(msgspec.Struct, frozen=True, kw_only=True):
    """Staying Put at 18 per month and per year ending 31 March (whole years), and at 19
    and 20 per year; with the definition the figures follow."""

    authority_code: str
    source: str
    date_from: date
    date_to: date
    months: list[StayingPut]
    years: list[StayingPut]
    later: list[StayingPutLater]
    definition: str
    note: str | None = None
    # Readers outside the council: that small counts are withheld (tracker.children.withheld).
    withheld: str | None = None


class _Leaver(msgspec.Struct, kw_only=True):
    """One young person who left foster care on their 18th birthday, as judged."""

    month: str
    year: int
    category: str
    excluded: str | None = None
    stayed: bool = False
    on_oc3: bool = False


def _cohort(session: Session, code: str, first: date, last: date) -> list[CareEpisode]:
    """Episodes ending a period of care on an 18th birthday in a foster placement, DEC from
    `first` to `last`, each from its own year's return."""
    e = CareEpisode
    query = select(e).where(
        e.authority_code == code,
        e.ceased_at_18.is_(True),  # type: ignore[attr-defined]
        e.place.in_(codes.FOSTER_PLACES),  # type: ignore[attr-defined]
        e.source_year == collection_year(e.dec),
        e.dec >= first,  # type: ignore[operator]
        e.dec <= last,  # type: ignore[operator]
    )
    return list(session.scalars(query))


def _oc3(
    session: Session, code: str, children: Iterable[str]
) -> dict[tuple[str, int], CareLeaverRecord]:
    """The OC3 rows of the children, by (child, year)."""
    found: dict[tuple[str, int], CareLeaverRecord] = {}
    wanted = sorted(set(children))
    for start in range(0, len(wanted), 1000):
        query = select(CareLeaverRecord).where(
            CareLeaverRecord.authority_code == code,
            among(CareLeaverRecord.child_key, wanted[start : start + 1000]),
        )
        found.update({(r.child_key, r.year): r for r in session.scalars(query)})
    return found


def _oc3_years(session: Session, code: str) -> set[int]:
    query = select(CareLeaverRecord.year).where(CareLeaverRecord.authority_code == code)
    return set(session.scalars(query.distinct()))


def _histories(session: Session, code: str, children: set[str]) -> dict[str, list[dict]]:
    """Each child's episodes of every return (for the time in care since 14)."""
    episodes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (_, child, _), e in stored_episodes(session, code, (), children).items():
        episodes[child].append({"decom": e.decom, "dec": e.dec, "ls": e.ls})
    return episodes


def _judge(
    episode: CareEpisode,
    oc3: CareLeaverRecord | None,
    episodes: list[dict[str, Any]],
    mapping: Mapping,
) -> _Leaver:
    """Whether a young person is in the cohort at 18, and whether they stayed."""
    assert episode.dec is not None
    leaver = _Leaver(
        month=month_label(episode.dec),
        year=episode.source_year,
        category=mapping.category(episode.place, episode.place_provider).value,
    )
    in_touch = oc3.in_touch if oc3 is not None else None
    if episode.ls in codes.SHORT_BREAKS:
        leaver.excluded = "short_breaks"
    elif episode.rec == codes.DIED or in_touch == codes.IN_TOUCH_DIED:
        leaver.excluded = "died"
    elif episode.rec == codes.TRANSFERRED:
        leaver.excluded = "transferred"
    elif in_touch == codes.RETURNED_HOME:
        leaver.excluded = "returned_home"
    elif not history.eligible_care_leaver(episodes, episode.dec):
        leaver.excluded = "not_eligible"
    elif oc3 is not None:
        leaver.on_oc3 = True
        leaver.stayed = (oc3.accom or "").startswith(codes.WITH_FORMER_FOSTER_CARERS)
    else:
        leaver.stayed = episode.rec == codes.STAYED_PUT
    return leaver


def _at_18(period: str, leavers: list[_Leaver] | None) -> StayingPut:
    """The figures at 18 of a period (None: the period's return is not stored)."""
    if leavers is None:
        return StayingPut(period=period, eligible=None, stayed=None, rate=None)
    cohort = [p for p in leavers if p.excluded is None]
    stayed = [p for p in cohort if p.stayed]
    by_category: dict[str, int] = defaultdict(int)
    stayed_by_category: dict[str, int] = defaultdict(int)
    for person in cohort:
        by_category[person.category] += 1
        stayed_by_category[person.category] += person.stayed
    excluded = {reason: sum(p.excluded == reason for p in leavers) for reason in EXCLUSIONS}
    return StayingPut(
        period=period,
        eligible=len(cohort),
        stayed=len(stayed),
        rate=ratio(len(stayed), len(cohort)),
        judged_on_oc3=sum(p.on_oc3 for p in cohort),
        judged_on_rec_e17=sum(not p.on_oc3 for p in cohort),
        excluded=excluded,
        eligible_by_category=dict(by_category),
        stayed_by_category=dict(stayed_by_category),
    )


def _later(
    year: int,
    age: str,
    cohort: list[tuple[str, _Leaver]] | None,
    oc3: dict[tuple[str, int], CareLeaverRecord],
    with_oc3: bool,
) -> StayingPutLater:
    """The figures of one year at 19 or 20 (or both) from the young people left care at 18."""
    if cohort is None:
        return StayingPutLater(
            period=year_label(year),
            age=age,
            eligible=None,
            stayed=None,
            rate=None,
            without_oc3=None,
        )
    counted, stayed, missing = 0, 0, 0
    for child, _ in cohort:
        row = oc3.get((child, year))
        if row is not None and row.in_touch in (codes.IN_TOUCH_DIED, codes.RETURNED_HOME):
            continue
        counted += 1
        missing += row is None
        stayed += row is not None and (row.accom or "").startswith(codes.WITH_FORMER_FOSTER_CARERS)
    return StayingPutLater(
        period=year_label(year),
        age=age,
        eligible=counted,
        stayed=stayed if with_oc3 else None,
        rate=ratio(stayed, counted) if with_oc3 else None,
        without_oc3=missing,
    )


def _note(years: list[StayingPut]) -> str | None:
    judged = [y for y in years if y.judged_on_oc3 is not None]
    if not judged:
        return None
    parts = [
        f"{y.period}: {y.judged_on_oc3} on OC3, {y.judged_on_rec_e17} on REC E17" for y in judged
    ]
    return "young people judged on OC3 accommodation, or on REC E17 where they have no OC3 " + (
        "row that year: " + "; ".join(parts)
    )


def staying_put(
    session: Session, authority_code: str, date_from: date, date_to: date, mapping: Mapping
) -> StayingPutReport:
    """Staying Put at 18 per month from `date_from`'s month to `date_to` and per year ending
    31 March for every year the range touches (each year counted whole), and at 19 and 20
    for those years. `mapping` gives the placement categories of the breakdowns."""
    source = source_of(session, authority_code)
    first_year, last_year = year_ending_march(date_from), year_ending_march(date_to)
    every_month = month_labels(date(first_year - 1, 4, 1), date(last_year, 3, 31))
    wanted = set(month_labels(date_from, date_to))
    if source != SSDA903:
        return _entered(session, authority_code, date_from, date_to, every_month, wanted)
    loaded = set(loaded_years(session, authority_code))
    episodes = _cohort(session, authority_code, date(first_year - 3, 4, 1), date(last_year, 3, 31))
    children = {e.child_key for e in episodes}
    oc3 = _oc3(session, authority_code, children)
    histories = _histories(session, authority_code, children)
    judged = [
        (
            e.child_key,
            _judge(e, oc3.get((e.child_key, e.source_year)), histories[e.child_key], mapping),
        )
        for e in episodes
    ]
    by_month: dict[str, list[_Leaver]] = defaultdict(list)
    for _, person in judged:
        by_month[person.month].append(person)
    per_month = {
        m: by_month.get(m, []) if year_ending_march(first_of(m)) in loaded else None
        for m in every_month
    }
    years = []
    for year in range(first_year, last_year + 1):
        inside = [per_month[m] for m in every_month if year_ending_march(first_of(m)) == year]
        years.append(
            _at_18(
                year_label(year),
                None if year not in loaded else [p for m in inside for p in m or []],
            )
        )
    return StayingPutReport(
        authority_code=authority_code,
        source=source,
        date_from=date_from,
        date_to=date_to,
        months=[_at_18(m, per_month[m]) for m in every_month if m in wanted],
        years=years,
        later=_later_years(session, authority_code, judged, oc3, loaded, first_year, last_year),
        definition=DEFINITION,
        note=_note(years),
    )


def _later_years(
    session: Session,
    code: str,
    judged: list[tuple[str, _Leaver]],
    oc3: dict[tuple[str, int], CareLeaverRecord],
    loaded: set[int],
    first_year: int,
    last_year: int,
) -> list[StayingPutLater]:
    """At 19, 20 and 19 to 20 for each year: the cohort at 18 of one and two years before
    (less those left out for their episodes), by that year's OC3."""
    with_oc3 = _oc3_years(session, code)
    kept = [(child, p) for child, p in judged if p.excluded is None]
    result = []
    for year in range(first_year, last_year + 1):
        cohorts = {
            age: [(c, p) for c, p in kept if p.year == year - offset]
            if year - offset in loaded
            else None
            for age, offset in (("19", 1), ("20", 2))
        }
        both = None
        if cohorts["19"] is not None and cohorts["20"] is not None:
            both = cohorts["19"] + cohorts["20"]
        for age, cohort in (*cohorts.items(), ("19_to_20", both)):
            result.append(_later(year, age, cohort, oc3, year in with_oc3))
    return result


def _entered(
    session: Session,
    code: str,
    date_from: date,
    date_to: date,
    every_month: list[str],
    wanted: set[str],
) -> StayingPutReport:
    """Staying Put from the monthly figures entered by hand (at 18 only)."""
    metrics = [Metric.STAYING_PUT_ELIGIBLE, Metric.STAYING_PUT_STAYED]
    values = entered(session, code, metrics, first_of(every_month[0]), first_of(every_month[-1]))
    per_month = {
        m: (values.get((metrics[0].value, m, "")), values.get((metrics[1].value, m, "")))
        for m in every_month
    }

    def figures(period: str, pairs: list[tuple[int | None, int | None]]) -> StayingPut:
        eligible, stayed = sum_known([e for e, _ in pairs]), sum_known([s for _, s in pairs])
        rate = ratio(stayed, eligible) if eligible is not None else None
        return StayingPut(period=period, eligible=eligible, stayed=stayed, rate=rate)

    years = {}
    for month in every_month:
        years.setdefault(year_ending_march(first_of(month)), []).append(per_month[month])
    return StayingPutReport(
        authority_code=code,
        source="aggregates",
        date_from=date_from,
        date_to=date_to,
        months=[figures(m, [per_month[m]]) for m in every_month if m in wanted],
        years=[figures(year_label(y), pairs) for y, pairs in sorted(years.items())],
        later=[],
        definition=DEFINITION,
        note=AGGREGATES_NOTE,
    )
