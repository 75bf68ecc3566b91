#!/usr/bin/env python
"""Where a dashboard page's time goes on an existing database: SQL statements per request,
their time, wall and CPU milliseconds, and optionally a cProfile of the repeated requests.

    .venv/bin/python bench/profile_pages.py DATABASE_URL [--requests 10] [--pages list,search]
                                             [--authority CODE] [--profile] [--show-sql]

The database is one `fostering demo --national` (or any) filled; the largest council is used
unless --authority names one. A recruiter token is issued (the only write), the app is built
in process (Litestar's TestClient, scheduler off), signed in through the sign-in form, and
each page is requested once to warm up and then --requests times one after another.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# The project's packages, not bench/'s modules of the same names (api.py, forecast.py).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from sqlalchemy import event, text  # noqa: E402

from tracker.core.access import Role, issue_token  # noqa: E402
from tracker.core.db import Database  # noqa: E402
from tracker.core.settings import Settings  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGES = {
    "list": "/dashboard/enquiries",
    "search": "/dashboard/enquiries?q=smith&sort=name",
    "page10": "/dashboard/enquiries?page=10",
    "enquiry": "/dashboard/enquiries/{enquiry}",
    "overdue": "/dashboard/enquiries?overdue=first_contact&sort=oldest",
    "overview": "/dashboard",
    "funnel": "/dashboard/funnel",
    "capacity": "/dashboard/capacity",
}


IDLE = ("wait", "select", "poll", "acquire", "get", "_worker", "sleep", "run_forever")


class Sampler:
    """Samples every thread's stack each millisecond (cProfile sees one thread only, and a
    page is served by three: the event loop's, a handler's worker and the client's); a
    thread whose innermost frame is waiting is left out. Counts each function once a sample
    (inclusive) and per innermost frame (exclusive)."""

    def __init__(self) -> None:
        self.inclusive: Counter[str] = Counter()
        self.exclusive: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(0.001):
            for ident, frame in sys._current_frames().items():
                if ident == me or frame.f_code.co_name in IDLE:
                    continue
                self.samples += 1
                self.exclusive[_where(frame)] += 1
                seen = set()
                while frame is not None:
                    seen.add(_where(frame))
                    frame = frame.f_back
                for name in seen:
                    self.inclusive[name] += 1

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    def report(self, top: int = 40) -> str:
        lines = [f"{self.samples} samples; inclusive:"]
        for name, n in self.inclusive.most_common(top):
            lines.append(f"  {100 * n / max(1, self.samples):5.1f}%  {name}")
        lines.append("exclusive:")
        for name, n in self.exclusive.most_common(top // 2):
            lines.append(f"  {100 * n / max(1, self.samples):5.1f}%  {name}")
        return "\n".join(lines)


def _where(frame: Any) -> str:
    path = frame.f_code.co_filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
    return f"{path}:{frame.f_code.co_firstlineno}({frame.f_code.co_name})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--pages", default="list,search,page10,enquiry")
    parser.add_argument("--authority", default=None)
    parser.add_argument("--role", default="recruiter", choices=["recruiter", "manager"])
    parser.add_argument("--profile", action="store_true", help="cProfile, top functions")
    parser.add_argument("--sample", action="store_true", help="sample every thread's stack")
    parser.add_argument("--show-sql", action="store_true", help="each distinct statement")
    args = parser.parse_args(argv)

    import logging

    from litestar.testing import TestClient

    from api.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    database = Database(args.database_url)
    with database.engine.connect() as conn:
        code = (
            args.authority
            or conn.execute(
                text(
                    "SELECT authority_code FROM enquiry GROUP BY authority_code "
                    "ORDER BY count(*) DESC LIMIT 1"
                )
            ).scalar()
        )
        enquiry = conn.execute(
            text("SELECT max(id) FROM enquiry WHERE authority_code = :c"), {"c": code}
        ).scalar()
    with database.writing() as session:
        secret = issue_token(
            session, role=Role(args.role), name="profile-pages", authority_code=code
        ).secret
    statements: list[str] = []
    seconds: Counter[str] = Counter()
    began_at = [0.0]

    @event.listens_for(database.engine, "before_cursor_execute")
    def _count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split()))
        began_at[0] = time.perf_counter()

    @event.listens_for(database.engine, "after_cursor_execute")
    def _time(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seconds[" ".join(statement.split())] += time.perf_counter() - began_at[0]

    settings = Settings(
        database_url=args.database_url,
        scheduler_enabled=False,
        log_level="WARNING",
        requests_per_minute=0,
        expensive_requests_per_minute=0,
    )
    app = create_app(settings, database)
    profiling: list[cProfile.Profile] = []
    if args.profile:
        import litestar.utils.sync

        threaded = litestar.utils.sync.sync_to_thread

        def profiled(fn: Any) -> Any:
            # Handlers run in worker threads: profile each call inside its thread.
            def call(*a: Any, **kw: Any) -> Any:
                if not profiling:
                    return fn(*a, **kw)
                profiling[0].enable()
                try:
                    return fn(*a, **kw)
                finally:
                    profiling[0].disable()

            return call

        async def sync_to_thread(fn: Any, *a: Any, **kw: Any) -> Any:
            return await threaded(profiled(fn), *a, **kw)

        litestar.utils.sync.sync_to_thread = sync_to_thread  # type: ignore[assignment]
        # Templates render on the event loop's thread, in the response's to_asgi_response.
        from litestar.response.template import Template

        Template.to_asgi_response = profiled(Template.to_asgi_response)  # type: ignore[method-assign]
    print(f"{args.database_url}: council {code}, enquiry {enquiry}")
    with TestClient(app) as client:
        form = client.get("/dashboard/sign-in")
        token = CSRF.search(form.text)
        assert token is not None
        signed = client.post(
            "/dashboard/sign-in",
            data={"token": secret, "csrf_token": token.group(1), "next": "/dashboard"},
            follow_redirects=False,
        )
        assert signed.status_code in (200, 303), signed.status_code
        for name in [p.strip() for p in args.pages.split(",") if p.strip()]:
            path = PAGES[name].format(enquiry=enquiry)
            client.get(path)
            statements.clear()
            seconds.clear()
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            one = list(statements)
            spent = dict(seconds)
            if args.profile:
                profiling[:] = [cProfile.Profile()]
            wall, cpu = [], []
            sampler = Sampler() if args.sample else None
            with sampler or contextlib.nullcontext():
                for _ in range(args.requests):
                    began, began_cpu = time.perf_counter(), time.process_time()
                    client.get(path)
                    wall.append((time.perf_counter() - began) * 1000)
                    cpu.append((time.process_time() - began_cpu) * 1000)
            print(
                f"{name:<8} {len(one):>3} SQL ({len(set(one))} distinct, "
                f"{sum(spent.values()) * 1000:7.1f} ms)  median {statistics.median(wall):7.1f} "
                f"ms, CPU {statistics.median(cpu):7.1f} ms  {len(response.content):>7} B",
                flush=True,
            )
            if args.show_sql:
                for statement, n in Counter(one).most_common():
                    print(f"    x{n} {spent.get(statement, 0) * 1000:7.2f} ms {statement[:300]}")
            if sampler:
                print(sampler.report())
            if profiling:
                out = io.StringIO()
                stats = pstats.Stats(profiling[0], stream=out)
                stats.sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(45)
                print(out.getvalue())
                profiling.clear()
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
