"""Scenarios as a manager gives them (inputs) and as the service shows them (the projection,
a comparison of several, a saved scenario)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import msgspec

FIRST_BASELINE_YEAR, LAST_BASELINE_YEAR = 1990, 2100
"""The years the arithmetic takes (and a stored scenario may hold)."""
EARLIEST_BASELINE_YEAR = 2015
"""The first baseline a new scenario may start from: 31 March 2015, the first year of the
DfE children looked after figures the service's published data are built from (CLA_Mar2015 in
dfe_CLA2019.csv); the last is the current year."""
MAX_YEARS = 15
MAX_CHILDREN = 1_000_000
MAX_WEEKLY_COST = 1_000_000.0


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


LABELS: dict[str, str] = {
    "name": "the name",
    "baseline_year": "the baseline year",
    "baseline_children": "children in care at the baseline",
    "inhouse_foster_baseline": "children with in-house foster carers at the baseline",
    "connected_baseline": "children with connected carers at the baseline",
    "years": "the years to project",
    "change_percent": "the change each year",
    "changes": "the path year by year",
    "inhouse_growth_percent": "the growth of in-house foster care each year",
    "inhouse_home_places_baseline": "in-house children's home places at the baseline",
    "inhouse_home_additions": "in-house children's home places opened",
    "weeks_per_year": "the weeks in a year",
    "care_mix": "the care mix",
    "care_mix.foster": "the share in foster care",
    "care_mix.childrens_homes": "the share in children's homes",
    "care_mix.supported_accommodation": "the share in supported accommodation",
    "weekly_costs.inhouse_foster": "the weekly cost of in-house foster care",
    "weekly_costs.connected_foster": "the weekly cost of connected carers",
    "weekly_costs.ifa_foster": "the weekly cost of independent fostering agency places",
    "weekly_costs.inhouse_childrens_home": "the weekly cost of an in-house children's home",
    "weekly_costs.private_childrens_home": "the weekly cost of a private children's home",
    "weekly_costs.supported_accommodation": "the weekly cost of supported accommodation",
}
"""Each input (its API field) in the words the form and the refusals use."""


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


class ActualsSuggestion(msgspec.Struct, frozen=True, kw_only=True):
    """Scenario inputs taken from the authority's children in care at a 31 March baseline,
    with where they came from and what had to be assumed."""

    inputs: ScenarioInputs
    source: str
    baseline_date: date
    notes: list[str]
