"""Series from the children's records (SSDA903 episodes, else the monthly figures a council
entered): starters by age band, ceased, children in care by placement category, and the
Staying Put leavers and stayers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.children import figures
from tracker.children.tables import CareEpisode, MonthlyAggregate
from tracker.households.care_types import AGE_BANDS, PlacementCategory
from tracker.series.keys import TOTAL, SeriesKey
from tracker.series.source import Ask, Family, Frame, Keep, floats
from tracker.series.window import Span

AGGREGATE_OF: dict[SeriesKey, figures.Metric] = {
    SeriesKey("starters"): figures.Metric.STARTERS,
    SeriesKey("ceased"): figures.Metric.CEASED,
    SeriesKey("children_in_care"): figures.Metric.CHILDREN_IN_CARE,
    SeriesKey("staying_put", "leavers"): figures.Metric.STAYING_PUT_ELIGIBLE,
    SeriesKey("staying_put", "stayed"): figures.Metric.STAYING_PUT_STAYED,
}
"""The monthly aggregate a council enters for each series (parts: the same, broken down)."""


def _first_month(session: Session, code: str) -> date | None:
    """April of the first collection year imported, else the first month entered by hand."""
    first_year = session.scalar(
        select(func.min(CareEpisode.source_year)).where(CareEpisode.authority_code == code)
    )
    if first_year is not None:
        return date(first_year - 1, 4, 1)
    return session.scalar(
        select(func.min(MonthlyAggregate.month)).where(MonthlyAggregate.authority_code == code)
    )


def _last_month(session: Session, code: str) -> date | None:
    """March of the latest collection year imported, else the latest month entered by hand.
    Later months are unknown, not zero."""
    last_year = session.scalar(
        select(func.max(CareEpisode.source_year)).where(CareEpisode.authority_code == code)
    )
    if last_year is not None:
        return date(last_year, 3, 1)
    last = session.scalar(
        select(func.max(MonthlyAggregate.month)).where(MonthlyAggregate.authority_code == code)
    )
    return last.replace(day=1) if last is not None else None


def _aggregate_of(key: SeriesKey) -> tuple[figures.Metric, str | None]:
    """The aggregate metric a series is entered as, and its breakdown (None: any)."""
    total = SeriesKey(key.metric, key.breakdown if key.metric == "staying_put" else TOTAL)
    breakdown = None if key.breakdown == total.breakdown else key.breakdown.split("=", 1)[-1]
    return AGGREGATE_OF[total], breakdown


class ChildrenSource:
    """The SSDA903 figures month by month."""

    name = "ssda903"

    def span(self, session: Session, code: str) -> Span:
        """The collection years imported (or the months entered by hand)."""
        return Span(_first_month(session, code), _last_month(session, code))

    def available(self, session: Session, code: str, key: SeriesKey) -> bool:
        """Whether episodes are imported, or the series' own figures were entered."""
        if figures.has_episodes(session, code):
            return True
        metric, breakdown = _aggregate_of(key)
        a = MonthlyAggregate
        query = select(a.id).where(a.authority_code == code, a.metric == metric.value)
        if breakdown is not None:
            query = query.where(a.breakdown == breakdown)
        return session.scalar(query.limit(1)) is not None

    def frame(self, ask: Ask) -> Frame:
        """The wanted figures month by month, with their parts."""
        session, code, mapping = ask.session, ask.code, ask.mapping
        first, last = ask.months[0], ask.last_day
        values: dict[SeriesKey, list[float | None]] = {}
        label = figures.AGGREGATES
        if "starters" in ask.metrics:
            report = figures.starters(session, code, first, last, mapping)
            label = report.source
            values[SeriesKey("starters")] = floats([m.starters for m in report.months])
            for band, _, _ in AGE_BANDS:
                values[SeriesKey("starters", f"age={band}")] = floats(
                    [m.by_age_band.get(band) for m in report.months]
                )
        if "ceased" in ask.metrics:
            ceased = figures.ceased(session, code, first, last)
            label = ceased.source
            values[SeriesKey("ceased")] = floats([m.ceased for m in ceased.months])
        if "children_in_care" in ask.metrics:
            in_care = figures.children_in_care_monthly(session, code, first, last, mapping)
            label = in_care.source
            values[SeriesKey("children_in_care")] = floats([m.children for m in in_care.months])
            for category in PlacementCategory:
                values[SeriesKey("children_in_care", f"category={category.value}")] = floats(
                    [m.by_category.get(category.value) for m in in_care.months]
                )
        if "staying_put" in ask.metrics:
            staying = figures.staying_put(session, code, first, last, mapping)
            label = staying.source
            values[SeriesKey("staying_put", "leavers")] = floats(
                [m.eligible for m in staying.months]
            )
            values[SeriesKey("staying_put", "stayed")] = floats([m.stayed for m in staying.months])
        return Frame(values=values, label=label)


SOURCE = ChildrenSource()
FAMILIES: tuple[Family, ...] = (
    Family("starters", SOURCE, keep=Keep.KNOWN),
    Family("ceased", SOURCE, keep=Keep.KNOWN),
    Family("children_in_care", SOURCE, keep=Keep.KNOWN),
    Family("staying_put", SOURCE, "leavers", keep=Keep.KNOWN),
    Family("staying_put", SOURCE, "stayed", keep=Keep.KNOWN),
    Family("starters", SOURCE, "age=", parts=True, keep=Keep.ABOVE_ZERO),
    Family("children_in_care", SOURCE, "category=", parts=True, keep=Keep.ABOVE_ZERO),
)
"""The series this source builds, in the order forecast runs store them."""
