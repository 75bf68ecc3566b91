"""Month arithmetic for monthly series: months are dates on the first day of the month."""

from __future__ import annotations

from datetime import date, timedelta


def month_start(day: date) -> date:
    """The first day of the month that holds `day`."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month` (before it if negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    """The last day of the month that holds `month`."""
    return add_months(month_start(month), 1) - timedelta(days=1)


def months_between(first: date, second: date) -> int:
    """How many months `second` lies after `first` (negative if before)."""
    return (second.year - first.year) * 12 + second.month - first.month


def year_ending_march(day: date) -> int:
    """The calendar year in which the reporting year (1 April to 31 March) holding `day` ends."""
    return day.year + 1 if day.month >= 4 else day.year


def year_start(day: date) -> date:
    """1 April of the reporting year (ending 31 March) that holds `day`."""
    return date(year_ending_march(day) - 1, 4, 1)


def year_label(day: date) -> str:
    """The reporting year that holds `day`, written "2025-26"."""
    first = year_start(day).year
    return f"{first}-{(first + 1) % 100:02d}"


def month_label(month: date) -> str:
    """A month as YYYY-MM, the way notes and CSV files write it."""
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(text: str) -> date:
    """A YYYY-MM month (as in CSV files); ValueError for anything else."""
    year, sep, month = text.strip().partition("-")
    if not (sep and len(year) == 4 and len(month) == 2 and year.isdigit() and month.isdigit()):
        raise ValueError(f"{text!r} is not a month written YYYY-MM")
    number = int(month)
    if not 1 <= number <= 12:
        raise ValueError(f"{text!r} is not a month written YYYY-MM")
    return date(int(year), number, 1)


def month_labels(first: date, last: date) -> list[str]:
    """Every month from `first`'s to `last`'s as YYYY-MM (empty when `last` is earlier)."""
    start = month_start(first)
    return [month_label(add_months(start, i)) for i in range(months_between(start, last) + 1)]


def month_ends(first: date, last: date) -> list[date]:
    """The last day of every month from `first`'s month to `last`'s month."""
    ends = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        following = date(year + (month == 12), month % 12 + 1, 1)
        ends.append(following - timedelta(days=1))
        year, month = following.year, following.month
    return ends


MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def month_name(month: date) -> str:
    """A month in words, as "March 2026"."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def months_from(first: date, last: date) -> list[date]:
    """The first day of every month from `first`'s to `last`'s."""
    start = month_start(first)
    return [add_months(start, i) for i in range(months_between(start, last) + 1)]
