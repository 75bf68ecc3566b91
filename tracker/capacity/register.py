"""The household register's figures as at a date, for one authority or many in one query:
households and approved, filled, unavailable and vacant places by care type, term and age
band, and carers by ethnic group (small groups withheld)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    case,
    func,
    select,
)
from sqlalchemy.orm import Session

from tracker.capacity.schemas import (
    AgeBandVacancies,
    EthnicityCount,
    PlaceCounts,
    RegisterCounts,
    TermCounts,
)
from tracker.core.disclosure import SMALL_COUNT
from tracker.core.ratios import ratio
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    AGE_BANDS,
    HouseholdCareType,
    Term,
)
from tracker.households.places import places_as_at
from tracker.households.tables import Household

SUPPRESSION_THRESHOLD = SMALL_COUNT


ALL_CARE_TYPES = "all"


# The sums the register queries give per group of households (they add up across groups).
PLACE_SUMS = ("households", "approved", "filled", "unavailable", "vacant")


TERM_AND_BAND_SUMS: tuple[str, ...] = (
    *(f"{kind}_{t.value}" for t in Term for kind in ("n", "a", "v")),
    *(f"b_{band}" for band, _, _ in AGE_BANDS),
)


def _authority_params(codes: Sequence[str], as_at: date) -> dict[str, Any]:
    """The bound values of a statement built with `places_as_at(len(codes) > 1)`."""
    authorities = {"codes": list(codes)} if len(codes) > 1 else {"code": codes[0]}
    return authorities | {"as_at": as_at}


def _place_counts(care_type: str, sums: dict[str, int]) -> PlaceCounts:
    approved, filled, unavailable = sums["approved"], sums["filled"], sums["unavailable"]
    return PlaceCounts(
        care_type=care_type,
        households=sums["households"],
        approved_places=approved,
        filled_places=filled,
        unavailable_places=unavailable,
        vacant_places=sums["vacant"],
        occupancy=ratio(filled, approved - unavailable),
    )


def _sums(h: Any) -> list[Any]:
    return [
        func.count().label("households"),
        func.sum(h.c.approved).label("approved"),
        func.sum(h.c.filled).label("filled"),
        func.sum(h.c.unavailable).label("unavailable"),
        func.sum(h.c.vacant).label("vacant"),
    ]


def _term_and_band_sums(h: Any) -> list[Any]:
    columns: list[Any] = []
    for term in Term:
        has = h.c.terms.like(f"%|{term.value}|%")
        columns += [
            func.sum(case((has, 1), else_=0)).label(f"n_{term.value}"),
            func.sum(case((has, h.c.approved), else_=0)).label(f"a_{term.value}"),
            func.sum(case((has, h.c.vacant), else_=0)).label(f"v_{term.value}"),
        ]
    for band, low, high in AGE_BANDS:
        meets = (h.c.age_min <= high) & (h.c.age_max >= low)
        columns.append(func.sum(case((meets, h.c.vacant), else_=0)).label(f"b_{band}"))
    return columns


def _add(into: dict[str, int], row: Any, names: Sequence[str]) -> None:
    for name in names:
        into[name] = into.get(name, 0) + int(row[name] or 0)


def _totals(by_care_type: dict[str, dict[str, int]]) -> tuple[PlaceCounts, list[PlaceCounts]]:
    """The "all" counts (the sums of every care type's, as stored) and every care type's."""
    none = dict.fromkeys(PLACE_SUMS, 0)
    total = {name: sum(s[name] for s in by_care_type.values()) for name in PLACE_SUMS}
    by_type = [_place_counts(t.value, by_care_type.get(t.value, none)) for t in HouseholdCareType]
    return _place_counts(ALL_CARE_TYPES, total), by_type


@cache
def _register_query(many: bool) -> Any:
    h = places_as_at(many)
    ethnicity = Household.carers_ethnicity
    return (
        select(
            h.c.authority_code,
            h.c.care_type,
            ethnicity.label("ethnicity"),
            *_sums(h),
            *_term_and_band_sums(h),
        )
        .select_from(h)
        .outerjoin(Household, Household.id == h.c.household_id)
        .group_by(h.c.authority_code, h.c.care_type, ethnicity)
    )


def register_counts(
    session: Session, codes: Sequence[str], as_at: date
) -> dict[str, RegisterCounts]:
    """The register's figures of each authority of `codes` on `as_at` (every code answered,
    zeros when it has no household), from one query however many authorities are asked."""
    if not codes:
        return {}
    query = _register_query(len(codes) > 1)
    places: dict[str, dict[str, dict[str, int]]] = {code: {} for code in codes}
    others: dict[str, dict[str, int]] = {code: {} for code in codes}
    groups: dict[str, dict[str, int]] = {code: {} for code in codes}
    for row in session.execute(query, _authority_params(codes, as_at)).mappings():
        code = row["authority_code"]
        _add(places[code].setdefault(row["care_type"], {}), row, PLACE_SUMS)
        _add(others[code], row, TERM_AND_BAND_SUMS)
        group = Ethnicity(row["ethnicity"]).group if row["ethnicity"] else "unknown"
        groups[code][group] = groups[code].get(group, 0) + int(row["households"] or 0)
    return {code: register_figures(places[code], others[code], groups[code]) for code in codes}


@cache
def _place_counts_query() -> Any:
    h = places_as_at(many=False)
    return select(h.c.care_type, *_sums(h)).group_by(h.c.care_type)


def stock_columns(h: Any) -> list[Any]:
    """Per care type of `h` (rows of `places_as_at`): the place sums and the term and age
    band sums, which add up across groups of households (what a month-end stock keeps)."""
    return [h.c.care_type, *_sums(h), *_term_and_band_sums(h)]


def register_figures(
    places: dict[str, dict[str, int]], sums: dict[str, int], ethnic_groups: dict[str, int]
) -> RegisterCounts:
    """The register's figures from its sums: `places` per care type (`PLACE_SUMS`), `sums`
    of the terms and age bands (`TERM_AND_BAND_SUMS`), households per ethnic group."""
    total, by_type = _totals(places)
    return RegisterCounts(
        total=total,
        by_care_type=by_type,
        by_term=[
            TermCounts(
                term=t,
                households=sums.get(f"n_{t.value}", 0),
                approved_places=sums.get(f"a_{t.value}", 0),
                vacant_places=sums.get(f"v_{t.value}", 0),
            )
            for t in Term
        ],
        vacancies_by_age_band=[
            AgeBandVacancies(age_band=b, vacant_places=sums.get(f"b_{b}", 0))
            for b, _, _ in AGE_BANDS
        ],
        ethnic_groups=ethnic_groups,
    )


def place_counts(
    session: Session, authority_code: str, as_at: date
) -> tuple[PlaceCounts, list[PlaceCounts]]:
    """Households and places in total and per care type (every care type listed)."""
    query = _place_counts_query()
    by_care_type: dict[str, dict[str, int]] = {}
    for row in session.execute(query, {"code": authority_code, "as_at": as_at}).mappings():
        _add(by_care_type.setdefault(row["care_type"], {}), row, PLACE_SUMS)
    return _totals(by_care_type)


@cache
def _ethnicity_query() -> Any:
    h = places_as_at(many=False)
    return (
        select(Household.carers_ethnicity, func.count())
        .join(h, h.c.household_id == Household.id)
        .group_by(Household.carers_ethnicity)
    )


def carers_ethnicity(
    session: Session, authority_code: str, as_at: date, threshold: int = SUPPRESSION_THRESHOLD
) -> list[EthnicityCount]:
    """Households counted on `as_at` by carers' ethnic group, small counts withheld."""
    groups: dict[str, int] = {}
    params = {"code": authority_code, "as_at": as_at}
    for code, count in session.execute(_ethnicity_query(), params):
        group = Ethnicity(code).group if code else "unknown"
        groups[group] = groups.get(group, 0) + int(count)
    return suppress_small_groups(groups, threshold)


def suppress_small_groups(
    groups: dict[str, int], threshold: int = SUPPRESSION_THRESHOLD
) -> list[EthnicityCount]:
    """Households per carers' ethnic group with counts below `threshold` withheld (and the
    next smallest too when only one would be, so it cannot be worked out from the total)."""
    order = ["white", "mixed", "asian", "black", "other", "not_stated", "unknown"]
    withheld = {g for g in order if 0 < groups.get(g, 0) < threshold}
    if len(withheld) == 1:
        # One withheld count could be worked out from the total: withhold the next smallest too.
        others = sorted((n, g) for g, n in groups.items() if n > 0 and g not in withheld)
        if others:
            withheld.add(others[0][1])
    return [
        EthnicityCount(
            group=g,
            households=None if g in withheld else groups.get(g, 0),
            suppressed=g in withheld,
        )
        for g in order
    ]
