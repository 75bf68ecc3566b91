"""Strategy target routes: the metrics targets are measured on, an authority's targets (set,
read, replaced with If-Match, deleted; all audited) and their trajectories. Managers and
admins only: targets carry no personal data, but they are the authority's own plans."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Request, Response, delete, get, post, put
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE, WRITING
from api.etags import created, expected_version, with_etag
from api.params import RecordId
from tracker.children.mapping import load_mapping
from tracker.core.access import Caller
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.targets import metrics, stored
from tracker.targets import service as targets
from tracker.targets.metrics import Metric
from tracker.targets.schemas import NewTarget, TargetRecord
from tracker.targets.trajectories import Trajectory

READ = {"access": "targets.read"}
WRITE = {"access": "targets.write"}


class MetricController(Controller):
    """The registry of metrics a target can be set on."""

    path = "/api/v1/metrics"
    tags = ["targets"]

    @get("/", opt=READ, sync_to_thread=False, summary="Metrics targets are measured on")
    def list(self) -> list[Metric]:
        """Each metric's key, label, unit, shape (level, flow, proportion_flow or
        proportion_stock), how a value at a month is measured, where its actuals and forecast
        come from, and the target kinds it takes."""
        return metrics.list_metrics()


class TargetController(Controller):
    """Targets of one authority and their trajectories."""

    path = "/api/v1/authorities/{code:str}"
    tags = ["targets"]
    dependencies = IN_SCOPE

    @post("/targets", opt=WRITE, dependencies=WRITING, sync_to_thread=True, summary="Set a target")
    def create(
        self,
        authority: str,
        data: NewTarget,
        caller: Caller,
        session: Session,
        today: date,
        settings: Settings,
    ) -> Response[TargetRecord]:
        """Set a target on a metric; the fields each `kind` takes are in the schema of
        NewTarget (422 naming the field for one missing, one the kind does not take, or a value
        out of range). Proportions are in percent."""
        record = targets.create_target(
            session,
            caller,
            authority,
            data,
            today=today,
            mapping=load_mapping(settings.placement_mapping),
        )
        session.commit()
        return created(record, f"/api/v1/authorities/{authority}/targets/{record.id}")

    @get("/targets", opt=READ, sync_to_thread=True, summary="The authority's targets")
    def list(self, authority: str, session: Session) -> list[TargetRecord]:
        """Every target, oldest first, each with a one-line summary."""
        return targets.list_targets(session, authority)

    @get("/targets/{target_id:int}", opt=READ, sync_to_thread=True, summary="One target")
    def read(self, authority: str, target_id: RecordId, session: Session) -> Response[TargetRecord]:
        """A target, with its version as ETag (send it back in If-Match to change it)."""
        return with_etag(targets.get_target(session, authority, target_id))

    @put(
        "/targets/{target_id:int}",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Replace a target",
    )
    def replace(
        self,
        request: Request,
        authority: str,
        target_id: RecordId,
        data: NewTarget,
        caller: Caller,
        session: Session,
        today: date,
        settings: Settings,
    ) -> Response[TargetRecord]:
        """The whole target as it should be; If-Match (the ETag read) is required, 412 when the
        target changed since."""
        record = targets.update_target(
            session,
            caller,
            authority,
            target_id,
            data,
            today=today,
            expected_version=expected_version(request, required=True),
            mapping=load_mapping(settings.placement_mapping),
        )
        session.commit()
        return with_etag(record)

    @delete(
        "/targets/{target_id:int}",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Delete a target",
    )
    def remove(
        self,
        request: Request,
        authority: str,
        target_id: RecordId,
        caller: Caller,
        session: Session,
    ) -> None:
        """Delete a target (If-Match optional; 412 when given and the target changed since)."""
        targets.delete_target(
            session,
            caller,
            authority,
            target_id,
            expected_version=expected_version(request, required=False),
        )
        session.commit()

    @get(
        "/targets/{target_id:int}/trajectory",
        opt=READ,
        sync_to_thread=True,
        summary="A target's trajectory",
    )
    def trajectory(
        self,
        authority: str,
        target_id: RecordId,
        session: Session,
        today: date,
        settings: Settings,
        database: Database,
    ) -> Trajectory:
        """Month by month the target path, the actuals and the latest forecast (median, 80% and
        95% bands); milestones with the chance of meeting each; the status with its rule, the
        chance behind it and the gap in plain units; the work-back for recruitment targets."""
        return stored.served_one(
            session,
            authority,
            target_id,
            today=today,
            mapping=load_mapping(settings.placement_mapping),
            database=database,
        ).trajectory

    @get("/trajectories", opt=READ, sync_to_thread=True, summary="Every target's trajectory")
    def trajectories(
        self,
        authority: str,
        session: Session,
        today: date,
        settings: Settings,
        database: Database,
    ) -> list[Trajectory]:
        """The trajectory of every target of the authority, oldest target first (stored ones
        while valid: see `tracker.targets.stored`)."""
        found = stored.served(
            session,
            authority,
            today=today,
            mapping=load_mapping(settings.placement_mapping),
            database=database,
        )
        return [s.trajectory for s in found]
