"""Capacity routes of one authority: figures as at a date, monthly series, dated entries."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE, WRITING
from api.params import as_at_day, period
from tracker.capacity import demand, register
from tracker.capacity import figures as capacity
from tracker.capacity.schemas import (
    CapacityFigures,
    CategoryCount,
    ChildrenInCareEntry,
    EthnicityCount,
    ExternalProvisionEntry,
    MonthFlows,
    ProvisionCounts,
)
from tracker.children.mapping import load_mapping
from tracker.core import audit
from tracker.core.access import Caller, Role
from tracker.core.settings import Settings

READ = {"access": "capacity.read"}
WRITE = {"access": "capacity.write"}
MAX_MONTHS = 240


def _figures_at(authority: str, as_at: date) -> dict[str, str]:
    """The Location of figures entered for a date: the capacity figures as at that date."""
    return {"Location": f"/api/v1/authorities/{authority}/capacity?as_at={as_at.isoformat()}"}


class CapacityController(Controller):
    """An authority's capacity: aggregates only, so regional tokens of its region read it too."""

    path = "/api/v1/authorities/{code:str}"
    tags = ["capacity"]
    dependencies = IN_SCOPE

    @get("/capacity", opt=READ, sync_to_thread=True, summary="Capacity as at a date")
    def figures(
        self,
        authority: str,
        session: Session,
        today: date,
        settings: Settings,
        state: State,
        caller: Caller,
        as_at: date | None = None,
    ) -> CapacityFigures:
        """Households and places by care type, term and age band; children in care; in-house
        share of foster care; capacity as a share of demand; external provision (kept
        between the council's changes). Regional tokens: children's counts under 5, and any
        a total would give back, withheld (`withheld` says so)."""
        mapping = load_mapping(settings.placement_mapping)
        day = as_at_day(as_at, today)
        figures = capacity.kept_capacity_figures(
            session, state.council_views, authority, day, mapping
        )
        return (
            capacity.withhold_small_children(figures) if caller.role is Role.REGIONAL else figures
        )

    @get("/capacity/monthly", opt=READ, sync_to_thread=True, summary="Monthly capacity series")
    def monthly(
        self,
        authority: str,
        session: Session,
        caller: Caller,
        today: date,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> list[MonthFlows]:
        """Approvals, deregistrations by reason, net change and month-end places per month
        (regional tokens: reasons of fewer than 5 households counted together, unnamed)."""
        start, end = period(date_from, date_to, today, default_days=365, max_months=MAX_MONTHS)
        flows = capacity.monthly_flows(session, authority, start, end)
        return capacity.combine_small_reasons(flows) if caller.role is Role.REGIONAL else flows

    @get(
        "/capacity/carers-ethnicity",
        opt=READ,
        sync_to_thread=True,
        summary="Households by carers' ethnic group (small counts withheld)",
    )
    def ethnicity(
        self, authority: str, session: Session, today: date, as_at: date | None = None
    ) -> list[EthnicityCount]:
        """Counts below 5 are withheld, as the national statistics do."""
        return register.carers_ethnicity(session, authority, as_at_day(as_at, today))

    @post(
        "/children-in-care",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Enter children in care by placement category",
    )
    def enter_children(
        self, authority: str, data: ChildrenInCareEntry, caller: Caller, session: Session
    ) -> Response[list[CategoryCount]]:
        """Counts on a date (a later SSDA903 import fills the same figures); Location is the
        capacity figures as at that date, which show them."""
        result = demand.record_children_in_care(session, authority, data)
        audit.record(
            session,
            caller,
            "create",
            "children_in_care",
            data.as_at.isoformat(),
            authority_code=authority,
        )
        session.commit()
        return Response(result, status_code=201, headers=_figures_at(authority, data.as_at))

    @post(
        "/external-provision",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Enter external provision",
    )
    def enter_provision(
        self, authority: str, data: ExternalProvisionEntry, caller: Caller, session: Session
    ) -> Response[ProvisionCounts]:
        """IFA, children's homes or supported accommodation in the area, and the council's use;
        Location is the capacity figures as at that date, which show them."""
        result = demand.record_external_provision(session, authority, data)
        audit.record(
            session,
            caller,
            "create",
            "external_provision",
            data.as_at.isoformat(),
            authority_code=authority,
            detail={"provision": data.provision.value},
        )
        session.commit()
        return Response(result, status_code=201, headers=_figures_at(authority, data.as_at))
