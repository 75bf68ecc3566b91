#!/usr/bin/env python
"""Before and after a change, side by side: two servers, the same data, interleaved runs.

    .venv/bin/python bench/ab.py --before /tmp/before-tree --db preloaded.db
        [--endpoints funnel,capacity,...] [--concurrency 1] [--duration 3] [--rounds 3]
        [--bare]

Starts `fostering serve` twice on copies of one preloaded SQLite file (from `bench/api.py
--keep-sqlite FILE`): "before" with the code of another copy of the project first on
PYTHONPATH (e.g. `rsync -a --exclude .venv ./ /tmp/before-tree/` and the old versions of the
changed files put back in it), "after" with this checkout (also first on PYTHONPATH, as an
editable install may point elsewhere). Then, for each endpoint, wrk runs against one server
and then the other, `--rounds` times, so both see the same load from the
rest of the machine; the median req/s and server CPU ms per request of each are printed with
the ratio after / before. `enquiry_create` (POST, a new enquiry each request, not in the
default list) measures the write path. With --bare the bare Litestar app (bench/bare_app.py,
uvicorn with an access log like `fostering serve`) runs in each round too, and each side's
req/s is also printed as a ratio to it. Development tool: bench/run_all.py does not run it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
for extra in (str(BENCH.parent), str(BENCH)):
    if extra not in sys.path:
        sys.path.insert(0, extra)

from tracker.enquiries.timeliness import london_today  # noqa: E402

# bench/api.py by path: `api` is the project's package.
_spec = importlib.util.spec_from_file_location("bench_api", BENCH / "api.py")
assert _spec is not None and _spec.loader is not None
bench_api = importlib.util.module_from_spec(_spec)
sys.modules["bench_api"] = bench_api
_spec.loader.exec_module(bench_api)
AUTHORITY, REGION, BIN = bench_api.AUTHORITY, bench_api.REGION, bench_api.BIN
Load, Server, settle = bench_api.Load, bench_api.Server, bench_api.settle
cli, create_token, free_port = bench_api.cli, bench_api.create_token, bench_api.free_port
have_wrk, years_ago = bench_api.have_wrk, bench_api.years_ago

READS = (
    "funnel",
    "funnel_monthly",
    "enquiry_list",
    "capacity",
    "region_capacity",
    "region_capacity_csv",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other project copy")
    parser.add_argument("--db", type=Path, required=True, help="a preloaded SQLite file")
    parser.add_argument("--endpoints", default=",".join(READS))
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare", action="store_true", help="measure bench/bare_app.py too")
    args = parser.parse_args(argv)
    if not have_wrk():
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 2
    today = london_today()
    load = Load("wrk", args.duration, 0, 2, 30.0)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fostering-ab-")))
        servers: dict[str, tuple[Server, str]] = {}
        secrets: dict[str, str] = {}
        for side in ("before", "after"):
            folder = tmp / side
            folder.mkdir()
            shutil.copyfile(args.db, folder / "fostering.db")
            env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
            env["DATABASE_URL"] = f"sqlite:///{folder / 'fostering.db'}"
            env["FOSTERING_REQUESTS_PER_MINUTE"] = "0"  # wrk: thousands a second, one token
            env["FOSTERING_EXPENSIVE_REQUESTS_PER_MINUTE"] = "0"
            # Each side's code first on the path: an editable install may point elsewhere.
            env["PYTHONPATH"] = str(args.before.resolve() if side == "before" else BENCH.parent)
            cli(env, folder, "db", "upgrade")
            for role, flag, value in (
                ("recruiter", "--authority", AUTHORITY),
                ("manager", "--authority", AUTHORITY),
                ("regional", "--region", REGION),
            ):
                secrets[f"{side}-{role}"] = create_token(
                    env, folder, "--role", role, flag, value, "--name", f"ab-{side}-{role}"
                )
            port = free_port()
            argv_ = [str(BIN / "fostering"), "serve", "--host", "127.0.0.1", "--port", str(port)]
            server = Server(f"{side} server", argv_, env, folder, folder / "server.log")
            stack.callback(server.stop)
            server.start()
            base = f"http://127.0.0.1:{port}"
            server.wait_ready(f"{base}/health")
            servers[side] = (server, base)
        bare: Server | None = None
        if args.bare:
            port = free_port()
            bare_argv = [*bench_api.bare_command(port, access_log=True), "--log-level", "info"]
            bare = Server("bare uvicorn", bare_argv, dict(os.environ), tmp, tmp / "bare.log")
            stack.callback(bare.stop)
            bare.start()
            bare.wait_ready(f"http://127.0.0.1:{port}/health")
            servers["bare"] = (bare, f"http://127.0.0.1:{port}")
        query = f"?date_from={years_ago(today, 10).isoformat()}&date_to={today.isoformat()}"
        prefix = f"/api/v1/authorities/{AUTHORITY}"
        region = f"/api/v1/regions/{urllib.parse.quote(REGION)}/capacity"
        paths = {
            "funnel": (f"{prefix}/funnel{query}", "recruiter", "application/json"),
            "funnel_monthly": (f"{prefix}/funnel/monthly{query}", "recruiter", "application/json"),
            "enquiry_list": (f"{prefix}/enquiries?limit=50", "recruiter", "application/json"),
            "capacity": (f"{prefix}/capacity", "manager", "application/json"),
            "region_capacity": (region, "regional", "application/json"),
            "region_capacity_csv": (f"{region}?format=csv", "regional", "text/csv"),
        }
        paths["enquiry_create"] = (f"{prefix}/enquiries", "recruiter", "application/json")
        for endpoint in [e.strip() for e in args.endpoints.split(",") if e.strip()]:
            path, role, accept = paths[endpoint]
            results[endpoint] = {"before": [], "after": [], "bare": []}
            for _ in range(args.rounds):
                for side in ("before", "after", "bare") if bare else ("before", "after"):
                    server, base = servers[side]
                    spec = {
                        "method": "GET",
                        "base": base,
                        "path": path,
                        "token": secrets.get(f"{side}-{role}"),
                        "accept": accept,
                    }
                    if side == "bare":
                        spec["path"] = "/"
                    elif endpoint == "enquiry_create":
                        spec["method"] = "POST"
                        spec["received_on"] = today.isoformat()
                    point = load.point(
                        side, endpoint, spec, args.concurrency, server, f"{base}/health"
                    )
                    results[endpoint][side].append(point)
                    settle(server, f"{base}/health", 30.0)
    print(
        f"\n{'endpoint':<20} {'before req/s':>12} {'after req/s':>12} {'x':>6}   "
        f"{'before CPU ms':>13} {'after CPU ms':>12} {'x':>6}"
    )
    for endpoint, sides in results.items():

        def median(side: str, key: str, sides: dict[str, list[dict[str, Any]]] = sides) -> float:
            values = [p[key] for p in sides[side] if p.get(key) is not None]
            return statistics.median(values) if values else float("nan")

        rb, ra = median("before", "req_per_s"), median("after", "req_per_s")
        cb, ca = median("before", "server_cpu_ms_per_req"), median("after", "server_cpu_ms_per_req")
        print(
            f"{endpoint:<20} {rb:>12.1f} {ra:>12.1f} {ra / rb if rb else float('nan'):>6.2f}   "
            f"{cb:>13.2f} {ca:>12.2f} {ca / cb if cb else float('nan'):>6.2f}"
        )
        if sides["bare"]:
            rr, cr = median("bare", "req_per_s"), median("bare", "server_cpu_ms_per_req")
            print(
                f"{'  bare GET /':<20} {rr:>12.1f}   x bare: before {rb / rr:.3f}, after "
                f"{ra / rr:.3f}   bare CPU ms {cr:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
