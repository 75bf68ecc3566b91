"""National routes: England's capacity per region (aggregates only)."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get
from litestar.datastructures import State
from sqlalchemy.orm import Session

from api.params import as_at_day
from api.request_limits import EXPENSIVE
from tracker.capacity.national import NationalCapacity, national_capacity
from tracker.core.revisions import revisions_of

READ = {"access": "national.read"}


class NationalController(Controller):
    """England's capacity: every region's roll-up and the national totals."""

    path = "/api/v1/national"
    tags = ["regional"]

    @get(
        "/capacity",
        opt={**READ, EXPENSIVE: True},
        sync_to_thread=True,
        summary="England's capacity per region as at a date",
    )
    def capacity(
        self, session: Session, today: date, state: State, as_at: date | None = None
    ) -> NationalCapacity:
        """Per region and for England: households, approved, filled, vacant and unavailable
        places per care type, occupancy, children in care and capacity as a share of demand
        (sums of each council's register or latest return; no council's own figures)."""
        day = as_at_day(as_at, today)
        changes = revisions_of(session)  # before the view: see ViewCache
        return state.capacity_views.get_or_compute(
            ("england", day, changes), lambda: national_capacity(session, day)
        )
