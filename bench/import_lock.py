#!/usr/bin/env python
"""How long another authority's enquiry create waits while a long import, dry run or export
runs, on SQLite (issue 13: they held the write lock for their whole run).

    .venv/bin/python bench/import_lock.py [--rows 40000] [--dry-run-rows 20000]

A real server (`fostering serve`, uvicorn, one process, on a free loopback port) over a
temporary SQLite file with two authorities. Coventry's recruiter creates enquiries one after
another over HTTP for the whole of each phase, while Stoke-on-Trent's manager runs one
background request:

    idle            nothing else (the comparison), for 10 s
    import          a --rows-row CSV of new enquiries (POST .../enquiries/import)
    export xlsx     every enquiry (the --rows just imported) as xlsx
    export csv      the same as CSV
    dry run xlsx    an xlsx workbook of --dry-run-rows rows, dry_run=true
    import again    the same --rows CSV again: every row matched, nothing changes

For each phase it prints the background request's own time and status, and the creates'
count, p50, p99 and maximum latency. Goal: p99 under 1 s during every phase. Results also go
to bench/results/import-lock-<date>.json. Run from another checkout's directory (its own
bench/import_lock.py, or this file copied there) to measure that checkout's server: the
server runs with PYTHONPATH set to the checkout this file sits in.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import xlsxwriter

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tracker.core import schema  # noqa: E402
from tracker.core.access import Role, issue_token  # noqa: E402
from tracker.core.authorities import NewAuthority, add_authority  # noqa: E402
from tracker.core.db import Database  # noqa: E402

STOKE, COVENTRY = "E06000021", "E08000026"
IDLE_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def enquiry_rows(count: int, prefix: str) -> list[list[str]]:
    start = date.today() - timedelta(days=700)
    return [
        [
            f"{prefix}{i:06d}",
            (start + timedelta(days=i % 600)).isoformat(),
            ("phone", "email", "web_form", "event")[i % 4],
            f"Applicant {i}",
            f"applicant{i}@example.org",
        ]
        for i in range(count)
    ]


HEADER = ["external_ref", "received_on", "channel", "enquirer_name", "email"]


def csv_file(rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n").encode()


def xlsx_file(rows: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("enquiries")
    for r, row in enumerate([HEADER, *rows]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


def setup(url: str) -> tuple[str, str]:
    database = Database(url)
    schema.upgrade(database)
    with database.writing() as session:
        add_authority(
            session, NewAuthority(code=STOKE, name="Stoke-on-Trent", region="West Midlands")
        )
        add_authority(session, NewAuthority(code=COVENTRY, name="Coventry", region="West Midlands"))
        manager = issue_token(session, role=Role.MANAGER, name="bench-stoke", authority_code=STOKE)
        other = issue_token(
            session, role=Role.RECRUITER, name="bench-coventry", authority_code=COVENTRY
        )
    database.dispose()
    return manager.secret, other.secret


def start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOSTERING_")}
    env |= {
        "DATABASE_URL": url,
        "PYTHONPATH": str(ROOT),
        "FOSTERING_SCHEDULER_ENABLED": "false",
        "FOSTERING_REQUESTS_PER_MINUTE": "0",
        "FOSTERING_EXPENSIVE_REQUESTS_PER_MINUTE": "0",
        "FOSTERING_LOG_LEVEL": "WARNING",
    }
    code = "from api.cli import main; main()"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--port", str(port), "--no-access-log"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"the server did not start; see {log}")


def creates_during(base: str, secret: str, done: threading.Event) -> tuple[list[float], dict]:
    """Create enquiries for Coventry one after another until `done`; latencies (s)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    body = {"received_on": (date.today() - timedelta(days=1)).isoformat(), "channel": "phone"}
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, timeout=120) as http:
        while not done.is_set():
            started = time.perf_counter()
            status = http.post(
                f"/api/v1/authorities/{COVENTRY}/enquiries", json=body, headers=headers
            ).status_code
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    return latencies, statuses


def phase(base: str, manager: str, other: str, name: str, request: dict | None) -> dict:
    done = threading.Event()
    outcome: dict = {}

    def background() -> None:
        if request is None:
            time.sleep(IDLE_S)
            outcome.update(status=None, seconds=IDLE_S)
        else:
            headers = {"Authorization": f"Bearer {manager}", **request.get("headers", {})}
            started = time.perf_counter()
            try:
                with httpx.Client(base_url=base, timeout=900) as http:
                    response = http.request(
                        request["method"],
                        request["path"],
                        content=request.get("body"),
                        headers=headers,
                    )
            except httpx.HTTPError as exc:
                outcome.update(status="error", error=repr(exc))
                done.set()
                return
            outcome.update(
                status=response.status_code,
                seconds=round(time.perf_counter() - started, 2),
                bytes=len(response.content),
            )
            if response.status_code != 200:
                outcome["error"] = response.text[:300]
        done.set()

    worker = threading.Thread(target=background)
    time.sleep(0.2)
    worker.start()
    latencies, statuses = creates_during(base, other, done)
    worker.join()
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan")
    result = {
        "phase": name,
        "background_status": outcome.get("status"),
        "background_s": outcome.get("seconds"),
        "creates": len(latencies),
        "create_statuses": statuses,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
    }
    if "error" in outcome:
        result["background_error"] = outcome["error"]
        print(f"{name}: the background request failed: {outcome['error']}", flush=True)
    print(
        f"{name:<14} background {result['background_status']!s:>4} "
        f"{result['background_s']!s:>7} s | creates {result['creates']:>5} "
        f"p50 {result['p50_ms']!s:>7} ms  p99 {result['p99_ms']!s:>8} ms  "
        f"max {result['max_ms']!s:>8} ms"
        f"  {statuses}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=40_000)  # an import's row limit
    parser.add_argument("--dry-run-rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import-lock-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        manager, other = setup(url)
        big = csv_file(enquiry_rows(args.rows, "B"))
        workbook = xlsx_file(enquiry_rows(args.dry_run_rows, "D"))
        print(
            f"checkout {ROOT}; SQLite; {args.rows:,}-row CSV ({len(big) / 1e6:.1f} MB), "
            f"{args.dry_run_rows:,}-row xlsx ({len(workbook) / 1e6:.2f} MB)",
            flush=True,
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(url, port, Path(tmp) / "server.log")
        stoke = f"/api/v1/authorities/{STOKE}/enquiries"
        csv_headers = {"Content-Type": "text/csv"}
        xlsx_headers = {
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        }
        phases = [
            ("idle", None),
            (
                "import",
                {"method": "POST", "path": f"{stoke}/import", "body": big, "headers": csv_headers},
            ),
            ("export xlsx", {"method": "GET", "path": f"{stoke}/export?format=xlsx"}),
            ("export csv", {"method": "GET", "path": f"{stoke}/export?format=csv"}),
            (
                "dry run xlsx",
                {
                    "method": "POST",
                    "path": f"{stoke}/import?dry_run=true",
                    "body": workbook,
                    "headers": xlsx_headers,
                },
            ),
            (
                "import again",
                {"method": "POST", "path": f"{stoke}/import", "body": big, "headers": csv_headers},
            ),
        ]
        results = []
        try:
            for name, request in phases:
                results.append(phase(base, manager, other, name, request))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"import-lock-{date.today().isoformat()}.json"
    out.write_text(
        json.dumps(
            {
                "checkout": str(ROOT),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "rows": args.rows,
                "dry_run_rows": args.dry_run_rows,
                "phases": results,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
