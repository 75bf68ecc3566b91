"""The APScheduler 3 scheduler that refreshes forecasts on a schedule, erases applicants'
personal data past its retention period each night, deletes expired uploads and stored
responses every 15 minutes, and stores each new month of the prepared register figures just
after midnight, in `fostering serve` or in a separate `fostering worker` process.

Jobs live in the database (`SQLAlchemyJobStore`, table `apscheduler_jobs`), so the schedule
and its next run time survive restarts. Every process that starts a scheduler would run a due
job; the authority's lease in the database (`tracker.forecasting.lease`) lets one run through and
records the others as skipped.

Misfires: a run missed while every process was down runs once when one starts again
(`coalesce=True` folds any number of missed runs into one). `misfire_grace_time` is 31 days,
the longest gap between two monthly runs, so however long the outage the latest missed run
is still in its grace period; it stays finite so that a stored run time from a much older
schedule is not run in place of the current one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from jobs.forecast_refresh import recover_runs, refresh_forecasts
from jobs.retention import Purge, run_purge, run_retention
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.core.monthly_upkeep import extend_to_month
from tracker.core.settings import Settings
from tracker.enquiries.retention import AfterErasure
from tracker.enquiries.timeliness import london_today
from tracker.forecasting.tables import RunStatus, Trigger

log = logging.getLogger("fostering.jobs")

TIMEZONE = ZoneInfo("Europe/London")
JOBSTORE_TABLE = "apscheduler_jobs"
SCHEDULE_JOB_ID = "forecast-refresh"
RETENTION_JOB_ID = "enquiry-retention"
PREPARED_JOB_ID = "prepared-months"
PREPARED_SCHEDULE = "5 0 * * *"
"""Daily at 00:05 Europe/London: a new month is prepared within minutes of starting."""
PURGE_JOB_ID = "expired-purge"
PURGE_SCHEDULE = "*/15 * * * *"
"""Every 15 minutes: an upload waiting for its confirmation is kept an hour, so at most 1h15."""
MISFIRE_GRACE_S = 31 * 24 * 3600
# A failed scheduled run is tried again after these delays (attempts 2, 3 and 4).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=45),
)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S}


@dataclass(frozen=True)
class _Runtime:
    """What scheduled jobs run against: job arguments are pickled into the job store, so
    they name an authority and an attempt, never a database or its credentials."""

    settings: Settings
    database: Database
    scheduler: BackgroundScheduler
    after_erasure: AfterErasure | None = None
    purge: Purge | None = None


_runtime: _Runtime | None = None


def retry_job_id(authority_code: str) -> str:
    """The id of the pending retry of an authority's scheduled run."""
    return f"forecast-retry:{authority_code}"


def _current_runtime() -> _Runtime:
    if _runtime is None:
        raise RuntimeError("no scheduler runtime in this process: use start_scheduler")
    return _runtime


def scheduled_refresh(authority_code: str | None = None, attempt: int = 1) -> None:
    """The scheduled job: refresh forecasts and schedule a retry for each authority that
    failed, after 5, 15 and 45 minutes, at most three times."""
    runtime = _current_runtime()
    outcomes = refresh_forecasts(
        runtime.database,
        authority_code,
        Trigger.SCHEDULE,
        "scheduler" if attempt == 1 else f"scheduler (attempt {attempt})",
        settings=runtime.settings,
        attempt=attempt,
    )
    for outcome in outcomes:
        if outcome.status is RunStatus.FAILED:
            schedule_retry(runtime.scheduler, outcome.authority_code, attempt)


def scheduled_retention() -> None:
    """The nightly job: erase the personal data of enquiries past the retention period."""
    runtime = _current_runtime()
    run_retention(
        runtime.database,
        london_today(),
        runtime.settings.retention_years,
        after_erasure=runtime.after_erasure,
    )


def scheduled_purge() -> None:
    """The job every 15 minutes: delete the expired rows kept only for a while."""
    runtime = _current_runtime()
    if runtime.purge is not None:
        run_purge(runtime.database, runtime.purge, utcnow())


def scheduled_prepared_months() -> None:
    """The daily job: store the prepared register months up to today's for built councils
    with no write this month yet (tracker.core.monthly_upkeep.extend_to_month)."""
    runtime = _current_runtime()
    extended = extend_to_month(runtime.database, london_today())
    if extended:
        log.info("prepared months stored up to today for %d councils", len(extended))


def schedule_retry(
    scheduler: BackgroundScheduler, authority_code: str, attempt: int
) -> datetime | None:
    """Schedule attempt `attempt + 1` of an authority's run after its back-off delay; None
    (and nothing scheduled) once the retries are used up."""
    if attempt > len(RETRY_DELAYS):
        log.error(
            "forecast refresh of %s failed %d times; no more retries", authority_code, attempt
        )
        return None
    run_date = utcnow() + RETRY_DELAYS[attempt - 1]
    scheduler.add_job(
        scheduled_refresh,
        trigger=DateTrigger(run_date),
        args=(authority_code, attempt + 1),
        id=retry_job_id(authority_code),
        name=f"forecast refresh retry {attempt + 1} of {authority_code}",
        replace_existing=True,
        **JOB_DEFAULTS,
    )
    log.warning(
        "forecast refresh of %s failed (attempt %d); retrying at %s",
        authority_code,
        attempt,
        run_date,
    )
    return run_date


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    """A scheduler whose jobs persist in the installation's database (not yet started).

    The job store gets a database handle of its own: the scheduler disposes of it when it
    shuts down, which must not close the application's pool.
    """
    store = SQLAlchemyJobStore(
        engine=Database.from_settings(settings).engine, tablename=JOBSTORE_TABLE
    )
    return BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": {"type": "threadpool", "max_workers": 2}},
        job_defaults=JOB_DEFAULTS,
        timezone=TIMEZONE,
    )


def schedule_trigger(settings: Settings) -> CronTrigger:
    """The refresh schedule: a crontab expression read in Europe/London time."""
    return CronTrigger.from_crontab(settings.forecast_schedule, timezone=TIMEZONE)


def _unchanged(stored: Job, trigger: CronTrigger, func: Callable[[], None]) -> bool:
    """True when the stored job is the one this code would add."""
    return (
        isinstance(stored.trigger, CronTrigger)
        and str(stored.trigger) == str(trigger)
        and str(stored.trigger.timezone) == str(trigger.timezone)
        and stored.func_ref == f"{__name__}:{func.__name__}"
        and tuple(stored.args) == ()
        and stored.coalesce == JOB_DEFAULTS["coalesce"]
        and stored.max_instances == JOB_DEFAULTS["max_instances"]
        and stored.misfire_grace_time == JOB_DEFAULTS["misfire_grace_time"]
    )


def ensure_schedule(scheduler: BackgroundScheduler, settings: Settings) -> Job:
    """Add the refresh job under its fixed id, or leave the stored one as it is.

    A stored job with the same schedule keeps its stored next run time: replacing it would
    recompute that time from now and lose a run missed while the service was down (and a
    second process starting would move it under the feet of the first). A changed schedule
    replaces the job.
    """
    return _ensure_job(
        scheduler,
        SCHEDULE_JOB_ID,
        scheduled_refresh,
        schedule_trigger(settings),
        "forecast refresh",
    )


def ensure_retention(scheduler: BackgroundScheduler, settings: Settings) -> Job | None:
    """Add the nightly retention job as `ensure_schedule` adds the refresh (kept as stored
    while unchanged); with FOSTERING_RETENTION_YEARS=0 there is none."""
    if settings.retention_years <= 0:
        if scheduler.get_job(RETENTION_JOB_ID) is not None:
            scheduler.remove_job(RETENTION_JOB_ID)
        return None
    trigger = CronTrigger.from_crontab(settings.retention_schedule, timezone=TIMEZONE)
    return _ensure_job(
        scheduler, RETENTION_JOB_ID, scheduled_retention, trigger, "enquiry retention"
    )


def ensure_prepared_months(scheduler: BackgroundScheduler) -> Job:
    """Add the daily job that stores each new month of the prepared register figures."""
    trigger = CronTrigger.from_crontab(PREPARED_SCHEDULE, timezone=TIMEZONE)
    return _ensure_job(
        scheduler, PREPARED_JOB_ID, scheduled_prepared_months, trigger, "prepared months"
    )


def ensure_purge(scheduler: BackgroundScheduler, purge: Purge | None) -> Job | None:
    """Add the purge job (kept as stored while unchanged); none without a purge to run."""
    if purge is None:
        if scheduler.get_job(PURGE_JOB_ID) is not None:
            scheduler.remove_job(PURGE_JOB_ID)
        return None
    trigger = CronTrigger.from_crontab(PURGE_SCHEDULE, timezone=TIMEZONE)
    return _ensure_job(scheduler, PURGE_JOB_ID, scheduled_purge, trigger, "expired purge")


def _ensure_job(
    scheduler: BackgroundScheduler,
    job_id: str,
    func: Callable[[], None],
    trigger: CronTrigger,
    name: str,
) -> Job:
    stored = scheduler.get_job(job_id)
    if stored is not None and _unchanged(stored, trigger, func):
        return stored
    return scheduler.add_job(
        func, trigger=trigger, id=job_id, name=name, replace_existing=True, **JOB_DEFAULTS
    )


def start_scheduler(
    settings: Settings,
    database: Database | None = None,
    *,
    after_erasure: AfterErasure | None = None,
    purge: Purge | None = None,
) -> BackgroundScheduler:
    """Mark runs abandoned by a stopped process, then start the scheduler with the refresh,
    retention, purge and prepared-months jobs in place (a run missed while down is due at
    once and runs once).
    `after_erasure` is called for each enquiry the retention job erases (the API's stored
    responses and waiting uploads forget it); `purge` is what the purge job runs (the API's
    expired rows), and without it there is no purge job."""
    global _runtime
    database = database or Database.from_settings(settings)
    recover_runs(database)
    scheduler = build_scheduler(settings)
    _runtime = _Runtime(
        settings=settings,
        database=database,
        scheduler=scheduler,
        after_erasure=after_erasure,
        purge=purge,
    )
    scheduler.start(paused=True)
    job = ensure_schedule(scheduler, settings)
    ensure_retention(scheduler, settings)
    ensure_purge(scheduler, purge)
    ensure_prepared_months(scheduler)
    scheduler.resume()
    log.info(
        "forecast schedule %r (Europe/London); next run %s",
        settings.forecast_schedule,
        job.next_run_time,
    )
    return scheduler


def shutdown_scheduler(scheduler: BackgroundScheduler, *, wait: bool = False) -> None:
    """Stop the scheduler (a run under way finishes in its thread unless the process ends;
    if it ends, the run's lease lapses and the next run marks it abandoned)."""
    global _runtime
    if scheduler.running:
        scheduler.shutdown(wait=wait)
    if _runtime is not None and _runtime.scheduler is scheduler:
        _runtime = None
