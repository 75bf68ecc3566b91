"""A hub's stored state: the hub, its member councils (each with its data sharing agreement),
the postcode districts it has routed itself, and each enquiry it logged with its handover."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow

DEFAULT_HANDOVER_STAGE = "application"
DEFAULT_DECISION_DAYS = 5


class Hub(SQLModel, table=True):
    """A named group of authorities (a region or any cluster) with one front door."""

    __tablename__ = "hub"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(120), unique=True)
    handover_stage: str = Field(default=DEFAULT_HANDOVER_STAGE, sa_type=String(20))
    decision_days: int = DEFAULT_DECISION_DAYS
    created_at: datetime = Field(default_factory=utcnow)


class HubMember(SQLModel, table=True):
    """A council of a hub and its data sharing agreement: which stages and fields of an
    enquiry the hub may still see once the council has accepted it."""

    __tablename__ = "hub_member"

    hub_id: int = Field(primary_key=True, sa_column_args=[ForeignKey("hub.id", ondelete="CASCADE")])
    authority_code: str = Field(
        primary_key=True, sa_type=String(9), sa_column_args=[ForeignKey("authority.code")]
    )
    shared_stages: list[str] = Field(default_factory=list, sa_type=JSON)
    shared_fields: list[str] = Field(default_factory=list, sa_type=JSON)
    agreed_on: date | None = None


class HubDistrict(SQLModel, table=True):
    """The council a hub routes a postcode district to (its choice where a district spans
    councils, or where the shipped lookup has none)."""

    __tablename__ = "hub_district"

    hub_id: int = Field(primary_key=True, sa_column_args=[ForeignKey("hub.id", ondelete="CASCADE")])
    district: str = Field(primary_key=True, sa_type=String(4))
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])


class HubEnquiry(SQLModel, table=True):
    """An enquiry the hub logged: how it was routed, and its handover to the council.

    `email_key` and `phone_key` are keyed hashes (HMAC) of the normalised contact details,
    so the same person with several councils is found without reading their records.
    """

    __tablename__ = "hub_enquiry"
    __table_args__ = (
        Index("ix_hub_enquiry_hub_status", "hub_id", "status"),
        Index("ix_hub_enquiry_email_key", "email_key"),
        Index("ix_hub_enquiry_phone_key", "phone_key"),
    )

    enquiry_id: int = Field(
        primary_key=True, sa_column_args=[ForeignKey("enquiry.id", ondelete="CASCADE")]
    )
    hub_id: int = Field(sa_column_args=[ForeignKey("hub.id", ondelete="CASCADE")])
    routed_by: str = Field(sa_type=String(20))
    status: str = Field(sa_type=String(20))
    offered_on: date | None = None
    decision_due: date | None = None
    decided_on: date | None = None
    # The latest council's reason for declining (kept after a reassignment or a new offer).
    decline_reason: str | None = Field(default=None, sa_type=String(30))
    email_key: str | None = Field(default=None, sa_type=String(64))
    phone_key: str | None = Field(default=None, sa_type=String(64))


class HubTarget(SQLModel, table=True):
    """The hub's target for a year starting 1 April: enquiries, applications or approvals of
    all its councils together."""

    __tablename__ = "hub_target"

    hub_id: int = Field(primary_key=True, sa_column_args=[ForeignKey("hub.id", ondelete="CASCADE")])
    metric: str = Field(primary_key=True, sa_type=String(20))
    year: int = Field(primary_key=True)
    target: int
