"""The current instant, always timezone-aware UTC (what SQLModel's datetime columns hold),
and today's date in England (what the service's days and years count by)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def london_today() -> date:
    """Today's date in England, whatever the server's time zone."""
    return datetime.now(LONDON).date()
