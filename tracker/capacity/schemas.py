"""Capacity figures as the API shows them, and the dated figures councils enter by hand."""

from __future__ import annotations

from datetime import date

import msgspec

from tracker.capacity.tables import Count
from tracker.households.care_types import (
    ExternalProvision,
    PlacementCategory,
    Term,
)


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
    children: int | None  # None: withheld from readers outside the council
    as_at: date
    source: str


class ProvisionCounts(msgspec.Struct, frozen=True, kw_only=True):
    """External provision on the latest date on or before the date asked."""

    provision: ExternalProvision
    as_at: date
    households: int | None
    places: int
    used_by_authority: int | None  # None: withheld from readers outside the council
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
    # Readers outside the council: that small counts are withheld (`withhold_small_children`).
    withheld: str | None = None


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


class RegisterCounts(msgspec.Struct, frozen=True, kw_only=True):
    """What an authority's household register gives as at a date: households and places in
    total and per care type, by term, vacancies by age band, and households per carers'
    ethnic group (unsuppressed: pass them through `suppress_small_groups` before showing)."""

    total: PlaceCounts
    by_care_type: list[PlaceCounts]
    by_term: list[TermCounts]
    vacancies_by_age_band: list[AgeBandVacancies]
    ethnic_groups: dict[str, int]
