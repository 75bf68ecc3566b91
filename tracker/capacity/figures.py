"""Capacity figures of an authority as at any date, and as monthly series.

Households, approved, filled, vacant and unavailable places by care type, term and age band
come from the household register in SQL; children in care from the SSDA903 episodes when the
authority has imported any, else from dated figures entered for it; external provision from
entered figures.

Definitions: a household counts while active or on hold; every free place of a household on
hold is unavailable; vacant = approved - filled - unavailable (never below zero); occupancy =
filled / (approved - unavailable); capacity as a share of demand = approved places of
mainstream in-house households (connected carers excluded, as in the Stoke strategy's
Table 6) / children in care.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any

import msgspec
from sqlalchemy import (
    ForeignKey,
    String,
    UniqueConstraint,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from forecast.months import month_ends
from tracker.children import figures as ssda903_figures
from tracker.children.mapping import Mapping, load_mapping
from tracker.children.tables import CareEpisode
from tracker.core.authorities import Authority, get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import InvalidValueError
from tracker.core.ratios import ratio
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    AGE_BANDS,
    FOSTER_CATEGORIES,
    MAINSTREAM_CARE_TYPES,
    DeregistrationReason,
    ExternalProvision,
    HouseholdCareType,
    HouseholdStatus,
    PlacementCategory,
    Term,
)
from tracker.households.places import places_as_at
from tracker.households.tables import Household, HouseholdVersion

SUPPRESSION_THRESHOLD = 5
ALL_CARE_TYPES = "all"
# The sums the register queries give per group of households (they add up across groups).
PLACE_SUMS = ("households", "approved", "filled", "unavailable", "vacant")
TERM_AND_BAND_SUMS: tuple[str, ...] = (
    *(f"{kind}_{t.value}" for t in Term for kind in ("n", "a", "v")),
    *(f"b_{band}" for band, _, _ in AGE_BANDS),
)
CATEGORY_ORDER = {c.value: i for i, c in enumerate(PlacementCategory)}
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class ChildrenInCareFigure(SQLModel, table=True):
    """Children in care in one placement category on a date (entered, or from SSDA903)."""

    __tablename__ = "children_in_care_figure"
    __table_args__ = (
        UniqueConstraint("authority_code", "as_at", "category", name="uq_cic_figure"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    as_at: date
    category: str = Field(sa_type=String(30))
    children: int
    source: str = Field(default="entered", sa_type=String(20))
    recorded_at: datetime = Field(default_factory=utcnow)


class ExternalProvisionFigure(SQLModel, table=True):
    """Provision in the area the council buys or counts, and how much of it it uses."""

    __tablename__ = "external_provision_figure"
    __table_args__ = (
        UniqueConstraint("authority_code", "as_at", "provision", name="uq_external_figure"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    as_at: date
    provision: str = Field(sa_type=String(30))
    households: int | None = None
    places: int
    used_by_authority: int
    recorded_at: datetime = Field(default_factory=utcnow)


class ChildrenInCareEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Children in care by category on a date, as entered by the authority."""

    as_at: date
    counts: dict[PlacementCategory, Count]


class ExternalProvisionEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """External provision figures on a date."""

    as_at: date
    provision: ExternalProvision
    places: Count
    used_by_authority: Count
    households: Count | None = None


class PlaceCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Households and places of one care type (or of all: `care_type` "all")."""

    care_type: str
    households: int
    approved_places: int
    filled_places: int
    unavailable_places: int
    vacant_places: int
    occupancy: float | None


class TermCounts(msgspec.Struct, frozen=True, kw_only=True):
    """Households approved for a term, their places and vacancies."""

    term: Term
    households: int
    approved_places: int
    vacant_places: int


class AgeBandVacancies(msgspec.Struct, frozen=True, kw_only=True):
    """Vacant places open to an age band (a household counts in every band its range meets)."""

    age_band: str
    vacant_places: int


class CategoryCount(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care in a placement category, from the latest figure on or before the date."""

    category: PlacementCategory
    children: int
    as_at: date
    source: str


class ProvisionCounts(msgspec.Struct, frozen=True, kw_only=True):
    """External provision on the latest date on or before the date asked."""

    provision: ExternalProvision
    as_at: date
    households: int | None
    places: int
    used_by_authority: int
    share_used: float | None


class EthnicityCount(msgspec.Struct, frozen=True, kw_only=True):
    """Households by carers' ethnic group; counts below the threshold are withheld."""

    group: str
    households: int | None
    suppressed: bool


class CapacityFigures(msgspec.Struct, frozen=True, kw_only=True):
    """An authority's capacity as at a date."""

    authority_code: str
    as_at: date
    total: PlaceCounts
    by_care_type: list[PlaceCounts]
    by_term: list[TermCounts]
    vacancies_by_age_band: list[AgeBandVacancies]
    children_in_care: list[CategoryCount]
    children_in_care_total: int | None
    in_house_share_of_foster: float | None
    capacity_share_of_demand: float | None
    external_provision: list[ProvisionCounts]


class MonthFlows(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Approvals, deregistrations by reason and net change in one month, and the month-end
    stock of households and places (per care type too, when asked for)."""

    month: str
    approvals: int
    deregistrations: int
    deregistrations_by_reason: dict[str, int]
    net_change: int
    households: int
    approved_places: int
    filled_places: int
    vacant_places: int
    occupancy: float | None
    by_care_type: dict[str, PlaceCounts] | None = None


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


class RegisterCounts(msgspec.Struct, frozen=True, kw_only=True):
    """What an authority's household register gives as at a date: households and places in
    total and per care type, by term, vacancies by age band, and households per carers'
    ethnic group (unsuppressed: pass them through `suppress_small_groups` before showing)."""

    total: PlaceCounts
    by_care_type: list[PlaceCounts]
    by_term: list[TermCounts]
    vacancies_by_age_band: list[AgeBandVacancies]
    ethnic_groups: dict[str, int]


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
    result = {}
    for code in codes:
        total, by_type = _totals(places[code])
        sums = others[code]
        result[code] = RegisterCounts(
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
            ethnic_groups=groups[code],
        )
    return result


@cache
def _place_counts_query() -> Any:
    h = places_as_at(many=False)
    return select(h.c.care_type, *_sums(h)).group_by(h.c.care_type)


def place_counts(
    session: Session, authority_code: str, as_at: date
) -> tuple[PlaceCounts, list[PlaceCounts]]:
    """Households and places in total and per care type (every care type listed)."""
    query = _place_counts_query()
    by_care_type: dict[str, dict[str, int]] = {}
    for row in session.execute(query, {"code": authority_code, "as_at": as_at}).mappings():
        _add(by_care_type.setdefault(row["care_type"], {}), row, PLACE_SUMS)
    return _totals(by_care_type)


def children_in_care(
    session: Session, authority_code: str, as_at: date, mapping: Mapping | None = None
) -> list[CategoryCount]:
    """Children in care by placement category on `as_at`: from the SSDA903 episodes when the
    authority has any (every category, source "ssda903"; `mapping` defaults to the shipped
    one), else the latest entered figure per category on or before the date."""
    return children_in_care_by_authority(session, [authority_code], as_at, mapping)[authority_code]


def children_in_care_by_authority(
    session: Session, codes: Sequence[str], as_at: date, mapping: Mapping | None = None
) -> dict[str, list[CategoryCount]]:
    """`children_in_care` of each authority of `codes` (every code answered), with one query
    for the entered figures of all of them."""
    with_episodes = set(
        session.scalars(
            select(Authority.code).where(
                Authority.code.in_(codes),  # type: ignore[attr-defined]
                exists().where(CareEpisode.authority_code == Authority.code),
            )
        )
    )
    result: dict[str, list[CategoryCount]] = {code: [] for code in codes}
    for code in codes:
        if code in with_episodes:
            counts = ssda903_figures.episodes_in_care(
                session, code, as_at, mapping or load_mapping()
            )
            result[code] = [
                CategoryCount(category=c, children=n, as_at=as_at, source=ssda903_figures.SSDA903)
                for c, n in counts.items()
            ]
    entered = [code for code in codes if code not in with_episodes]
    if not entered:
        return result
    # Each authority's latest entry on or before the date, whole: mixing categories from
    # different dates would count a category left out of a later entry at its old number.
    f = ChildrenInCareFigure
    latest = (
        select(f.authority_code, func.max(f.as_at).label("as_at"))
        .where(f.authority_code.in_(entered), f.as_at <= as_at)  # type: ignore[attr-defined]
        .group_by(f.authority_code)
        .subquery()
    )
    query = select(f).join(
        latest, (latest.c.authority_code == f.authority_code) & (latest.c.as_at == f.as_at)
    )
    for r in sorted(session.scalars(query), key=lambda r: CATEGORY_ORDER[r.category]):
        result[r.authority_code].append(
            CategoryCount(
                category=PlacementCategory(r.category),
                children=r.children,
                as_at=r.as_at,
                source=r.source,
            )
        )
    return result


def external_provision(session: Session, authority_code: str, as_at: date) -> list[ProvisionCounts]:
    """The latest external provision figure per kind on or before `as_at`."""
    f = ExternalProvisionFigure
    latest = (
        select(f.provision, func.max(f.as_at).label("as_at"))
        .where(f.authority_code == authority_code, f.as_at <= as_at)
        .group_by(f.provision)
        .subquery()
    )
    query = (
        select(f)
        .join(latest, (latest.c.provision == f.provision) & (latest.c.as_at == f.as_at))
        .where(f.authority_code == authority_code)
    )
    return [
        ProvisionCounts(
            provision=ExternalProvision(r.provision),
            as_at=r.as_at,
            households=r.households,
            places=r.places,
            used_by_authority=r.used_by_authority,
            share_used=ratio(r.used_by_authority, r.places),
        )
        for r in sorted(session.scalars(query), key=lambda r: r.provision)
    ]


def share_of_demand(by_care_type: list[PlaceCounts], children_total: int | None) -> float | None:
    """Approved places of mainstream in-house households per child in care."""
    mainstream = sum(
        c.approved_places
        for c in by_care_type
        if HouseholdCareType(c.care_type) in MAINSTREAM_CARE_TYPES
    )
    return ratio(mainstream, children_total)


def capacity_figures(
    session: Session, authority_code: str, as_at: date, mapping: Mapping | None = None
) -> CapacityFigures:
    """Every capacity figure of an authority as at a date (`mapping`: the council's SSDA903
    placement mapping, when it has its own)."""
    get_authority(session, authority_code)
    register = register_counts(session, [authority_code], as_at)[authority_code]
    children = children_in_care(session, authority_code, as_at, mapping)
    children_total = sum(c.children for c in children) if children else None
    by_category = {c.category: c.children for c in children}
    foster = sum(n for k, n in by_category.items() if k in FOSTER_CATEGORIES)
    return CapacityFigures(
        authority_code=authority_code,
        as_at=as_at,
        total=register.total,
        by_care_type=register.by_care_type,
        by_term=register.by_term,
        vacancies_by_age_band=register.vacancies_by_age_band,
        children_in_care=children,
        children_in_care_total=children_total,
        in_house_share_of_foster=ratio(by_category.get(PlacementCategory.IN_HOUSE_FOSTER), foster),
        capacity_share_of_demand=share_of_demand(register.by_care_type, children_total),
        external_provision=external_provision(session, authority_code, as_at),
    )


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


def monthly_flows(
    session: Session, authority_code: str, first: date, last: date, *, by_care_type: bool = False
) -> list[MonthFlows]:
    """Approvals, deregistrations (by reason), net change and month-end stock per month; with
    `by_care_type`, the month-end households and places of each care type as well."""
    get_authority(session, authority_code)
    ends = month_ends(first, last)
    start = date(first.year, first.month, 1)
    approvals: dict[str, int] = {}
    for (approved_on,) in session.execute(
        select(Household.approved_on).where(
            Household.authority_code == authority_code,
            Household.approved_on >= start,
            Household.approved_on <= ends[-1],
        )
    ):
        key = approved_on.strftime("%Y-%m")
        approvals[key] = approvals.get(key, 0) + 1
    leavers: dict[str, dict[str, int]] = {}
    v = HouseholdVersion
    for valid_from, reason in session.execute(
        select(v.valid_from, v.deregistration_reason).where(
            v.authority_code == authority_code,
            v.status == HouseholdStatus.DEREGISTERED.value,
            v.valid_from >= start,
            v.valid_from <= ends[-1],
        )
    ):
        key = valid_from.strftime("%Y-%m")
        reasons = leavers.setdefault(key, {})
        reason = reason or DeregistrationReason.OTHER.value
        reasons[reason] = reasons.get(reason, 0) + 1
    result = []
    for end in ends:
        key = end.strftime("%Y-%m")
        total, by_type = place_counts(session, authority_code, end)
        gone = sum(leavers.get(key, {}).values())
        result.append(
            MonthFlows(
                month=key,
                approvals=approvals.get(key, 0),
                deregistrations=gone,
                deregistrations_by_reason=dict(sorted(leavers.get(key, {}).items())),
                net_change=approvals.get(key, 0) - gone,
                households=total.households,
                approved_places=total.approved_places,
                filled_places=total.filled_places,
                vacant_places=total.vacant_places,
                occupancy=total.occupancy,
                by_care_type={c.care_type: c for c in by_type} if by_care_type else None,
            )
        )
    return result


def record_children_in_care(
    session: Session, authority_code: str, entry: ChildrenInCareEntry, source: str = "entered"
) -> list[CategoryCount]:
    """Store (or replace) children-in-care counts for a date."""
    get_authority(session, authority_code)
    if not entry.counts:
        raise InvalidValueError("counts must name at least one category", field="counts")
    for category, children in entry.counts.items():
        row = session.scalars(
            select(ChildrenInCareFigure).where(
                ChildrenInCareFigure.authority_code == authority_code,
                ChildrenInCareFigure.as_at == entry.as_at,
                ChildrenInCareFigure.category == category.value,
            )
        ).first()
        if row is None:
            session.add(
                ChildrenInCareFigure(
                    authority_code=authority_code,
                    as_at=entry.as_at,
                    category=category.value,
                    children=children,
                    source=source,
                )
            )
        else:
            row.children, row.source, row.recorded_at = children, source, utcnow()
    session.flush()
    return [
        c for c in children_in_care(session, authority_code, entry.as_at) if c.as_at == entry.as_at
    ]


def record_external_provision(
    session: Session, authority_code: str, entry: ExternalProvisionEntry
) -> ProvisionCounts:
    """Store (or replace) an external provision figure for a date."""
    get_authority(session, authority_code)
    if entry.used_by_authority > entry.places:
        raise InvalidValueError("used_by_authority is more than places", field="used_by_authority")
    row = session.scalars(
        select(ExternalProvisionFigure).where(
            ExternalProvisionFigure.authority_code == authority_code,
            ExternalProvisionFigure.as_at == entry.as_at,
            ExternalProvisionFigure.provision == entry.provision.value,
        )
    ).first()
    if row is None:
        row = ExternalProvisionFigure(
            authority_code=authority_code,
            as_at=entry.as_at,
            provision=entry.provision.value,
            places=entry.places,
            used_by_authority=entry.used_by_authority,
            households=entry.households,
        )
        session.add(row)
    else:
        row.places, row.used_by_authority, row.households = (
            entry.places,
            entry.used_by_authority,
            entry.households,
        )
        row.recorded_at = utcnow()
    session.flush()
    return ProvisionCounts(
        provision=entry.provision,
        as_at=entry.as_at,
        households=row.households,
        places=row.places,
        used_by_authority=row.used_by_authority,
        share_used=ratio(row.used_by_authority, row.places),
    )
