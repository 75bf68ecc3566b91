"""Parameter types the routes share: ids and paging within what the database can hold."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from litestar.exceptions import ClientException
from litestar.params import Parameter

MAX_ID = 2**31 - 1
MAX_PAGE = 500

RecordId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="a record id")]
Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="page size (at most 500)")]
Offset = Annotated[int, Parameter(ge=0, le=MAX_ID, description="rows to skip")]
MAX_SPAN_DAYS = 366 * 25


def period(date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """A reporting period from optional query dates: default the 12 months to `date_to`."""
    date_to = date_to or today
    date_from = date_from or (date_to - timedelta(days=364))
    if date_from > date_to:
        raise ClientException("date_from is after date_to", extra={"field": "date_from"})
    if (date_to - date_from).days > MAX_SPAN_DAYS:
        raise ClientException("the period is longer than 25 years", extra={"field": "date_from"})
    return date_from, date_to


SearchTerm = Annotated[
    str | None,
    Parameter(
        max_length=100,
        pattern=r"^[^\x00]*$",
        description="name, email, reference or id; a phone number by its digits",
    ),
]
