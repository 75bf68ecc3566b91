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
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from tracker.core.errors import InvalidValueError
from tracker.scenarios.schemas import (
    EARLIEST_BASELINE_YEAR,
    FIRST_BASELINE_YEAR,
    LABELS,
    LAST_BASELINE_YEAR,
    MAX_CHILDREN,
    MAX_WEEKLY_COST,
    MAX_YEARS,
    ChangeKind,
    ComparedCell,
    ComparedScenario,
    ComparedYear,
    Comparison,
    Costs,
    Projection,
    ProjectionRow,
    ScenarioInputs,
    WeeklyCosts,
    YearChange,
)

ONE = Decimal(1)
HUNDRED = Decimal(100)
PENNY = Decimal("0.01")


class Unit(enum.Enum):
    """How a bound is written in a refusal."""

    COUNT = "count"
    YEAR = "year"
    PERCENT = "percent"
    SHARE = "share"  # a 0..1 share, written as a percentage
    MONEY = "money"


def _written(value: float, unit: Unit) -> str:
    """A bound as the form's reader writes it: 1,000,000, 2015, -100%, 100% (a share), £0."""
    if unit is Unit.YEAR:
        return f"{value:g}"
    if unit is Unit.PERCENT:
        return f"{value:g}%"
    if unit is Unit.SHARE:
        return f"{float(_dec(value) * HUNDRED):g}%"
    if unit is Unit.MONEY:
        return f"£{value:,.0f}" if float(value).is_integer() else f"£{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def _label(field: str) -> str:
    """The field in words, the first letter a capital (a path's step: its year of the path)."""
    if field.startswith("changes["):
        words = f"the change in year {int(field[8:].split(']')[0]) + 1} of the path"
    elif field.startswith("inhouse_home_additions."):
        words = f"the in-house children's home places opened in {field.split('.', 1)[1]}"
    else:
        words = LABELS.get(field, field)
    return words[:1].upper() + words[1:]


def _check_number(
    value: float,
    field: str,
    low: float,
    high: float,
    *,
    open_low: bool = False,
    unit: Unit = Unit.COUNT,
) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValueError(f"{_label(field)} must be a number", field=field)
    if value < low or value > high or (open_low and value == low):
        low_text, high_text = _written(low, unit), _written(high, unit)
        bounds = (
            f"more than {low_text} and at most {high_text}"
            if open_low
            else f"between {low_text} and {high_text}"
        )
        raise InvalidValueError(f"{_label(field)} must be {bounds}", field=field)


def _check_percent(value: float, field: str) -> None:
    _check_number(value, field, -100, 100, open_low=True, unit=Unit.PERCENT)


def _check_path(inputs: ScenarioInputs) -> None:
    if inputs.change_percent is None and inputs.changes is None:
        raise InvalidValueError(
            "Enter the change each year (change_percent) or a path year by year (changes)",
            field="change_percent",
        )
    if inputs.change_percent is not None and inputs.changes is not None:
        raise InvalidValueError(
            "Give the change each year (change_percent) or a path (changes), not both",
            field="changes",
        )
    if inputs.change_percent is not None:
        _check_percent(inputs.change_percent, "change_percent")
        return
    changes = inputs.changes or []
    if not 1 <= len(changes) <= inputs.years:
        raise InvalidValueError(
            f"The path needs 1 to {inputs.years} steps, one a year (the last repeats)",
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
            raise InvalidValueError(
                f"In-house children's home places opened: {key!r} is not a year like 2024",
                field=field,
            )
        if not inputs.baseline_year < int(key) <= last:
            raise InvalidValueError(
                f"In-house children's home places opened in {key}: the year must be one of "
                f"the projected years, {inputs.baseline_year + 1} to {last}",
                field=field,
            )
        added = inputs.inhouse_home_additions[key]
        _check_number(added, field, -10_000, 10_000)
        places += added
        if places < 0:
            raise InvalidValueError(
                f"In-house children's home places fall below 0 in {key}", field=field
            )


def validate_inputs(inputs: ScenarioInputs) -> None:
    """Refuse inputs the arithmetic cannot use, naming the field (InvalidValueError) in the
    words of the scenario form."""
    if not inputs.name.strip() or len(inputs.name) > 200 or not inputs.name.isprintable():
        raise InvalidValueError(
            "The name must have 1 to 200 characters, none of them control characters",
            field="name",
        )
    _check_number(
        inputs.baseline_year,
        "baseline_year",
        FIRST_BASELINE_YEAR,
        LAST_BASELINE_YEAR,
        unit=Unit.YEAR,
    )
    _check_number(inputs.baseline_children, "baseline_children", 0, MAX_CHILDREN)
    _check_number(inputs.years, "years", 1, MAX_YEARS)
    _check_path(inputs)
    for share in ("foster", "childrens_homes", "supported_accommodation"):
        _check_number(getattr(inputs.care_mix, share), f"care_mix.{share}", 0, 1, unit=Unit.SHARE)
    mix = inputs.care_mix
    shares = _dec(mix.foster) + _dec(mix.childrens_homes) + _dec(mix.supported_accommodation)
    if shares > ONE:
        raise InvalidValueError(
            f"The care mix shares add up to {float(shares * HUNDRED):g}%; they must add up to "
            "at most 100%",
            field="care_mix",
        )
    _check_number(inputs.inhouse_foster_baseline, "inhouse_foster_baseline", 0, MAX_CHILDREN)
    _check_percent(inputs.inhouse_growth_percent, "inhouse_growth_percent")
    _check_number(inputs.connected_baseline, "connected_baseline", 0, MAX_CHILDREN)
    if inputs.connected_baseline > inputs.baseline_children:
        raise InvalidValueError(
            f"Children with connected carers at the baseline ({inputs.connected_baseline:,}) "
            f"cannot be more than the children in care at the baseline "
            f"({inputs.baseline_children:,})",
            field="connected_baseline",
        )
    _check_number(inputs.inhouse_home_places_baseline, "inhouse_home_places_baseline", 0, 100_000)
    _check_additions(inputs)
    for care_type in WeeklyCosts.__struct_fields__:
        cost = getattr(inputs.weekly_costs, care_type)
        _check_number(cost, f"weekly_costs.{care_type}", 0, MAX_WEEKLY_COST, unit=Unit.MONEY)
    _check_number(inputs.weeks_per_year, "weeks_per_year", 1, 53)


def validate_new_inputs(inputs: ScenarioInputs, today: date) -> None:
    """Refuse inputs a new or changed scenario may not hold, beyond what the arithmetic needs
    (`validate_inputs`): a baseline year from `EARLIEST_BASELINE_YEAR` to this year, and
    children with in-house and connected carers who together are no more than the children
    in care (rule `baseline_parts`, on the part that tips the sum over)."""
    # The baseline year first: the years of a path and of places opened are counted from it.
    _check_number(
        inputs.baseline_year, "baseline_year", EARLIEST_BASELINE_YEAR, today.year, unit=Unit.YEAR
    )
    validate_inputs(inputs)
    total, inhouse = inputs.baseline_children, inputs.inhouse_foster_baseline
    if inhouse > total:
        raise InvalidValueError(
            f"Children with in-house foster carers at the baseline ({inhouse:,}) cannot be "
            f"more than the children in care at the baseline ({total:,})",
            field="inhouse_foster_baseline",
        )
    if inhouse + inputs.connected_baseline > total:
        raise InvalidValueError(
            f"Children with in-house foster carers ({inhouse:,}) and with connected carers "
            f"({inputs.connected_baseline:,}) at the baseline come to "
            f"{inhouse + inputs.connected_baseline:,}, more than the {total:,} children in "
            "care at the baseline",
            rule="baseline_parts",
            field="connected_baseline",
        )


def _dec(value: float) -> Decimal:
    """The number as written (0.7 is 0.7, not the nearest binary fraction)."""
    return Decimal(str(value))


def _whole(value: Decimal) -> int:
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def _shares_of(total: int, shares: tuple[float, ...], notes: list[str]) -> list[int]:
    """Each share of the total, rounded half up; when the rounded parts come to more than the
    total (shares adding up to nearly 1), the excess is taken off the parts rounded up most,
    so the parts never exceed the total."""
    exact = [_dec(share) * total for share in shares]
    parts = [_whole(value) for value in exact]
    excess = sum(parts) - total
    if excess > 0:
        notes.append(f"the rounded shares came to {excess} more than the total; taken off")
        rounded_up = sorted(range(len(parts)), key=lambda i: exact[i] - parts[i])
        for i in rounded_up[:excess]:
            parts[i] -= 1
    return parts


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
                f"The path takes children in care below 0 in March {year}", field=field
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
        foster, homes, supported = _shares_of(
            total, (mix.foster, mix.childrens_homes, mix.supported_accommodation), notes
        )
        other = total - foster - homes - supported
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
