"""Prepared monthly figures: per council and month, kept up to date by each write (see
`tracker.core.monthly_upkeep`), so reads cost the months asked for, not the rows stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow


class PreparedAuthority(SQLModel, table=True):
    """A council whose prepared monthly figures are built (reads use them from then on)."""

    __tablename__ = "prepared_authority"

    authority_code: str = Field(primary_key=True, max_length=9, foreign_key="authority.code")
    built_at: datetime = Field(default_factory=utcnow)


class FunnelMonth(SQLModel, table=True):
    """The cohort of enquiries received in a month, by channel and campaign: how many reached
    each stage, were closed, were approved."""

    __tablename__ = "funnel_month"
    __table_args__ = (Index("ix_funnel_month_authority_month", "authority_code", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(max_length=9)
    month: str = Field(max_length=7)
    channel: str = Field(max_length=20)
    campaign: str | None = Field(default=None, max_length=80)
    reached_enquiry: int = 0
    reached_first_contact: int = 0
    reached_initial_visit: int = 0
    reached_application: int = 0
    reached_stage_1: int = 0
    reached_stage_2: int = 0
    reached_panel: int = 0
    reached_approved: int = 0
    closed: int = 0
    approved: int = 0


class FunnelMonthClosure(SQLModel, table=True):
    """Closures of a month's cohort by the stage closed at and the reason."""

    __tablename__ = "funnel_month_closure"

    authority_code: str = Field(primary_key=True, max_length=9)
    month: str = Field(primary_key=True, max_length=7)
    stage: str = Field(primary_key=True, max_length=20)
    reason: str = Field(primary_key=True, max_length=40)
    count: int = 0


class FunnelMonthHistogram(SQLModel, table=True):
    """A month's cohort's days between the stages of one duration pair, packed: the distinct
    day counts in order and how many enquiries took each (one row a month and pair, so a
    year's durations are 120 rows, not the 1,500 a row a day count took)."""

    __tablename__ = "funnel_month_histogram"

    authority_code: str = Field(primary_key=True, max_length=9)
    month: str = Field(primary_key=True, max_length=7)
    pair: int = Field(primary_key=True)
    days: list[int] = Field(sa_column=Column(JSON, nullable=False))
    counts: list[int] = Field(sa_column=Column(JSON, nullable=False))


class FunnelMonthEvents(SQLModel, table=True):
    """Enquiries received, applications, approvals and closures that happened in a month."""

    __tablename__ = "funnel_month_events"

    authority_code: str = Field(primary_key=True, max_length=9)
    month: str = Field(primary_key=True, max_length=7)
    enquiries: int = 0
    applications: int = 0
    approvals: int = 0
    closures: int = 0


class RegisterMonth(SQLModel, table=True):
    """The register at a month's end for one care type: households and places."""

    __tablename__ = "register_month"

    authority_code: str = Field(primary_key=True, max_length=9)
    month: str = Field(primary_key=True, max_length=7)
    care_type: str = Field(primary_key=True, max_length=40)
    households: int = 0
    approved: int = 0
    filled: int = 0
    unavailable: int = 0
    vacant: int = 0
    # The month-end's term and age band sums of the care type
    # (`tracker.capacity.register.TERM_AND_BAND_SUMS`), from which with the month's changes
    # the register as at any day of the next month is worked out.
    terms_and_bands: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON))


class RegisterMonthFlow(SQLModel, table=True):
    """Households approved and deregistered (by reason) in a month."""

    __tablename__ = "register_month_flow"

    authority_code: str = Field(primary_key=True, max_length=9)
    month: str = Field(primary_key=True, max_length=7)
    approvals: int = 0
    deregistrations: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
