"""Funnel analytics routes: the funnel of a period and the monthly series."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get
from litestar.datastructures import State
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE
from api.params import period
from tracker.core.access import Caller, Role
from tracker.enquiries.funnel import Dimension, FunnelReport, MonthlySeries
from tracker.enquiries.kept import kept_funnel_report, kept_monthly_series

READ = {"access": "funnel.read"}


class FunnelController(Controller):
    """Conversion, timeliness and monthly series of an authority's enquiries (aggregates only)."""

    path = "/api/v1/authorities/{code:str}/funnel"
    tags = ["funnel"]
    dependencies = IN_SCOPE

    @get("/", opt=READ, sync_to_thread=True, summary="Funnel of a period")
    def report(
        self,
        authority: str,
        session: Session,
        caller: Caller,
        today: date,
        state: State,
        date_from: date | None = None,
        date_to: date | None = None,
        by: Dimension | None = None,
    ) -> FunnelReport:
        """Enquiries received in the period (default: the last 12 months): how many reached
        each stage, conversions, closures by stage and reason, days between stages, and
        approvals against the annual target; optionally by channel, campaign or month.
        Regional tokens see campaigns of fewer than 5 enquiries together, unnamed. Kept
        between the council's changes."""
        start, end = period(date_from, date_to, today)
        return kept_funnel_report(
            session,
            state.council_views,
            authority,
            start,
            end,
            today,
            by,
            name_small_campaigns=caller.role is not Role.REGIONAL,
        )

    @get("/monthly", opt=READ, sync_to_thread=True, summary="Monthly series")
    def monthly(
        self,
        authority: str,
        session: Session,
        today: date,
        state: State,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> MonthlySeries:
        """Enquiries, applications, approvals and closures per month (zeros included; kept
        between the council's changes)."""
        start, end = period(date_from, date_to, today)
        return kept_monthly_series(session, state.council_views, authority, start, end, today)
