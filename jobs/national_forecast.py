"""The national forecast run: every council with data forecast in one batch on one executor.

Each council is still its own forecast run with its own lease (claimed as the batch reaches
it, renewed by one heartbeat thread while its series are out, released when its results are
stored), and a council whose lease another process holds is recorded skipped. The series are
read a council at a time and streamed to the executor in chunks (forecast.engine's
`forecast_chunks`), so the main process holds only the councils in flight and the workers
are never left waiting between councils. The engine seeds each series by its id, so the
results are those of the per-council run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from datetime import date

from sqlalchemy import select

from forecast.types import ForecastOptions, MonthlySeries, SeriesForecast
from jobs.forecast_refresh import (
    HEARTBEAT_EVERY,
    Progress,
    RefreshOutcome,
    _after_council_run,
    _ProgressWriter,
    _skipped,
    claim,
    forecast_options,
)
from tracker.children.mapping import Mapping, load_mapping
from tracker.core.authorities import Authority
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today
from tracker.forecasting.lease import AlreadyForecastError, LeaseHeldError, renew_lease
from tracker.forecasting.runs import fail_run, finish_run, start_run
from tracker.forecasting.tables import ForecastRun, RunStatus, Trigger
from tracker.series.registry import series_for_authority

log = logging.getLogger("fostering.jobs")


class _Council:
    """A council under way in the batch: its run, series and the forecasts back so far."""

    def __init__(self, code: str, run_id: int, series: list[MonthlySeries], size: int) -> None:
        self.code, self.run_id, self.series, self.size = code, run_id, series, size
        self.chunks: dict[int, list[SeriesForecast]] = {}
        self.done = 0
        self.writer: _ProgressWriter | None = None

    @property
    def expected(self) -> int:
        """How many chunks the council's series make."""
        return -(-len(self.series) // self.size)

    def chunk(self, index: int) -> list[MonthlySeries]:
        return self.series[index * self.size : (index + 1) * self.size]

    def forecasts(self) -> list[SeriesForecast]:
        return [f for i in range(self.expected) for f in self.chunks[i]]


class _Heartbeats:
    """Renews, in one thread, the leases of the councils whose series are out, so a long
    batch never lets one lapse while the process lives."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-national", daemon=True)

    def hold(self, code: str, holder: str) -> None:
        with self._lock:
            self._held[code] = holder

    def drop(self, code: str) -> None:
        with self._lock:
            self._held.pop(code, None)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY.total_seconds()):
            with self._lock:
                held = dict(self._held)
            if not held:
                continue
            try:
                with self._database.writing() as session:
                    for code, holder in held.items():
                        if not renew_lease(session, code, holder):
                            log.warning("forecast lease of %s was lost", code)
            except Exception:
                log.exception("could not renew the national run's forecast leases")

    def __enter__(self) -> _Heartbeats:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def council_codes(database: Database) -> list[str]:
    """The councils the service holds, in code order."""
    with database.read_session() as session:
        return list(session.scalars(select(Authority.code).order_by(Authority.code)))


def refresh_all(
    database: Database,
    *,
    settings: Settings,
    options: ForecastOptions | None = None,
    codes: Sequence[str] | None = None,
    executor: str | None = None,
    trigger: Trigger = Trigger.SCHEDULE,
    triggered_by: str = "scheduler",
    attempt: int = 1,
    today: date | None = None,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
) -> list[RefreshOutcome]:
    """Forecast every council (or those of `codes`) in one batch on the settings' executor
    (`executor` overrides it; workers and Dask address from the settings); one outcome per
    council, in code order: succeeded, failed (the others go on) or skipped."""
    # Imported here: the engine pulls in the model libraries, which `serve` should not wait for.
    from forecast.engine import CHUNK, forecast_chunks

    options = options or forecast_options(settings)
    today = today or london_today()
    mapping = mapping or load_mapping(settings.placement_mapping)
    wanted = list(codes) if codes is not None else council_codes(database)
    outcomes: dict[str, RefreshOutcome] = {}
    under_way: dict[str, _Council] = {}

    def failed(council: _Council, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        log.error("forecast run %s of %s failed: %s", council.run_id, council.code, error)
        heartbeats.drop(council.code)
        under_way.pop(council.code, None)
        try:
            with database.writing() as session:
                fail_run(session, council.run_id, error)
        except Exception:
            log.exception("could not record the failure of forecast run %s", council.run_id)
        outcomes[council.code] = RefreshOutcome(
            authority_code=council.code,
            run_id=council.run_id,
            status=RunStatus.FAILED,
            error=error,
        )

    def finish(council: _Council) -> None:
        try:
            forecasts = council.forecasts()
            heartbeats.drop(council.code)
            with database.writing() as session:
                finish_run(session, council.run_id, forecasts, council.series)
                _after_council_run(session, council.code, mapping=mapping)
        except Exception as exc:
            failed(council, exc)
            return
        under_way.pop(council.code, None)
        if progress is not None:
            progress(council.code, len(council.series), len(council.series))
        outcomes[council.code] = RefreshOutcome(
            authority_code=council.code,
            run_id=council.run_id,
            status=RunStatus.SUCCEEDED,
            series=len(council.series),
        )

    def started(code: str) -> _Council | None:
        try:
            run_id = claim(
                database,
                code,
                trigger=trigger,
                triggered_by=triggered_by,
                options=options,
                today=today,
                attempt=attempt,
            )
        except (LeaseHeldError, AlreadyForecastError) as exc:
            outcomes[code] = _skipped(database, code, exc, trigger, triggered_by, options, today)
            return None
        council = _Council(code, run_id, [], CHUNK)
        try:
            with database.read_session() as session:
                run = session.get(ForecastRun, run_id)
                if run is None:
                    raise LookupError(f"no forecast run {run_id}")
                heartbeats.hold(code, run.holder or "")
                council.series = series_for_authority(session, code, run.cutoff, mapping=mapping)
            with database.writing() as session:
                start_run(session, run_id, len(council.series))
            council.writer = _ProgressWriter(database, run_id, code, len(council.series), progress)
            council.writer(0)
        except Exception as exc:
            failed(council, exc)
            return None
        return council

    def chunks() -> Iterator[tuple[tuple[str, int], list[MonthlySeries]]]:
        for code in wanted:
            council = started(code)
            if council is None:
                continue
            if not council.series:
                finish(council)
                continue
            under_way[code] = council
            for index in range(council.expected):
                yield (code, index), council.chunk(index)

    with _Heartbeats(database) as heartbeats:
        try:
            for (code, index), forecasts in forecast_chunks(
                chunks(),
                options,
                executor=executor or settings.forecast_executor,
                workers=settings.forecast_workers,
                dask_address=settings.dask_address,
            ):
                council = under_way.get(code)
                if council is None:
                    continue
                council.chunks[index] = forecasts
                council.done += len(forecasts)
                if council.writer is not None:
                    council.writer(council.done)
                if len(council.chunks) == council.expected:
                    finish(council)
        except Exception as exc:
            log.exception("the national forecast run stopped")
            for council in list(under_way.values()):
                failed(council, exc)
            raise
    return [outcomes[code] for code in wanted if code in outcomes]
