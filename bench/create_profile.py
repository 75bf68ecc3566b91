#!/usr/bin/env python
"""Where one enquiry create's time goes, in process, on an existing SQLite database.

    .venv/bin/python bench/create_profile.py sqlite:////tmp/copy.db --authority E10000012
        [--requests 200] [--threads 1] [--plans] [--pragma wal_autocheckpoint=0 ...]

Writes to the database (the enquiries it creates and a token): give it a copy. Builds the
app in process (Litestar's TestClient, scheduler off), issues a recruiter token for the
council and sends `--requests` creates from `--threads` client threads. Prints each SQL
statement of a create with its mean milliseconds (SQLAlchemy cursor events: the statement's
own time, waits for SQLite's write lock included), with --plans its EXPLAIN QUERY PLAN, and
the median wall and CPU milliseconds of a create, and creates a second overall; also how long
each write held the process's write gate (tracker.core.write_gate) and each COMMIT took, and
the share of them over 20 ms (WAL checkpoints, waits for the GIL). --pragma runs a PRAGMA on
every connection (to try cache_size, mmap_size or wal_autocheckpoint).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
# bench/ holds api.py and forecast.py: the project's packages of those names come first.
sys.path[:] = [str(BENCH.parent)] + [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from sqlalchemy import event  # noqa: E402

from tracker.core import write_gate  # noqa: E402
from tracker.core.access import Role, issue_token  # noqa: E402
from tracker.core.db import Database  # noqa: E402
from tracker.core.settings import Settings  # noqa: E402
from tracker.enquiries.timeliness import london_today  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--authority", default="E10000012")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plans", action="store_true", help="EXPLAIN QUERY PLAN of each")
    parser.add_argument(
        "--pragma", action="append", default=[], help="e.g. cache_size=-65536, on each connection"
    )
    args = parser.parse_args()

    import logging

    from litestar.testing import TestClient

    from api.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    database = Database(args.database_url)

    @event.listens_for(database.engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        for pragma in args.pragma:
            dbapi_connection.execute(f"PRAGMA {pragma}")

    with database.writing() as session:
        secret = issue_token(
            session, role=Role.RECRUITER, name="create-profile", authority_code=args.authority
        ).secret
    seconds: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    local = threading.local()
    params: dict[str, Any] = {}

    @event.listens_for(database.engine, "before_cursor_execute")
    def _began(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        local.began = time.perf_counter()

    @event.listens_for(database.engine, "after_cursor_execute")
    def _ended(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        key = " ".join(statement.split())
        seconds[key] += time.perf_counter() - local.began
        counts[key] += 1
        params.setdefault(key, parameters)

    holds: list[float] = []
    commits: list[float] = []
    _hold, _commit = write_gate.GatedConnection.hold, write_gate.GatedConnection.commit

    def hold(self: Any, gate: Any, timeout_s: float) -> bool:
        took = _hold(self, gate, timeout_s)
        self.held_at = time.perf_counter()
        return took

    def commit(self: Any) -> None:
        began = time.perf_counter()
        held_at = getattr(self, "held_at", None)
        _commit(self)
        ended = time.perf_counter()
        commits.append((ended - began) * 1000)
        if held_at is not None:
            holds.append((ended - held_at) * 1000)
            self.held_at = None

    write_gate.GatedConnection.hold = hold  # type: ignore[method-assign]
    write_gate.GatedConnection.commit = commit  # type: ignore[method-assign]

    settings = Settings(
        database_url=args.database_url,
        scheduler_enabled=False,
        log_level="WARNING",
        requests_per_minute=0,
        expensive_requests_per_minute=0,
    )
    app = create_app(settings, database)
    today = london_today()
    path = f"/api/v1/authorities/{args.authority}/enquiries"
    headers = {"Authorization": f"Bearer {secret}"}

    def body(i: int) -> dict[str, Any]:
        return {
            "received_on": today.isoformat(),
            "channel": ("phone", "web_form", "email")[i % 3],
            "enquirer_name": f"Profile Enquirer {i}",
            "email": f"profile.{i}@example.org",
            "campaign": "bench-campaign",
            "interests": ["undecided"],
            "note": "Logged by bench/create_profile.py",
        }

    with TestClient(app) as client:
        client.post(path, headers=headers, json=body(0)).raise_for_status()
        seconds.clear()
        counts.clear()
        walls: list[float] = []

        def one(i: int) -> float:
            began = time.perf_counter()
            response = client.post(path, headers=headers, json=body(i))
            if response.status_code != 201:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
            return (time.perf_counter() - began) * 1000

        began, began_cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(args.threads) as pool:
            walls = list(pool.map(one, range(1, args.requests + 1)))
        elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    n = args.requests
    print(f"{n} creates from {args.threads} threads on {args.database_url}")
    print(
        f"wall ms p50 {statistics.median(walls):.2f}  mean {statistics.fmean(walls):.2f}  "
        f"CPU ms/create {cpu * 1000 / n:.2f}  creates/s {n / elapsed:.1f}"
    )
    print(f"statements per create {sum(counts.values()) / n:.2f}")
    for name, values in (("write gate held", holds), ("COMMIT", commits)):
        if values:
            slow = [v for v in values if v > 20]
            print(f"{name} ms: {len(slow)} over 20 ms, {sum(slow) / n:.2f} ms a create in them")
            print(
                f"{name} ms: p50 {statistics.median(values):.2f}  "
                f"p99 {sorted(values)[int(len(values) * 0.99) - 1]:.2f}  "
                f"mean {statistics.fmean(values):.2f}  max {max(values):.2f}"
            )
    for statement, total in seconds.most_common():
        print(
            f"  {total * 1000 / counts[statement]:8.3f} ms x{counts[statement] / n:.2f}  "
            f"{statement[:150]}"
        )
    if args.plans:
        raw = database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement in seconds:
                if statement.split()[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"}:
                    continue
                plan = cursor.execute(f"EXPLAIN QUERY PLAN {statement}", params[statement])
                print(f"\n{statement[:150]}")
                for row in plan.fetchall():
                    print(f"    {row[-1]}")
            raw.rollback()
        finally:
            raw.close()
    database.dispose()


if __name__ == "__main__":
    main()
