#!/usr/bin/env python
"""How fast the dashboard's pages answer with the demo data: p50 per page (goal: under
300 ms).

    .venv/bin/python bench/pages.py [--backend sqlite|postgresql|both] [--requests 30]

Fills a fresh database with `fostering demo` (the five West Midlands councils, the seed
strategies' targets and scenarios and a first forecast run of Stoke-on-Trent), serves it
with `fostering serve` (scheduler off) on a loopback port, signs in through the sign-in form
as the demo manager (and the demo recruiter for the enquiry pages), and requests every page
`--requests` times one after another (two more first, not counted), over HTTP with keep-alive
as a browser would. Prints, per page, the median, 90th percentile and slowest time in
milliseconds and the page's size, and writes them to bench/results/pages-<date>.json. A page
that does not answer 200 stops the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
FOSTERING = Path(sys.executable).parent / "fostering"
PG_ADMIN_URL = os.environ.get("FOSTERING_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
GOAL_MS = 300.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# (role, page name, path): {enquiry}, {target} and {scenario} are filled in from the data.
PAGES = (
    ("manager", "overview", "/dashboard"),
    ("manager", "overview as at 31 March", "/dashboard?as_at={march}"),
    ("recruiter", "enquiry list", "/dashboard/enquiries"),
    ("recruiter", "enquiry list, search", "/dashboard/enquiries?q=smith&sort=name"),
    (
        "recruiter",
        "enquiry list, overdue",
        "/dashboard/enquiries?overdue=first_contact&sort=oldest",
    ),
    ("recruiter", "enquiry list, page 10", "/dashboard/enquiries?page=10"),
    ("recruiter", "enquiry", "/dashboard/enquiries/{enquiry}"),
    ("recruiter", "new enquiry form", "/dashboard/enquiries/new"),
    ("recruiter", "edit enquiry form", "/dashboard/enquiries/{enquiry}/edit"),
    ("recruiter", "import form", "/dashboard/uploads/enquiries"),
    ("manager", "funnel", "/dashboard/funnel"),
    ("manager", "funnel, earlier year", "/dashboard/funnel?year={earlier}"),
    ("manager", "capacity", "/dashboard/capacity"),
    ("manager", "capacity as at 31 March", "/dashboard/capacity?as_at={march}"),
    ("manager", "targets", "/dashboard/targets"),
    ("manager", "target form", "/dashboard/targets/{target}/edit"),
    ("manager", "forecasts", "/dashboard/forecasts"),
    ("manager", "scenarios", "/dashboard/scenarios"),
    ("manager", "scenario form", "/dashboard/scenarios/{scenario}/edit"),
    ("manager", "new scenario form", "/dashboard/scenarios/new"),
    ("manager", "settings", "/dashboard/settings"),
    ("manager", "SSDA903 upload form", "/dashboard/uploads/ssda903"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOSTERING_")}
    env |= {
        "DATABASE_URL": database_url,
        "FOSTERING_SCHEDULER_ENABLED": "false",
        "FOSTERING_LOG_LEVEL": "WARNING",
        "FOSTERING_PSEUDONYM_KEY": "bench-pages-pseudonym-key",
        "PYTHONPATH": str(ROOT),
    }
    return env


def demo(env: dict[str, str], folder: Path) -> dict[str, str]:
    """`fostering demo` into the database; the first token of each role."""
    tokens_file = folder / "tokens.txt"
    started = time.perf_counter()
    subprocess.run(
        [str(FOSTERING), "db", "upgrade"], env=env, check=True, capture_output=True, cwd=folder
    )
    subprocess.run(
        [str(FOSTERING), "demo", "--tokens-file", str(tokens_file)],
        env=env,
        check=True,
        capture_output=True,
        cwd=folder,
    )
    print(f"  demo data loaded in {time.perf_counter() - started:.1f} s")
    tokens: dict[str, str] = {}
    for line in tokens_file.read_text().splitlines():
        role, _, secret = line.split("\t")
        tokens.setdefault(role, secret)
    return tokens


def serve(env: dict[str, str], folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(FOSTERING), "serve", "--port", str(port)],
        env=env,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise SystemExit("the server did not start")


def signed_in(url: str, secret: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    form = client.get("/dashboard/sign-in")
    token = CSRF.search(form.text)
    assert token is not None
    response = client.post(
        "/dashboard/sign-in",
        data={"token": secret, "csrf_token": token.group(1), "next": "/dashboard"},
    )
    assert response.status_code in (200, 303), response.status_code
    return client


def ids(client: httpx.Client) -> dict[str, str]:
    """An enquiry, a target and a scenario of the demo, found by the pages themselves."""
    listing = client.get("/dashboard/enquiries").text
    enquiry = re.search(r'href="/dashboard/enquiries/(\d+)"', listing)
    return {"enquiry": enquiry.group(1) if enquiry else "1"}


def manager_ids(client: httpx.Client) -> dict[str, str]:
    targets = client.get("/dashboard/targets").text
    scenarios = client.get("/dashboard/scenarios").text
    target = re.search(r"/dashboard/targets/(\d+)/edit", targets)
    scenario = re.search(r"/dashboard/scenarios/(\d+)/edit", scenarios)
    return {
        "target": target.group(1) if target else "1",
        "scenario": scenario.group(1) if scenario else "1",
    }


def measure(client: httpx.Client, path: str, requests: int) -> dict[str, Any]:
    times = []
    size = 0
    for i in range(requests + 2):
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        size = len(response.content)
        if i >= 2:
            times.append(elapsed)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
        "max_ms": round(times[-1], 1),
        "kib": round(size / 1024, 1),
        "requests": requests,
    }


def run(backend: str, requests: int) -> list[dict[str, Any]]:
    print(f"{backend}:")
    with tempfile.TemporaryDirectory(prefix="fostering-pages-") as tmp:
        folder = Path(tmp)
        database = None
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'pages.db'}"
        else:
            database = f"fostering_pages_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
        env = environment(url)
        process = None
        try:
            tokens = demo(env, folder)
            process, base = serve(env, folder)
            clients = {role: signed_in(base, tokens[role]) for role in ("manager", "recruiter")}
            today = date.today()
            filled = {
                "march": f"{today.year - 1}-03-31",
                "earlier": str(today.year - 3),
                **ids(clients["recruiter"]),
                **manager_ids(clients["manager"]),
            }
            rows = []
            for role, name, path in PAGES:
                result = measure(clients[role], path.format(**filled), requests)
                rows.append({"backend": backend, "page": name, "path": path, **result})
                flag = "" if result["p50_ms"] < GOAL_MS else "  (over the goal)"
                print(
                    f"  {name:28} p50 {result['p50_ms']:7.1f} ms   p90 {result['p90_ms']:7.1f}"
                    f"   max {result['max_ms']:7.1f}   {result['kib']:6.1f} KiB{flag}"
                )
            for client in clients.values():
                client.close()
            return rows
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
            if database is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    rows = [row for backend in backends for row in run(backend, args.requests)]
    over = [f"{r['backend']} {r['page']}" for r in rows if r["p50_ms"] >= GOAL_MS]
    print(f"pages over the {GOAL_MS:.0f} ms p50 goal: {', '.join(over) or 'none'}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"pages-{date.today().isoformat()}.json"
    out.write_text(json.dumps({"goal_p50_ms": GOAL_MS, "pages": rows}, indent=1) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
