"""The series of children-in-care figures entered by hand as at dates (councils without an
SSDA903 extract or monthly figures): a month's value is the latest figure dated in it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecast.months import month_start
from tracker.capacity.tables import ChildrenInCareFigure
from tracker.series.keys import SeriesKey
from tracker.series.source import Ask, Family, Frame
from tracker.series.window import Span

KEY = SeriesKey("children_in_care_entered")


class EnteredChildrenSource:
    """Dated children-in-care figures."""

    name = "entered"

    def span(self, session: Session, code: str) -> Span:
        """Any month: months without a figure are simply unknown."""
        first = session.scalar(
            select(func.min(ChildrenInCareFigure.as_at)).where(
                ChildrenInCareFigure.authority_code == code
            )
        )
        return Span(month_start(first) if first is not None else None)

    def available(self, session: Session, code: str, key: SeriesKey) -> bool:
        """Whether any figure was entered."""
        return self.span(session, code).first is not None

    def frame(self, ask: Ask) -> Frame:
        """Children in care at each month with a dated figure (the latest in the month)."""
        f = ChildrenInCareFigure
        query = (
            select(f.as_at, func.sum(f.children))
            .where(f.authority_code == ask.code, f.as_at >= ask.months[0], f.as_at <= ask.last_day)
            .group_by(f.as_at)
            .order_by(f.as_at)
        )
        dated = {
            month_start(as_at): float(children) for as_at, children in ask.session.execute(query)
        }
        return Frame(values={KEY: [dated.get(m) for m in ask.months]}, label=self.name)


SOURCE = EnteredChildrenSource()
FAMILIES: tuple[Family, ...] = (Family("children_in_care_entered", SOURCE, forecast=False),)
"""The series this source builds, in the order forecast runs store them."""
