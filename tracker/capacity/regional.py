"""The regional capacity view: every authority of a region as at a date, and a roll-up.

An authority's figures come from its own household register when it has one (any household
approved by the date), else from the latest capacity return loaded for it on or before the
date (aggregate figures another council sent, in the CSV shape this module exports), else
there are none. So a hub installation can serve a whole region next to its own council.

Aggregates only: counts and ratios per authority and care type, never a record. Carers'
ethnicity (a personal characteristic) comes suppressed below the threshold from
`tracker.capacity.figures`. Roll-up ratios are recomputed from sums, never averaged.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.capacity.demand import children_in_care_by_authority
from tracker.capacity.figures import share_of_demand
from tracker.capacity.register import register_counts, suppress_small_groups
from tracker.capacity.schemas import (
    AgeBandVacancies,
    CategoryCount,
    EthnicityCount,
    PlaceCounts,
    RegisterCounts,
    TermCounts,
)
from tracker.capacity.tables import CapacityReturn, ChildrenInCareFigure
from tracker.core.audit import AuditEntry
from tracker.core.authorities import Authority
from tracker.core.disclosure import WITHHELD, Line, withheld
from tracker.core.errors import NotFoundError
from tracker.core.ratios import ratio
from tracker.core.regions import region_code, region_named
from tracker.core.table_export import safe_text
from tracker.households.care_types import MAINSTREAM_CARE_TYPES, HouseholdCareType
from tracker.households.tables import Household, Placement

ALL = "all"
CARE_TYPES: tuple[str, ...] = (*(t.value for t in HouseholdCareType), ALL)
FIGURES = (
    "households",
    "approved_places",
    "filled_places",
    "vacant_places",
    "unavailable_places",
    "children_in_care",
)
COLUMNS: tuple[str, ...] = (
    "authority_code",
    "authority_name",
    "region",
    "as_at",
    "care_type",
    "households",
    "approved_places",
    "filled_places",
    "vacant_places",
    "unavailable_places",
    "occupancy",
    "children_in_care",
    "capacity_share_of_demand",
    "source",
)


# The CSV's `source` on the region's roll-up rows (sums, not a council's return).
ROLLUP_SOURCE = "region"


class FigureSource(enum.StrEnum):
    """Where an authority's figures in the regional view come from."""

    REGISTER = "register"
    RETURN = "return"
    NONE = "none"


class PlaceFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Households and places of one care type (or "all"); None where a return gave nothing."""

    care_type: str
    households: int | None
    approved_places: int | None
    filled_places: int | None
    vacant_places: int | None
    unavailable_places: int | None
    occupancy: float | None


class AuthorityCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """One authority's capacity in the regional view; `as_at` is the date of its figures."""

    code: str
    name: str
    region: str
    as_at: date | None
    source: FigureSource
    rows: list[PlaceFigures]
    vacancies_by_age_band: list[AgeBandVacancies]
    by_term: list[TermCounts]
    children_in_care: int | None
    capacity_share_of_demand: float | None
    carers_ethnicity: list[EthnicityCount]


class RollupPlaces(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Sums over the `authorities` giving a care type's row.

    A figure some of them leave out is None (a partial sum would pass for the region's);
    occupancy is recomputed from the sums. `suppressed`: every figure withheld (the national
    view's sum of one council, which would be that council's own figures).
    """

    care_type: str
    authorities: int
    households: int | None
    approved_places: int | None
    filled_places: int | None
    vacant_places: int | None
    unavailable_places: int | None
    occupancy: float | None
    suppressed: bool = False


class RegionRollup(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The region's sums. `children_in_care` and `capacity_share_of_demand` cover the
    `authorities_in_share` authorities giving both in-house places and children in care
    (`share_suppressed`: withheld, as `RollupPlaces.suppressed`)."""

    rows: list[RollupPlaces]
    children_in_care: int | None
    capacity_share_of_demand: float | None
    authorities_in_share: int
    authorities_by_source: dict[FigureSource, int]
    share_suppressed: bool = False


class RegionalCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """A region's capacity as at a date; `rollup` is None when only some authorities are
    shown (a manager sees their own authority only)."""

    region: str
    as_at: date
    authorities: list[AuthorityCapacity]
    rollup: RegionRollup | None
    # Readers outside the councils: that small counts are withheld (`withhold_small_children`).
    withheld: str | None = None


def _occupancy(filled: int | None, approved: int | None, unavailable: int | None) -> float | None:
    if filled is None or approved is None or unavailable is None:
        return None
    return ratio(filled, approved - unavailable)


def _mainstream_places(rows: Iterable[PlaceFigures]) -> int | None:
    """Approved places of the care types counted against demand; None if none is given."""
    places = [
        r.approved_places
        for r in rows
        if r.care_type in MAINSTREAM_CARE_TYPES and r.approved_places is not None
    ]
    return sum(places) if places else None


def region_authorities(session: Session, region: str) -> list[Authority]:
    """The authorities of a region (its name, matched ignoring case, or its ONS code), by
    name; NotFoundError if none."""
    query = (
        select(Authority)
        .where(func.lower(Authority.region) == region_named(region).strip().lower())
        .order_by(Authority.name)
    )
    found = list(session.scalars(query))
    if not found:
        raise NotFoundError(f"no authority is in region {region!r}", field="region")
    return found


def _from_counts(counts: PlaceCounts) -> PlaceFigures:
    return PlaceFigures(
        care_type=counts.care_type,
        households=counts.households,
        approved_places=counts.approved_places,
        filled_places=counts.filled_places,
        vacant_places=counts.vacant_places,
        unavailable_places=counts.unavailable_places,
        occupancy=counts.occupancy,
    )


def _from_register(
    authority: Authority,
    as_at: date,
    register: RegisterCounts,
    children: list[CategoryCount],
) -> AuthorityCapacity:
    children_total = sum(c.children for c in children) if children else None
    return AuthorityCapacity(
        code=authority.code,
        name=authority.name,
        region=authority.region,
        as_at=as_at,
        source=FigureSource.REGISTER,
        rows=[*(_from_counts(c) for c in register.by_care_type), _from_counts(register.total)],
        vacancies_by_age_band=register.vacancies_by_age_band,
        by_term=register.by_term,
        children_in_care=children_total,
        capacity_share_of_demand=share_of_demand(register.by_care_type, children_total),
        carers_ethnicity=suppress_small_groups(register.ethnic_groups),
    )


def _from_return(authority: Authority, rows: list[CapacityReturn]) -> AuthorityCapacity:
    ordered = sorted(rows, key=lambda r: CARE_TYPES.index(r.care_type))
    places = [
        PlaceFigures(
            care_type=r.care_type,
            households=r.households,
            approved_places=r.approved_places,
            filled_places=r.filled_places,
            vacant_places=r.vacant_places,
            unavailable_places=r.unavailable_places,
            occupancy=_occupancy(r.filled_places, r.approved_places, r.unavailable_places),
        )
        for r in ordered
    ]
    children = next((r.children_in_care for r in rows if r.care_type == ALL), None)
    return AuthorityCapacity(
        code=authority.code,
        name=authority.name,
        region=authority.region,
        as_at=rows[0].as_at,
        source=FigureSource.RETURN,
        rows=places,
        vacancies_by_age_band=[],
        by_term=[],
        children_in_care=children,
        capacity_share_of_demand=ratio(_mainstream_places(places), children),
        carers_ethnicity=[],
    )


def _without_figures(authority: Authority) -> AuthorityCapacity:
    return AuthorityCapacity(
        code=authority.code,
        name=authority.name,
        region=authority.region,
        as_at=None,
        source=FigureSource.NONE,
        rows=[],
        vacancies_by_age_band=[],
        by_term=[],
        children_in_care=None,
        capacity_share_of_demand=None,
        carers_ethnicity=[],
    )


def authorities_with_register(session: Session, codes: list[str], as_at: date) -> set[str]:
    query = select(Household.authority_code).where(
        col(Household.authority_code).in_(codes),
        Household.approved_on <= as_at,
    )
    return set(session.scalars(query.distinct()))


def _latest_returns(
    session: Session, codes: list[str], as_at: date
) -> dict[str, list[CapacityReturn]]:
    """Each authority's latest return on or before `as_at`, all its rows."""
    r = CapacityReturn
    latest = (
        select(r.authority_code, func.max(r.as_at).label("as_at"))
        .where(col(r.authority_code).in_(codes), col(r.as_at) <= as_at)
        .group_by(r.authority_code)
        .subquery()
    )
    query = select(r).join(
        latest, (latest.c.authority_code == r.authority_code) & (latest.c.as_at == r.as_at)
    )
    returns: dict[str, list[CapacityReturn]] = {}
    for row in session.scalars(query):
        returns.setdefault(row.authority_code, []).append(row)
    return returns


def authority_capacity_rows(
    session: Session, authorities: list[Authority], as_at: date
) -> list[AuthorityCapacity]:
    """Each authority's figures: its register, else its latest return, else none."""
    codes = [a.code for a in authorities]
    registers = authorities_with_register(session, codes, as_at)
    returns = _latest_returns(session, codes, as_at)
    # Every register's figures from one query, not a round of queries per authority.
    kept = [code for code in codes if code in registers]
    counts = register_counts(session, kept, as_at)
    children = children_in_care_by_authority(session, kept, as_at) if kept else {}
    result = []
    for authority in authorities:
        if authority.code in registers:
            result.append(
                _from_register(authority, as_at, counts[authority.code], children[authority.code])
            )
        elif authority.code in returns:
            result.append(_from_return(authority, returns[authority.code]))
        else:
            result.append(_without_figures(authority))
    return result


def _total(values: list[int | None]) -> int | None:
    """The sum, or None when any authority leaves the figure out."""
    return None if not values or None in values else sum(v or 0 for v in values)


def _rollup_row(care_type: str, rows: list[PlaceFigures]) -> RollupPlaces:
    approved = _total([r.approved_places for r in rows])
    filled = _total([r.filled_places for r in rows])
    unavailable = _total([r.unavailable_places for r in rows])
    return RollupPlaces(
        care_type=care_type,
        authorities=len(rows),
        households=_total([r.households for r in rows]),
        approved_places=approved,
        filled_places=filled,
        vacant_places=_total([r.vacant_places for r in rows]),
        unavailable_places=unavailable,
        occupancy=_occupancy(filled, approved, unavailable),
    )


def rollup(authorities: list[AuthorityCapacity]) -> RegionRollup:
    """Sums over the authorities; ratios recomputed from sums, never averaged."""
    by_type: dict[str, list[PlaceFigures]] = {}
    for authority in authorities:
        for row in authority.rows:
            by_type.setdefault(row.care_type, []).append(row)
    in_share = [a for a in authorities if a.capacity_share_of_demand is not None]
    places = _total([_mainstream_places(a.rows) for a in in_share])
    children = _total([a.children_in_care for a in in_share])
    return RegionRollup(
        rows=[_rollup_row(t, by_type[t]) for t in CARE_TYPES if t in by_type],
        children_in_care=children,
        capacity_share_of_demand=ratio(places, children),
        authorities_in_share=len(in_share),
        authorities_by_source={
            source: sum(1 for a in authorities if a.source is source) for source in FigureSource
        },
    )


def withhold_small_children(view: RegionalCapacity) -> RegionalCapacity:
    """The view as the region's own readers see it: a council's children in care under
    `SMALL_COUNT` withheld (None) with its capacity against demand, and then the region's
    sum of children in care too (each council's figure is read alone on its capacity route,
    so withholding another would not keep it). `withheld` says so."""
    cells: dict[str, int | None] = {a.code: a.children_in_care for a in view.authorities}
    rollup = view.rollup
    lines: list[Line[str]] = []
    if rollup is not None:
        cells[""] = rollup.children_in_care
        in_share = tuple(a.code for a in view.authorities if a.capacity_share_of_demand is not None)
        lines.append(Line("", in_share, whole=True))
    hidden = withheld(cells, lines)
    if not hidden:
        return view
    authorities = [
        msgspec.structs.replace(a, children_in_care=None, capacity_share_of_demand=None)
        if a.code in hidden
        else a
        for a in view.authorities
    ]
    if rollup is not None and "" in hidden:
        rollup = msgspec.structs.replace(
            rollup, children_in_care=None, capacity_share_of_demand=None
        )
    return msgspec.structs.replace(view, authorities=authorities, rollup=rollup, withheld=WITHHELD)


def regional_capacity(
    session: Session, region: str, as_at: date, *, only: Collection[str] | None = None
) -> RegionalCapacity:
    """Every authority of a region as at a date, and the region's roll-up.

    With `only`, just those authorities of the region and no roll-up (a part of a region
    summed would pass for the whole).
    """
    authorities = region_authorities(session, region)
    shown = [a for a in authorities if only is None or a.code in only]
    rows = authority_capacity_rows(session, shown, as_at)
    return RegionalCapacity(
        region=min({a.region for a in authorities}),
        as_at=as_at,
        authorities=rows,
        rollup=rollup(rows) if only is None else None,
    )


# What the audit log calls the records the view is built from: only their changes (not an
# enquiry's, a target's or an export) move the view's Last-Modified. Not "capacity_return":
# its `loaded_at` moves with every change to a return, and a load's audit entry is written
# when it changed nothing too (the same file again).
CAPACITY_ENTITIES = (
    "authority",
    "household",
    "placement",
    "unavailability",
    "children_in_care",
    "ssda903",
    "ssda903_monthly_figures",
)


@cache
def _last_modified_query(everywhere: bool = False) -> Any:
    """The latest timestamp of each source of the figures, in one statement built once (of
    one region's authorities, or `everywhere`: every authority's)."""
    codes = select(Authority.code).where(func.lower(Authority.region) == bindparam("region"))

    def within(column: Any) -> list[Any]:
        return [] if everywhere else [col(column).in_(codes)]

    latest = [
        select(func.max(Authority.created_at)).where(*within(Authority.code)),
        select(func.max(Household.updated_at)).where(*within(Household.authority_code)),
        select(func.max(Placement.created_at)).where(*within(Placement.authority_code)),
        select(func.max(CapacityReturn.loaded_at)).where(*within(CapacityReturn.authority_code)),
        select(func.max(ChildrenInCareFigure.recorded_at)).where(
            *within(ChildrenInCareFigure.authority_code)
        ),
        select(func.max(AuditEntry.at)).where(
            *within(AuditEntry.authority_code),
            col(AuditEntry.entity).in_(CAPACITY_ENTITIES),
            AuditEntry.action != "export",
        ),
    ]
    return select(*(query.scalar_subquery() for query in latest))


def last_modified(session: Session, region: str) -> datetime | None:
    """The latest recorded change to anything the region's figures are built from (the
    regional view's Last-Modified).

    Some changes leave no timestamp of their own (a placement's end date, a household's
    dated version): the audit entry each of them writes covers them, and the ETag, built
    from the content, never depends on this.
    """
    named = region_named(region).strip().lower()
    return _latest(session.execute(_last_modified_query(), {"region": named}).one())


def _latest(row: Any) -> datetime | None:
    times = [t for t in row if t is not None]
    if not times:
        return None
    return max(t if t.tzinfo else t.replace(tzinfo=UTC) for t in times)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _csv_row(
    authority: tuple[str, str, str],
    as_at: date | None,
    place: PlaceFigures | RollupPlaces,
    whole: tuple[int | None, float | None],
    source: str,
) -> dict[str, str]:
    code, name, region = authority
    is_all = place.care_type == ALL
    return {
        "authority_code": code,
        # An authority's name is an administrator's text: the exports' formula guard.
        "authority_name": safe_text(name),
        "region": safe_text(region),
        "as_at": _cell(as_at),
        "care_type": place.care_type,
        "households": _cell(place.households),
        "approved_places": _cell(place.approved_places),
        "filled_places": _cell(place.filled_places),
        "vacant_places": _cell(place.vacant_places),
        "unavailable_places": _cell(place.unavailable_places),
        "occupancy": _cell(place.occupancy),
        "children_in_care": _cell(whole[0] if is_all else None),
        "capacity_share_of_demand": _cell(whole[1] if is_all else None),
        "source": source,
    }


def to_csv_rows(view: RegionalCapacity) -> list[dict[str, str]]:
    """One row per authority and care type, in the shape `load_returns` reads back, then
    (when the view has one) the region's roll-up: rows of source `ROLLUP_SOURCE` under the
    region's ONS code, which loading skips. Authorities without figures have no rows."""
    rows = [
        _csv_row(
            (authority.code, authority.name, authority.region),
            authority.as_at,
            place,
            (authority.children_in_care, authority.capacity_share_of_demand),
            authority.source.value,
        )
        for authority in view.authorities
        for place in authority.rows
    ]
    if view.rollup is not None:
        region = (region_code(view.region) or "", view.region, view.region)
        whole = (view.rollup.children_in_care, view.rollup.capacity_share_of_demand)
        rows += [
            _csv_row(region, view.as_at, place, whole, ROLLUP_SOURCE) for place in view.rollup.rows
        ]
    return rows


def to_csv(view: RegionalCapacity) -> bytes:
    """The regional view as CSV (UTF-8)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(to_csv_rows(view))
    return buffer.getvalue().encode("utf-8")
