"""Timeliness norms of the funnel: working days and when each step falls due.

First contact is due within one working day of the enquiry (England and Wales bank
holidays and weekends are not working days); application to approval within 8 months.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache, lru_cache

import holidays
from dateutil.relativedelta import relativedelta

# Re-exported: callers have long found them here.
from tracker.core.clock import LONDON as LONDON
from tracker.core.clock import london_today as london_today

APPROVAL_WINDOW = relativedelta(months=8)


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


@lru_cache(maxsize=8192)
def next_working_day(day: date) -> date:
    """The first working day strictly after `day` (kept for the last 8,192 days asked: every
    enquiry shown or logged asks it of its receipt date)."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def first_contact_due(received_on: date) -> date:
    """The last day on which first contact is on time: the next working day."""
    return next_working_day(received_on)


def approval_due(application_on: date) -> date:
    """The last day on which approval is on time: 8 months after the application."""
    return application_on + APPROVAL_WINDOW


def first_contact_overdue_if_received_by(today: date) -> date:
    """The latest receipt date whose first contact is overdue on `today`.

    The due date never decreases as the receipt date increases, so "overdue" is
    "received on or before this date", which a query can filter on directly.
    """
    day = today - timedelta(days=1)
    while first_contact_due(day) >= today:
        day -= timedelta(days=1)
    return day


def approval_overdue_if_applied_by(today: date) -> date:
    """The latest application date whose approval is overdue on `today`."""
    day = today - APPROVAL_WINDOW + timedelta(days=4)
    while approval_due(day) >= today:
        day -= timedelta(days=1)
    return day
