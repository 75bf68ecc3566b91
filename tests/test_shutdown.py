"""SIGTERM to `fostering serve`: the request in flight finishes, the scheduler stops cleanly,
the process exits 0, and a forecast run it held is recorded as stopped (SQLite and
PostgreSQL)."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import STOKE, bearer
from tests.live_server import ServeProcess, server_env
from tests.test_crash_safety import (
    PG_ROWS,
    import_file,
    imported,
    pg_writer,
    schedule_job,
    sqlite_file,
    sqlite_locked,
    upload,
)
from tracker.core.db import Database
from tracker.enquiries.timeliness import london_today
from tracker.forecasting.lease import claim_run
from tracker.forecasting.tables import ForecastRun, RunLease, Trigger

EXIT_WITHIN_S = 30


def wait_until_in_transaction(
    alive: Callable[[], bool], db: Database, timeout: float = 60.0
) -> None:
    """Wait until the import's transaction is open (SQLite: the write lock is held; the
    scheduler is idle, so nothing else writes; PostgreSQL: it is inserting enquiries)."""
    deadline = time.monotonic() + timeout
    while not (sqlite_locked(sqlite_file(db)) if db.is_sqlite else pg_writer(db)):
        assert alive(), "the upload was answered before the signal could be sent"
        assert time.monotonic() < deadline, "the upload never reached the database"
        time.sleep(0.01)


def test_sigterm_lets_the_request_in_flight_finish_and_stops_cleanly(tokens, authorities, tmp_path):
    db = authorities
    rows = PG_ROWS
    body = import_file(tmp_path / "upload.csv", rows).read_bytes()
    manager = bearer(tokens["manager_stoke"])
    server = ServeProcess(
        server_env(db.url, scheduler_enabled="true"), tmp_path, tmp_path / "serve.log"
    ).start()
    assert server.proc is not None
    try:
        schedule = schedule_job(db)
        assert schedule is not None
        # A run this server process holds, as one it started would be (its lease names it).
        with db.writing() as session:
            run_id = claim_run(
                session,
                STOKE,
                trigger=Trigger.API,
                triggered_by="test",
                holder=f"{socket.gethostname()[:80]}:{server.proc.pid}:test",
                cutoff=london_today(),
                horizon=12,
                models=("ets",),
            )

        answer: dict[str, object] = {}

        def send() -> None:
            try:
                answer["response"] = upload(server.url, manager, body)
            except httpx.HTTPError as exc:
                answer["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        wait_until_in_transaction(lambda: sender.is_alive(), db)
        server.signal(signal.SIGTERM)
        signalled = time.monotonic()
        try:
            code = server.proc.wait(timeout=EXIT_WITHIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {EXIT_WITHIN_S} s after SIGTERM:\n{server.log()[-3000:]}")
        took = time.monotonic() - signalled
        sender.join(timeout=30)
    finally:
        server.kill()
    log = server.log()
    assert code == 0, log[-3000:]
    # The upload under way when the signal came was answered, and all of it is stored.
    assert "error" not in answer, answer
    response = answer["response"]
    assert isinstance(response, httpx.Response) and response.status_code == 200, response
    assert response.json()["created"] == rows and imported(db) == rows
    # The scheduler stopped cleanly and its schedule is kept for the next start.
    assert "Scheduler has been shut down" in log and "Application shutdown complete" in log
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    assert schedule_job(db) == schedule
    # The run the process held is recorded as stopped and its lease released.
    with db.read_session() as session:
        run = session.get(ForecastRun, run_id)
        assert run is not None and run.status == "failed" and "abandoned" in (run.error or "")
        assert set(session.scalars(select(RunLease.holder))) == {None}
    print(f"\n{db.engine.dialect.name}: exited {took:.1f} s after SIGTERM")
