"""Care types, approval terms and placement categories: the vocabulary of capacity.

One home for the codes the household register, the capacity figures and the children-in-care
counts share, so adding a care type or a term is one edit here.
"""

from __future__ import annotations

import enum


class HouseholdCareType(enum.StrEnum):
    """Kinds of fostering household the council approves itself."""

    IN_HOUSE = "in_house"
    CONNECTED = "connected"
    SUPPORTED_LODGINGS = "supported_lodgings"
    STAYING_PUT = "staying_put"


# Table 6 of the Stoke strategy counts council-approved households without connected carers.
MAINSTREAM_CARE_TYPES: frozenset[HouseholdCareType] = frozenset({HouseholdCareType.IN_HOUSE})


class Term(enum.StrEnum):
    """Terms of approval of a household."""

    SHORT_TERM = "short_term"
    LONG_TERM = "long_term"
    SHORT_BREAKS = "short_breaks"
    PARENT_AND_CHILD = "parent_and_child"
    EMERGENCY = "emergency"
    THERAPEUTIC = "therapeutic"
    SIBLING_GROUP = "sibling_group"


class CarerAgeBand(enum.StrEnum):
    """An approved foster carer's age band (18-19 as Ofsted added it in 2023-24, then five
    years each): recorded per carer of a household, reported only as counts."""

    AGE_18_19 = "18_19"
    AGE_20_24 = "20_24"
    AGE_25_29 = "25_29"
    AGE_30_34 = "30_34"
    AGE_35_39 = "35_39"
    AGE_40_44 = "40_44"
    AGE_45_49 = "45_49"
    AGE_50_54 = "50_54"
    AGE_55_59 = "55_59"
    AGE_60_64 = "60_64"
    AGE_65_69 = "65_69"
    AGE_70_PLUS = "70_plus"


class HouseholdStatus(enum.StrEnum):
    """Where a household stands on a date."""

    ACTIVE = "active"
    ON_HOLD = "on_hold"
    DEREGISTERED = "deregistered"


class DeregistrationReason(enum.StrEnum):
    """Why a household stopped fostering for the council."""

    RESIGNED = "resigned"
    RETIRED = "retired"
    MOVED_AGENCY = "moved_agency"
    STANDARDS_CONCERN = "standards_concern"
    OTHER = "other"


class UnavailableReason(enum.StrEnum):
    """Why an approved place cannot take a child for a while."""

    CARER_CIRCUMSTANCES = "carer_circumstances"
    MATCHED_PENDING = "matched_pending"
    UNDER_INVESTIGATION = "under_investigation"
    HOUSEHOLD_ON_HOLD = "household_on_hold"
    OTHER = "other"


class ExternalProvision(enum.StrEnum):
    """Provision the council buys or counts in its area."""

    IFA_FOSTERING = "ifa_fostering"
    PRIVATE_CHILDRENS_HOME = "private_childrens_home"
    INHOUSE_CHILDRENS_HOME = "inhouse_childrens_home"
    SUPPORTED_ACCOMMODATION = "supported_accommodation"


class PlacementCategory(enum.StrEnum):
    """Where children in care live; the SSDA903 mapping fills these from PLACE and provider."""

    IN_HOUSE_FOSTER = "in_house_foster"
    CONNECTED_FOSTER = "connected_foster"
    IFA_FOSTER = "ifa_foster"
    OTHER_COUNCIL_FOSTER = "other_council_foster"
    CHILDRENS_HOME = "childrens_home"
    OTHER_RESIDENTIAL = "other_residential"
    SUPPORTED_ACCOMMODATION = "supported_accommodation"
    PLACED_WITH_PARENTS = "placed_with_parents"
    PLACED_FOR_ADOPTION = "placed_for_adoption"
    OTHER = "other"


FOSTER_CATEGORIES: frozenset[PlacementCategory] = frozenset(
    {
        PlacementCategory.IN_HOUSE_FOSTER,
        PlacementCategory.CONNECTED_FOSTER,
        PlacementCategory.IFA_FOSTER,
        PlacementCategory.OTHER_COUNCIL_FOSTER,
    }
)

# DfE age bands; a household approved for ages a..b offers a vacancy to every band it overlaps.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("under_1", 0, 0),
    ("1_4", 1, 4),
    ("5_9", 5, 9),
    ("10_15", 10, 15),
    ("16_17", 16, 17),
)
