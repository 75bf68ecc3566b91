"""A council's funnel figures kept between its changes (`tracker.core.view_cache`): the funnel
report, its headline summary and the monthly series, each under one key whoever asks (the API
and the dashboard's pages share them). With no `views`, computed afresh."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from tracker.core.view_cache import ViewCache, kept_for_council
from tracker.enquiries.funnel import (
    Dimension,
    FunnelReport,
    FunnelSummary,
    MonthlySeries,
    funnel_report,
    funnel_summary,
    monthly_series,
)


def kept_funnel_report(
    session: Session,
    views: ViewCache | None,
    authority_code: str,
    date_from: date,
    date_to: date,
    today: date,
    by: Dimension | None = None,
    *,
    name_small_campaigns: bool = True,
) -> FunnelReport:
    """`funnel_report`, kept until the council's next audited change."""
    return kept_for_council(
        session,
        views,
        authority_code,
        ("funnel", date_from, date_to, today, by, name_small_campaigns),
        lambda: funnel_report(
            session,
            authority_code,
            date_from,
            date_to,
            today,
            by,
            name_small_campaigns=name_small_campaigns,
        ),
        notes_revision=True,
    )


def kept_funnel_summary(
    session: Session,
    views: ViewCache | None,
    authority_code: str,
    date_from: date,
    date_to: date,
    today: date,
) -> FunnelSummary:
    """`funnel_summary`, kept until the council's next audited change."""
    return kept_for_council(
        session,
        views,
        authority_code,
        ("summary", date_from, date_to, today),
        lambda: funnel_summary(session, authority_code, date_from, date_to, today),
        notes_revision=True,
    )


def kept_monthly_series(
    session: Session,
    views: ViewCache | None,
    authority_code: str,
    date_from: date,
    date_to: date,
    today: date = date.max,
) -> MonthlySeries:
    """`monthly_series`, kept until the council's next audited change."""
    return kept_for_council(
        session,
        views,
        authority_code,
        ("monthly", date_from, date_to, today),
        lambda: monthly_series(session, authority_code, date_from, date_to, today),
    )
