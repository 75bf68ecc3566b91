#!/usr/bin/env python
"""What a council's first read costs when nothing kept answers it (issue 17): a new 12 months
of funnel or a new day of capacity on every request, in process.

    .venv/bin/python bench/first_read.py DATABASE_URL [--codes E06000033,E10000012]
        [--requests 60] [--show-sql] [--profile funnel|capacity]

For each council (default: the smallest and the largest by enquiries) it asks for a new day
every request, spread over six years as bench/wrk/get_any_day.lua's threads are, and prints
the median CPU ms of the domain call alone (`funnel_report` for the 365 days to the day,
`capacity_figures` as at the day, in a read session) and of the whole request through
Litestar's TestClient (client and server in this process, one request at a time), the SQL
statements one request runs and the milliseconds spent in each. On PostgreSQL the
database's own CPU is not in these figures (bench/national.py counts it). --profile writes
a cProfile listing of the domain calls to
bench/results/first-read-profile-<kind>-<backend>-<code>.txt.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# This folder's forecast.py would hide the forecast package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402

from tracker.capacity.figures import capacity_figures  # noqa: E402
from tracker.children.mapping import load_mapping  # noqa: E402
from tracker.core.access import Role, issue_token  # noqa: E402
from tracker.core.db import Database  # noqa: E402
from tracker.core.settings import Settings  # noqa: E402
from tracker.enquiries.funnel import funnel_report  # noqa: E402
from tracker.enquiries.timeliness import london_today  # noqa: E402

SPAN_DAYS = 365


def _councils(database: Database) -> list[str]:
    with database.read_session() as session:
        sizes = session.execute(
            text("SELECT authority_code, count(*) FROM enquiry GROUP BY authority_code ORDER BY 2")
        ).all()
    return [sizes[0][0], sizes[-1][0]]


class _Statements:
    """Statements run and seconds spent in each, between `clear()` calls."""

    def __init__(self, database: Database) -> None:
        self.run: list[str] = []
        self.seconds: Counter[str] = Counter()
        self._began = 0.0
        event.listen(database.engine, "before_cursor_execute", self._before)
        event.listen(database.engine, "after_cursor_execute", self._after)

    def _before(self, _c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        self.run.append(" ".join(statement.split()))
        self._began = time.perf_counter()

    def _after(self, _c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        self.seconds[" ".join(statement.split())] += time.perf_counter() - self._began

    def clear(self) -> None:
        self.run.clear()
        self.seconds.clear()


def _days(today: date, n: int, start: int) -> list[date]:
    """`n` days spread over the six years to today (37 days apart, wrapping), as the two
    threads of bench/wrk/get_any_day.lua walk back from today and from 2,000 days ago."""
    return [today - timedelta(days=(start + i * 37) % 2200) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--codes", default="")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--profile", choices=["funnel", "capacity"])
    args = parser.parse_args(argv)

    import logging

    from litestar.testing import TestClient

    from api.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    database = Database(args.database_url)
    backend = database.engine.dialect.name
    codes = [c for c in args.codes.split(",") if c] or _councils(database)
    today = london_today()
    settings = Settings(
        database_url=args.database_url,
        scheduler_enabled=False,
        log_level="WARNING",
        requests_per_minute=0,
        expensive_requests_per_minute=0,
    )
    mapping = load_mapping(settings.placement_mapping)
    with database.writing() as session:
        tokens = {
            code: issue_token(
                session, role=Role.MANAGER, name=f"first-read-{code}", authority_code=code
            ).secret
            for code in codes
        }
    sql = _Statements(database)

    def funnel(session: Any, code: str, day: date) -> Any:
        return funnel_report(session, code, day - timedelta(days=SPAN_DAYS - 1), day, today)

    def capacity(session: Any, code: str, day: date) -> Any:
        return capacity_figures(session, code, day, mapping)

    kinds = {"funnel": funnel, "capacity": capacity}
    app = create_app(settings, database)
    # As `fostering serve` does: what is loaded by now stays out of the collector's reach.
    gc.collect()
    gc.freeze()
    with TestClient(app) as client:
        for code in codes:
            for kind, call in kinds.items():
                # The domain call alone, one read session a call (as a request has).
                profiler = cProfile.Profile() if args.profile == kind else None
                cpu = []
                for day in _days(today, args.requests, 0):
                    with database.read_session() as session:
                        began = time.process_time()
                        if profiler:
                            profiler.enable()
                        call(session, code, day)
                        if profiler:
                            profiler.disable()
                        cpu.append((time.process_time() - began) * 1000)
                sql.clear()
                with database.read_session() as session:
                    call(session, code, today - timedelta(days=args.requests + 1))
                one = list(sql.run)
                spent = dict(sql.seconds)
                # Whole requests, a new day each (days not asked for above).
                headers = {"Authorization": f"Bearer {tokens[code]}"}
                request_cpu = []
                for day in _days(today, args.requests, args.requests + 2):
                    if kind == "funnel":
                        start = day - timedelta(days=SPAN_DAYS - 1)
                        query = f"?date_from={start.isoformat()}&date_to={day.isoformat()}"
                    else:
                        query = f"?as_at={day.isoformat()}"
                    path = f"/api/v1/authorities/{code}/{kind}{query}"
                    began = time.process_time()
                    response = client.get(path, headers=headers)
                    request_cpu.append((time.process_time() - began) * 1000)
                    assert response.status_code == 200, response.text
                print(
                    f"{backend} {code} {kind:<8} domain CPU median {statistics.median(cpu):6.2f} "
                    f"ms (p90 {sorted(cpu)[int(len(cpu) * 0.9)]:6.2f}); request in process "
                    f"{statistics.median(request_cpu):6.2f} ms; {len(one)} SQL, "
                    f"{sum(spent.values()) * 1000:.2f} ms in them",
                    flush=True,
                )
                if args.show_sql:
                    for statement, n in Counter(one).most_common():
                        print(
                            f"    x{n} {spent.get(statement, 0) * 1000:7.2f} ms {statement[:160]}"
                        )
                if profiler:
                    out = io.StringIO()
                    stats = pstats.Stats(profiler, stream=out)
                    stats.sort_stats("cumulative").print_stats(60)
                    stats.sort_stats("tottime").print_stats(40)
                    path = BENCH / "results" / f"first-read-profile-{kind}-{backend}-{code}.txt"
                    path.write_text(out.getvalue())
                    print(f"    profile: {path}")
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
