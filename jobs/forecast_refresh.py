"""The forecast refresh: take an authority's lease, build its series, forecast them with the
engine (writing progress to the run as series finish), store the results, release the lease.

A plain function, so the scheduler, the API (in a background thread) and the CLI all run the
same code. A failure is recorded on the run with its error and releases the lease; a refresh
of several authorities goes on to the next one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import msgspec
from sqlalchemy.orm import Session

from forecast.types import ForecastOptions, MonthlySeries, SeriesForecast, Stopped
from tracker.children.mapping import Mapping, load_mapping
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.core.errors import ConflictError
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today
from tracker.forecasting.lease import (
    LEASE_TTL,
    AlreadyForecastError,
    LeaseHeldError,
    claim_run,
    renew_lease,
)
from tracker.forecasting.runs import (
    SKIPPED_HELD,
    abandon_runs_of,
    fail_run,
    finish_run,
    mark_abandoned,
    record_progress,
    record_skipped,
    start_run,
)
from tracker.forecasting.tables import ForecastRun, RunStatus, Trigger
from tracker.series.registry import series_for_authority
from tracker.series.window import last_complete_month
from tracker.targets.stored import refresh as refresh_trajectories

log = logging.getLogger("fostering.jobs")
HEARTBEAT_EVERY = LEASE_TTL / 4
# Processes that fire the same due job do so within seconds of each other: a scheduled run
# that succeeded this recently for the same cut-off month makes another one redundant.
SCHEDULED_ONCE_WITHIN = timedelta(hours=1)
# Progress is written at most this often (and always when the last series is done).
PROGRESS_EVERY_S = 0.5

# Called with (authority code, series done, series in all) as a run goes on.
Progress = Callable[[str, int, int], None]


class RefreshOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a refresh did for one authority."""

    authority_code: str
    run_id: int
    status: RunStatus
    series: int = 0
    error: str | None = None


def new_holder() -> str:
    """A lease holder name unique to this claim: host, process and a random token."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_gone(holder: str) -> bool:
    """True when a lease holder (see `new_holder`) names a process of this host that no
    longer exists: it was killed or crashed, so its runs need not wait for the lease to lapse.

    Only a process of this host can be known dead; this process and any that still runs (or
    that the system does not let us signal) count as alive.
    """
    host, _, rest = holder.rpartition(":")[0].rpartition(":")
    if not host or host != socket.gethostname()[:80] or not rest.isdigit():
        return False
    pid = int(rest)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def held_here(holder: str) -> bool:
    """True when a lease holder (see `new_holder`) is this process."""
    host, _, pid = holder.rpartition(":")[0].rpartition(":")
    return host == socket.gethostname()[:80] and pid == str(os.getpid())


def stop_runs_here(database: Database) -> list[int]:
    """Mark failed the runs this process holds and release their leases: it is stopping,
    and their threads stop with it (a restart need not wait for the leases to lapse)."""
    with database.writing() as session:
        stopped = abandon_runs_of(session, held_here)
    if stopped:
        log.warning("forecast runs %s stopped with the service", stopped)
    return stopped


def recover_runs(database: Database) -> list[int]:
    """Mark failed the runs a stopped process left queued or running: those of a process of
    this host that is gone (at once, releasing its leases) and those whose lease lapsed."""
    with database.writing() as session:
        abandoned = abandon_runs_of(session, holder_gone) + mark_abandoned(session)
    if abandoned:
        log.warning("forecast runs %s were abandoned by a stopped process", abandoned)
    return abandoned


def forecast_options(settings: Settings) -> ForecastOptions:
    """The engine's options for an installation's settings."""
    options = ForecastOptions(horizon=settings.forecast_horizon)
    if settings.forecast_models:
        options = msgspec.structs.replace(options, models=settings.forecast_models)
    return options


def claim(
    database: Database,
    code: str,
    *,
    trigger: Trigger,
    triggered_by: str,
    options: ForecastOptions,
    today: date,
    attempt: int = 1,
    cooldown: timedelta | None = None,
) -> int:
    """Take the authority's lease and record a queued run (LeaseHeldError while another run
    holds it; AlreadyForecastError when a scheduled run forecast this month in the last
    hour; TooSoonError within `cooldown` of the authority's latest run)."""
    with database.writing() as session:
        return claim_run(
            session,
            code,
            trigger=trigger,
            triggered_by=triggered_by,
            holder=new_holder(),
            cutoff=last_complete_month(today),
            horizon=options.horizon,
            models=options.models,
            attempt=attempt,
            done_since=utcnow() - SCHEDULED_ONCE_WITHIN if trigger is Trigger.SCHEDULE else None,
            cooldown=cooldown,
        )


class _Heartbeat:
    """Renews a run's lease in a thread while the run works, so a slow series never lets the
    lease lapse while the process lives, and a dead process stops renewing it."""

    def __init__(self, database: Database, code: str, holder: str) -> None:
        self._database, self._code, self._holder = database, code, holder
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{code}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY.total_seconds()):
            try:
                with self._database.writing() as session:
                    if not renew_lease(session, self._code, self._holder):
                        log.warning("forecast lease of %s was lost", self._code)
                        return
            except Exception:
                log.exception("could not renew the forecast lease of %s", self._code)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing, once any renewal under way has finished (before the run releases
        the lease, so a late renewal never reports it lost)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __exit__(self, *_: object) -> None:
        self.stop()


class _ProgressWriter:
    """The engine's progress callback: writes series done to the run (throttled) and passes
    it on to the caller's callback."""

    def __init__(
        self, database: Database, run_id: int, code: str, total: int, progress: Progress | None
    ) -> None:
        self._database, self._run_id, self._code, self._total = database, run_id, code, total
        self._progress = progress
        self._written_at = 0.0
        self._lock = threading.Lock()
        self._ended = False

    def __call__(self, done: int, total: int | None = None) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress(self._code, done, self._total)
            now = time.monotonic()
            if self._ended or (done < self._total and now - self._written_at < PROGRESS_EVERY_S):
                return
            self._written_at = now
            try:
                with self._database.writing() as session:
                    record_progress(session, self._run_id, done)
            except ConflictError as exc:
                # Recorded stopped (the service stopping) or abandoned meanwhile: said once,
                # and the engine stops its work in hand (a pool's tasks not started never run).
                self._ended = True
                log.warning("%s: its progress is no longer recorded; stopping it", exc.message)
                raise Stopped(exc.message) from None
            except Exception:
                log.exception("could not record the progress of forecast run %s", self._run_id)


def _forecast(
    series: Sequence[MonthlySeries],
    options: ForecastOptions,
    settings: Settings,
    executor: str,
    progress: Callable[[int, int], None],
) -> list[SeriesForecast]:
    # Imported here: the engine pulls in the model libraries, which `serve` should not wait for.
    from forecast import engine

    return engine.forecast_many(
        list(series),
        options,
        executor=executor,  # type: ignore[arg-type]
        workers=settings.forecast_workers,
        dask_address=settings.dask_address,
        progress=progress,
    )


def execute(
    database: Database,
    run_id: int,
    *,
    settings: Settings,
    options: ForecastOptions,
    executor: str | None = None,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
) -> RefreshOutcome:
    """Run a claimed run to the end: build the series, forecast, store. On an error the run
    is recorded failed with it, the lease released, and the error raised again."""
    with database.read_session() as session:
        run = session.get(ForecastRun, run_id)
        if run is None:
            raise LookupError(f"no forecast run {run_id}")
        code, cutoff, holder = run.authority_code, run.cutoff, run.holder or ""
    try:
        with _Heartbeat(database, code, holder) as heartbeat:
            with database.read_session() as session:
                series = series_for_authority(
                    session,
                    code,
                    cutoff,
                    mapping=mapping or load_mapping(settings.placement_mapping),
                )
            with database.writing() as session:
                start_run(session, run_id, len(series))
            writer = _ProgressWriter(database, run_id, code, len(series), progress)
            writer(0)
            forecasts = (
                _forecast(series, options, settings, executor or settings.forecast_executor, writer)
                if series
                else []
            )
            heartbeat.stop()
            with database.writing() as session:
                finish_run(session, run_id, forecasts, series)
                _after_council_run(
                    session, code, mapping=mapping or load_mapping(settings.placement_mapping)
                )
            if progress is not None:
                progress(code, len(series), len(series))
    except Stopped:
        # Recorded stopped or abandoned meanwhile (the progress writer said so): nothing to
        # record, the lease is released with the heartbeat.
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.exception("forecast run %s of %s failed", run_id, code)
        try:
            with database.writing() as session:
                fail_run(session, run_id, error)
        except Exception:
            log.exception("could not record the failure of forecast run %s", run_id)
        raise
    return RefreshOutcome(
        authority_code=code, run_id=run_id, status=RunStatus.SUCCEEDED, series=len(series)
    )


def store_trajectories_after_run(
    database_or_session: Database | Session, authority_code: str, *, mapping: Mapping | None = None
) -> None:
    """Store the council's target trajectories on its newly finished forecast run, so the
    pages serve them without computing them (tracker.targets.stored). A failure is logged and
    leaves the run succeeded: the trajectories are then computed on the next read."""
    today = london_today()
    try:
        if isinstance(database_or_session, Database):
            with database_or_session.writing() as session:
                refresh_trajectories(session, authority_code, today=today, mapping=mapping)
        else:
            with database_or_session.begin_nested():
                refresh_trajectories(
                    database_or_session, authority_code, today=today, mapping=mapping
                )
    except Exception:
        log.exception("could not store the trajectories of %s after its run", authority_code)


def _after_council_run(
    session: Session, authority_code: str, *, mapping: Mapping | None = None
) -> None:
    """What follows a council's stored forecasts, in the transaction that stores them (the
    per-council and the national run both call it): its target trajectories are stored on the
    new run, in a savepoint, so a failure there leaves the run recorded."""
    store_trajectories_after_run(session, authority_code, mapping=mapping)


def _database(target: Database | str) -> tuple[Database, bool]:
    if isinstance(target, Database):
        return target, False
    return Database(target), True


def refresh_forecasts(
    database: Database | str,
    authority_code: str | None = None,
    trigger: Trigger | str = Trigger.SCHEDULE,
    triggered_by: str = "scheduler",
    *,
    settings: Settings | None = None,
    options: ForecastOptions | None = None,
    executor: str | None = None,
    attempt: int = 1,
    today: date | None = None,
    progress: Progress | None = None,
) -> list[RefreshOutcome]:
    """Refresh the forecasts of one authority, or of every authority when none is given (as
    one national batch on the executor: jobs/national_forecast.py).

    Each authority's run takes that authority's lease: when another process holds it, a
    run is recorded "skipped" instead. A failing authority is recorded failed and the others
    go on; the outcomes say which is which.
    """
    db, owned = _database(database)
    settings = settings or Settings(database_url=db.url)
    options = options or forecast_options(settings)
    trigger = Trigger(trigger)
    today = today or london_today()
    mapping = load_mapping(settings.placement_mapping)
    try:
        if authority_code is None:
            from jobs.national_forecast import refresh_all

            return refresh_all(
                db,
                settings=settings,
                options=options,
                executor=executor,
                trigger=trigger,
                triggered_by=triggered_by,
                attempt=attempt,
                today=today,
                mapping=mapping,
                progress=progress,
            )
        code = authority_code
        try:
            run_id = claim(
                db,
                code,
                trigger=trigger,
                triggered_by=triggered_by,
                options=options,
                today=today,
                attempt=attempt,
            )
        except (LeaseHeldError, AlreadyForecastError) as exc:
            return [_skipped(db, code, exc, trigger, triggered_by, options, today)]
        try:
            return [
                execute(
                    db,
                    run_id,
                    settings=settings,
                    options=options,
                    executor=executor,
                    mapping=mapping,
                    progress=progress,
                )
            ]
        except Exception as exc:
            return [
                RefreshOutcome(
                    authority_code=code,
                    run_id=run_id,
                    status=RunStatus.FAILED,
                    error=f"{type(exc).__name__}: {exc}",
                )
            ]
    finally:
        if owned:
            db.dispose()


def _skipped(
    database: Database,
    code: str,
    exc: ConflictError,
    trigger: Trigger,
    triggered_by: str,
    options: ForecastOptions,
    today: date,
) -> RefreshOutcome:
    reason = exc.message
    if isinstance(exc, LeaseHeldError):
        reason = f"{SKIPPED_HELD} (run {exc.run_id})"
    log.info("forecast refresh of %s %s", code, reason)
    with database.writing() as session:
        run_id = record_skipped(
            session,
            code,
            trigger=trigger,
            triggered_by=triggered_by,
            cutoff=last_complete_month(today),
            horizon=options.horizon,
            models=options.models,
            reason=reason,
        )
    return RefreshOutcome(
        authority_code=code, run_id=run_id, status=RunStatus.SKIPPED, error=reason
    )


def start_in_background(
    database: Database,
    code: str,
    *,
    trigger: Trigger,
    triggered_by: str,
    settings: Settings,
    options: ForecastOptions | None = None,
    today: date | None = None,
) -> int:
    """Claim a run now (LeaseHeldError while one is under way; for a run started through
    the API, TooSoonError within FOSTERING_FORECAST_COOLDOWN_S of the authority's latest run)
    and run it in a thread; returns the run's id at once."""
    options = options or forecast_options(settings)
    cooldown = settings.forecast_cooldown_s if trigger is Trigger.API else 0
    run_id = claim(
        database,
        code,
        trigger=trigger,
        triggered_by=triggered_by,
        options=options,
        today=today or london_today(),
        cooldown=timedelta(seconds=cooldown) if cooldown > 0 else None,
    )

    def work() -> None:
        # A failure is logged and recorded on the run by `execute`; nothing else to do here.
        try:
            with contextlib.suppress(Exception):
                execute(database, run_id, settings=settings, options=options)
        finally:
            _background.discard(threading.current_thread())

    thread = threading.Thread(target=work, name=f"forecast-run-{run_id}", daemon=True)
    _background.add(thread)
    thread.start()
    return run_id


_background: set[threading.Thread] = set()
"""Runs started by `start_in_background` in this process and not yet ended."""


def wait_for_background_runs(timeout_s: float) -> list[str]:
    """Give this process's background runs up to `timeout_s` in all to end (after
    `stop_runs_here`, a run ends at its next write: its run is no longer under way), so
    nothing writes after the service has let its database go; the names of any still going."""
    deadline = time.monotonic() + timeout_s
    for thread in list(_background):
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in _background if t.is_alive()]
