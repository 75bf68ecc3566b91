"""SIGKILL in the middle of an import and of a forecast run, on SQLite and PostgreSQL: nothing
of the import is stored, a re-run succeeds, no run stays 'running', the schedule is intact.

An import is interrupted once it is writing: the process is frozen (SIGSTOP) once its
transaction has written (SQLite: it holds the write lock and its uncommitted pages are
spilling into the WAL; PostgreSQL: its transaction has an id and is inserting enquiries),
checked to be still uncommitted, then killed (SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import func, select, text

from api.cli.base import main
from demo.generate import generate_demo
from jobs.scheduler import JOBSTORE_TABLE, SCHEDULE_JOB_ID
from tests.conftest import STOKE, bearer
from tests.live_server import FOSTERING, ServeProcess, server_env
from tracker.core.db import Database
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.enquiries.timeliness import london_today
from tracker.forecasting.tables import ForecastRun, RunLease

TODAY = london_today()
# SQLite needs enough wide rows to fill its page cache, so that the uncommitted write spills
# into the WAL well before the commit; PostgreSQL shows a writing transaction at once.
SQLITE_ROWS, PG_ROWS = 3000, 1000
WAL_GROWTH = 64 * 1024


def rows_for(db: Database) -> int:
    return SQLITE_ROWS if db.is_sqlite else PG_ROWS


def import_file(path: Path, rows: int) -> Path:
    """An enquiry spreadsheet with wide rows (so SQLite spills pages early in the write)."""
    lines = ["external_ref,received_on,channel,enquirer_name,email,campaign"]
    for i in range(rows):
        received = (TODAY - timedelta(days=30 + i % 700)).isoformat()
        lines.append(
            f"CRASH-{i:06d}-{'r' * 48},{received},phone,Person {i} {'n' * 170},"
            f"{'e' * 180}{i}@example.org,Campaign {i % 7} {'c' * 60}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def imported(db: Database) -> int:
    with db.read_session() as session:
        query = select(func.count()).where(Enquiry.external_ref.like("CRASH-%"))  # type: ignore[union-attr]
        return session.scalar(query.select_from(Enquiry)) or 0


def sqlite_file(db: Database) -> Path:
    return Path(db.engine.url.database or "")


def sqlite_locked(path: Path) -> bool:
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()
    return False


def wal_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def pg_writer(db: Database) -> int | None:
    """The backend whose open transaction is inserting enquiries, if any."""
    with db.engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
                "AND query ILIKE 'INSERT INTO enquiry %'"
            )
        ).scalar()


def pg_open(db: Database, backend: int) -> bool:
    with db.engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid "
                    "AND backend_xid IS NOT NULL"
                ),
                {"pid": backend},
            ).scalar()
        )


def wait_until_writing(
    alive: Callable[[], bool], db: Database, timeout: float = 120.0
) -> int | None:
    """Wait until an import's transaction has written (see the module docstring); the
    PostgreSQL backend serving it (None on SQLite). AssertionError if the process that runs
    it ends first or nothing is written within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    base: int | None = None
    while True:
        assert alive(), "the import finished before it was seen writing: use a bigger file"
        assert time.monotonic() < deadline, "the import never started writing"
        if db.is_sqlite:
            path = sqlite_file(db)
            if sqlite_locked(path):
                base = wal_size(path) if base is None else base
                if wal_size(path) > base + WAL_GROWTH:
                    return None
            else:
                base = None
        elif (backend := pg_writer(db)) is not None:
            return backend
        time.sleep(0.01)


def kill_mid_write(pid: int, alive: Callable[[], bool], db: Database) -> None:
    """Freeze the process once its import transaction has written, check that the
    transaction is still open (uncommitted), then SIGKILL it."""
    backend = wait_until_writing(alive, db)
    os.kill(pid, signal.SIGSTOP)
    try:
        if db.is_sqlite:
            assert sqlite_locked(sqlite_file(db)), "the import committed before it was frozen"
        else:
            assert backend is not None and pg_open(db, backend), "the import committed first"
        assert imported(db) == 0  # what it wrote is not visible: not committed
    finally:
        os.kill(pid, signal.SIGKILL)
        os.kill(pid, signal.SIGCONT)
    if backend is not None:  # PostgreSQL rolls the dead client's transaction back
        for _ in range(500):
            with db.engine.connect() as conn:
                gone = not conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": backend},
                ).scalar()
            if gone:
                break
            time.sleep(0.01)


def test_a_killed_cli_import_stores_nothing_and_a_rerun_succeeds(authorities, tmp_path):
    db = authorities
    rows = rows_for(db)
    source = import_file(tmp_path / "enquiries.csv", rows)
    checkpoint(db)
    process = subprocess.Popen(
        [str(FOSTERING), "import", "enquiries", "--authority", STOKE, str(source)],
        env=server_env(db.url),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        kill_mid_write(process.pid, lambda: process.poll() is None, db)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == -signal.SIGKILL
    assert "created" not in output
    assert imported(db) == 0
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(EnquiryEvent)) == 0
    if db.is_sqlite:
        with sqlite3.connect(sqlite_file(db)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    again = CliRunner().invoke(
        main,
        ["import", "enquiries", "--authority", STOKE, str(source)],
        env={"DATABASE_URL": db.url},
        catch_exceptions=False,
    )
    assert again.exit_code == 0, again.output
    assert f"{rows} rows: {rows} created" in again.output
    assert imported(db) == rows


def schedule_job(db: Database) -> tuple[str, float] | None:
    with db.engine.connect() as conn:
        row = conn.execute(
            text(f"SELECT id, next_run_time FROM {JOBSTORE_TABLE} WHERE id = :id"),
            {"id": SCHEDULE_JOB_ID},
        ).first()
    return (row[0], float(row[1])) if row else None


def upload(url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/authorities/{STOKE}/enquiries/import",
        content=body,
        headers={**headers, "Content-Type": "text/csv"},
        timeout=120,
    )


def checkpoint(db: Database) -> None:
    """Empty SQLite's WAL, so that an import's first spilled pages show as growth."""
    if db.is_sqlite:
        with db.engine.connect() as conn:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        assert busy is not None and busy[0] == 0


def test_killing_the_service_mid_forecast_and_mid_upload_then_restarting(
    tokens, authorities, tmp_path
):
    """SIGKILL `fostering serve` while a forecast run and an upload to the import endpoint
    are both under way, then start it again."""
    db = authorities
    with db.writing() as session:
        generate_demo(session, today=TODAY, authorities=[STOKE], years=2, seed=7)
    checkpoint(db)
    # AutoARIMA, the slowest model, keeps the run going long enough to be killed mid-way.
    env = server_env(
        db.url, scheduler_enabled="true", forecast_models="seasonal_naive,drift,ets,arima"
    )
    manager = bearer(tokens["manager_stoke"])
    runs = f"/api/v1/authorities/{STOKE}/forecasts/runs"
    rows = rows_for(db)
    body = import_file(tmp_path / "upload.csv", rows).read_bytes()

    first = ServeProcess(env, tmp_path, tmp_path / "serve-1.log").start()
    try:
        schedule = schedule_job(db)
        assert schedule is not None  # the scheduler stored its job
        started = httpx.post(first.url + runs, headers=manager, timeout=30)
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        deadline = time.monotonic() + 60
        while True:
            run = httpx.get(f"{first.url}{runs}/{run_id}", headers=manager, timeout=30).json()
            if run["run"]["status"] == "running" and run["run"]["series_done"] >= 1:
                break
            assert run["run"]["status"] in ("queued", "running"), run
            assert time.monotonic() < deadline, run
            time.sleep(0.05)

        answer: dict[str, object] = {}

        def send() -> None:
            try:
                answer["response"] = upload(first.url, manager, body)
            except httpx.HTTPError as exc:
                answer["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        kill_mid_write(first.proc.pid, lambda: first.proc.poll() is None, db)  # type: ignore[union-attr]
        sender.join(timeout=30)
        assert "error" in answer and "response" not in answer  # the client got no answer
    finally:
        first.kill()
    assert imported(db) == 0

    second = ServeProcess(env, tmp_path, tmp_path / "serve-2.log").start()
    try:
        run = httpx.get(f"{second.url}{runs}/{run_id}", headers=manager, timeout=30).json()
        assert run["run"]["status"] == "failed", run["run"]
        assert "abandoned" in (run["run"]["error"] or "")
        with db.read_session() as session:
            lease = session.get(RunLease, STOKE)
            assert lease is None or lease.holder is None  # the next run may start at once
            assert set(session.scalars(select(ForecastRun.status))) == {"failed"}
        assert schedule_job(db) == schedule  # the schedule and its next run time survived
        assert imported(db) == 0  # (the CLI test above shows a re-run storing it all)
        health = httpx.get(f"{second.url}/health", timeout=30)
        assert health.status_code == 200 and health.json()["schema"] == "current"
    finally:
        second.stop()
