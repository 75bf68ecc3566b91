"""The stored scenario: its inputs as given, by authority."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow


class Scenario(SQLModel, table=True):
    """A saved scenario: its inputs as JSON; the outputs are recomputed when read."""

    __tablename__ = "scenario"

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    name: str = Field(sa_type=String(200))
    inputs: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(sa_type=String(120))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1
