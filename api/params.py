"""Parameter types and checks the routes share: ids and paging within what the database can
hold, reporting periods, and the dates figures may be asked for."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from litestar.exceptions import ClientException
from litestar.params import Parameter

from tracker.core.errors import InvalidValueError
from tracker.core.records import MAX_ID

MAX_PAGE = 500

RecordId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="a record id")]
MaybeRecordId = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="a record id")]
"""An optional record id (`RecordId | None` would drop RecordId's range: -1 and 10**20
passed, the second a 500 in the database)."""
Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="page size (at most 500)")]
Offset = Annotated[int, Parameter(ge=0, le=MAX_ID, description="rows to skip")]
MAX_SPAN_DAYS = 366 * 25
# Dates in a query fall in this range: far enough either way for any record the service
# holds, and near enough that the figures' month and year arithmetic never leaves the
# calendar (year 1 or 9999 would).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def _outside_range(day: date | None, field: str) -> str | None:
    if day is None or EARLIEST_DATE <= day <= LATEST_DATE:
        return None
    return f"{field} {day.isoformat()} is outside {EARLIEST_DATE.isoformat()} to {LATEST_DATE}"


def date_range(start: date | None, end: date | None, *, names: tuple[str, str]) -> None:
    """Check query dates bounding a range, either of them optional: each within
    `EARLIEST_DATE` to `LATEST_DATE` and the start not after the end; 400 naming the
    parameter otherwise."""
    for field, day in zip(names, (start, end), strict=True):
        if problem := _outside_range(day, field):
            raise ClientException(problem, extra={"field": field})
    if start is not None and end is not None and start > end:
        raise ClientException(f"{names[0]} is after {names[1]}", extra={"field": names[0]})


def period(
    date_from: date | None,
    date_to: date | None,
    today: date,
    *,
    default_days: int = 364,
    max_months: int | None = None,
) -> tuple[date, date]:
    """A reporting period from optional query dates: by default the `default_days` to
    `date_to` (today when not given); at most 25 years, or `max_months` calendar months."""
    date_range(date_from, date_to, names=("date_from", "date_to"))
    date_to = date_to or today
    date_from = date_from or (date_to - timedelta(days=default_days))
    if date_from > date_to:
        raise ClientException("date_from is after date_to", extra={"field": "date_from"})
    if (date_to - date_from).days > MAX_SPAN_DAYS:
        raise ClientException("the period is longer than 25 years", extra={"field": "date_from"})
    months = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month
    if max_months is not None and months >= max_months:
        raise ClientException(f"at most {max_months} months at once", extra={"field": "date_from"})
    return date_from, date_to


SearchTerm = Annotated[
    str | None,
    Parameter(
        max_length=100,
        pattern=r"^[^\x00]*$",
        description="name, email, reference or id; a phone number by its digits",
    ),
]


def as_at_day(as_at: date | None, today: date) -> date:
    """The date figures are asked for: today by default; outside `EARLIEST_DATE` to
    `LATEST_DATE` 400, and a day still to come 422 (the figures would be today's under a
    later date), naming `as_at`."""
    if as_at is None:
        return today
    if problem := _outside_range(as_at, "as_at"):
        raise ClientException(problem, extra={"field": "as_at"})
    if as_at > today:
        raise InvalidValueError(
            f"as_at {as_at.isoformat()} is in the future: figures are known up to today "
            f"({today.isoformat()})",
            field="as_at",
        )
    return as_at
