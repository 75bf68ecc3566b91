"""Forecast routes of one authority: series with forecasts, the latest forecast of a series,
runs (history, status, progress, results), triggering a run, and the accuracy of past runs.

Regional tokens of the authority's region read them too, without any actual small count or
what gives one back (`tracker.forecasting.withheld`: the accuracy of a run compared with a
withheld month, figures of the history in notes; each answer's `withheld` says so)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import Parameter
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE
from api.params import Limit, Offset, RecordId
from api.request_limits import EXPENSIVE
from jobs.forecast_refresh import start_in_background
from tracker.children.mapping import load_mapping
from tracker.core import audit
from tracker.core.access import Caller, Role
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.forecasting import results, withheld
from tracker.forecasting.accuracy import VintageAccuracy, vintage_accuracy
from tracker.forecasting.results import LatestSeries, RunRecord, RunResults, SeriesResult
from tracker.forecasting.tables import RunStatus, Trigger
from tracker.series.window import last_complete_month

READ = {"access": "forecasts.read"}
RUN = {"access": "forecasts.run"}
# Sample paths let a caller work out chances against targets: for the authority's own staff.
PATH_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
SeriesId = Annotated[
    str,
    Parameter(
        min_length=3,
        max_length=200,
        description='a series id, e.g. "E06000021/enquiries/total"',
    ),
]


def _names_staff(caller: Caller) -> bool:
    """Staff token names are for the authority's own staff and admins, not regional tokens."""
    return caller.role is not Role.REGIONAL


class RunStarted(msgspec.Struct, frozen=True, kw_only=True):
    """A run accepted: follow its progress at `location`."""

    run_id: int
    status: RunStatus
    location: str


class ForecastController(Controller):
    """Forecasts of an authority's monthly series (aggregates only: regional tokens of its
    region read them too; managers and admins start runs)."""

    path = "/api/v1/authorities/{code:str}/forecasts"
    tags = ["forecasts"]
    dependencies = IN_SCOPE

    @get("/series", opt=READ, sync_to_thread=True, summary="Series with a forecast")
    def series(self, authority: str, session: Session) -> list[LatestSeries]:
        """Every series with a stored forecast and the latest run that forecast it."""
        return results.latest_series(session, authority)

    @get("/latest", opt=READ, sync_to_thread=True, summary="Latest forecast of a series")
    def latest(
        self,
        authority: str,
        session: Session,
        caller: Caller,
        series_id: SeriesId,
        paths: bool = False,
    ) -> SeriesResult:
        """The chosen model, every candidate's backtest score, notes, and monthly points with
        80% and 95% intervals; `paths=true` adds the simulated sample paths (managers and
        admins)."""
        if paths and caller.role not in PATH_ROLES:
            raise PermissionDeniedException("sample paths are for managers and admins")
        result = results.latest_forecast(session, authority, series_id, with_paths=paths)
        return withheld.notes(result) if caller.role is Role.REGIONAL else result

    @get("/runs", opt=READ, sync_to_thread=True, summary="Run history")
    def runs(
        self,
        authority: str,
        session: Session,
        caller: Caller,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[RunRecord]:
        """Runs newest first: trigger, who started it (regional tokens: the role only),
        status, cut-off, progress (series done of total), error."""
        return results.list_runs(
            session, authority, limit=limit, offset=offset, name_staff=_names_staff(caller)
        )

    @get("/runs/{run_id:int}", opt=READ, sync_to_thread=True, summary="A run and its results")
    def run(self, authority: str, session: Session, caller: Caller, run_id: RecordId) -> RunResults:
        """A run's status and progress, and the forecast of every series it stored."""
        run = results.run_results(session, authority, run_id, name_staff=_names_staff(caller))
        return withheld.run_notes(run) if caller.role is Role.REGIONAL else run

    @post(
        "/runs",
        opt={**RUN, EXPENSIVE: True},
        sync_to_thread=True,
        status_code=202,
        summary="Start a run",
    )
    def start(
        self, authority: str, caller: Caller, database: Database, settings: Settings
    ) -> Response[RunStarted]:
        """Start a forecast run now; it goes on in the background (409 while another run of
        the authority holds the lease, 429 within the cool-down after the last); follow it at
        Location."""
        run_id = start_in_background(
            database, authority, trigger=Trigger.API, triggered_by=caller.actor, settings=settings
        )
        with database.writing() as session:
            audit.record(session, caller, "run", "forecast_run", run_id, authority_code=authority)
        location = f"/api/v1/authorities/{authority}/forecasts/runs/{run_id}"
        started = RunStarted(run_id=run_id, status=RunStatus.QUEUED, location=location)
        return Response(started, status_code=202, headers={"Location": location})

    @get("/accuracy", opt=READ, sync_to_thread=True, summary="Accuracy of past runs")
    def accuracy(
        self,
        authority: str,
        session: Session,
        settings: Settings,
        caller: Caller,
        today: date,
        series_id: SeriesId | None = None,
    ) -> list[VintageAccuracy]:
        """Each past run's forecasts against what has happened since (up to the last complete
        month): mean absolute error, scaled error, bias, and 80%/95% interval coverage. To
        regional tokens they are null where a month compared is a withheld count (see
        `withheld`), as they would give it back."""
        return vintage_accuracy(
            session,
            authority,
            series_id,
            cutoff=last_complete_month(today),
            mapping=load_mapping(settings.placement_mapping),
            small_counts=caller.role is not Role.REGIONAL,
        )
