"""Series from the recruitment funnel: enquiries, applications and approvals per month, and
enquiries per channel."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from forecast.months import month_label
from tracker.core.sql import month_of
from tracker.enquiries.funnel import monthly_series
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.vocabulary import Channel
from tracker.series.keys import SeriesKey
from tracker.series.source import Ask, Family, Frame, Keep, floats
from tracker.series.window import Span, first_full_month

EVENTS = ("enquiries", "applications", "approvals")


def first_enquiry(session: Session, code: str) -> date | None:
    """The day the authority's first enquiry was received."""
    return session.scalar(
        select(func.min(Enquiry.received_on)).where(Enquiry.authority_code == code)
    )


class FunnelSource:
    """Events of the funnel in the month they happened."""

    name = "funnel"

    def span(self, session: Session, code: str) -> Span:
        """From the first full month after the first enquiry."""
        return Span(first_full_month(first_enquiry(session, code)))

    def available(self, session: Session, code: str, key: SeriesKey) -> bool:
        """Whether any enquiry is recorded."""
        return first_enquiry(session, code) is not None

    def frame(self, ask: Ask) -> Frame:
        """Each event's monthly count, and enquiries per channel (channels that occur)."""
        points = monthly_series(ask.session, ask.code, ask.months[0], ask.last_day).points
        values = {
            SeriesKey(name): floats([getattr(p, name) for p in points])
            for name in EVENTS
            if name in ask.metrics
        }
        if "enquiries" in ask.metrics:
            values |= _by_channel(ask)
        return Frame(values=values, label=self.name)


def _by_channel(ask: Ask) -> dict[SeriesKey, list[float | None]]:
    month = month_of(ask.session, Enquiry.received_on)
    query = (
        select(month, Enquiry.channel, func.count())
        .where(
            Enquiry.authority_code == ask.code,
            col(Enquiry.received_on) >= ask.months[0],
            col(Enquiry.received_on) <= ask.last_day,
        )
        .group_by(month, Enquiry.channel)
    )
    counts: dict[str, dict[str, int]] = {}
    for label, channel, count in ask.session.execute(query):
        counts.setdefault(channel, {})[label] = int(count)
    labels = [month_label(m) for m in ask.months]
    return {
        SeriesKey("enquiries", f"channel={channel.value}"): [
            float(counts[channel.value].get(label, 0)) for label in labels
        ]
        for channel in Channel
        if channel.value in counts
    }


SOURCE = FunnelSource()
FAMILIES: tuple[Family, ...] = (
    Family("enquiries", SOURCE),
    Family("applications", SOURCE),
    Family("approvals", SOURCE),
    Family("enquiries", SOURCE, "channel=", parts=True, keep=Keep.ABOVE_ZERO),
)
"""The series this source builds, in the order forecast runs store them."""
