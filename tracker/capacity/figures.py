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

from datetime import date
from functools import cache
from typing import Any, NamedTuple

from msgspec.structs import replace
from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from forecast.months import month_ends
from tracker.capacity.as_at import (
    PLANNED,
    PREPARED_AS_AT_DIALECTS,
    prepared_register_counts,
    stored_columns,
    stored_months,
)
from tracker.capacity.demand import (
    children_in_care_by_authority,
    entered_counts,
    external_provision,
)
from tracker.capacity.monthly import prepared_flows
from tracker.capacity.register import place_counts, register_counts
from tracker.capacity.schemas import (
    CapacityFigures,
    MonthFlows,
    PlaceCounts,
)
from tracker.capacity.tables import ChildrenInCareFigure, ExternalProvisionFigure
from tracker.children.mapping import Mapping, mapping_digest
from tracker.children.tables import CareEpisode
from tracker.core.authorities import Authority, get_authority
from tracker.core.db import PlannedOnce
from tracker.core.disclosure import SMALL_COUNT, WITHHELD, Line, withheld
from tracker.core.errors import NotFoundError
from tracker.core.monthly_tables import PreparedAuthority, RegisterMonth
from tracker.core.prepared import is_prepared
from tracker.core.ratios import ratio
from tracker.core.revisions import note_revision, revision_column
from tracker.core.view_cache import ViewCache, kept_for_council
from tracker.households.care_types import (
    FOSTER_CATEGORIES,
    MAINSTREAM_CARE_TYPES,
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
    PlacementCategory,
)
from tracker.households.tables import Household, HouseholdVersion


def share_of_demand(by_care_type: list[PlaceCounts], children_total: int | None) -> float | None:
    """Approved places of mainstream in-house households per child in care."""
    mainstream = sum(
        c.approved_places
        for c in by_care_type
        if HouseholdCareType(c.care_type) in MAINSTREAM_CARE_TYPES
    )
    return ratio(mainstream, children_total)


class _Facts(NamedTuple):
    """What a council's capacity read needs to know before its figures, from one statement."""

    prepared: bool
    episodes: bool
    provision: bool
    stored: tuple[str | None, list[Any]]
    entered: list[tuple[str, int, date, str]]
    ready: bool | None
    """Whether the as-at statement is prepared on the connection, when the query readied it
    (`PlannedOnce.readiness`: the plan mode is set), else None."""


@cache
def _facts_statement(planned: PlannedOnce | None = None) -> Any:
    """For the bound council "code" (kind 0): whether its prepared figures are built, whether
    it has SSDA903 episodes and external provision entered on or before "as_at", and the last
    month stored, on each stored row of the bound months "before" and "own"
    (`stored_columns`; one row of NULLs when it has none, none when the council is not
    stored); and (kind 1) its latest children's figures entered on or before "as_at"
    (category, children, as_at, source), in the columns the kind 0 rows leave empty; then the
    council's revision (kind 0). One statement where a read asked six. With `planned`
    (PostgreSQL), two more columns ready it when the figures are built
    (`PlannedOnce.readiness`), saving it a query of its own."""
    a: Any = Authority.__table__
    month: Any = RegisterMonth.__table__
    kept = month.alias("kept")
    code, as_at = bindparam("code"), bindparam("as_at", type_=Date)
    last = select(func.max(kept.c.month)).where(kept.c.authority_code == a.c.code)
    provision = ExternalProvisionFigure
    stored_month_of = (month.c.authority_code == a.c.code) & month.c.month.in_(
        [bindparam("before"), bindparam("own")]
    )
    built = exists().where(PreparedAuthority.authority_code == a.c.code)
    readiness = []
    if planned is not None:
        names = ("plan_set", "plan_ready")
        readiness = [c.label(n) for c, n in zip(planned.readiness(built), names, strict=True)]
    facts = (
        select(
            literal(0, Integer).label("kind"),
            built.label("prepared"),
            exists().where(CareEpisode.authority_code == a.c.code).label("episodes"),
            exists()
            .where(provision.authority_code == a.c.code, provision.as_at <= as_at)
            .label("provision"),
            last.scalar_subquery().label("last_month"),
            *stored_columns(),
            cast(null(), Date).label("entered_on"),
            cast(null(), String).label("source"),
            revision_column(a.c.code).label("revision"),
            *readiness,
        )
        .select_from(a.outerjoin(month, stored_month_of))
        .where(a.c.code == code)
    )
    f = ChildrenInCareFigure
    latest = select(func.max(f.as_at)).where(f.authority_code == code, f.as_at <= as_at)
    # Kind 0's flags, last month and stored month empty; its care type and households hold
    # the category and children; its other stored columns empty.
    entered = select(
        literal(1, Integer),
        *(null() for _ in range(5)),
        f.category,
        f.children,
        *(null() for _ in stored_columns()[3:]),
        f.as_at,
        f.source,
        null(),
        *(null() for _ in readiness),
    ).where(f.authority_code == code, f.as_at == latest.scalar_subquery())
    return union_all(facts, entered)


_STORED_END = 5 + len(stored_columns())
"""Where the stored columns end in a row of `_facts_statement`."""


def _council_facts(session: Session, code: str, as_at: date, ready: bool) -> _Facts:
    """The council's `_Facts` for a read as at `as_at`, or NotFoundError (field "code");
    `ready`: ready the as-at statement too when the council's figures are built (only where
    `PlannedOnce` prepares it: PostgreSQL)."""
    params = {"code": code, "as_at": as_at, **stored_months(as_at)}
    connection = session.connection()
    planned = PLANNED if ready and connection.dialect.name == "postgresql" else None
    rows = connection.execute(_facts_statement(planned), params).all()
    facts = [row for row in rows if row.kind == 0]
    if not facts:
        raise NotFoundError(f"no authority with code {code}", field="code")
    first = facts[0]
    note_revision(session, code, first.revision)
    ready_now = None
    if planned is not None and first.prepared:
        PlannedOnce.mode_set(connection)
        ready_now = bool(first.plan_ready)
    # The stored columns follow the kind, three flags and the last month; in kind 1 rows the
    # second and third (after the month) hold the category and the children.
    stored = [row[5:_STORED_END] for row in facts if row[5] is not None]
    entered = [(r[6], r[7], r.entered_on, r.source) for r in rows if r.kind == 1]
    flags = bool(first.prepared), bool(first.episodes), bool(first.provision)
    return _Facts(*flags, (first.last_month, stored), entered, ready_now)


def capacity_figures(
    session: Session,
    authority_code: str,
    as_at: date,
    mapping: Mapping | None = None,
    *,
    prepared: bool | None = None,
) -> CapacityFigures:
    """Every capacity figure of an authority as at a date (`mapping`: the council's SSDA903
    placement mapping, when it has its own). The register's figures come from the prepared
    month-end before the date and the changes since when the council's are built
    (`tracker.capacity.as_at`) on the backends where that pays (`prepared=None`; True: on
    every backend); `prepared=False` computes them from the register (the reference)."""
    dialect = session.get_bind().dialect.name
    wanted = prepared is True or (prepared is None and dialect in PREPARED_AS_AT_DIALECTS)
    facts = _council_facts(session, authority_code, as_at, wanted)
    register = None
    if wanted and facts.prepared:
        register = prepared_register_counts(
            session, authority_code, as_at, facts.stored, facts.ready
        )
    if register is None:
        register = register_counts(session, [authority_code], as_at)[authority_code]
    if facts.episodes:
        children = children_in_care_by_authority(
            session, [authority_code], as_at, mapping, {authority_code}
        )[authority_code]
    else:
        children = entered_counts(facts.entered)
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
        external_provision=(
            external_provision(session, authority_code, as_at) if facts.provision else []
        ),
    )


def kept_capacity_figures(
    session: Session,
    views: ViewCache | None,
    authority_code: str,
    as_at: date,
    mapping: Mapping,
) -> CapacityFigures:
    """`capacity_figures`, kept in `views` until the council's next audited change
    (`tracker.core.view_cache.kept_for_council`; no `views`: computed afresh)."""
    key = ("capacity", as_at, mapping_digest(mapping))
    return kept_for_council(
        session,
        views,
        authority_code,
        key,
        lambda: capacity_figures(session, authority_code, as_at, mapping),
        notes_revision=True,
    )


def kept_monthly_flows(
    session: Session,
    views: ViewCache | None,
    authority_code: str,
    first: date,
    last: date,
) -> list[MonthFlows]:
    """`monthly_flows` of the months from `first` to `last`, kept in `views` until the
    council's next audited change, as `kept_capacity_figures` is (no `views`: afresh)."""
    kept = kept_for_council(
        session,
        views,
        authority_code,
        ("monthly flows", first, last),
        lambda: tuple(monthly_flows(session, authority_code, first, last)),
    )
    return list(kept)


def monthly_flows(
    session: Session,
    authority_code: str,
    first: date,
    last: date,
    *,
    by_care_type: bool = False,
    prepared: bool | None = None,
) -> list[MonthFlows]:
    """Approvals, deregistrations (by reason), net change and month-end stock per month; with
    `by_care_type`, the month-end households and places of each care type as well.

    Read off the prepared monthly rows when the council's are built and hold every month
    asked for (`prepared=None`); `prepared=False` computes from the register (the reference).
    """
    get_authority(session, authority_code)
    ends = month_ends(first, last)
    if not ends:
        return []
    if prepared is not False and is_prepared(session, authority_code):
        flows = prepared_flows(session, authority_code, ends, by_care_type=by_care_type)
        if flows is not None:
            return flows
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


SMALL_REASONS = f"reasons with fewer than {SMALL_COUNT} households"


def combine_small_reasons(flows: list[MonthFlows]) -> list[MonthFlows]:
    """The months as readers outside the council see them: each month's deregistration
    reasons of fewer than `SMALL_COUNT` households counted together under `SMALL_REASONS`,
    unnamed (one household deregistered for a standards concern would point at it)."""
    shown = []
    for month in flows:
        reasons = month.deregistrations_by_reason
        small = sum(n for n in reasons.values() if n < SMALL_COUNT)
        kept = {reason: n for reason, n in reasons.items() if n >= SMALL_COUNT}
        if small:
            kept[SMALL_REASONS] = small
        shown.append(replace(month, deregistrations_by_reason=kept))
    return shown


def withhold_small_children(figures: CapacityFigures) -> CapacityFigures:
    """The figures as readers outside the council see them: children in care by placement
    category with counts under `SMALL_COUNT` withheld (None), and another where the total
    would give one back (`tracker.core.disclosure`); the shares that would give them back
    too (in-house share of foster care, capacity against demand) withheld with them, as are
    the council's small uses of external provision. `withheld` says so."""
    cells: dict[str, int | None] = {c.category: c.children for c in figures.children_in_care}
    cells["total"] = figures.children_in_care_total
    hidden = withheld(cells, [Line("total", tuple(c.category for c in figures.children_in_care))])
    children = [
        replace(c, children=None) if c.category in hidden else c for c in figures.children_in_care
    ]
    foster_hidden = any(c in hidden for c in FOSTER_CATEGORIES)
    provision = [
        replace(p, used_by_authority=None, share_used=None)
        if 0 < p.used_by_authority < SMALL_COUNT
        else p
        for p in figures.external_provision
    ]
    small_use = any(p.used_by_authority is None for p in provision)
    return replace(
        figures,
        children_in_care=children,
        children_in_care_total=None if "total" in hidden else figures.children_in_care_total,
        in_house_share_of_foster=None if foster_hidden else figures.in_house_share_of_foster,
        capacity_share_of_demand=None if "total" in hidden else figures.capacity_share_of_demand,
        external_provision=provision,
        withheld=WITHHELD if hidden or small_use else None,
    )
