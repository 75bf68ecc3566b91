"""Running the service: serve, the forecast worker, and the database (migrate, back up, restore)."""

from __future__ import annotations

import gc
import logging
import signal
import socket
import sys
from pathlib import Path

import click

from api.cli.base import console, fail, main, open_database
from tracker.core import schema
from tracker.core.db import Database
from tracker.core.errors import DomainError
from tracker.core.monthly_upkeep import rebuild_councils
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today

WORKER_LOG_FORMAT = "%(levelname)s - %(asctime)s - %(name)s - %(module)s - %(message)s"


def _check_free(host: str, port: int) -> None:
    """Exit with a hint when another program already listens on the address (uvicorn would
    only print the socket error)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(
                f"cannot listen on {host}:{port} ({exc.strerror}): another program (another "
                f"fostering serve?) is using it. Stop it, or choose another port: "
                f"FOSTERING_PORT={port + 1} make run, or fostering serve --port {port + 1}"
            )


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8000).")
@click.option(
    "--workers", type=click.IntRange(1, 256), default=1, show_default=True, help="Server processes."
)
@click.option("--access-log/--no-access-log", default=True, show_default=True)
def serve(host: str | None, port: int | None, workers: int, access_log: bool) -> None:
    """Apply migrations, then serve the API (docs at /schema, health at /health)."""
    import uvicorn

    from api.access_log import log_config

    settings = Settings.from_env()
    host, port = host or settings.host, port or settings.port
    _check_free(host, port)
    database = Database.from_settings(settings)
    schema.upgrade(database)
    rebuild_councils(database, london_today(), missing=True)
    database.dispose()
    # On SIGTERM uvicorn stops taking connections, lets requests in flight finish, runs the
    # shutdown hooks, then raises the signal again with this handler back in place: a stop
    # asked for by the service manager that went to plan ends with status 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The modules and tables loaded so far live as long as the process: moving them out of
    # the collector's reach makes every later collection cheaper (about a quarter of the
    # CPU of a funnel request in bench/ab.py).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_config=log_config(),
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=20,
        # The client address (what failed authentications are counted against) comes from
        # X-Forwarded-For only when a configured proxy sent it: uvicorn would otherwise
        # believe any local client's header.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
    )


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    database = open_database()
    schema.upgrade(database)
    built = rebuild_councils(database, london_today(), missing=True)
    if built:
        console.print(f"prepared figures built for {len(built)} councils")
    console.print(
        f"schema is current on {database.engine.url.render_as_string(hide_password=True)}"
    )


@db.command("backup")
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(force: bool, path: Path) -> None:
    """Copy the SQLite database to PATH while the service runs (SQLite's online backup;
    for PostgreSQL use pg_dump, see the README)."""
    from tracker.core.backup import backup

    try:
        report = backup(Settings.from_env().database_url, path, overwrite=force)
    except DomainError as exc:
        fail(exc.message)
    console.print(
        f"backed up {report.source} to {report.target}: {report.bytes:,} bytes, "
        f"{report.tables} tables, {report.rows:,} rows, schema revision {report.revision}",
        markup=False,
    )


@db.command("restore")
@click.option(
    "--force", is_flag=True, help="Restore even though another process has the database open."
)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def db_restore(force: bool, path: Path) -> None:
    """Replace the SQLite database with the backup at PATH, then migrate it to the current
    schema (stop the service first)."""
    from tracker.core.backup import restore

    try:
        report = restore(Settings.from_env().database_url, path, force=force)
    except DomainError as exc:
        fail(exc.message)
    console.print(
        f"restored {report.source} (schema revision {report.revision}) into {report.target}: "
        f"{report.tables} tables, {report.rows:,} rows; schema now at {report.migrated_to}",
        markup=False,
    )
    if report.kept:
        console.print(
            f"the database it replaced is kept at {report.kept} (delete it once not needed)",
            markup=False,
        )


@main.command()
def worker() -> None:
    """Run only the forecast scheduler (for deployments that set
    FOSTERING_SCHEDULER_ENABLED=false on the API processes); stops on Ctrl-C or SIGTERM."""
    import signal
    import threading

    from api.housekeeping import forget_erased, purge_expired
    from jobs.scheduler import SCHEDULE_JOB_ID, shutdown_scheduler, start_scheduler

    settings = Settings.from_env()
    # What the jobs log (runs, retries, erasures, failures) at FOSTERING_LOG_LEVEL, in the
    # format `fostering serve` uses (Litestar's): without it only warnings reached stderr.
    logging.basicConfig(level=settings.log_level, format=WORKER_LOG_FORMAT)
    database = Database.from_settings(settings)
    schema.upgrade(database)
    scheduler = start_scheduler(
        settings, database, after_erasure=forget_erased, purge=purge_expired
    )
    job = scheduler.get_job(SCHEDULE_JOB_ID)
    console.print(
        f"forecast worker: schedule {settings.forecast_schedule!r} (Europe/London), "
        f"next run {job.next_run_time if job else 'none'}"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print("forecast worker: running (stop with Ctrl-C or SIGTERM)")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    console.print("forecast worker: stopping")
    shutdown_scheduler(scheduler, wait=True)
    database.dispose()
    console.print("forecast worker: stopped")
