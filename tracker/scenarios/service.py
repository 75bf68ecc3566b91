"""Sufficiency scenarios: projected children in care and the places each setting needs.

A scenario (Stoke-on-Trent 2023-28, section 7 and Appendix 1) starts from the children in
care at a March baseline, moves the total along a yearly path, splits it by a care mix, and
says per year how many foster and children's home places the council provides itself and how
many it must buy from the independent sector, what that costs at weekly unit costs, and what
growing in-house fostering saves against buying the same places from IFAs.

The arithmetic (`project`) is pure: no database. Its rounding rules, checked against the
Appendix 1 tables (see tests/test_scenarios.py for the cells where the seed disagrees):
- the total compounds from the unrounded baseline (1,109 x 0.98^5 = 1,002.4 -> 1,002; rounding
  every year would give 1,003) and each year's total is then rounded half up;
- foster care, children's homes and supported accommodation are their share of that rounded
  total (70% of 1,002 is 701 as the seed has; of 1,002.44 it would be 702), rounded half up
  with exact decimal arithmetic (0.10 x 1,065 = 106.5 -> 107 as the seed has; Python's
  round() gives 106);
- in-house foster children are the baseline grown by the rate, rounded (211 x 1.02^2 = 219.5
  -> 220); connected carers are held in proportion to the total (205 x 1,087 / 1,109 -> 201);
- what is left of foster care, and the children's homes beyond the in-house places, are
  required from the independent sector. When the council's own places exceed the need the
  independent figure is 0, the unused places are shown as spare and the row says so in a note;
  spare places are not costed and do not count towards the saving (which is negative when
  in-house fostering shrinks).
Annual costs are weekly unit cost x children x `weeks_per_year` (52 unless given), at the
prices given (2022/23 by default, not inflated). The children outside the mix (placed with
parents, for adoption, other residential...) are shown as `other` and not costed.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
from sqlalchemy import JSON, Column, ForeignKey, String, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from tracker.capacity.tables import ExternalProvisionFigure
from tracker.children import figures
from tracker.children.mapping import Mapping, load_mapping
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import ConflictError, InvalidValueError, NotFoundError, check_version
from tracker.core.records import delete_versioned, owned
from tracker.households.care_types import FOSTER_CATEGORIES, ExternalProvision, PlacementCategory

MAX_YEARS = 15
MAX_CHILDREN = 1_000_000
MAX_WEEKLY_COST = 1_000_000.0
MAX_COMPARED = 6
FIRST_BASELINE_YEAR, LAST_BASELINE_YEAR = 1990, 2100
ONE = Decimal(1)
HUNDRED = Decimal(100)
PENNY = Decimal("0.01")


class Scenario(SQLModel, table=True):
    """A saved scenario: its inputs as JSON; the outputs are recomputed when read."""

    __tablename__ = "scenario"

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    name: str = Field(sa_type=String(200))
    inputs: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(sa_type=String(120))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1


# --- inputs ---------------------------------------------------------------------------------


class ChangeKind(enum.StrEnum):
    """How one year's change in children in care is given."""

    PERCENT = "percent"
    ABSOLUTE = "absolute"


class YearChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One year's change: `percent` of the year before (-2.0 is 2% fewer) or `absolute`
    children (-75 is 75 fewer)."""

    kind: ChangeKind
    value: float


class CareMix(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Shares of all children in care (0..1 each, at most 1 together); the rest is `other`."""

    foster: float = 0.70
    childrens_homes: float = 0.10
    supported_accommodation: float = 0.05


class WeeklyCosts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Weekly unit cost per child in GBP; the defaults are Stoke's 2022/23 (seed Table 7)."""

    inhouse_foster: float = 414.12
    connected_foster: float = 344.92
    ifa_foster: float = 854.18
    inhouse_childrens_home: float = 5231.0
    private_childrens_home: float = 5045.64
    supported_accommodation: float = 1190.13


class ScenarioInputs(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a scenario assumes.

    The yearly path is `change_percent` (the same percentage every year) or `changes` (one step
    per year from the year after the baseline; when shorter than `years` its last step repeats,
    so [-75, -75, -2%] is "150 fewer over two years, then 2% fewer a year"). Exactly one of
    the two is given. `inhouse_home_additions` maps a row year ("2024") to the in-house
    children's home places opened then, counted from that year's row on (Appendix 1 counts the
    places of 2024/25 from its 2024 row).
    """

    name: str
    baseline_year: int
    baseline_children: int
    inhouse_foster_baseline: int
    connected_baseline: int
    years: int = 5
    change_percent: float | None = None
    changes: list[YearChange] | None = None
    care_mix: CareMix = msgspec.field(default_factory=CareMix)
    inhouse_growth_percent: float = 2.0
    inhouse_home_places_baseline: int = 0
    inhouse_home_additions: dict[str, int] = msgspec.field(default_factory=dict)
    weekly_costs: WeeklyCosts = msgspec.field(default_factory=WeeklyCosts)
    weeks_per_year: float = 52.0


# --- outputs --------------------------------------------------------------------------------


class Costs(msgspec.Struct, frozen=True, kw_only=True):
    """Cost in GBP per care type and in all (weekly or annual)."""

    inhouse_foster: float
    connected_foster: float
    ifa_foster: float
    inhouse_childrens_home: float
    private_childrens_home: float
    supported_accommodation: float
    total: float


class ProjectionRow(msgspec.Struct, frozen=True, kw_only=True):
    """One year of a projection (the first row is the baseline).

    `foster_independent` and `homes_independent` are the places required from the
    independent sector (never below 0; see the spare figures and the notes).
    """

    year: int
    total_children: int
    foster: int
    foster_inhouse: int
    foster_connected: int
    foster_independent: int
    foster_inhouse_spare: int
    childrens_homes: int
    homes_inhouse: int
    homes_independent: int
    homes_inhouse_spare: int
    supported_accommodation: int
    other: int
    weekly_cost: Costs
    annual_cost: Costs
    saving: float
    notes: list[str]


class Projection(msgspec.Struct, frozen=True, kw_only=True):
    """A scenario's years; `total_saving` adds up the yearly savings."""

    name: str
    baseline_year: int
    weeks_per_year: float
    rows: list[ProjectionRow]
    total_saving: float
    notes: list[str]


# --- validation -----------------------------------------------------------------------------


def _check_number(
    value: float, field: str, low: float, high: float, *, open_low: bool = False
) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValueError(f"{field} must be a finite number", field=field)
    if value < low or value > high or (open_low and value == low):
        above = "above" if open_low else "at least"
        raise InvalidValueError(
            f"{field} must be {above} {low:g} and at most {high:g}", field=field
        )


def _check_percent(value: float, field: str) -> None:
    _check_number(value, field, -100, 100, open_low=True)


def _check_path(inputs: ScenarioInputs) -> None:
    if inputs.change_percent is None and inputs.changes is None:
        raise InvalidValueError(
            "give change_percent (the same every year) or changes (a path)", field="change_percent"
        )
    if inputs.change_percent is not None and inputs.changes is not None:
        raise InvalidValueError("give change_percent or changes, not both", field="changes")
    if inputs.change_percent is not None:
        _check_percent(inputs.change_percent, "change_percent")
        return
    changes = inputs.changes or []
    if not 1 <= len(changes) <= inputs.years:
        raise InvalidValueError(
            f"changes needs 1 to {inputs.years} steps (one per year; the last repeats)",
            field="changes",
        )
    for i, step in enumerate(changes):
        if step.kind is ChangeKind.PERCENT:
            _check_percent(step.value, f"changes[{i}].value")
        else:
            _check_number(step.value, f"changes[{i}].value", -MAX_CHILDREN, MAX_CHILDREN)


def _check_additions(inputs: ScenarioInputs) -> None:
    last = inputs.baseline_year + inputs.years
    places = inputs.inhouse_home_places_baseline
    for key in sorted(inputs.inhouse_home_additions):
        field = f"inhouse_home_additions.{key}"
        if not (len(key) == 4 and key.isascii() and key.isdigit()):
            raise InvalidValueError(f"{key!r} is not a year such as '2024'", field=field)
        if not inputs.baseline_year < int(key) <= last:
            raise InvalidValueError(
                f"{key} is outside the projected years {inputs.baseline_year + 1}-{last}",
                field=field,
            )
        added = inputs.inhouse_home_additions[key]
        _check_number(added, field, -10_000, 10_000)
        places += added
        if places < 0:
            raise InvalidValueError(f"in-house home places fall below 0 in {key}", field=field)


def validate_inputs(inputs: ScenarioInputs) -> None:
    """Refuse inputs the arithmetic cannot use, naming the field (InvalidValueError)."""
    if not inputs.name.strip() or len(inputs.name) > 200 or not inputs.name.isprintable():
        raise InvalidValueError("name must have 1 to 200 printable characters", field="name")
    _check_number(inputs.baseline_year, "baseline_year", FIRST_BASELINE_YEAR, LAST_BASELINE_YEAR)
    _check_number(inputs.baseline_children, "baseline_children", 0, MAX_CHILDREN)
    _check_number(inputs.years, "years", 1, MAX_YEARS)
    _check_path(inputs)
    for share in ("foster", "childrens_homes", "supported_accommodation"):
        _check_number(getattr(inputs.care_mix, share), f"care_mix.{share}", 0, 1)
    mix = inputs.care_mix
    if _dec(mix.foster) + _dec(mix.childrens_homes) + _dec(mix.supported_accommodation) > ONE:
        raise InvalidValueError("the care mix shares add up to more than 1", field="care_mix")
    _check_number(inputs.inhouse_foster_baseline, "inhouse_foster_baseline", 0, MAX_CHILDREN)
    _check_percent(inputs.inhouse_growth_percent, "inhouse_growth_percent")
    _check_number(inputs.connected_baseline, "connected_baseline", 0, inputs.baseline_children)
    _check_number(inputs.inhouse_home_places_baseline, "inhouse_home_places_baseline", 0, 100_000)
    _check_additions(inputs)
    for care_type in WeeklyCosts.__struct_fields__:
        cost = getattr(inputs.weekly_costs, care_type)
        _check_number(cost, f"weekly_costs.{care_type}", 0, MAX_WEEKLY_COST)
    _check_number(inputs.weeks_per_year, "weeks_per_year", 1, 53)


# --- the arithmetic -------------------------------------------------------------------------


def _dec(value: float) -> Decimal:
    """The number as written (0.7 is 0.7, not the nearest binary fraction)."""
    return Decimal(str(value))


def _whole(value: Decimal) -> int:
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def _money(value: Decimal) -> float:
    return float(value.quantize(PENNY, rounding=ROUND_HALF_UP))


def yearly_steps(inputs: ScenarioInputs) -> list[YearChange]:
    """One change per projected year (the constant percentage, or the path with its last
    step repeated)."""
    if inputs.change_percent is not None:
        return [YearChange(kind=ChangeKind.PERCENT, value=inputs.change_percent)] * inputs.years
    changes = inputs.changes or []
    return [changes[min(i, len(changes) - 1)] for i in range(inputs.years)]


def _levels(inputs: ScenarioInputs) -> list[Decimal]:
    """Unrounded children in care per year, the baseline first."""
    level = Decimal(inputs.baseline_children)
    levels = [level]
    for i, step in enumerate(yearly_steps(inputs)):
        if step.kind is ChangeKind.PERCENT:
            level = level * (ONE + _dec(step.value) / HUNDRED)
        else:
            level = level + _dec(step.value)
        if level < 0:
            field = (
                "change_percent"
                if inputs.changes is None
                else f"changes[{min(i, len(inputs.changes) - 1)}].value"
            )
            year = inputs.baseline_year + i + 1
            raise InvalidValueError(
                f"the path takes children in care below 0 in {year}", field=field
            )
        levels.append(level)
    return levels


def _costs(counts: dict[str, int], weekly: WeeklyCosts, weeks: Decimal) -> tuple[Costs, Costs]:
    per_week = {k: _dec(getattr(weekly, k)) * n for k, n in counts.items()}
    week_total = sum(per_week.values(), Decimal(0))
    weekly_cost = Costs(**{k: _money(v) for k, v in per_week.items()}, total=_money(week_total))
    annual = Costs(
        **{k: _money(v * weeks) for k, v in per_week.items()}, total=_money(week_total * weeks)
    )
    return weekly_cost, annual


def _used(need: int, own: int) -> int:
    """Own places a need fills (no fewer than 0, no more than there are)."""
    return max(0, min(need, own))


def project(inputs: ScenarioInputs) -> Projection:
    """The scenario's years, the baseline first (InvalidValueError naming the field for inputs
    it cannot use)."""
    validate_inputs(inputs)
    mix = inputs.care_mix
    weekly = inputs.weekly_costs
    weeks = _dec(inputs.weeks_per_year)
    growth = ONE + _dec(inputs.inhouse_growth_percent) / HUNDRED
    margin = _dec(weekly.ifa_foster) - _dec(weekly.inhouse_foster)
    base_total = inputs.baseline_children
    rows: list[ProjectionRow] = []
    total_saving = Decimal(0)
    for k, level in enumerate(_levels(inputs)):
        year = inputs.baseline_year + k
        notes: list[str] = []
        total = _whole(level)
        foster = _whole(_dec(mix.foster) * total)
        homes = _whole(_dec(mix.childrens_homes) * total)
        supported = _whole(_dec(mix.supported_accommodation) * total)
        other = total - foster - homes - supported
        if other < 0:
            notes.append(f"the rounded shares exceed the total by {-other}; other is shown as 0")
            other = 0
        inhouse = _whole(inputs.inhouse_foster_baseline * growth**k)
        connected = (
            _whole(Decimal(inputs.connected_baseline) * total / base_total) if base_total else 0
        )
        inhouse_used = _used(foster - connected, inhouse)
        foster_spare = inhouse - inhouse_used
        foster_independent = max(0, foster - connected - inhouse)
        if connected > foster:
            notes.append(
                f"connected carers ({connected}) exceed the foster care need ({foster}); "
                "all are costed"
            )
        if foster_spare:
            notes.append(
                f"{foster_spare} in-house foster places beyond the need: none required from "
                "the independent sector; spare places are not costed"
            )
        home_places = inputs.inhouse_home_places_baseline + sum(
            n for y, n in inputs.inhouse_home_additions.items() if int(y) <= year
        )
        homes_used = _used(homes, home_places)
        homes_spare = home_places - homes_used
        if homes_spare:
            notes.append(
                f"{homes_spare} in-house children's home places beyond the need: none required "
                "from the independent sector; spare places are not costed"
            )
        weekly_cost, annual_cost = _costs(
            {
                "inhouse_foster": inhouse_used,
                "connected_foster": connected,
                "ifa_foster": foster_independent,
                "inhouse_childrens_home": homes_used,
                "private_childrens_home": homes - homes_used,
                "supported_accommodation": supported,
            },
            weekly,
            weeks,
        )
        # Against in-house fostering held at its baseline, with the extra children bought
        # from IFAs instead.
        held_used = _used(foster - connected, inputs.inhouse_foster_baseline)
        saving = Decimal(inhouse_used - held_used) * margin * weeks
        total_saving += saving
        rows.append(
            ProjectionRow(
                year=year,
                total_children=total,
                foster=foster,
                foster_inhouse=inhouse,
                foster_connected=connected,
                foster_independent=foster_independent,
                foster_inhouse_spare=foster_spare,
                childrens_homes=homes,
                homes_inhouse=home_places,
                homes_independent=homes - homes_used,
                homes_inhouse_spare=homes_spare,
                supported_accommodation=supported,
                other=other,
                weekly_cost=weekly_cost,
                annual_cost=annual_cost,
                saving=_money(saving),
                notes=notes,
            )
        )
    return Projection(
        name=inputs.name,
        baseline_year=inputs.baseline_year,
        weeks_per_year=inputs.weeks_per_year,
        rows=rows,
        total_saving=_money(total_saving),
        notes=[
            f"annual costs are weekly unit costs x {inputs.weeks_per_year:g} weeks, at the "
            "prices given (not inflated)",
            "children outside the care mix (other) are not costed",
            "saving: in-house foster growth against holding in-house at its baseline and "
            "buying the extra places from IFAs (IFA minus in-house weekly cost)",
        ],
    )


# --- the seed's worked example --------------------------------------------------------------


# --- tables for downloads -------------------------------------------------------------------

TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("year", "Year (March)"),
    ("total_children", "Children in care"),
    ("foster", "Foster care"),
    ("foster_inhouse", "Foster: in-house"),
    ("foster_connected", "Foster: connected persons"),
    ("foster_independent", "Foster: required from independent sector"),
    ("foster_inhouse_spare", "Foster: in-house places spare"),
    ("childrens_homes", "Children's homes"),
    ("homes_inhouse", "Children's homes: in-house places"),
    ("homes_independent", "Children's homes: required from independent sector"),
    ("homes_inhouse_spare", "Children's homes: in-house places spare"),
    ("supported_accommodation", "Supported accommodation"),
    ("other", "Other (not costed)"),
)
COST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("inhouse_foster", "In-house fostering"),
    ("connected_foster", "Connected carers"),
    ("ifa_foster", "IFA"),
    ("inhouse_childrens_home", "In-house children's homes"),
    ("private_childrens_home", "Private children's homes"),
    ("supported_accommodation", "Supported accommodation"),
    ("total", "Total"),
)


def projection_table(projection: Projection) -> tuple[list[str], list[list[Any]]]:
    """The projection as column headings and rows of plain values (for CSV or Excel)."""
    columns = [label for _, label in TABLE_COLUMNS]
    columns += [f"Annual cost GBP: {label}" for _, label in COST_COLUMNS]
    columns += ["Saving from in-house growth GBP", "Notes"]
    rows: list[list[Any]] = []
    for row in projection.rows:
        values: list[Any] = [getattr(row, key) for key, _ in TABLE_COLUMNS]
        values += [getattr(row.annual_cost, key) for key, _ in COST_COLUMNS]
        values += [row.saving, "; ".join(row.notes)]
        rows.append(values)
    return columns, rows


# --- comparison -----------------------------------------------------------------------------


class ComparedScenario(msgspec.Struct, frozen=True, kw_only=True):
    """A scenario in a comparison (id None for one not saved)."""

    id: int | None
    name: str
    version: int | None


class ComparedCell(msgspec.Struct, frozen=True, kw_only=True):
    """One scenario's headline figures in one year."""

    total_children: int
    foster_independent: int
    homes_independent: int
    annual_cost: float
    saving: float


class ComparedYear(msgspec.Struct, frozen=True, kw_only=True):
    """One year across the scenarios, in the order of `Comparison.scenarios` (None: the
    scenario does not reach that year)."""

    year: int
    scenarios: list[ComparedCell | None]


class Comparison(msgspec.Struct, frozen=True, kw_only=True):
    """Scenarios side by side, year by year."""

    scenarios: list[ComparedScenario]
    years: list[ComparedYear]
    total_saving: list[float]


def compare_projections(
    named: Sequence[tuple[ComparedScenario, Projection]],
) -> Comparison:
    """Projections side by side over every year any of them covers."""
    by_year = [{row.year: row for row in projection.rows} for _, projection in named]
    years = sorted({year for rows in by_year for year in rows})
    return Comparison(
        scenarios=[scenario for scenario, _ in named],
        years=[
            ComparedYear(
                year=year,
                scenarios=[
                    ComparedCell(
                        total_children=r.total_children,
                        foster_independent=r.foster_independent,
                        homes_independent=r.homes_independent,
                        annual_cost=r.annual_cost.total,
                        saving=r.saving,
                    )
                    if (r := rows.get(year)) is not None
                    else None
                    for rows in by_year
                ],
            )
            for year in years
        ],
        total_saving=[projection.total_saving for _, projection in named],
    )


# --- storage --------------------------------------------------------------------------------


class ScenarioRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A saved scenario with its projection, computed as it is read."""

    id: int
    authority_code: str
    name: str
    inputs: ScenarioInputs
    projection: Projection
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class ScenarioSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A saved scenario as listed."""

    id: int
    name: str
    baseline_year: int
    baseline_children: int
    years: int
    created_by: str
    updated_at: datetime
    version: int


def _inputs_of(row: Scenario) -> ScenarioInputs:
    return msgspec.convert(row.inputs, ScenarioInputs)


def _record(row: Scenario) -> ScenarioRecord:
    inputs = _inputs_of(row)
    assert row.id is not None
    return ScenarioRecord(
        id=row.id,
        authority_code=row.authority_code,
        name=row.name,
        inputs=inputs,
        projection=project(inputs),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def create_scenario(
    session: Session, caller: Caller, code: str, inputs: ScenarioInputs
) -> ScenarioRecord:
    """Save a scenario (its inputs are checked by projecting them first)."""
    get_authority(session, code)
    project(inputs)
    row = Scenario(
        authority_code=code,
        name=inputs.name.strip(),
        inputs=msgspec.to_builtins(inputs),
        created_by=caller.actor[:120],
    )
    session.add(row)
    session.flush()
    audit.record(session, caller, "create", "scenario", row.id, authority_code=code)
    session.flush()
    return _record(row)


def _load(session: Session, code: str, scenario_id: int, *, lock: bool = False) -> Scenario:
    return owned(
        session, Scenario, code, scenario_id, noun="scenario", field="scenario_id", lock=lock
    )


def update_scenario(
    session: Session,
    caller: Caller,
    code: str,
    scenario_id: int,
    inputs: ScenarioInputs,
    expected_version: int | None = None,
) -> ScenarioRecord:
    """Replace a scenario's inputs (refused when `expected_version` is not the stored one)."""
    row = _load(session, code, scenario_id, lock=True)
    check_version("scenario", row.id, row.version, expected_version)
    project(inputs)
    stored = row.inputs
    new = msgspec.to_builtins(inputs)
    changed = sorted(k for k in set(stored) | set(new) if stored.get(k) != new.get(k))
    if changed:
        row.inputs = new
        row.name = inputs.name.strip()
        audit.record_update(session, caller, "scenario", row, authority_code=code, changed=changed)
    return _record(row)


def delete_scenario(
    session: Session,
    caller: Caller,
    code: str,
    scenario_id: int,
    expected_version: int | None = None,
) -> None:
    """Delete a saved scenario."""
    row = _load(session, code, scenario_id, lock=True)
    delete_versioned(
        session,
        caller,
        row,
        entity="scenario",
        authority_code=code,
        expected_version=expected_version,
    )


def get_scenario(session: Session, code: str, scenario_id: int) -> ScenarioRecord:
    """A saved scenario with its projection."""
    return _record(_load(session, code, scenario_id))


def list_scenarios(
    session: Session, code: str, *, limit: int = 100, offset: int = 0
) -> list[ScenarioSummary]:
    """The authority's saved scenarios, oldest first."""
    get_authority(session, code)
    query = (
        select(Scenario)
        .where(Scenario.authority_code == code)
        .order_by(Scenario.id)
        .limit(limit)
        .offset(offset)
    )
    summaries = []
    for row in session.scalars(query):
        inputs = row.inputs
        assert row.id is not None
        summaries.append(
            ScenarioSummary(
                id=row.id,
                name=row.name,
                baseline_year=int(inputs["baseline_year"]),
                baseline_children=int(inputs["baseline_children"]),
                years=int(inputs.get("years", 5)),
                created_by=row.created_by,
                updated_at=row.updated_at,
                version=row.version,
            )
        )
    return summaries


def compare_scenarios(session: Session, code: str, ids: Sequence[int]) -> Comparison:
    """Two to six saved scenarios side by side, in the order of `ids`."""
    if len(set(ids)) != len(ids):
        raise InvalidValueError("ids names a scenario twice", field="ids")
    if not 2 <= len(ids) <= MAX_COMPARED:
        raise InvalidValueError(f"compare 2 to {MAX_COMPARED} scenarios", field="ids")
    rows = {
        row.id: row
        for row in session.scalars(
            select(Scenario).where(
                Scenario.authority_code == code,
                Scenario.id.in_(ids),  # type: ignore[union-attr]
            )
        )
    }
    missing = [i for i in ids if i not in rows]
    if missing:
        raise NotFoundError(f"no scenario {missing[0]} in authority {code}", field="ids")
    named = []
    for i in ids:
        row = rows[i]
        scenario = ComparedScenario(id=row.id, name=row.name, version=row.version)
        named.append((scenario, project(_inputs_of(row))))
    return compare_projections(named)


# --- starting from the authority's own figures ----------------------------------------------


class ActualsSuggestion(msgspec.Struct, frozen=True, kw_only=True):
    """Scenario inputs taken from the authority's children in care at a 31 March baseline,
    with where they came from and what had to be assumed."""

    inputs: ScenarioInputs
    source: str
    baseline_date: date
    notes: list[str]


def baseline_march(as_at: date) -> date:
    """The latest 31 March on or before the date."""
    march = date(as_at.year, 3, 31)
    return march if as_at >= march else date(as_at.year - 1, 3, 31)


def _inhouse_home_places(session: Session, code: str, as_at: date) -> tuple[int, str]:
    figure = session.scalars(
        select(ExternalProvisionFigure)
        .where(
            ExternalProvisionFigure.authority_code == code,
            ExternalProvisionFigure.provision == ExternalProvision.INHOUSE_CHILDRENS_HOME.value,
            ExternalProvisionFigure.as_at <= as_at,
        )
        .order_by(ExternalProvisionFigure.as_at.desc())  # type: ignore[attr-defined]
    ).first()
    if figure is None:
        return 0, (
            "no in-house children's home places are recorded (capacity, external provision "
            "inhouse_childrens_home): the baseline is 0 places; enter the places to change it"
        )
    return figure.places, f"in-house children's home places as recorded on {figure.as_at}"


def scenario_inputs_from_actuals(
    session: Session, code: str, as_at: date, mapping: Mapping | None = None
) -> ActualsSuggestion:
    """Inputs whose baseline is the authority's own children in care on the latest 31 March
    on or before `as_at` (SSDA903 episodes, else monthly aggregates): the total, the in-house
    and connected foster children and the care mix; growth, path and costs are the defaults.

    ConflictError (`no_children_in_care_figures`) when there are no figures to start from.
    """
    get_authority(session, code)
    if not FIRST_BASELINE_YEAR < as_at.year <= LAST_BASELINE_YEAR:
        raise InvalidValueError(
            f"as_at must fall in {FIRST_BASELINE_YEAR + 1} to {LAST_BASELINE_YEAR}", field="as_at"
        )
    baseline = baseline_march(as_at)
    report = figures.children_in_care(session, code, baseline, mapping or load_mapping())
    counts = report.figures.by_category
    total = report.figures.children
    if not total or all(v is None for v in counts.values()):
        raise ConflictError(
            f"there are no children in care figures by placement for {baseline}: import the "
            "SSDA903 return (or enter monthly children in care figures) first",
            rule="no_children_in_care_figures",
            field="as_at",
        )
    notes = [f"children in care on {baseline} from {report.source}"]
    missing = sorted(c for c, v in counts.items() if v is None)
    if missing:
        notes.append(f"not entered, counted as 0: {', '.join(missing)}")

    def count(*categories: PlacementCategory) -> int:
        return sum(counts.get(c.value) or 0 for c in categories)

    foster = count(*FOSTER_CATEGORIES)
    notes.append(
        "IFA and other councils' foster placements are the baseline's 'required from the "
        "independent sector'"
    )
    places, places_note = _inhouse_home_places(session, code, as_at)
    notes.append(places_note)

    def share(n: int) -> float:
        # Rounded down to 6 places: the shares never add up to more than 1, and a share of
        # the baseline total still rounds back to the count for any total below 500,000.
        exact = Decimal(n) / Decimal(total)
        return float(exact.quantize(Decimal("0.000001"), rounding=ROUND_DOWN))

    inputs = ScenarioInputs(
        name=f"From actuals at {baseline}",
        baseline_year=baseline.year,
        baseline_children=total,
        change_percent=0.0,
        care_mix=CareMix(
            foster=share(foster),
            childrens_homes=share(count(PlacementCategory.CHILDRENS_HOME)),
            supported_accommodation=share(count(PlacementCategory.SUPPORTED_ACCOMMODATION)),
        ),
        inhouse_foster_baseline=count(PlacementCategory.IN_HOUSE_FOSTER),
        connected_baseline=min(count(PlacementCategory.CONNECTED_FOSTER), total),
        inhouse_home_places_baseline=places,
    )
    return ActualsSuggestion(
        inputs=inputs, source=report.source, baseline_date=baseline, notes=notes
    )
