"""Sufficiency scenario routes of one authority: saved scenarios with their projections,
previews, side-by-side comparison, and inputs suggested from the authority's own figures.

Scenarios are planning material of the authority's managers: not aggregate routes, so
regional tokens do not reach them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy.orm import Session

from api.children import provide_mapping
from api.deps import IN_SCOPE, WRITING
from api.etags import created, expected_version, with_etag
from api.params import MAX_ID, Limit, Offset, RecordId, as_at_day
from tracker.children.mapping import Mapping
from tracker.core.access import Caller
from tracker.core.errors import InvalidValueError
from tracker.scenarios import service
from tracker.scenarios.from_actuals import scenario_inputs_from_actuals
from tracker.scenarios.schemas import (
    ActualsSuggestion,
    Comparison,
    Projection,
    ScenarioInputs,
    ScenarioRecord,
    ScenarioSummary,
)

READ = {"access": "scenarios.read"}
WRITE = {"access": "scenarios.write"}
IdList = Annotated[
    str,
    Parameter(max_length=200, description="2 to 6 scenario ids separated by commas, e.g. 1,2,3"),
]


def parse_ids(text: str) -> list[int]:
    """Scenario ids from "1,2,3" (InvalidValueError naming `ids` otherwise)."""
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isascii() and p.isdigit() and 1 <= int(p) <= MAX_ID for p in parts):
        raise InvalidValueError("ids must be scenario ids separated by commas", field="ids")
    return [int(p) for p in parts]


class ScenarioController(Controller):
    """Sufficiency scenarios: children in care, places by setting and costs, year by year."""

    path = "/api/v1/authorities/{code:str}/scenarios"
    tags = ["scenarios"]
    dependencies = IN_SCOPE

    @post("/", opt=WRITE, dependencies=WRITING, sync_to_thread=True, summary="Save a scenario")
    def create(
        self, authority: str, data: ScenarioInputs, caller: Caller, session: Session, today: date
    ) -> Response[ScenarioRecord]:
        """Save a scenario; the answer carries its projection, its ETag and its Location."""
        record = service.create_scenario(session, caller, authority, data, today=today)
        session.commit()
        return created(record, f"/api/v1/authorities/{authority}/scenarios/{record.id}")

    @get("/", opt=READ, sync_to_thread=True, summary="List saved scenarios")
    def list(
        self, authority: str, session: Session, limit: Limit = 100, offset: Offset = 0
    ) -> list[ScenarioSummary]:
        """The authority's saved scenarios, oldest first."""
        return service.list_scenarios(session, authority, limit=limit, offset=offset)

    @post("/preview", opt=READ, sync_to_thread=True, status_code=200, summary="Project inputs")
    def preview(self, authority: str, data: ScenarioInputs, today: date) -> Projection:
        """The projection of inputs, without saving them (for the authority in the path),
        checked as a saved scenario's inputs are."""
        return service.preview_scenario(data, today=today)

    @get("/compare", opt=READ, sync_to_thread=True, summary="Compare saved scenarios")
    def compare(self, authority: str, session: Session, ids: IdList) -> Comparison:
        """Two to six saved scenarios side by side, year by year, in the order of `ids`."""
        return service.compare_scenarios(session, authority, parse_ids(ids))

    @get(
        "/from-actuals",
        opt=READ,
        dependencies={"mapping": Provide(provide_mapping, sync_to_thread=False)},
        sync_to_thread=True,
        summary="Inputs from the authority's own figures",
    )
    def from_actuals(
        self,
        authority: str,
        session: Session,
        mapping: Mapping,
        today: date,
        as_at: date | None = None,
    ) -> ActualsSuggestion:
        """Inputs whose baseline is the children in care (SSDA903, else monthly figures) on
        the latest 31 March on or before `as_at` (default today); 409 without figures."""
        return scenario_inputs_from_actuals(session, authority, as_at_day(as_at, today), mapping)

    @get("/{scenario_id:int}", opt=READ, sync_to_thread=True, summary="One scenario")
    def read(
        self, authority: str, scenario_id: RecordId, session: Session
    ) -> Response[ScenarioRecord]:
        """The scenario's inputs and its projection, with its ETag."""
        return with_etag(service.get_scenario(session, authority, scenario_id))

    @put(
        "/{scenario_id:int}",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Replace a scenario's inputs",
    )
    def replace(
        self,
        request: Request,
        authority: str,
        scenario_id: RecordId,
        data: ScenarioInputs,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[ScenarioRecord]:
        """Replace the inputs; If-Match (the ETag read) is required, 412 when stale."""
        record = service.update_scenario(
            session,
            caller,
            authority,
            scenario_id,
            data,
            expected_version=expected_version(request, required=True),
            today=today,
        )
        session.commit()
        return with_etag(record)

    @delete(
        "/{scenario_id:int}",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Delete a scenario",
    )
    def remove(
        self,
        request: Request,
        authority: str,
        scenario_id: RecordId,
        caller: Caller,
        session: Session,
    ) -> None:
        """Delete the scenario (If-Match optional; 412 when it names another version)."""
        service.delete_scenario(
            session,
            caller,
            authority,
            scenario_id,
            expected_version=expected_version(request, required=False),
        )
        session.commit()
