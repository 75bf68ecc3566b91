"""Children in care on a date by time since their period of care began, and the share placed
within the authority (where the episodes carry PL_LA, the placing authority of the
placement). Short breaks are left out, as from every headline figure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec
from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session, aliased

from forecast.months import year_ending_march
from tracker.children import codes
from tracker.children.history import years_before
from tracker.children.in_care import entered_in_care, headline_in_care_on
from tracker.children.returns import loaded_years, return_for
from tracker.children.sources import AGGREGATES, source_of
from tracker.children.tables import CareEpisode
from tracker.core.ratios import ratio

# Length of time in the current period of care: (name, whole years at least).
TIME_BANDS: tuple[tuple[str, int], ...] = (
    ("under_1_year", 0),
    ("1_to_2_years", 1),
    ("2_to_5_years", 2),
    ("5_years_and_over", 5),
)
NO_LOCATION = (
    "the Episodes files hold no PL_LA (placing authority of the placement) for the children "
    "in care, so the share placed within the authority cannot be worked out"
)
NOT_IN_AGGREGATES = (
    "time in care and placement location need SSDA903 episodes; monthly aggregates hold neither"
)


class TimeInCareReport(msgspec.Struct, frozen=True, kw_only=True):
    """Children in care on a date by time since their period of care began, and how many
    are placed within the authority (where the episodes say where they are placed)."""

    authority_code: str
    source: str
    as_at: date
    children: int | None
    by_time_in_care: dict[str, int | None]
    median_days: float | None
    # Children whose RNE S episode is before the imported years: counted from their
    # earliest imported episode, so their time in care is a lower bound.
    start_not_imported: int | None
    placement_location_known: int | None
    placed_within_authority: int | None
    share_within_authority: float | None
    note: str | None = None
    # Readers outside the council: that small counts are withheld (tracker.children.withheld).
    withheld: str | None = None


def _median(days_and_counts: Sequence[tuple[int, int]]) -> float | None:
    """The median of values given with their multiplicities."""
    total = sum(n for _, n in days_and_counts)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for days, count in sorted(days_and_counts):
        while len(found) < 2 and wanted[len(found)] < seen + count:
            found.append(days)
        seen += count
    return (found[0] + found[1]) / 2


def time_in_care(session: Session, authority_code: str, as_at: date) -> TimeInCareReport:
    """Children in care on a date by time since the start of their period of care (median
    in days), and the share placed within the authority when PL_LA is in the episodes."""
    source = source_of(session, authority_code)
    if source == AGGREGATES:
        return TimeInCareReport(
            authority_code=authority_code,
            source=source,
            as_at=as_at,
            children=entered_in_care(session, authority_code, as_at).children,
            by_time_in_care=dict.fromkeys(name for name, _ in TIME_BANDS),
            median_days=None,
            start_not_imported=None,
            placement_location_known=None,
            placed_within_authority=None,
            share_within_authority=None,
            note=NOT_IN_AGGREGATES,
        )
    e = CareEpisode
    year = return_for(loaded_years(session, authority_code), year_ending_march(as_at))
    in_care = [
        e.authority_code == authority_code,
        e.source_year == year,
        *headline_in_care_on(as_at),
    ]
    started = session.execute(
        select(e.period_start, func.count()).where(*in_care).group_by(e.period_start)
    ).all()
    children = sum(int(n) for _, n in started)
    days = [((as_at - start).days, int(n)) for start, n in started if start is not None]
    by_time: dict[str, int | None] = {}
    for index, (name, years) in enumerate(TIME_BANDS):
        since = years_before(as_at, years)
        upper = TIME_BANDS[index + 1][1] if index + 1 < len(TIME_BANDS) else None
        until = years_before(as_at, upper) if upper is not None else None
        by_time[name] = sum(
            n
            for start, n in started
            if start is not None and start <= since and (until is None or start > until)
        )
    known, within = session.execute(
        select(
            func.count(e.pl_la),
            func.sum(case((e.pl_la == authority_code, 1), else_=0)),
        ).where(*in_care)
    ).one()
    known, within = int(known), int(within or 0)
    first = aliased(CareEpisode)
    begun = exists().where(
        first.authority_code == e.authority_code,
        first.child_key == e.child_key,
        first.decom == e.period_start,
        first.rne == codes.STARTED,
    )
    not_imported = int(session.scalar(select(func.count()).where(*in_care, ~begun)) or 0)
    notes = []
    if not_imported:
        notes.append(
            f"{not_imported} children started their period of care before the imported "
            "years: their time is counted from their earliest imported episode"
        )
    if children and not known:
        notes.append(NO_LOCATION)
    elif known < children:
        notes.append(f"PL_LA is known for {known} of the {children} children in care")
    return TimeInCareReport(
        authority_code=authority_code,
        source=source,
        as_at=as_at,
        children=children,
        by_time_in_care=by_time,
        median_days=_median(days),
        start_not_imported=not_imported,
        placement_location_known=known,
        placed_within_authority=within if known else None,
        share_within_authority=ratio(within, known) if known else None,
        note="; ".join(notes) or None,
    )
