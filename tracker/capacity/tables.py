"""Stored capacity figures: children in care and external provision entered by hand as at
dates, and other councils' capacity returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from sqlalchemy import (
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow

Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class ChildrenInCareFigure(SQLModel, table=True):
    """Children in care in one placement category on a date (entered, or from SSDA903)."""

    __tablename__ = "children_in_care_figure"
    __table_args__ = (
        UniqueConstraint("authority_code", "as_at", "category", name="uq_cic_figure"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    as_at: date
    category: str = Field(sa_type=String(30))
    children: int
    source: str = Field(default="entered", sa_type=String(20))
    recorded_at: datetime = Field(default_factory=utcnow)


class ExternalProvisionFigure(SQLModel, table=True):
    """Provision in the area the council buys or counts, and how much of it it uses."""

    __tablename__ = "external_provision_figure"
    __table_args__ = (
        UniqueConstraint("authority_code", "as_at", "provision", name="uq_external_figure"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    as_at: date
    provision: str = Field(sa_type=String(30))
    households: int | None = None
    places: int
    used_by_authority: int
    recorded_at: datetime = Field(default_factory=utcnow)


class CapacityReturn(SQLModel, table=True):
    """One care type's row (or the "all" row) of an authority's aggregate return on a date."""

    __tablename__ = "capacity_return"
    __table_args__ = (
        UniqueConstraint("authority_code", "as_at", "care_type", name="uq_capacity_return"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    as_at: date
    care_type: str = Field(sa_type=String(20))
    # Households and approved places are given on every care-type row; the "all" row may
    # carry only children in care (Table 6 counts households without connected carers).
    households: int | None = None
    approved_places: int | None = None
    filled_places: int | None = None
    vacant_places: int | None = None
    unavailable_places: int | None = None
    children_in_care: int | None = None
    loaded_at: datetime = Field(default_factory=utcnow)
    loaded_by: str = Field(sa_type=String(200))
