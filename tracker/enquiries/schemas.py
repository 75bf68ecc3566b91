"""Enquiries as the recruitment team gives them (new, edits, stage moves, closures, reopening)
and as the API shows them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

import msgspec

from tracker.core.patterns import EMAIL, NO_NUL, ONE_LINE, PHONE, POSTCODE_DISTRICT
from tracker.enquiries.stages import (
    ClosureReason,
    Stage,
    Status,
    WithdrawalReason,
)
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest

EARLIEST_DATE = date(2000, 1, 1)


# A name, campaign and reference are one line each: no tab, line break or other control
# character, and not blank (only spaces or zero-width characters), as ONE_LINE says.
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=ONE_LINE)]


Email = Annotated[str, msgspec.Meta(max_length=254, pattern=EMAIL)]


Phone = Annotated[str, msgspec.Meta(max_length=30, pattern=PHONE)]


PostcodeDistrict = Annotated[str, msgspec.Meta(max_length=4, pattern=POSTCODE_DISTRICT)]


Campaign = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=ONE_LINE)]


ExternalRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ONE_LINE)]


Note = Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)]


class NewEnquiry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An enquiry as the recruitment team logs it."""

    received_on: date
    channel: Channel
    enquirer_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    postcode_district: PostcodeDistrict | None = None
    household_type: HouseholdType | None = None
    ethnicity: Ethnicity | None = None
    interests: list[Interest] = msgspec.field(default_factory=list)
    campaign: Campaign | None = None
    external_ref: ExternalRef | None = None
    note: Note | None = None


class EnquiryChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An edit: only the fields present change (null clears an optional field)."""

    received_on: date | msgspec.UnsetType = msgspec.UNSET
    channel: Channel | msgspec.UnsetType = msgspec.UNSET
    enquirer_name: Name | msgspec.UnsetType | None = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    postcode_district: PostcodeDistrict | msgspec.UnsetType | None = msgspec.UNSET
    household_type: HouseholdType | msgspec.UnsetType | None = msgspec.UNSET
    ethnicity: Ethnicity | msgspec.UnsetType | None = msgspec.UNSET
    interests: list[Interest] | msgspec.UnsetType = msgspec.UNSET
    campaign: Campaign | msgspec.UnsetType | None = msgspec.UNSET
    external_ref: ExternalRef | msgspec.UnsetType | None = msgspec.UNSET


class StageMove(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Move an enquiry forward to `stage`, reached on `on` (default today)."""

    stage: Stage
    on: date | None = None
    note: Note | None = None


class Closure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Close an open enquiry with a reason, on `on` (default today); an applicant's closure
    after application may say why they withdrew (Ofsted's `withdrawal_reason`, AW0-AW5)."""

    reason: ClosureReason
    withdrawal_reason: WithdrawalReason | None = None
    on: date | None = None
    note: Note | None = None


class Reopening(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Reopen a closed enquiry, or move an enquiry back to an earlier `stage`."""

    stage: Stage | None = None
    note: Note | None = None


class Overdue(enum.StrEnum):
    """Which timeliness norm an enquiry has missed."""

    FIRST_CONTACT = "first_contact"
    APPROVAL = "approval"


class EnquiryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An enquiry as the API shows it."""

    id: int
    authority_code: str
    external_ref: str | None
    received_on: date
    channel: Channel
    campaign: str | None
    enquirer_name: str | None
    email: str | None
    phone: str | None
    postcode_district: str | None
    household_type: HouseholdType | None
    ethnicity: Ethnicity | None
    interests: list[Interest]
    stage: Stage
    status: Status
    first_contact_on: date | None
    initial_visit_on: date | None
    application_on: date | None
    stage_1_on: date | None
    stage_2_on: date | None
    panel_on: date | None
    approved_on: date | None
    closed_on: date | None
    closure_reason: ClosureReason | None
    withdrawal_reason: WithdrawalReason | None
    first_contact_due: date
    approval_due: date | None
    overdue: list[Overdue]
    version: int
    erased: bool
    created_at: datetime
    updated_at: datetime


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of an enquiry's history."""

    id: int
    action: str
    stage: Stage | None
    on: date | None
    note: str | None
    actor: str
    recorded_at: datetime


class EnquiryFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of the enquiry list; every one optional."""

    stage: Stage | None = None
    status: Status | None = None
    channel: Channel | None = None
    campaign: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    overdue: Overdue | None = None
    search: str | None = None
    """Matched against name, email, reference and id, and by its digits against phone."""


class EnquiryPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of enquiries and the total that match."""

    items: list[EnquiryRecord]
    total: int
    limit: int
    offset: int
