"""Coded values an enquiry carries: channels, household types, interests, ethnicity.

Ethnicity follows the ONS 2021 census categories for England and Wales.
"""

from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    """How an enquiry reached the service."""

    WEB_FORM = "web_form"
    PHONE = "phone"
    EMAIL = "email"
    EVENT = "event"
    REFERRAL = "referral"
    OTHER = "other"


class HouseholdType(enum.StrEnum):
    """Who would foster."""

    SINGLE = "single"
    COUPLE = "couple"
    OTHER = "other"


class Interest(enum.StrEnum):
    """Kinds of care an enquirer is interested in."""

    MAINSTREAM_SHORT_TERM = "mainstream_short_term"
    MAINSTREAM_LONG_TERM = "mainstream_long_term"
    SHORT_BREAKS = "short_breaks"
    PARENT_AND_CHILD = "parent_and_child"
    EMERGENCY = "emergency"
    SIBLING_GROUPS = "sibling_groups"
    THERAPEUTIC = "therapeutic"
    SUPPORTED_LODGINGS = "supported_lodgings"
    UNDECIDED = "undecided"


class Ethnicity(enum.StrEnum):
    """ONS 2021 ethnic group (England and Wales), plus not stated."""

    WHITE_BRITISH = "white_british"
    WHITE_IRISH = "white_irish"
    WHITE_GYPSY_OR_IRISH_TRAVELLER = "white_gypsy_or_irish_traveller"
    WHITE_ROMA = "white_roma"
    WHITE_OTHER = "white_other"
    MIXED_WHITE_AND_BLACK_CARIBBEAN = "mixed_white_and_black_caribbean"
    MIXED_WHITE_AND_BLACK_AFRICAN = "mixed_white_and_black_african"
    MIXED_WHITE_AND_ASIAN = "mixed_white_and_asian"
    MIXED_OTHER = "mixed_other"
    ASIAN_INDIAN = "asian_indian"
    ASIAN_PAKISTANI = "asian_pakistani"
    ASIAN_BANGLADESHI = "asian_bangladeshi"
    ASIAN_CHINESE = "asian_chinese"
    ASIAN_OTHER = "asian_other"
    BLACK_AFRICAN = "black_african"
    BLACK_CARIBBEAN = "black_caribbean"
    BLACK_OTHER = "black_other"
    OTHER_ARAB = "other_arab"
    OTHER_ANY = "other_any"
    NOT_STATED = "not_stated"

    @property
    def group(self) -> str:
        """The ONS high-level group (white, mixed, asian, black, other, not_stated)."""
        return self.value.split("_", 1)[0] if self is not Ethnicity.NOT_STATED else "not_stated"


ETHNICITY_WORDS: dict[Ethnicity, str] = {
    Ethnicity.WHITE_BRITISH: "English, Welsh, Scottish, Northern Irish or British",
    Ethnicity.WHITE_IRISH: "Irish",
    Ethnicity.WHITE_GYPSY_OR_IRISH_TRAVELLER: "Gypsy or Irish Traveller",
    Ethnicity.WHITE_ROMA: "Roma",
    Ethnicity.WHITE_OTHER: "Any other White background",
    Ethnicity.MIXED_WHITE_AND_BLACK_CARIBBEAN: "White and Black Caribbean",
    Ethnicity.MIXED_WHITE_AND_BLACK_AFRICAN: "White and Black African",
    Ethnicity.MIXED_WHITE_AND_ASIAN: "White and Asian",
    Ethnicity.MIXED_OTHER: "Any other Mixed or Multiple ethnic background",
    Ethnicity.ASIAN_INDIAN: "Indian",
    Ethnicity.ASIAN_PAKISTANI: "Pakistani",
    Ethnicity.ASIAN_BANGLADESHI: "Bangladeshi",
    Ethnicity.ASIAN_CHINESE: "Chinese",
    Ethnicity.ASIAN_OTHER: "Any other Asian background",
    Ethnicity.BLACK_AFRICAN: "African",
    Ethnicity.BLACK_CARIBBEAN: "Caribbean",
    Ethnicity.BLACK_OTHER: "Any other Black, Black British, or Caribbean background",
    Ethnicity.OTHER_ARAB: "Arab",
    Ethnicity.OTHER_ANY: "Any other ethnic group",
    Ethnicity.NOT_STATED: "Not stated",
}
"""Each ethnic group's name within its high-level group, in the ONS 2021 census wording
(GOV.UK's list of ethnic groups)."""
