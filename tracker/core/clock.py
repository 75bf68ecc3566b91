"""The current instant, always timezone-aware UTC (what SQLModel's datetime columns hold)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
