"""A hub's vocabulary and service levels: how an enquiry was routed, where its handover
stands, why a council declined it, and the working-day clocks on both sides.

Clocks count England and Wales working days (weekends and bank holidays are not): first
contact is due one working day after the enquiry, the initial visit five working days
after it, and the council's decision on a handover the hub's `decision_days` after the
offer.
"""

from __future__ import annotations

import enum
from datetime import date

from tracker.enquiries.timeliness import is_working_day, next_working_day

FIRST_CONTACT_DAYS = 1
INITIAL_VISIT_DAYS = 5
NATIONAL_APPLICATION_RATE = 0.12
"""Enquiries reaching application nationally (DfE's fostering recruitment programme)."""


class RoutedBy(enum.StrEnum):
    """How an enquiry's council was chosen."""

    POSTCODE = "postcode"  # the shipped lookup names one member council for the district
    HUB_DISTRICT = "hub_district"  # the hub's own choice for the district
    ENQUIRER = "enquirer"  # the enquirer named the council
    REASSIGNED = "reassigned"  # the hub moved it to another council


class HandoverStatus(enum.StrEnum):
    """Where an enquiry's handover stands."""

    WITH_HUB = "with_hub"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class DeclineReason(enum.StrEnum):
    """Why a council declined a handover."""

    OUT_OF_AREA = "out_of_area"
    ALREADY_KNOWN = "already_known"
    NOT_READY = "not_ready"
    NO_CAPACITY = "no_capacity"
    OTHER = "other"


class Clock(enum.StrEnum):
    """A service level that can be missed."""

    FIRST_CONTACT = "first_contact"
    INITIAL_VISIT = "initial_visit"
    DECISION = "decision"


def add_working_days(day: date, days: int) -> date:
    """The working day `days` working days after `day` (0: `day` itself if it is one)."""
    if days == 0:
        return day if is_working_day(day) else next_working_day(day)
    for _ in range(days):
        day = next_working_day(day)
    return day


def first_contact_due(received_on: date) -> date:
    """The last day first contact is on time."""
    return add_working_days(received_on, FIRST_CONTACT_DAYS)


def initial_visit_due(received_on: date) -> date:
    """The last day the initial visit is on time."""
    return add_working_days(received_on, INITIAL_VISIT_DAYS)


def decision_due(offered_on: date, decision_days: int) -> date:
    """The last day the council's decision on a handover is on time."""
    return add_working_days(offered_on, decision_days)
