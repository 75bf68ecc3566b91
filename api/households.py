"""Household register routes: households, their dated changes, placements, unavailable places."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, Response, get, patch, post
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE, WRITING
from api.etags import created, expected_version, with_etag
from api.params import Limit, Offset, RecordId, as_at_day
from tracker.core.access import Caller
from tracker.households import placements, queries, service, unavailability
from tracker.households.care_types import HouseholdCareType, HouseholdStatus
from tracker.households.schemas import (
    HouseholdChange,
    HouseholdDetails,
    HouseholdPage,
    HouseholdRecord,
    NewHousehold,
    NewPlacement,
    NewUnavailability,
    PlacementEnd,
    PlacementRecord,
    UnavailabilityRecord,
    VersionRecord,
)

READ = {"access": "households.read"}
WRITE = {"access": "households.write"}


class HouseholdController(Controller):
    """Fostering households of one authority, as at any date."""

    path = "/api/v1/authorities/{code:str}/households"
    tags = ["households"]
    dependencies = IN_SCOPE

    @post("/", opt=WRITE, dependencies=WRITING, sync_to_thread=True, summary="Add a household")
    def approve(
        self, authority: str, data: NewHousehold, caller: Caller, session: Session, today: date
    ) -> Response[HouseholdRecord]:
        """Add a newly approved household; give `enquiry_id` to link (and date) it from the
        approved enquiry that led to it."""
        record = service.approve_household(session, caller, authority, data, today)
        session.commit()
        return created(record, f"/api/v1/authorities/{authority}/households/{record.id}")

    @get("/", opt=READ, sync_to_thread=True, summary="List households as at a date")
    def list(
        self,
        authority: str,
        session: Session,
        today: date,
        as_at: date | None = None,
        care_type: HouseholdCareType | None = None,
        status: HouseholdStatus | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> HouseholdPage:
        """Households approved by `as_at` (default today), as they were then."""
        return queries.list_households(
            session,
            authority,
            as_at_day(as_at, today),
            care_type=care_type,
            status=status,
            limit=limit,
            offset=offset,
        )

    @get("/{household_id:int}", opt=READ, sync_to_thread=True, summary="One household")
    def read(
        self,
        authority: str,
        household_id: RecordId,
        session: Session,
        today: date,
        as_at: date | None = None,
    ) -> Response[HouseholdRecord]:
        """A household as at a date (default today), with filled, vacant and unavailable places."""
        return with_etag(
            queries.get_household(session, authority, household_id, as_at_day(as_at, today))
        )

    @get("/{household_id:int}/history", opt=READ, sync_to_thread=True, summary="Dated history")
    def history(
        self, authority: str, household_id: RecordId, session: Session
    ) -> list[VersionRecord]:
        """Every period of the household: status, places, ages and terms, from when to when."""
        return queries.household_history(session, authority, household_id)

    @post(
        "/{household_id:int}/changes",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="A dated change (places, status, terms, ...)",
    )
    def change(
        self,
        request: Request,
        authority: str,
        household_id: RecordId,
        data: HouseholdChange,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[HouseholdRecord]:
        """Applies from `effective_on`: deregistration (with a reason), on hold, new places..."""
        record = service.change_household(
            session,
            caller,
            authority,
            household_id,
            data,
            today,
            expected_version=expected_version(request, required=False),
        )
        session.commit()
        return with_etag(record)

    @patch(
        "/{household_id:int}",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Edit undated details",
    )
    def edit(
        self,
        request: Request,
        authority: str,
        household_id: RecordId,
        data: HouseholdDetails,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[HouseholdRecord]:
        """Reference, carers' ethnicity, date of last annual review; If-Match required."""
        record = service.update_details(
            session,
            caller,
            authority,
            household_id,
            data,
            today,
            expected_version=expected_version(request, required=True),
        )
        session.commit()
        return with_etag(record)

    @get("/{household_id:int}/placements", opt=READ, sync_to_thread=True, summary="Placements")
    def placements(
        self,
        authority: str,
        household_id: RecordId,
        session: Session,
        today: date,
        as_at: date | None = None,
    ) -> list[PlacementRecord]:
        """The household's placements (only those running on `as_at` when given)."""
        day = as_at_day(as_at, today) if as_at is not None else None
        return placements.list_placements(session, authority, household_id, day)

    @post(
        "/{household_id:int}/placements",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Place a child",
    )
    def place(
        self,
        authority: str,
        household_id: RecordId,
        data: NewPlacement,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[PlacementRecord]:
        """409 `capacity_exceeded` beyond the approved places, 409 `child_already_placed` when
        the child's placements would overlap, 409 `household_not_active` when not active."""
        record = placements.place_child(session, caller, authority, household_id, data, today)
        session.commit()
        location = f"/api/v1/authorities/{authority}/placements/{record.id}"
        return created(record, location, versioned=False)

    @post(
        "/{household_id:int}/unavailability",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Mark places not available",
    )
    def unavailable(
        self,
        authority: str,
        household_id: RecordId,
        data: NewUnavailability,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[UnavailabilityRecord]:
        """Approved places that cannot take a child for a while, with the reason."""
        record = unavailability.mark_unavailable(
            session, caller, authority, household_id, data, today
        )
        session.commit()
        location = f"/api/v1/authorities/{authority}/unavailability/{record.id}"
        return created(record, location, versioned=False)


class PlacementController(Controller):
    """Placements and unavailable periods: read one, end one."""

    path = "/api/v1/authorities/{code:str}"
    tags = ["households"]
    dependencies = IN_SCOPE

    @get("/placements/{placement_id:int}", opt=READ, sync_to_thread=True, summary="A placement")
    def placement(
        self, authority: str, placement_id: RecordId, session: Session
    ) -> PlacementRecord:
        """A placement of the authority: household, child reference, start and end."""
        return placements.get_placement(session, authority, placement_id)

    @get(
        "/unavailability/{unavailability_id:int}",
        opt=READ,
        sync_to_thread=True,
        summary="An unavailable period",
    )
    def unavailable_period(
        self, authority: str, unavailability_id: RecordId, session: Session
    ) -> UnavailabilityRecord:
        """Places of a household not available for a while: how many, why, from when."""
        return unavailability.get_unavailability(session, authority, unavailability_id)

    @post(
        "/placements/{placement_id:int}/end",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="End a placement",
    )
    def end_placement(
        self,
        authority: str,
        placement_id: RecordId,
        data: PlacementEnd,
        caller: Caller,
        session: Session,
        today: date,
    ) -> PlacementRecord:
        """The child left the household on `end_on`."""
        record = placements.end_placement(session, caller, authority, placement_id, data, today)
        session.commit()
        return record

    @post(
        "/unavailability/{unavailability_id:int}/end",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Places available again",
    )
    def end_unavailability(
        self,
        authority: str,
        unavailability_id: RecordId,
        data: PlacementEnd,
        caller: Caller,
        session: Session,
        today: date,
    ) -> UnavailabilityRecord:
        """The places are available again from `end_on`."""
        record = unavailability.end_unavailability(
            session, caller, authority, unavailability_id, data.end_on, today
        )
        session.commit()
        return record
