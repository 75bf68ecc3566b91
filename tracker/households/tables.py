"""The stored register: households, their dated versions (care type, status, places, ages,
terms), placements and periods of unavailable places."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow
from tracker.core.errors import (
    ConflictError,
)
from tracker.households.care_types import (
    Term,
)


class CapacityExceededError(ConflictError):
    """More children placed than the household is approved for."""

    rule = "capacity_exceeded"


def encode_terms(terms: list[Term] | list[str]) -> str:
    """Terms stored as '|a|b|' so SQL can test membership with LIKE on every backend."""
    values = sorted({Term(t).value for t in terms})
    return "|" + "|".join(values) + "|" if values else "|"


def decode_terms(stored: str) -> list[Term]:
    """The terms of a stored '|a|b|' string."""
    return [Term(t) for t in stored.strip("|").split("|") if t]


class Household(SQLModel, table=True):
    """A fostering household's identity and undated details."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("authority_code", "reference", name="uq_household_reference"),
        UniqueConstraint("enquiry_id", name="uq_household_enquiry"),
        # The capacity views' change marker (tracker.capacity.regional.last_modified).
        Index("ix_household_changed", "authority_code", "updated_at"),
        Index("ix_household_updated_at", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    reference: str = Field(sa_type=String(40))
    enquiry_id: int | None = Field(default=None, sa_column_args=[ForeignKey("enquiry.id")])
    approved_on: date
    carers_ethnicity: str | None = Field(default=None, sa_type=String(40))
    # The approved foster carers of the household, each one's age band, and how many of them
    # are disabled (None: not known); the Ofsted return counts them, never lists them.
    carers: int | None = None
    carers_age_bands: list[str] | None = Field(default=None, sa_type=JSON)
    carers_disabled: int | None = None
    last_review_on: date | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class HouseholdVersion(SQLModel, table=True):
    """What a household was from `valid_from` until `valid_to` (exclusive; open if null)."""

    __tablename__ = "household_version"
    __table_args__ = (
        Index("ix_household_version_asat", "authority_code", "valid_from", "valid_to"),
        Index("ix_household_version_household", "household_id", "valid_from"),
        Index("ix_household_version_ends", "authority_code", "valid_to"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(sa_column_args=[ForeignKey("household.id", ondelete="CASCADE")])
    authority_code: str = Field(sa_type=String(9))
    valid_from: date
    valid_to: date | None = None
    care_type: str = Field(sa_type=String(20))
    status: str = Field(sa_type=String(20))
    approved_places: int
    age_min: int
    age_max: int
    terms: str = Field(default="|", sa_type=String(200))
    deregistration_reason: str | None = Field(default=None, sa_type=String(30))
    note: str | None = Field(default=None, sa_type=String(2000))
    actor: str = Field(sa_type=String(200))


class Placement(SQLModel, table=True):
    """A child (pseudonymous reference only) living in a household from start to end."""

    __tablename__ = "placement"
    __table_args__ = (
        Index("ix_placement_household", "household_id", "start_on"),
        Index("ix_placement_child", "authority_code", "child_ref"),
        Index("ix_placement_asat", "authority_code", "start_on", "end_on"),
        Index("ix_placement_ends", "authority_code", "end_on"),
        Index("ix_placement_recorded", "authority_code", "created_at"),
        Index("ix_placement_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(sa_column_args=[ForeignKey("household.id", ondelete="CASCADE")])
    authority_code: str = Field(sa_type=String(9))
    child_ref: str = Field(sa_type=String(40))
    start_on: date
    end_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Unavailability(SQLModel, table=True):
    """Approved places of a household that cannot take a child for a while, and why."""

    __tablename__ = "place_unavailability"
    __table_args__ = (
        Index("ix_unavailability_asat", "authority_code", "start_on", "end_on"),
        Index("ix_unavailability_ends", "authority_code", "end_on"),
        Index("ix_unavailability_household", "household_id", "start_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(sa_column_args=[ForeignKey("household.id", ondelete="CASCADE")])
    authority_code: str = Field(sa_type=String(9))
    places: int
    reason: str = Field(sa_type=String(30))
    start_on: date
    end_on: date | None = None
