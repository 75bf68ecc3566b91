#!/usr/bin/env python
"""The national data set's figures against issue 17's goals, at 10 clients.

    .venv/bin/python bench/national.py DATABASE_URL [--duration 5] [--requests 20]
        [--create-only [--tag NAME]] [--only pages|councils] [--page "enquiry list" ...]
        [--workers N] [--in-place] [--backends-only] [--server-env NAME=VALUE]
        e.g. sqlite:////tmp/i17n-national.db or postgresql://postgres@127.0.0.1/i17n_national

The database is one `fostering demo --national` filled. It is measured on a copy made for the
run and dropped after it (`--in-place`: on itself), because a run writes: its tokens, and the
thousands of enquiries dated today the create measurement adds to the largest council, which
a later run would read as part of the set. Create is measured last. Starts `fostering serve`
(scheduler off, no rate limits) and the bare app (bench/bare_app.py) on loopback ports,
creates tokens with `fostering token create`, then measures with wrk at 10 clients: the bare
endpoint, one council's funnel and capacity for the smallest and the largest council (server
CPU ms per request: the server's process-group CPU time over the requests wrk counted, and on
PostgreSQL the database server's processes' too), each once as kept between changes (the
same request again and again) and once with a new period or day every request (nothing kept
answers it), the regional capacity view of every region, GET /api/v1/national/capacity when
the OpenAPI document has it, and enquiry create as a ratio of the bare endpoint's requests a second.
Dashboard pages are requested by 10 signed-in clients in threads, `--requests` each, for
p50 and p99. Each figure is printed next to its goal (met or missed) and written to
bench/results/national-<date>-<backend>.json and .md. With --create-only only the bare
endpoint and enquiry create are measured, the same way, and written to
national-<date>-<backend>-create[-TAG].json and .md. `--only pages` measures the pages alone
(no wrk runs, no enquiries created: the database only gains the benchmark's tokens) and
`--page` (repeated) names the pages to measure; such a partial run is printed, and written
only where `--output` says.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import httpx  # noqa: E402
from pages import signed_in  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402

from tracker.core.backup import backup  # noqa: E402


def _bench_api() -> Any:
    """bench/api.py, loaded by path: `api` is the project's package."""
    spec = importlib.util.spec_from_file_location("bench_api", BENCH / "api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_api"] = module
    spec.loader.exec_module(module)
    return module


bench_api = sys.modules.get("bench_api") or _bench_api()
BIN, WRK_DIR, Server = bench_api.BIN, bench_api.WRK_DIR, bench_api.Server
cli, create_token, free_port = bench_api.cli, bench_api.create_token, bench_api.free_port
run_wrk = bench_api.run_wrk

RESULTS = BENCH / "results"
CLIENTS = 10
# (figure, goal, the goal's direction): "max" figures must not exceed the goal.
GOALS: dict[str, tuple[float, str]] = {
    "council_cpu_ms": (3.0, "max"),
    "region_cpu_ms": (20.0, "max"),
    "national_cpu_ms": (100.0, "max"),
    "page_p50_ms": (150.0, "max"),
    "page_p99_ms": (500.0, "max"),
    "create_ratio": (0.1, "min"),
}
# Dashboard pages the national set can fill (it has no targets or scenarios to edit).
PAGES = (
    ("manager", "overview", "/dashboard"),
    ("recruiter", "enquiry list", "/dashboard/enquiries"),
    ("recruiter", "enquiry list, search", "/dashboard/enquiries?q=smith&sort=name"),
    ("recruiter", "enquiry list, page 10", "/dashboard/enquiries?page=10"),
    ("recruiter", "enquiry", "/dashboard/enquiries/{enquiry}"),
    ("manager", "funnel", "/dashboard/funnel"),
    ("manager", "capacity", "/dashboard/capacity"),
    ("manager", "targets", "/dashboard/targets"),
    ("manager", "forecasts", "/dashboard/forecasts"),
    ("manager", "scenarios", "/dashboard/scenarios"),
)


def verdict(kind: str, value: float | None) -> str:
    """'met' or 'missed' for a figure against its goal in GOALS ('-' when not measured)."""
    if value is None:
        return "-"
    goal, direction = GOALS[kind]
    ok = value <= goal if direction == "max" else value >= goal
    return "met" if ok else "missed"


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (share between 0 and 1)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def markdown(report: dict[str, Any]) -> str:
    """The report's figures as a Markdown table, one row per measurement."""
    lines = [
        f"# National benchmark, {report['date']} ({report['backend']})",
        "",
        f"{report['database']}: {report['councils']} councils, {report['enquiries']} enquiries;"
        f" measured on {report.get('measured_on', 'the database itself')}.",
        "",
        "| measurement | figure | goal | verdict |",
        "|---|---|---|---|",
    ]
    for row in report["rows"]:
        lines.append(f"| {row['name']} | {row['figure']} | {row['goal']} | {row['verdict']} |")
    return "\n".join(lines) + "\n"


def _facts(url: str) -> dict[str, Any]:
    """Councils by enquiries (smallest, largest), regions, an enquiry id of the largest."""
    engine = create_engine(url)
    with engine.connect() as conn:
        sizes = conn.execute(
            text("SELECT authority_code, count(*) FROM enquiry GROUP BY authority_code ORDER BY 2")
        ).all()
        regions = [r for (r,) in conn.execute(text("SELECT DISTINCT region FROM authority"))]
        largest = sizes[-1][0]
        enquiry = conn.execute(
            text("SELECT max(id) FROM enquiry WHERE authority_code = :c"), {"c": largest}
        ).scalar()
    engine.dispose()
    return {
        "smallest": sizes[0][0],
        "largest": largest,
        "regions": sorted(regions),
        "enquiries": sum(n for _, n in sizes),
        "councils": len(sizes),
        "enquiry": enquiry,
    }


@contextlib.contextmanager
def working_copy(url: str, folder: Path) -> Iterator[str]:
    """The URL of a copy of the national set: a run writes (the enquiries the create
    measurement adds, its tokens), and a set measured again after such a run is no longer the
    set (the largest council gained thousands of enquiries dated today, which the next run's
    funnel and list then read). SQLite: the file copied into `folder` by the service's own
    online backup (`tracker.core.backup`; the caller removes the folder); PostgreSQL: a
    database made from it as a template (nothing else may be connected to it meanwhile),
    dropped on leaving."""
    if url.startswith("sqlite"):
        copy = folder / "national.db"
        backup(url, copy)
        yield f"sqlite:///{copy}"
        return
    source = make_url(url)
    name = source.database or ""
    copy_name = f"{name}_bench_copy_{os.getpid()}"
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quote = admin.dialect.identifier_preparer.quote
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {quote(copy_name)} TEMPLATE {quote(name)}"))
        try:
            yield source.set(database=copy_name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {quote(copy_name)} WITH (FORCE)"))
    finally:
        admin.dispose()


BACKENDS_ONLY = False
"""--backends-only: count only the database server's processes serving the benchmarked
database (their titles name it), not the server's others (other databases' work on a shared
server; also its background writers and autovacuum)."""


def database_cpu_seconds(url: str) -> float:
    """CPU time used so far by this machine's PostgreSQL server processes when `url` is a
    PostgreSQL database (0 for SQLite, whose work is done in the server's own process): on
    PostgreSQL a request's queries run in the database's processes, and a figure of server
    CPU a request must count them too. Any other work of the database server is counted as
    well, so measure on an otherwise quiet machine (or with `BACKENDS_ONLY`)."""
    if not url.startswith("postgresql"):
        return 0.0
    title = f" {urllib.parse.urlsplit(url).path.lstrip('/')} ".encode()
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] != "postgres":
                continue
            if BACKENDS_ONLY and title not in (stat.parent / "cmdline").read_bytes():
                continue
            fields = text.rsplit(")", 1)[-1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _wrk_point(
    server: Server,
    base: str,
    path: str,
    token: str | None,
    duration: float,
    url: str,
    day_span: int | None = None,
) -> dict[str, Any]:
    """One wrk run at CLIENTS clients: requests a second, p50/p99 ms, and CPU ms a request
    of the server and (PostgreSQL) the database. `day_span`: a different day on every
    request (bench/wrk/get_any_day.lua: 0 an `as_at`, N a period of N days), so nothing
    kept between changes answers it."""
    before, db_before = server.cpu_seconds(), database_cpu_seconds(url)
    if day_span is None:
        script, args = WRK_DIR / "get.lua", [token or "-"]
    else:
        script, args = (
            WRK_DIR / "get_any_day.lua",
            [token or "-", str(int(time.time())), str(day_span)],
        )
    raw = run_wrk(base + path, script, args, CLIENTS, duration, 2)
    time.sleep(0.5)
    cpu = server.cpu_seconds() - before
    db_cpu = database_cpu_seconds(url) - db_before
    requests = raw["requests"] or 1
    return {
        "path": path,
        "requests_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["latency_us"]["p50"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000,
        "server_cpu_ms": round(cpu * 1000 / requests, 2),
        "database_cpu_ms": round(db_cpu * 1000 / requests, 2),
        "cpu_ms": round((cpu + db_cpu) * 1000 / requests, 2),
        "non_2xx": raw["wrk_non_2xx_3xx"],
    }


def _pages(
    base: str,
    tokens: dict[str, str],
    enquiry: int,
    per_client: int,
    names: list[str] | None = None,
) -> dict[str, Any]:
    """p50 and p99 of each page (of `names`, when given) over CLIENTS signed-in clients
    requesting it at once."""
    clients = {
        role: [signed_in(base, tokens[role]) for _ in range(CLIENTS)]
        for role in ("manager", "recruiter")
    }
    figures: dict[str, Any] = {}
    for role, name, template in PAGES:
        if names is not None and name not in names:
            continue
        path = template.format(enquiry=enquiry)

        def one(client: httpx.Client, path: str = path) -> list[float]:
            times = []
            for _ in range(per_client):
                began = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status_code}")
            return times

        with ThreadPoolExecutor(CLIENTS) as pool:
            times = [t for chunk in pool.map(one, clients[role]) for t in chunk]
        figures[name] = {
            "path": path,
            "p50_ms": round(statistics.median(times), 1),
            "p99_ms": round(percentile(times, 0.99), 1),
        }
    return figures


def run(
    url: str, duration: float, per_client: int, *, in_place: bool = False, **options: Any
) -> dict[str, Any]:
    """`measure` on a working copy of the database at `url` (on the database itself with
    `in_place`); the report names `url`."""
    if in_place:
        report = measure(url, duration, per_client, **options)
        report["measured_on"] = "the database itself"
        return report
    with tempfile.TemporaryDirectory(prefix="fostering-national-copy-") as folder:
        began = time.perf_counter()
        with working_copy(url, Path(folder)) as copy:
            copied_s = time.perf_counter() - began
            report = measure(copy, duration, per_client, **options)
    report["database"] = url
    report["measured_on"] = f"a copy made for the run ({copied_s:.0f} s to copy)"
    return report


def measure(
    url: str,
    duration: float,
    per_client: int,
    *,
    create_only: bool = False,
    only_pages: bool = False,
    page_names: list[str] | None = None,
    only_councils: bool = False,
    workers: int = 1,
    server_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Serve the database and the bare app, measure, and return the report (only the bare
    endpoint and enquiry create with `create_only`; the pages alone with `only_pages`, those
    of `page_names` when given; the bare endpoint and the two councils' funnel and capacity
    with `only_councils`)."""
    facts = _facts(url)
    tmp = Path(tempfile.mkdtemp(prefix="fostering-national-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOSTERING_")}
    env |= {
        "DATABASE_URL": url,
        "FOSTERING_SCHEDULER_ENABLED": "false",
        "FOSTERING_LOG_LEVEL": "WARNING",
        "FOSTERING_PSEUDONYM_KEY": "bench-national-pseudonym-key",
        "FOSTERING_REQUESTS_PER_MINUTE": "0",
        "FOSTERING_EXPENSIVE_REQUESTS_PER_MINUTE": "0",
        # The checkout's code, whichever checkout the virtualenv was installed from.
        "PYTHONPATH": str(BENCH.parent),
    }
    env |= server_env or {}
    cli(env, tmp, "db", "upgrade")
    large, small = facts["largest"], facts["smallest"]
    tokens = {
        "recruiter": create_token(
            env, tmp, "--role", "recruiter", "--authority", large, "--name", "national-bench"
        ),
        "manager": create_token(
            env, tmp, "--role", "manager", "--authority", large, "--name", "national-bench-mgr"
        ),
        "small": create_token(
            env, tmp, "--role", "manager", "--authority", small, "--name", "national-bench-small"
        ),
        "admin": create_token(env, tmp, "--role", "admin", "--name", "national-bench-admin"),
    }
    port, bare_port = free_port(), free_port()
    server = Server(
        "fostering serve",
        [
            str(BIN / "fostering"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env,
        tmp,
        tmp / "server.log",
    )
    bare = Server(
        "bare",
        bench_api.bare_command(bare_port),
        env,
        tmp,
        tmp / "bare.log",
    )
    base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    points: dict[str, Any] = {}
    try:
        server.start()
        server.wait_ready(f"{base}/health", timeout=300)
        if only_pages:
            pages = _pages(base, tokens, facts["enquiry"], per_client, page_names)
            return _report(url, facts, points, pages)
        bare.start()
        bare.wait_ready(f"{bare_base}/")
        points["bare"] = _wrk_point(bare, bare_base, "/", None, duration, "")
        for size, code, token in (
            ()
            if create_only
            else (
                ("small", small, tokens["small"]),
                ("large", large, tokens["manager"]),
            )
        ):
            prefix = f"/api/v1/authorities/{code}"
            points[f"funnel {size} ({code})"] = _wrk_point(
                server, base, f"{prefix}/funnel", token, duration, url
            )
            points[f"capacity {size} ({code})"] = _wrk_point(
                server, base, f"{prefix}/capacity", token, duration, url
            )
            # The same with a new period or day every request: nothing kept answers them.
            points[f"funnel {size} ({code}), a new 12 months each request"] = _wrk_point(
                server, base, f"{prefix}/funnel", token, duration, url, day_span=365
            )
            points[f"capacity {size} ({code}), a new day each request"] = _wrk_point(
                server, base, f"{prefix}/capacity", token, duration, url, day_span=0
            )
        if only_councils:
            return _report(url, facts, points, {})
        for region in () if create_only else facts["regions"]:
            regional = create_token(
                env,
                tmp,
                "--role",
                "regional",
                "--region",
                region,
                "--name",
                f"national-bench {region}",
            )
            path = f"/api/v1/regions/{urllib.parse.quote(region)}/capacity"
            points[f"region {region}"] = _wrk_point(server, base, path, regional, duration, url)
        openapi = None if create_only else httpx.get(f"{base}/schema/openapi.json", timeout=60)
        if (
            openapi is not None
            and openapi.status_code == 200
            and "/api/v1/national/capacity" in openapi.json().get("paths", {})
        ):
            points["national capacity"] = _wrk_point(
                server, base, "/api/v1/national/capacity", tokens["admin"], duration, url
            )
        # The pages before enquiry create, which adds thousands of the largest council's
        # enquiries dated today (its funnel's and list's newest day).
        pages = (
            {} if create_only else _pages(base, tokens, facts["enquiry"], per_client, page_names)
        )
        before, db_before = server.cpu_seconds(), database_cpu_seconds(url)
        raw = run_wrk(
            f"{base}/api/v1/authorities/{large}/enquiries",
            WRK_DIR / "post_enquiry.lua",
            [
                tokens["recruiter"],
                date.today().isoformat(),
                f"/api/v1/authorities/{large}/enquiries",
            ],
            CLIENTS,
            duration,
            2,
        )
        points["enquiry create"] = {
            "requests_per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "p50_ms": raw["latency_us"]["p50"] / 1000,
            "p99_ms": raw["latency_us"]["p99"] / 1000,
            "cpu_ms": round(
                (server.cpu_seconds() - before + database_cpu_seconds(url) - db_before)
                * 1000
                / max(1, raw["requests"]),
                2,
            ),
            "non_2xx": raw["wrk_non_2xx_3xx"],
        }
    finally:
        server.stop()
        bare.stop()
    return _report(url, facts, points, pages)


def _report(
    url: str, facts: dict[str, Any], points: dict[str, Any], pages: dict[str, Any]
) -> dict[str, Any]:
    """Rows of figure, goal and verdict for every measurement."""
    rows = []
    bare_rps = points["bare"]["requests_per_s"] if points else 0.0
    for name, point in points.items():
        if name.startswith(("funnel", "capacity")):
            kind = "council_cpu_ms"
        elif name.startswith("region"):
            kind = "region_cpu_ms"
        elif name.startswith("national"):
            kind = "national_cpu_ms"
        elif name == "enquiry create":
            ratio = point["requests_per_s"] / bare_rps
            # The issue sets this goal for SQLite, the embedded default, only.
            sqlite = url.startswith("sqlite")
            rows.append(
                {
                    "name": name,
                    "figure": f"{ratio:.3f} x bare req/s",
                    "goal": ">= 0.1" if sqlite else "- (SQLite's: >= 0.1)",
                    "verdict": verdict("create_ratio", ratio) if sqlite else "-",
                }
            )
            continue
        else:
            rows.append(
                {
                    "name": name,
                    "figure": f"{point['requests_per_s']} req/s",
                    "goal": "-",
                    "verdict": "-",
                }
            )
            continue
        split = (
            f" (server {point['server_cpu_ms']} + database {point['database_cpu_ms']})"
            if point.get("database_cpu_ms")
            else ""
        )
        failed = point.get("non_2xx") or 0
        # A figure of failed requests is no figure of the read.
        judged = f"invalid: {failed} not 2xx" if failed else verdict(kind, point["cpu_ms"])
        rows.append(
            {
                "name": name,
                "figure": f"{point['cpu_ms']} ms CPU/request{split}",
                "goal": f"<= {GOALS[kind][0]:g} ms",
                "verdict": judged,
            }
        )
    for name, page in pages.items():
        rows.append(
            {
                "name": f"page {name} p50",
                "figure": f"{page['p50_ms']} ms",
                "goal": "< 150 ms",
                "verdict": verdict("page_p50_ms", page["p50_ms"]),
            }
        )
        rows.append(
            {
                "name": f"page {name} p99",
                "figure": f"{page['p99_ms']} ms",
                "goal": "< 500 ms",
                "verdict": verdict("page_p99_ms", page["p99_ms"]),
            }
        )
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    return {
        "date": date.today().isoformat(),
        "backend": backend,
        "database": url,
        "councils": facts["councils"],
        "enquiries": facts["enquiries"],
        "clients": CLIENTS,
        "points": points,
        "pages": pages,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=20, help="page requests per client")
    parser.add_argument(
        "--create-only", action="store_true", help="measure the bare endpoint and create only"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the served app (e.g. FOSTERING_VIEW_COMPUTATIONS=0), repeatable",
    )
    parser.add_argument("--tag", default="", help="with --create-only: added to the file name")
    parser.add_argument(
        "--only",
        choices=["pages", "councils"],
        default=None,
        help="measure pages alone, or the two councils' funnel and capacity alone",
    )
    parser.add_argument("--page", action="append", help="a page of PAGES (repeatable)")
    parser.add_argument("--output", type=Path, default=None, help="a partial run's JSON")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (`fostering serve --workers`)"
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="measure the database itself, not a copy (its next runs then read what this adds)",
    )
    parser.add_argument(
        "--backends-only",
        action="store_true",
        help="PostgreSQL: count only the processes serving the database (a shared server)",
    )
    args = parser.parse_args()
    global BACKENDS_ONLY
    BACKENDS_ONLY = args.backends_only
    names = args.page
    unknown = set(names or ()) - {name for _, name, _ in PAGES}
    if unknown:
        parser.error(f"--pages: no such page {sorted(unknown)}")
    report = run(
        args.database_url,
        args.duration,
        args.requests,
        create_only=args.create_only,
        only_pages=args.only == "pages",
        page_names=names,
        only_councils=args.only == "councils",
        workers=args.workers,
        server_env=dict(kv.split("=", 1) for kv in args.server_env),
        in_place=args.in_place,
    )
    report["server_workers"] = args.workers
    report["database_backends_only"] = args.backends_only
    for row in report["rows"]:
        print(f"{row['name']:<50} {row['figure']:>28}  goal {row['goal']:<10} {row['verdict']}")
    if args.only or names:
        if args.output:
            args.output.write_text(json.dumps(report, indent=2) + "\n")
            print(f"written to {args.output}")
        return
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"national-{report['date']}-{report['backend']}"
    if args.create_only:
        stem = stem.with_name(stem.name + "-create" + (f"-{args.tag}" if args.tag else ""))
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(report))
    print(f"written to {stem}.json and .md")


if __name__ == "__main__":
    main()
