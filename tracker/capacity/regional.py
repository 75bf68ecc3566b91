"""The regional capacity view: every authority of a region as at a date, and a roll-up.

An authority's figures come from its own household register when it has one (any household
approved by the date), else from the latest capacity return loaded for it on or before the
date (aggregate figures another council sent, in the CSV shape this module exports), else
there are none. So a hub installation can serve a whole region next to its own council.

Aggregates only: counts and ratios per authority and care type, never a record. Carers'
ethnicity (a personal characteristic) comes suppressed below the threshold from
`tracker.capacity`. Roll-up ratios are recomputed from sums, never averaged.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import ForeignKey, String, UniqueConstraint, bindparam, func, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from tracker.capacity import figures as capacity
from tracker.capacity.figures import (
    AgeBandVacancies,
    ChildrenInCareFigure,
    EthnicityCount,
    PlaceCounts,
    TermCounts,
)
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.audit import AuditEntry
from tracker.core.authorities import ONS_CODE, Authority, NewAuthority, add_authority
from tracker.core.clock import utcnow
from tracker.core.errors import ImportRejectedError, NotFoundError, RowError
from tracker.core.ratios import ratio
from tracker.core.spreadsheets import SheetRow, parse_date, read_sheet
from tracker.households.care_types import MAINSTREAM_CARE_TYPES, HouseholdCareType
from tracker.households.rules import EARLIEST
from tracker.households.tables import Household, Placement
from tracker.reference import load_reference

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
REQUIRED = ("authority_code", "as_at", "care_type")
MAX_COUNT = 1_000_000
MAX_ERRORS = 200
WHOLE_NUMBER = re.compile(r"^\d+$")


class CapacityReturn(SQLModel, table=True):
    """One care type's row (or the "all" row) of an authority's aggregate return on a date."""

    __tablename__ = "capacity_return"
    __table_args__ = (
        UniqueConstraint("authority_code", "as_at", "care_type", name="uq_capacity_return"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    as_at: date
    care_type: str = Field(sa_type=String(20))
    # Households and approved places are given on every care-type row; the "all" row may
    # carry only children in care (Table 6 counts households without connected carers).
    households: int | None = None
    approved_places: int | None = None
    filled_places: int | None = None
    vacant_places: int | None = None
    unavailable_places: int | None = None
    children_in_care: int | None = None
    loaded_at: datetime = Field(default_factory=utcnow)
    loaded_by: str = Field(sa_type=String(200))


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


class RollupPlaces(msgspec.Struct, frozen=True, kw_only=True):
    """Sums over the `authorities` giving a care type's row.

    A figure some of them leave out is None (a partial sum would pass for the region's);
    occupancy is recomputed from the sums.
    """

    care_type: str
    authorities: int
    households: int | None
    approved_places: int | None
    filled_places: int | None
    vacant_places: int | None
    unavailable_places: int | None
    occupancy: float | None


class RegionRollup(msgspec.Struct, frozen=True, kw_only=True):
    """The region's sums. `children_in_care` and `capacity_share_of_demand` cover the
    `authorities_in_share` authorities giving both in-house places and children in care."""

    rows: list[RollupPlaces]
    children_in_care: int | None
    capacity_share_of_demand: float | None
    authorities_in_share: int
    authorities_by_source: dict[FigureSource, int]


class RegionalCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """A region's capacity as at a date; `rollup` is None when only some authorities are
    shown (a manager sees their own authority only)."""

    region: str
    as_at: date
    authorities: list[AuthorityCapacity]
    rollup: RegionRollup | None


class LoadWarning(msgspec.Struct, frozen=True, kw_only=True):
    """Something loaded but worth a look (Ofsted notes exemptions, so not an error)."""

    row: int
    field: str | None
    message: str


class LoadReport(msgspec.Struct, frozen=True, kw_only=True):
    """What loading a file of returns did; `removed` counts rows a corrected return dropped."""

    rows: int
    returns: int
    created: int
    updated: int
    unchanged: int
    removed: int
    authorities_created: list[str]
    warnings: list[LoadWarning]


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
    """The authorities of a region (matched ignoring case), by name; NotFoundError if none."""
    query = (
        select(Authority)
        .where(func.lower(Authority.region) == region.strip().lower())
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
    register: capacity.RegisterCounts,
    children: list[capacity.CategoryCount],
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
        capacity_share_of_demand=capacity.share_of_demand(register.by_care_type, children_total),
        carers_ethnicity=capacity.suppress_small_groups(register.ethnic_groups),
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


def _with_register(session: Session, codes: list[str], as_at: date) -> set[str]:
    query = select(Household.authority_code).where(
        Household.authority_code.in_(codes),  # type: ignore[attr-defined]
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
        .where(r.authority_code.in_(codes), r.as_at <= as_at)  # type: ignore[attr-defined]
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
    registers = _with_register(session, codes, as_at)
    returns = _latest_returns(session, codes, as_at)
    # Every register's figures from one query, not a round of queries per authority.
    kept = [code for code in codes if code in registers]
    counts = capacity.register_counts(session, kept, as_at)
    children = capacity.children_in_care_by_authority(session, kept, as_at) if kept else {}
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


@cache
def _last_modified_query() -> Any:
    """The latest timestamp of each source of the figures, in one statement built once."""
    codes = select(Authority.code).where(func.lower(Authority.region) == bindparam("region"))
    latest = [
        select(func.max(Authority.created_at)).where(Authority.code.in_(codes)),  # type: ignore[attr-defined]
        select(func.max(Household.updated_at)).where(Household.authority_code.in_(codes)),  # type: ignore[attr-defined]
        select(func.max(Placement.created_at)).where(Placement.authority_code.in_(codes)),  # type: ignore[attr-defined]
        select(func.max(CapacityReturn.loaded_at)).where(
            CapacityReturn.authority_code.in_(codes)  # type: ignore[attr-defined]
        ),
        select(func.max(ChildrenInCareFigure.recorded_at)).where(
            ChildrenInCareFigure.authority_code.in_(codes)  # type: ignore[attr-defined]
        ),
        select(func.max(AuditEntry.at)).where(AuditEntry.authority_code.in_(codes)),  # type: ignore[union-attr]
    ]
    return select(*(query.scalar_subquery() for query in latest))


def last_modified(session: Session, region: str) -> datetime | None:
    """The latest recorded change to anything the region's figures are built from.

    Some changes leave no timestamp of their own (a placement's end date, a household's
    dated version): the audit entry each of them writes covers them, and the ETag, built
    from the content, never depends on this.
    """
    row = session.execute(_last_modified_query(), {"region": region.strip().lower()}).one()
    times = [t for t in row if t is not None]
    if not times:
        return None
    return max(t if t.tzinfo else t.replace(tzinfo=UTC) for t in times)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def to_csv_rows(view: RegionalCapacity) -> list[dict[str, str]]:
    """One row per authority and care type, in the shape `load_returns` reads back.

    Authorities without figures and the roll-up have no rows: every row is a return.
    """
    rows = []
    for authority in view.authorities:
        for place in authority.rows:
            whole = place.care_type == ALL
            rows.append(
                {
                    "authority_code": authority.code,
                    "authority_name": authority.name,
                    "region": authority.region,
                    "as_at": _cell(authority.as_at),
                    "care_type": place.care_type,
                    "households": _cell(place.households),
                    "approved_places": _cell(place.approved_places),
                    "filled_places": _cell(place.filled_places),
                    "vacant_places": _cell(place.vacant_places),
                    "unavailable_places": _cell(place.unavailable_places),
                    "occupancy": _cell(place.occupancy),
                    "children_in_care": _cell(authority.children_in_care if whole else None),
                    "capacity_share_of_demand": _cell(
                        authority.capacity_share_of_demand if whole else None
                    ),
                    "source": authority.source.value,
                }
            )
    return rows


def to_csv(view: RegionalCapacity) -> bytes:
    """The regional view as CSV (UTF-8)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(to_csv_rows(view))
    return buffer.getvalue().encode("utf-8")


class _ReturnRow(msgspec.Struct, frozen=True, kw_only=True):
    row: int
    authority_code: str
    as_at: date
    care_type: str
    figures: dict[str, int | None]


def _count(text: str) -> int:
    if not WHOLE_NUMBER.match(text):
        raise ValueError(f"{text!r} is not a whole number")
    value = int(text)
    if value > MAX_COUNT:
        raise ValueError(f"{value} is more than {MAX_COUNT}")
    return value


def _as_at(text: str, today: date) -> date:
    day = parse_date(text)
    if day > today or day < EARLIEST:
        raise ValueError(f"{day.isoformat()} is in the future or before {EARLIEST.isoformat()}")
    return day


def _care_type(text: str) -> str:
    code = text.lower().replace(" ", "_").replace("-", "_")
    if code not in CARE_TYPES:
        raise ValueError(f"{text!r} is not one of {', '.join(CARE_TYPES)}")
    return code


def _check_header(header: list[str], rows: list[SheetRow]) -> None:
    if not rows:
        raise ImportRejectedError([RowError(1, None, "the file has no data rows")])
    errors = [RowError(1, c, f"unknown column {c!r}") for c in header if c not in COLUMNS]
    errors += [
        RowError(1, c, f"required column {c!r} is missing") for c in REQUIRED if c not in header
    ]
    if errors:
        raise ImportRejectedError(errors)


def _parse_row(
    number: int, raw: dict[str, str], known: set[str], today: date
) -> tuple[_ReturnRow | None, list[RowError]]:
    cells = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
    errors = []
    if None in raw:
        errors.append(RowError(number, None, "the row has more cells than the header"))
    code = cells.get("authority_code", "").upper()
    if not code:
        errors.append(RowError(number, "authority_code", "authority_code is required"))
    elif code not in known:
        errors.append(
            RowError(
                number,
                "authority_code",
                f"{code!r} is not an English local authority this installation or the"
                " reference data knows",
            )
        )
    parsed: dict[str, Any] = {}
    for field, parse in (("as_at", lambda t: _as_at(t, today)), ("care_type", _care_type)):
        if not cells.get(field):
            errors.append(RowError(number, field, f"{field} is required"))
            continue
        try:
            parsed[field] = parse(cells[field])
        except ValueError as exc:
            errors.append(RowError(number, field, str(exc)))
    figures: dict[str, int | None] = {}
    for field in FIGURES:
        text = cells.get(field, "")
        try:
            figures[field] = _count(text) if text else None
        except ValueError as exc:
            errors.append(RowError(number, field, str(exc)))
    care_type = parsed.get("care_type")
    if care_type is not None and care_type != ALL:
        errors += [
            RowError(number, f, f"{f} is required on a care type's row")
            for f in ("households", "approved_places")
            if f in figures and figures[f] is None
        ]
        if figures.get("children_in_care") is not None:
            errors.append(
                RowError(number, "children_in_care", "children_in_care belongs on the 'all' row")
            )
    elif care_type == ALL and not errors and all(v is None for v in figures.values()):
        errors.append(RowError(number, None, "the row gives no figures"))
    if errors:
        return None, errors
    return (
        _ReturnRow(
            row=number,
            authority_code=code,
            as_at=parsed["as_at"],
            care_type=parsed["care_type"],
            figures=figures,
        ),
        [],
    )


def _warnings(row: _ReturnRow) -> list[LoadWarning]:
    approved = row.figures["approved_places"]
    parts = [row.figures[f] for f in ("filled_places", "vacant_places", "unavailable_places")]
    given = sum(p for p in parts if p is not None)
    if approved is not None and given > approved:
        return [
            LoadWarning(
                row=row.row,
                field="approved_places",
                message=f"filled, vacant and unavailable places add up to {given}, more than"
                f" the {approved} approved",
            )
        ]
    return []


def _parse(content: bytes, known: set[str], today: date) -> list[_ReturnRow]:
    header, table = read_sheet(content) if content.strip() else ([], [])
    _check_header(header, table)
    parsed: list[_ReturnRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, date, str], int] = {}
    for number, raw in ((row.line, row.cells) for row in table):
        row, row_errors = _parse_row(number, raw, known, today)
        if row is not None:
            key = (row.authority_code, row.as_at, row.care_type)
            if key in seen:
                row_errors.append(
                    RowError(number, "care_type", f"{row.care_type} repeats row {seen[key]}")
                )
            seen.setdefault(key, number)
            parsed.append(row)
        errors += row_errors
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ImportRejectedError(errors[:MAX_ERRORS])
    return parsed


def load_returns(session: Session, caller: Caller, content: bytes, today: date) -> LoadReport:
    """Load other councils' aggregate returns from CSV (or xlsx) in the exported shape.

    All or nothing: every row is checked first and ImportRejectedError names each row and
    field at fault. A return is an authority's rows on one date: loading it replaces the
    stored return of that authority and date (rows it no longer has are removed), so the
    same file twice changes nothing. Unknown authorities are added from the reference data.
    """
    reference = load_reference()
    stored = set(session.scalars(select(Authority.code)))
    known = stored | {code for code, item in reference.items() if ONS_CODE.match(code)}
    parsed = _parse(content, known, today)

    warnings = [w for row in parsed for w in _warnings(row)]
    added = sorted({r.authority_code for r in parsed} - stored)
    for code in added:
        item = reference[code]
        assert item.region is not None
        add_authority(session, NewAuthority(code=code, name=item.name, region=item.region))
        audit.record(session, caller, "create", "authority", code, authority_code=code)

    groups: dict[tuple[str, date], list[_ReturnRow]] = {}
    for row in parsed:
        groups.setdefault((row.authority_code, row.as_at), []).append(row)
    registers = {code for code, as_at in groups if code in _with_register(session, [code], as_at)}
    warnings += [
        LoadWarning(
            row=rows[0].row,
            field="authority_code",
            message=f"{code} keeps its own household register: the register, not this"
            " return, is shown",
        )
        for (code, _), rows in groups.items()
        if code in registers
    ]

    created = updated = unchanged = removed = 0
    changes: dict[str, dict[str, Any]] = {}
    now = utcnow()
    for (code, as_at), rows in groups.items():
        current = {
            r.care_type: r
            for r in session.scalars(
                select(CapacityReturn).where(
                    CapacityReturn.authority_code == code, CapacityReturn.as_at == as_at
                )
            )
        }
        change = changes.setdefault(
            code, {"as_at": [], "created": 0, "updated": 0, "unchanged": 0, "removed": 0}
        )
        change["as_at"].append(as_at.isoformat())
        kept: list[CapacityReturn] = []
        touched = False
        for row in rows:
            stored_row = current.pop(row.care_type, None)
            if stored_row is None:
                stored_row = CapacityReturn(
                    authority_code=code,
                    as_at=as_at,
                    care_type=row.care_type,
                    loaded_by=caller.actor,
                    **row.figures,
                )
                session.add(stored_row)
                change["created"] += 1
                touched = True
            elif any(getattr(stored_row, f) != v for f, v in row.figures.items()):
                for field, value in row.figures.items():
                    setattr(stored_row, field, value)
                change["updated"] += 1
                touched = True
            else:
                change["unchanged"] += 1
            kept.append(stored_row)
        for gone in current.values():
            session.delete(gone)
            change["removed"] += 1
            touched = True
        if touched:
            # The whole return was reloaded: its rows share the load's time and loader.
            for stored_row in kept:
                stored_row.loaded_at, stored_row.loaded_by = now, caller.actor
    for code, change in sorted(changes.items()):
        created += change["created"]
        updated += change["updated"]
        unchanged += change["unchanged"]
        removed += change["removed"]
        audit.record(
            session, caller, "load", "capacity_return", None, authority_code=code, detail=change
        )
    session.flush()
    return LoadReport(
        rows=len(parsed),
        returns=len(groups),
        created=created,
        updated=updated,
        unchanged=unchanged,
        removed=removed,
        authorities_created=added,
        warnings=sorted(warnings, key=lambda w: w.row),
    )
