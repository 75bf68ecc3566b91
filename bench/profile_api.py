#!/usr/bin/env python
"""Where an API request's time goes: SQL statements per request, timings, optional profiles.

    .venv/bin/python bench/profile_api.py [--backend sqlite] [--requests 20]
                                          [--endpoints funnel,capacity,...] [--profile]
                                          [--keep /tmp/fostering-profile]

Loads the benchmark's data set (bench/preload.py: the 14 West Midlands authorities, ten
years of enquiries, E06000021 topped up to 4000) into a fresh database, or reuses the one
kept by an earlier run with --keep (a SQLite file in that folder; for PostgreSQL the
database named in it), builds the app in process (Litestar's TestClient, scheduler off) and
sends each endpoint of bench/api.py --requests times. For each it prints the SQL statements
one request runs (counted by a SQLAlchemy `before_cursor_execute` listener, with the most
repeated statement, which is how an N+1 shows), and the median milliseconds a request takes,
in wall time and in CPU time of this process (client and server threads: requests go one at
a time, so this is the request's own work, and it varies less than wall time when other work
shares the machine).
With --profile (pyinstrument must be installed), a call tree of the repeated requests is
written to bench/results/profile-<endpoint>-<backend>.txt.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
for extra in (str(ROOT), str(BENCH)):
    if extra not in sys.path:
        sys.path.insert(0, extra)

from preload import preload, region_codes  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

from tracker.core import schema  # noqa: E402
from tracker.core.access import Role, issue_token  # noqa: E402
from tracker.core.authorities import NewAuthority, add_authority  # noqa: E402
from tracker.core.db import Database, normalise_url  # noqa: E402
from tracker.core.settings import Settings  # noqa: E402
from tracker.enquiries.timeliness import london_today  # noqa: E402

AUTHORITY = "E06000021"
REGION = "West Midlands"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ENDPOINTS = (
    "funnel",
    "funnel_monthly",
    "enquiry_list",
    "capacity",
    "region_capacity",
    "region_capacity_csv",
    "enquiry_create",
)


def _prepare(backend: str, keep: Path | None, today: date, enquiries: int, years: int) -> str:
    """The URL of a preloaded database: the kept one if there is one, else a new one."""
    marker = keep / f"{backend}.json" if keep else None
    if marker is not None and marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("today") == today.isoformat():
            return str(saved["url"])
    if backend == "sqlite":
        folder = keep or Path(tempfile.mkdtemp(prefix="fostering-profile-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "profile.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        name = "fostering_profile_kept" if keep else f"fostering_profile_{int(time.time())}"
        admin = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    database = Database(url)
    schema.upgrade(database)
    with database.writing() as session:
        add_authority(session, NewAuthority(code=AUTHORITY, name="Stoke-on-Trent", region=REGION))
    database.dispose()
    started = time.perf_counter()
    preload(
        url,
        AUTHORITY,
        enquiries,
        years,
        today,
        authorities=region_codes(REGION, AUTHORITY),
        region=REGION,
    )
    print(f"preloaded {backend} in {time.perf_counter() - started:.1f} s", flush=True)
    if marker is not None:
        marker.write_text(json.dumps({"url": url, "today": today.isoformat()}))
    return url


def _tokens(database: Database) -> dict[str, str]:
    with database.writing() as session:
        made = {
            "recruiter": issue_token(
                session, role=Role.RECRUITER, name="profile-r", authority_code=AUTHORITY
            ),
            "manager": issue_token(
                session, role=Role.MANAGER, name="profile-m", authority_code=AUTHORITY
            ),
            "regional": issue_token(session, role=Role.REGIONAL, name="profile-g", region=REGION),
        }
    return {k: v.secret for k, v in made.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--profile", action="store_true", help="pyinstrument call trees")
    parser.add_argument("--keep", type=Path, default=None, help="reuse/keep the data here")
    parser.add_argument("--enquiries", type=int, default=4000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--show-sql", action="store_true", help="print each distinct statement")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON too")
    args = parser.parse_args(argv)
    endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]

    import logging

    from litestar.testing import TestClient

    from api.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    today = london_today()
    url = _prepare(args.backend, args.keep, today, args.enquiries, args.years)
    database = Database(url)
    tokens = _tokens(database)
    statements: list[str] = []
    seconds: Counter[str] = Counter()
    began_at: list[float] = [0.0]

    @event.listens_for(database.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split()))
        began_at[0] = time.perf_counter()

    @event.listens_for(database.engine, "after_cursor_execute")
    def _time(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seconds[" ".join(statement.split())] += time.perf_counter() - began_at[0]

    settings = Settings(
        database_url=url,
        scheduler_enabled=False,
        log_level="WARNING",
        requests_per_minute=0,
        expensive_requests_per_minute=0,
    )
    app = create_app(settings, database)
    start = today.replace(year=today.year - args.years)
    query = f"?date_from={start.isoformat()}&date_to={today.isoformat()}"
    prefix = f"/api/v1/authorities/{AUTHORITY}"
    region = f"/api/v1/regions/{urllib.parse.quote(REGION)}/capacity"
    body = {
        "received_on": today.isoformat(),
        "channel": "phone",
        "enquirer_name": "Profile Enquirer",
        "interests": ["undecided"],
    }
    calls: dict[str, tuple[str, str, str, dict[str, Any] | None]] = {
        "funnel": ("GET", f"{prefix}/funnel{query}", "recruiter", None),
        "funnel_monthly": ("GET", f"{prefix}/funnel/monthly{query}", "recruiter", None),
        "enquiry_list": ("GET", f"{prefix}/enquiries?limit=50", "recruiter", None),
        "capacity": ("GET", f"{prefix}/capacity", "manager", None),
        "region_capacity": ("GET", region, "regional", None),
        "region_capacity_csv": ("GET", f"{region}?format=csv", "regional", None),
        "enquiry_create": ("POST", f"{prefix}/enquiries", "recruiter", body),
    }
    profiler_cls = None
    active: list[Any] = []
    if args.profile:
        import litestar.utils.sync
        from pyinstrument import Profiler

        profiler_cls = Profiler
        RESULTS.mkdir(exist_ok=True)
        threaded = litestar.utils.sync.sync_to_thread

        def profiled(fn: Any) -> Any:
            # Handlers run in worker threads, out of sight of a profiler of this thread:
            # profile each call inside its thread (one request at a time), the session
            # accumulating over the repeated requests.
            def call(*a: Any, **kw: Any) -> Any:
                if not active:
                    return fn(*a, **kw)
                active[0].start()
                try:
                    return fn(*a, **kw)
                finally:
                    active[0].stop()

            return call

        async def sync_to_thread(fn: Any, *a: Any, **kw: Any) -> Any:
            return await threaded(profiled(fn), *a, **kw)

        litestar.utils.sync.sync_to_thread = sync_to_thread  # type: ignore[assignment]
    summary = {}
    with TestClient(app) as client:
        for name in endpoints:
            method, path, role, payload = calls[name]
            headers = {"Authorization": f"Bearer {tokens[role]}"}
            # One request to warm caches, then the statements of one more.
            client.request(method, path, headers=headers, json=payload)
            statements.clear()
            seconds.clear()
            response = client.request(method, path, headers=headers, json=payload)
            if response.status_code >= 300:
                print(f"{name}: HTTP {response.status_code} {response.text[:300]}")
                continue
            one = list(statements)
            timings = []
            profiler = profiler_cls(interval=0.0005) if profiler_cls else None
            if profiler:
                active[:] = [profiler]
            cpu = []
            for _ in range(args.requests):
                began, began_cpu = time.perf_counter(), time.process_time()
                client.request(method, path, headers=headers, json=payload)
                timings.append((time.perf_counter() - began) * 1000)
                cpu.append((time.process_time() - began_cpu) * 1000)
            active.clear()
            if profiler:
                out = RESULTS / f"profile-{name}-{args.backend}.txt"
                out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
            repeated = Counter(one).most_common(1)
            summary[name] = {
                "statements": len(one),
                "distinct": len(set(one)),
                "ms_median": round(statistics.median(timings), 2),
                "cpu_ms_median": round(statistics.median(cpu), 2),
                "bytes": len(response.content),
            }
            print(
                f"{name:<20} {len(one):>4} SQL ({len(set(one))} distinct)  "
                f"median {statistics.median(timings):8.2f} ms, CPU {statistics.median(cpu):8.2f} ms"
                f"  {len(response.content):>7} B"
                + (
                    f"  most repeated x{repeated[0][1]}: {repeated[0][0][:90]}"
                    if repeated and repeated[0][1] > 1
                    else ""
                ),
                flush=True,
            )
            if args.show_sql:
                spent = {k: v for k, v in seconds.items()}
                for statement, n in Counter(one).most_common():
                    print(f"    x{n} {spent.get(statement, 0) * 1000:7.2f} ms {statement[:200]}")
    database.dispose()
    if args.json:
        print("PROFILE_JSON " + json.dumps(summary))
    if args.keep is None and args.backend == "sqlite":
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    elif args.keep is None:
        admin = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = url.rsplit("/", 1)[1]
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
