"""The household register as callers give it and as the API shows it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from tracker.core.patterns import CHILD_REFERENCE, HOUSEHOLD_REFERENCE, NO_NUL
from tracker.core.records import RecordId
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    CarerAgeBand,
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
    Term,
    UnavailableReason,
)


class NewHousehold(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A newly approved household (from an approved enquiry when `enquiry_id` is given)."""

    reference: Reference
    care_type: HouseholdCareType
    approved_places: Places
    age_min: Age = 0
    age_max: Age = 17
    terms: list[Term] = msgspec.field(default_factory=list)
    approved_on: date | None = None
    enquiry_id: RecordId | None = None
    carers_ethnicity: Ethnicity | None = None
    carers: Carers | None = None
    carers_age_bands: AgeBands = msgspec.field(default_factory=list)
    carers_disabled: CarersDisabled | None = None
    last_review_on: date | None = None


class HouseholdChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A dated change: what is given applies from `effective_on` (default today)."""

    effective_on: date | None = None
    care_type: HouseholdCareType | msgspec.UnsetType = msgspec.UNSET
    status: HouseholdStatus | msgspec.UnsetType = msgspec.UNSET
    approved_places: Places | msgspec.UnsetType = msgspec.UNSET
    age_min: Age | msgspec.UnsetType = msgspec.UNSET
    age_max: Age | msgspec.UnsetType = msgspec.UNSET
    terms: list[Term] | msgspec.UnsetType = msgspec.UNSET
    deregistration_reason: DeregistrationReason | None = None
    note: Note | None = None


class HouseholdDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Undated details: change them in place."""

    reference: Reference | msgspec.UnsetType = msgspec.UNSET
    carers_ethnicity: Ethnicity | msgspec.UnsetType | None = msgspec.UNSET
    carers: Carers | msgspec.UnsetType | None = msgspec.UNSET
    carers_age_bands: AgeBands | msgspec.UnsetType = msgspec.UNSET
    carers_disabled: CarersDisabled | msgspec.UnsetType | None = msgspec.UNSET
    last_review_on: date | msgspec.UnsetType | None = msgspec.UNSET


class NewPlacement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Place a child in a household."""

    child_ref: ChildRef
    start_on: date
    end_on: date | None = None


class PlacementEnd(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """End a placement on a date."""

    end_on: date


class NewUnavailability(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Mark approved places not available from a date (until `end_on`, if known)."""

    places: Annotated[int, msgspec.Meta(ge=1, le=12)]
    reason: UnavailableReason
    start_on: date
    end_on: date | None = None


class VersionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One period of a household's history."""

    valid_from: date
    valid_to: date | None
    care_type: HouseholdCareType
    status: HouseholdStatus
    approved_places: int
    age_min: int
    age_max: int
    terms: list[Term]
    deregistration_reason: DeregistrationReason | None
    note: str | None
    actor: str


class PlacementRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A placement as the API shows it (to managers of the authority only)."""

    id: int
    household_id: int
    child_ref: str
    start_on: date
    end_on: date | None


class UnavailabilityRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An unavailable period."""

    id: int
    household_id: int
    places: int
    reason: UnavailableReason
    start_on: date
    end_on: date | None


class HouseholdRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A household as at a date: its details, its state then and its places then."""

    id: int
    authority_code: str
    reference: str
    enquiry_id: int | None
    approved_on: date
    carers_ethnicity: Ethnicity | None
    carers: int | None
    carers_age_bands: list[CarerAgeBand]
    carers_disabled: int | None
    last_review_on: date | None
    as_at: date
    care_type: HouseholdCareType
    status: HouseholdStatus
    approved_places: int
    filled_places: int
    unavailable_places: int
    vacant_places: int
    age_min: int
    age_max: int
    terms: list[Term]
    deregistration_reason: DeregistrationReason | None
    version: int


class HouseholdPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of households."""

    items: list[HouseholdRecord]
    total: int
    limit: int
    offset: int


Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=HOUSEHOLD_REFERENCE)]


# A pseudonymous child reference: letters, digits and dashes only, so no name fits in it.
ChildRef = Annotated[str, msgspec.Meta(min_length=3, max_length=40, pattern=CHILD_REFERENCE)]


Places = Annotated[int, msgspec.Meta(ge=0, le=12)]


Age = Annotated[int, msgspec.Meta(ge=0, le=25)]


# The approved foster carers of a household (a couple, or up to four adults approved together).
Carers = Annotated[int, msgspec.Meta(ge=1, le=4)]


CarersDisabled = Annotated[int, msgspec.Meta(ge=0, le=4)]


# Each carer's age band, one per carer (fewer when some are not known).
AgeBands = Annotated[list[CarerAgeBand], msgspec.Meta(max_length=4)]


Note = Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)]
