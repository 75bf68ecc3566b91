"""Hubs as given (new hub, members, agreements, an enquiry logged by the hub, handover
decisions) and as shown."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from tracker.core.patterns import AUTHORITY_CODE, NO_NUL
from tracker.enquiries.schemas import (
    Campaign,
    Email,
    EnquiryRecord,
    Name,
    Note,
    Phone,
    PostcodeDistrict,
)
from tracker.enquiries.stages import Stage
from tracker.enquiries.vocabulary import Channel
from tracker.hubs.rules import Clock, DeclineReason, HandoverStatus, RoutedBy

HubName = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=NO_NUL)]
AuthorityCode = Annotated[str, msgspec.Meta(pattern=AUTHORITY_CODE)]
DecisionDays = Annotated[int, msgspec.Meta(ge=1, le=60)]

# Fields of an enquiry a council may agree to share with the hub after handover.
SHAREABLE_FIELDS = (
    "channel",
    "campaign",
    "household_type",
    "postcode_district",
    "enquirer_name",
    "email",
    "phone",
    "closure_reason",
)
ShareableField = Annotated[str, msgspec.Meta(pattern="^(" + "|".join(SHAREABLE_FIELDS) + ")$")]


class NewHub(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A hub over some councils; it works enquiries up to `handover_stage`."""

    name: HubName
    members: list[AuthorityCode]
    handover_stage: Stage = Stage.APPLICATION
    decision_days: DecisionDays = 5


class Agreement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A council's data sharing agreement with its hub: what the hub still sees of an
    enquiry after the council accepted it."""

    shared_stages: list[Stage] = msgspec.field(default_factory=list)
    shared_fields: list[ShareableField] = msgspec.field(default_factory=list)
    agreed_on: date | None = None


class MemberRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A member council and its agreement."""

    authority_code: str
    name: str
    shared_stages: list[Stage]
    shared_fields: list[str]
    agreed_on: date | None


class HubRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A hub as shown."""

    id: int
    name: str
    handover_stage: Stage
    decision_days: int
    members: list[MemberRecord]


class DistrictChoice(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The hub's choice of council for a postcode district."""

    district: PostcodeDistrict
    authority_code: AuthorityCode


class HubNewEnquiry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An enquiry the hub logs: routed by `authority_code` (the enquirer's choice) when
    given, else by `postcode_district`."""

    received_on: date
    channel: Channel
    authority_code: AuthorityCode | None = None
    enquirer_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    postcode_district: PostcodeDistrict | None = None
    campaign: Campaign | None = None
    note: Note | None = None


class Reassignment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Move an enquiry the hub holds to another member council."""

    authority_code: AuthorityCode
    note: Note | None = None


class Decline(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A council's refusal of a handover, with its reason."""

    reason: DeclineReason
    note: Note | None = None


class HubEnquiryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An enquiry the hub holds (all of it), with its routing and handover."""

    enquiry: EnquiryRecord
    hub_id: int
    routed_by: RoutedBy
    handover: HandoverStatus
    offered_on: date | None
    decision_due: date | None
    decided_on: date | None
    decline_reason: DeclineReason | None
    overdue: list[Clock]
    other_councils: int
    """How many other councils of the hub the same person (email or phone) enquired with."""


class HandedOverView(msgspec.Struct, frozen=True, kw_only=True):
    """An accepted enquiry as the hub still sees it: the council's agreement decides which
    stage dates and fields appear (the rest are absent)."""

    enquiry_id: int
    authority_code: str
    received_on: date
    handover: HandoverStatus
    decided_on: date | None
    stages: dict[str, date]
    fields: dict[str, str | None]


class HandoverOffer(msgspec.Struct, frozen=True, kw_only=True):
    """An enquiry a council is offered (or has decided on), as its staff see it."""

    enquiry: EnquiryRecord
    handover: HandoverStatus
    offered_on: date | None
    decision_due: date | None
    decided_on: date | None
    decline_reason: DeclineReason | None
    overdue: bool
    with_other_councils: bool
    """The same person also enquired with another council of the hub (which is not said)."""


class TrayItem(msgspec.Struct, frozen=True, kw_only=True):
    """One missed service level."""

    enquiry_id: int
    authority_code: str
    clock: Clock
    due: date
    days_overdue: int
