#!/usr/bin/env python
"""API throughput benchmark: enquiries, funnel and capacity reads, against a bare Litestar app.

    .venv/bin/python bench/api.py [--duration 4] [--concurrency 1,10,50]
                                  [--backends sqlite,postgresql] [--enquiries 4000]
                                  [--endpoints funnel,capacity,...] [--returns E08000025,...]
                                  [--forecast-run off|one|all] [--output FILE.json]

(bench/run_all.py runs it with the rest of the benchmarks: `make bench`.)

For each backend it creates a fresh database (a temporary SQLite file; for PostgreSQL a new
database fostering_bench_<random>, dropped afterwards), runs `fostering db upgrade` and
`fostering authority add E06000021` through the installed CLI and preloads it
(bench/preload.py): `demo.generate.generate_demo` with the 14 West Midlands authorities of
the shipped reference (E06000021 first), so years of enquiries and a household register of
several thousand households across the region, then E06000021's enquiries topped up to
--enquiries by the own loader. Authorities given to --returns are loaded as aggregate
capacity returns instead of a demo register. It creates a recruiter and a manager token for
E06000021 and a regional token for the West Midlands with `fostering token create`, starts
`fostering serve` on a free port and waits for /health. It then measures, at each
concurrency, the bare app (bench/bare_app.py, served by uvicorn the same way with the same
worker count, running for the whole benchmark) and the endpoints:

    GET  /api/v1/authorities/E06000021/funnel?date_from=<years ago>&date_to=<today>
    GET  /api/v1/authorities/E06000021/funnel/monthly?date_from=...&date_to=...
    GET  /api/v1/authorities/E06000021/enquiries?limit=50               (recruiter)
    GET  /api/v1/authorities/E06000021/capacity                        (manager)
    GET  /api/v1/regions/West%20Midlands/capacity                      (regional, JSON)
    GET  /api/v1/regions/West%20Midlands/capacity?format=csv           (regional, CSV)
    POST /api/v1/authorities/E06000021/enquiries   (a new, varied enquiry each time)

Reads are measured at every concurrency before any create runs, so every read sees the
preloaded volume only. Load comes from wrk (bench/wrk/*.lua) or, when wrk is missing, from
the slower Python generator in bench/loadgen.py. Results go to the terminal and to
bench/results/api-<date>.json and .md (server logs too with --keep-logs), with the peak
resident memory of each `fostering serve` (VmHWM from /proc, read just before it is
stopped, and after every point), and the CPU time the server spent per request it answered
(its process group's user+system time from the start of a run until it has finished what
the run sent, over the requests its access log shows: steadier than req/s when other work
shares the machine). With --forecast-run, `fostering forecast run` then refreshes the
forecasts of the loaded database (one authority, or all) while bench/memory.py samples the
memory of the command and its worker processes. --keep-sqlite FILE and --preloaded-sqlite
FILE save and reuse a preloaded SQLite database between development runs.

After each warm-up and each run the benchmark waits until the server has finished
what it was sent (/health answers and the server's CPU use drops to near zero), so requests
wrk abandoned do not count against the next measurement; a point that leaves the server
busy longer than --drain-limit s (or 1.5 rounds of a slow endpoint, see Load) is recorded
and the server restarted, so the next point starts clean. The regional
view is the slowest read, so at 50 clients its run is stretched (up to --max-duration s)
and the CSV form is measured at --csv-concurrency only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WRK_DIR = BENCH / "wrk"
RESULTS = BENCH / "results"
for extra in (str(ROOT), str(BENCH)):
    if extra not in sys.path:
        sys.path.insert(0, extra)

from preload import preload, region_codes, volume  # noqa: E402

from tracker.core.db import Database, normalise_url  # noqa: E402
from tracker.enquiries.stages import Stage  # noqa: E402
from tracker.enquiries.timeliness import london_today  # noqa: E402

AUTHORITY = "E06000021"
REGION = "West Midlands"
# After a warm-up, how long to wait for the requests it left queued before giving up and
# restarting the server (the measured run must not start with a backlog).
WARMUP_DRAIN_LIMIT = 30.0
PG_ADMIN_URL = os.environ.get("FOSTERING_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BIN = Path(sys.executable).parent
# An access-log line of an answered request, health probes left out.
SERVED = re.compile(rb'"(?:GET|POST|PUT|PATCH|DELETE|HEAD) (?!/health)[^"]* HTTP/1\.[01]" \d{3}')
LOG_PROBLEMS = re.compile(
    r"Traceback|\bERROR\b|Exception|database is locked|QueuePool limit|OperationalError|"
    r"Internal Server Error",
)
ENDPOINTS = (
    "bare",
    "funnel",
    "funnel_monthly",
    "enquiry_list",
    "capacity",
    "region_capacity",
    "region_capacity_csv",
    "enquiry_create",
)
READS = ENDPOINTS[1:-1]
LABELS = {
    "bare": "bare GET / (baseline)",
    "funnel": "GET funnel (N years)",
    "funnel_monthly": "GET funnel/monthly (N years)",
    "enquiry_list": "GET enquiries?limit=50",
    "capacity": "GET authority capacity (manager)",
    "region_capacity": "GET region capacity JSON (regional)",
    "region_capacity_csv": "GET region capacity CSV (regional)",
    "enquiry_create": "POST enquiries",
}


class BenchError(RuntimeError):
    """A step of the benchmark failed (the message says which)."""


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess in its own process group, stopped with SIGTERM then SIGKILL."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, log: Path):
        self.name, self.argv, self.env, self.cwd, self.log_path = name, argv, env, cwd, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopped: dict[str, Any] | None = None
        self.restarts: list[dict[str, Any]] = []
        # Memory of each process run (one more after every restart), read before stopping.
        self.memory_by_run: list[dict[str, Any]] = []
        self._served, self._log_offset = 0, 0

    def group_pids(self) -> list[int]:
        """Live processes of the server's process group (the server itself first)."""
        if self.proc is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[-1].split()
            if len(fields) > 2 and int(fields[2]) == self.proc.pid:
                found.append(int(entry.name))
        return sorted(found, key=lambda pid: (pid != self.proc.pid, pid))  # type: ignore[union-attr]

    def memory(self) -> dict[str, Any]:
        """VmHWM (peak resident set) and VmRSS in MiB of the server and any children."""
        processes = []
        for pid in self.group_pids():
            values: dict[str, Any] = {"pid": pid}
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    key, _, rest = line.partition(":")
                    if key in ("Name", "VmHWM", "VmRSS"):
                        value = rest.strip()
                        if key != "Name":
                            value = round(int(value.split()[0]) / 1024, 1)  # kB -> MiB
                        values[key] = value
            if "VmHWM" in values:
                processes.append(values)
        main = next((p for p in processes if self.proc and p["pid"] == self.proc.pid), None)
        return {
            "server_peak_rss_mib": main["VmHWM"] if main else None,
            "server_rss_mib": main["VmRSS"] if main else None,
            "group_peak_rss_sum_mib": round(sum(p["VmHWM"] for p in processes), 1),
            "processes": processes,
        }

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far by the server's process group."""
        ticks = 0
        for pid in self.group_pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float | None:
        """The highest VmHWM of the server process over every run (restarts included)."""
        peaks = [m["server_peak_rss_mib"] for m in self.memory_by_run if m["server_peak_rss_mib"]]
        return max(peaks) if peaks else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.stopped = None
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()

    def wait_ready(self, url: str, timeout: float = 90.0) -> float:
        assert self.proc is not None
        started = time.monotonic()
        last = ""
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.proc.returncode} before it was "
                    f"ready; log tail:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except urllib.error.HTTPError as exc:  # e.g. 503 while the schema is not current
                last = f"HTTP {exc.code}: {exc.read()[:200].decode(errors='replace')}"
            except (OSError, urllib.error.URLError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise BenchError(
            f"{self.name} not ready at {url} after {timeout:.0f} s (last answer: {last}); "
            f"log tail:\n{self.log_tail()}"
        )

    def stop(self, grace: float = 25.0) -> dict[str, Any]:
        """SIGTERM the process group, SIGKILL it after `grace` seconds. Idempotent."""
        if self.stopped is not None or self.proc is None:
            return self.stopped or {}
        how = "exited by itself"
        started = time.monotonic()
        if self.proc.poll() is None:
            self.memory_by_run.append(self.memory())
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            how = "SIGTERM"
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
                how = f"SIGKILL after {grace:.0f} s"
        # Reap anything left in the group (uvicorn workers) without waiting again.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, 0)
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.stopped = {
            "how": how,
            "returncode": self.proc.returncode,
            "seconds": round(time.monotonic() - started, 1),
        }
        return self.stopped

    def restart(self, health_url: str, reason: str) -> dict[str, Any]:
        """Stop a stalled server quickly (SIGTERM, SIGKILL after 5 s) and start it again."""
        with self.log_path.open("ab") as log:
            log.write(f"\n##### bench: restarting ({reason})\n".encode())
        stopped = self.stop(grace=5.0)
        self.start()
        ready = self.wait_ready(health_url)
        event = {"reason": reason, "stopped": stopped, "ready_s": round(ready, 1)}
        self.restarts.append(event)
        return event

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def served(self) -> int:
        """Requests answered so far by the access log, /health probes left out (read on from
        where the last call stopped)."""
        with contextlib.suppress(OSError), self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            chunk = log.read()
            end = chunk.rfind(b"\n") + 1  # a line being written is counted next time
            self._served += len(SERVED.findall(chunk[:end]))
            self._log_offset += end
        return self._served

    def problems(self, limit: int = 10) -> dict[str, Any]:
        """What went wrong according to the server log: error kinds with counts, and the
        response statuses of the access log (which also sees answers sent after the load
        generator stopped waiting)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return {"count": 0, "kinds": [], "statuses": {}}
        kinds: Counter[str] = Counter()
        for line in text.splitlines():
            if LOG_PROBLEMS.search(line) and not line.startswith(("Traceback", "  ")):
                kind = re.sub(r"^\w+ - [\d-]+ [\d:,]+ - ", "", line.strip())
                kind = re.sub(r"0x[0-9a-f]+", "0x…", kind)
                kinds[kind] += 1
        statuses = Counter(re.findall(r'HTTP/1\.[01]" (\d{3})', text))
        return {
            "count": sum(kinds.values()),
            "tracebacks": text.count("Traceback (most recent call last)"),
            "database_is_locked": text.count("database is locked"),
            "queuepool_timeouts": text.count("QueuePool limit"),
            "kinds": [{"count": n, "line": k[:300]} for k, n in kinds.most_common(limit)],
            "statuses": dict(sorted(statuses.items())),
        }


def serve_access_log_default() -> bool | None:
    """The access-log default of `fostering serve` (read from its --help), None if unknown."""
    exe = BIN / "fostering"
    with contextlib.suppress(Exception):
        out = subprocess.run(
            [str(exe), "serve", "--help"], capture_output=True, text=True, timeout=60
        ).stdout
        found = re.search(r"\[default:\s*(no-access-log|access-log)\]", out)
        if found:
            return found.group(1) == "access-log"
    return None


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    """Run the installed `fostering` command; its stdout, or BenchError with stderr."""
    exe = BIN / "fostering"
    argv = [str(exe) if exe.exists() else (shutil.which("fostering") or "fostering"), *args]
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise BenchError(
            f"`fostering {' '.join(args)}` failed ({done.returncode}):\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new empty database on the local server, dropped (forcibly) on the way out."""
    from sqlalchemy import create_engine, text

    name = f"fostering_bench_{secrets.token_hex(4)}"
    admin = create_engine(
        normalise_url(PG_ADMIN_URL),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        try:
            yield f"{base}/{name}"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --------------------------------------------------------------------------- load


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def bare_command(port: int, *, access_log: bool = False) -> list[str]:
    """The command serving the bare Litestar app (bench/bare_app.py) on a loopback port."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(BENCH),
        "bare_app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--access-log" if access_log else "--no-access-log",
    ]


def run_wrk(
    url: str, script: Path, script_args: list[str], concurrency: int, duration: float, threads: int
) -> dict[str, Any]:
    argv = [
        "wrk",
        f"-t{max(1, min(threads, concurrency))}",
        f"-c{concurrency}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "60s",
        "-s",
        str(script),
        url,
        "--",
        *script_args,
    ]
    env = {**os.environ, "BENCH_WRK_DIR": str(WRK_DIR)}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + 120)
    out = done.stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}): {' '.join(argv)}\n{out}\n{done.stderr}")
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    # wrk's own text report: requests/sec and the non-2xx/3xx count, kept as a cross-check.
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["wrk_requests_per_sec"] = float(rps.group(1)) if rps else None
    result["wrk_non_2xx_3xx"] = int(non2xx.group(1)) if non2xx else 0
    result["wrk_text"] = "\n".join(ln for ln in out.splitlines() if not ln.startswith("BENCH_JSON"))
    return result


def run_python(
    url: str,
    method: str,
    token: str | None,
    received_on: str | None,
    concurrency: int,
    duration: float,
    accept: str = "application/json",
) -> dict[str, Any]:
    import loadgen

    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = None
    if method == "POST":
        headers["Content-Type"] = "application/json"
        assert received_on is not None
        body = loadgen.enquiry_body_factory(received_on)
    result = loadgen.run(url, method, headers, body, concurrency, duration)
    result["wrk_non_2xx_3xx"] = result["errors"]["status"]
    result["wrk_requests_per_sec"] = None
    return result


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def drain(health_url: str, limit: float = 45.0) -> float:
    """Seconds until the server answers one /health request (any status; at most `limit`).

    One patient probe rather than many short ones, so a stalled server is not sent a pile
    of extra requests to work through.
    """
    started = time.monotonic()
    # HTTPError (503 if, say, a migration appeared meanwhile) is an answer too.
    with (
        contextlib.suppress(OSError, urllib.error.URLError),
        urllib.request.urlopen(health_url, timeout=limit) as response,
    ):
        response.read()
    return round(time.monotonic() - started, 1)


QUIET_WINDOW_S = 0.3
QUIET_CPU_SHARE = 0.1


def settle(server: Server, health_url: str, limit: float) -> float:
    """Seconds until the server has finished the work it was given (at most `limit`).

    /health alone is not enough: it runs in the server's thread pool (32 threads), so it is
    answered at once while up to 31 slow requests abandoned by the load generator are still
    being worked through. So after /health answers, wait until the server's processes use
    less than 10% of a CPU over 0.3 s. Returns `limit` if that never happens.
    """
    started = time.monotonic()
    drain(health_url, limit)
    while (elapsed := time.monotonic() - started) < limit:
        before = server.cpu_seconds()
        time.sleep(QUIET_WINDOW_S)
        if server.cpu_seconds() - before < QUIET_CPU_SHARE * QUIET_WINDOW_S:
            return round(time.monotonic() - started, 1)
    return round(max(elapsed, limit), 1)


class Load:
    """Runs one measurement point with the chosen generator.

    Slow endpoints (the regional view takes a quarter of a second a request) would answer
    nobody in a few seconds at 50 clients, so each endpoint's service time is estimated from
    its first point (p50 ÷ concurrency) and a later point's "round" (concurrency x that time,
    how long every client waits for one answer on a server that does one thing at a time)
    sets three things: the measured run is stretched to two rounds (at most `max_duration`
    s); the warm-up is skipped when one round is longer than it (it would only leave a
    backlog; the first point has warmed the endpoint); and the server gets 1.5 rounds, not
    just `drain_limit` s, to work off what is in flight before it counts as stuck.
    """

    def __init__(
        self,
        generator: str,
        duration: float,
        warmup: float,
        threads: int,
        drain_limit: float,
        max_duration: float | None = None,
    ):
        self.generator, self.duration, self.warmup, self.threads = (
            generator,
            duration,
            warmup,
            threads,
        )
        self.drain_limit = drain_limit
        self.max_duration = max(duration, max_duration if max_duration is not None else duration)
        self.service_s: dict[tuple[str, str], float] = {}

    def _once(self, spec: dict[str, Any], concurrency: int, duration: float) -> dict[str, Any]:
        if self.generator == "wrk":
            if spec["method"] == "POST":
                return run_wrk(
                    spec["base"],
                    WRK_DIR / "post_enquiry.lua",
                    [spec["token"], spec["received_on"], spec["path"]],
                    concurrency,
                    duration,
                    self.threads,
                )
            return run_wrk(
                spec["base"] + spec["path"],
                WRK_DIR / "get.lua",
                [spec.get("token") or "-", spec.get("accept") or "application/json"],
                concurrency,
                duration,
                self.threads,
            )
        return run_python(
            spec["base"] + spec["path"],
            spec["method"],
            spec.get("token"),
            spec.get("received_on"),
            concurrency,
            duration,
            spec.get("accept") or "application/json",
        )

    def point(
        self,
        backend: str,
        endpoint: str,
        spec: dict[str, Any],
        concurrency: int,
        server: Server | None = None,
        health_url: str | None = None,
        measured: Server | None = None,
    ) -> dict[str, Any]:
        """One measurement; `measured` is the server whose CPU time is counted (default
        `server`, the one that is also drained and restarted)."""
        measured = measured or server
        warm: dict[str, Any] | None = None
        warmup_drain_s, warmup_restarted = 0.0, False
        service = self.service_s.get((backend, endpoint))
        round_s = concurrency * service if service else 0.0
        duration = self.duration
        if 2 * round_s > duration:
            duration = min(self.max_duration, math.ceil(2 * round_s))
        drain_limit = max(self.drain_limit, 1.5 * round_s)
        warmup_skipped = self.warmup > 0 and round_s > self.warmup
        if self.warmup > 0 and not warmup_skipped:
            warm = self._once(spec, concurrency, self.warmup)
            # wrk abandons the requests in flight when the warm-up ends; let the server
            # finish them so the measured run starts without a backlog.
            if server is not None and health_url is not None:
                warmup_drain_s = settle(server, health_url, WARMUP_DRAIN_LIMIT)
                if warmup_drain_s >= WARMUP_DRAIN_LIMIT:
                    server.restart(
                        health_url, f"{endpoint} c={concurrency} warm-up left it unresponsive"
                    )
                    warmup_restarted = True
        cpu_before = measured.cpu_seconds() if measured else 0.0
        served_before = measured.served() if measured else 0
        raw = self._once(spec, concurrency, duration)
        seconds = raw["duration_us"] / 1e6
        errors = raw["errors"]
        socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
        ok = sum(n for code, n in raw["statuses"].items() if 200 <= int(code) < 300)
        point = {
            "backend": backend,
            "endpoint": endpoint,
            "method": spec["method"],
            "path": spec["path"],
            "concurrency": concurrency,
            "requests": raw["requests"],
            "seconds": round(seconds, 3),
            "req_per_s": round(raw["requests"] / seconds, 1) if seconds else 0.0,
            "ok_2xx_per_s": round(ok / seconds, 1) if seconds else 0.0,
            "p50_ms": round(raw["latency_us"]["p50"] / 1000, 3),
            "p90_ms": round(raw["latency_us"]["p90"] / 1000, 3),
            "p99_ms": round(raw["latency_us"]["p99"] / 1000, 3),
            "max_ms": round(raw["latency_us"]["max"] / 1000, 3),
            "non_2xx_3xx": raw["wrk_non_2xx_3xx"],
            "statuses": raw["statuses"],
            "socket_errors": socket_errors,
            "errors": errors,
            "bad_sample": raw.get("bad_sample") or "",
            "warmup_statuses": warm["statuses"] if warm else {},
            "warmup_non_2xx_3xx": warm["wrk_non_2xx_3xx"] if warm else 0,
            "wrk_requests_per_sec": raw.get("wrk_requests_per_sec"),
            "wrk_text": raw.get("wrk_text", ""),
            "stalled": raw["requests"] == 0,
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "warmup_drain_s": warmup_drain_s,
            "warmup_restarted": warmup_restarted,
            "warmup_skipped": warmup_skipped,
            "duration_s": duration,
            "stretched": duration != self.duration,
            "round_estimate_s": round(round_s, 2),
            "drain_limit_s": round(drain_limit, 1),
        }
        if (backend, endpoint) not in self.service_s and raw["requests"]:
            self.service_s[(backend, endpoint)] = raw["latency_us"]["p50"] / 1e6 / concurrency
        if point["stalled"]:
            for key in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
                point[key] = None
        # Requests still in flight when the load stopped (a stall) must not leak into the
        # next point: wait for /health to answer; restart a server that stays stuck.
        point["drain_s"], point["restarted"] = 0.0, False
        if server is not None and health_url is not None:
            point["drain_s"] = settle(server, health_url, drain_limit)
        elif measured is not None:
            time.sleep(0.3)  # the bare server: what wrk left in flight takes milliseconds
        # CPU time the server used per request it answered, from the start of the run until it
        # had finished what the run sent (those wrk abandoned at the end included, as counted
        # by the access log): steadier than req/s when other work shares the machine.
        point["server_cpu_ms_per_req"] = None
        if measured is not None:
            mem = measured.memory()
            point["server_rss_mib"] = mem["server_rss_mib"]
            point["server_peak_rss_mib"] = mem["server_peak_rss_mib"]
            cpu = measured.cpu_seconds() - cpu_before
            served = measured.served() - served_before
            point["server_served"] = served
            if served > 0:
                point["server_cpu_ms_per_req"] = round(cpu * 1000 / served, 3)
        if server is not None and health_url is not None and point["drain_s"] >= drain_limit:
            server.restart(health_url, f"{endpoint} c={concurrency} left it unresponsive")
            point["restarted"] = True
        print(
            f"  {backend:<10} {endpoint:<19} c={concurrency:<3} {point['req_per_s']:>9.1f} req/s"
            f"  p50 {ms(point['p50_ms']):>8} ms  p99 {ms(point['p99_ms']):>8} ms"
            f"  non-2xx {point['non_2xx_3xx'] + point['warmup_non_2xx_3xx']}"
            f"  sock-err {socket_errors}"
            + (f"  (run {duration:g} s)" if duration != self.duration else "")
            + ("  (no warm-up)" if warmup_skipped else "")
            + (f"  STALLED: no response in {duration:g} s" if point["stalled"] else "")
            + (
                f"  (server busy {point['drain_s']:.1f} s after the run"
                + ("; restarted it)" if point["restarted"] else ")")
                if point["drain_s"] > 1
                else ""
            )
            + (f"  (warm-up backlog {warmup_drain_s:.1f} s)" if warmup_drain_s > 1 else "")
            + ("  (restarted after the warm-up)" if warmup_restarted else ""),
            flush=True,
        )
        return point


# --------------------------------------------------------------------------- one backend


def http_json(
    url: str, token: str | None = None, method: str = "GET", body: bytes | None = None
) -> tuple[int, Any, float, int]:
    request = urllib.request.Request(url, data=body, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    elapsed = (time.perf_counter() - started) * 1000
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = raw[:300].decode(errors="replace")
    return status, payload, elapsed, len(raw)


def years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def reused(url: str, source: str, today: date) -> dict[str, Any]:
    """What a copied, already preloaded database holds (as `preload` reports it)."""
    from preload import region_volume

    database = Database(url)
    try:
        info: dict[str, Any] = {
            "loader": f"copy of {source} (preloaded by an earlier run)",
            "seconds": 0.0,
            "notes": [f"reused {source}: development run"],
            "region": region_volume(database, REGION, today),
            "volume": volume(database, AUTHORITY),
        }
    finally:
        database.dispose()
    stages = info["volume"]["by_stage"]
    info["volume"]["reached_application_or_later"] = sum(
        v for k, v in stages.items() if Stage(k).rank >= Stage.APPLICATION.rank
    )
    return info


def create_token(env: dict[str, str], cwd: Path, *args: str) -> str:
    """`fostering token create ...`: the secret, printed on its own last line."""
    return cli(env, cwd, "token", "create", *args).strip().splitlines()[-1].strip()


def run_backend(
    backend: str,
    args: argparse.Namespace,
    load: Load,
    bare_base: str,
    stamp: str,
    today: date,
    bare: Server,
) -> dict[str, Any]:
    section: dict[str, Any] = {"backend": backend, "points": [], "notes": []}
    started = time.monotonic()
    print(f"\n== {backend}", flush=True)
    with contextlib.ExitStack() as stack:
        tmp = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix=f"fostering-bench-{backend}-"))
        )
        if backend == "sqlite":
            url = f"sqlite:///{tmp / 'fostering.db'}"
        else:
            url = stack.enter_context(postgres_database())
        section["database_url"] = url
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["DATABASE_URL"] = url
        # wrk sends thousands of requests a second with one token: no per-token limits.
        env |= {
            "FOSTERING_REQUESTS_PER_MINUTE": "0",
            "FOSTERING_EXPENSIVE_REQUESTS_PER_MINUTE": "0",
        }
        authorities = region_codes(REGION, AUTHORITY)
        if backend == "sqlite" and args.preloaded_sqlite:
            # Development runs: a copy of a file an earlier run kept (--keep-sqlite).
            shutil.copyfile(args.preloaded_sqlite, tmp / "fostering.db")
            cli(env, tmp, "db", "upgrade")
            print(f"  copied the preloaded {args.preloaded_sqlite}", flush=True)
            section["preload"] = reused(url, args.preloaded_sqlite, today)
        else:
            cli(env, tmp, "db", "upgrade")
            cli(env, tmp, "authority", "add", AUTHORITY)
            print(
                f"  preloading {REGION} ({len(authorities)} authorities, {len(args.returns)} "
                f"as capacity returns) and {args.years} years of enquiries ({args.loader} "
                "loader) ...",
                flush=True,
            )
            section["preload"] = preload(
                url,
                AUTHORITY,
                args.enquiries,
                args.years,
                today,
                loader=args.loader,
                authorities=authorities,
                returns=args.returns,
                region=REGION,
            )
            if backend == "sqlite" and args.keep_sqlite:
                Path(args.keep_sqlite).parent.mkdir(parents=True, exist_ok=True)
                database = Database(url)
                with database.engine.connect() as conn:  # one file, no WAL beside it
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                database.dispose()
                shutil.copyfile(tmp / "fostering.db", args.keep_sqlite)
                print(f"  kept a copy of the preloaded database in {args.keep_sqlite}")
        vol, reg = section["preload"]["volume"], section["preload"]["region"]
        print(
            f"  preloaded {vol['enquiries']} {AUTHORITY} enquiries ({vol['received_from']} .. "
            f"{vol['received_to']}, {vol['reached_application_or_later']} at application or "
            f"later) in {section['preload']['seconds']} s via {section['preload']['loader']}",
            flush=True,
        )
        print(
            f"  region {REGION}: {reg['authorities']} authorities "
            f"({reg['authorities_by_source']}), {reg['households_today']} households active or "
            f"on hold today ({reg['households_stored']} stored over {args.years} years, "
            f"{reg['placements']} placements), {reg['enquiries']} enquiries in all, "
            f"{reg['capacity_return_rows']} capacity-return rows",
            flush=True,
        )
        for note in section["preload"]["notes"]:
            print(f"  note: {note}", flush=True)
        token = create_token(
            env, tmp, "--role", "recruiter", "--authority", AUTHORITY, "--name", "api-benchmark"
        )
        manager = create_token(
            env, tmp, "--role", "manager", "--authority", AUTHORITY, "--name", "api-bench-mgr"
        )
        regional = create_token(
            env, tmp, "--role", "regional", "--region", REGION, "--name", "api-bench-region"
        )

        port = free_port()
        argv = [str(BIN / "fostering"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if args.workers != 1:
            argv += ["--workers", str(args.workers)]
        if args.access_log != "serve-default":
            argv.append("--access-log" if args.access_log == "on" else "--no-access-log")
        log = tmp / "server.log"
        server = Server(f"fostering serve ({backend})", argv, env, tmp, log)
        stack.callback(server.stop)
        server.start()
        base = f"http://127.0.0.1:{port}"
        section["server_ready_s"] = round(server.wait_ready(f"{base}/health"), 1)
        section["server_memory_at_ready"] = server.memory()
        section["server_log"] = "(temporary; --keep-logs to keep it)"

        date_from = years_ago(today, args.years)
        query = f"?date_from={date_from.isoformat()}&date_to={today.isoformat()}"
        prefix = f"/api/v1/authorities/{AUTHORITY}"
        region_path = f"/api/v1/regions/{urllib.parse.quote(REGION)}/capacity"

        def read(path: str, secret: str, accept: str = "application/json") -> dict[str, Any]:
            return {"method": "GET", "base": base, "path": path, "token": secret, "accept": accept}

        specs = {
            "bare": {"method": "GET", "base": bare_base, "path": "/"},
            "funnel": read(f"{prefix}/funnel{query}", token),
            "funnel_monthly": read(f"{prefix}/funnel/monthly{query}", token),
            "enquiry_list": read(f"{prefix}/enquiries?limit=50", token),
            "capacity": read(f"{prefix}/capacity", manager),
            "region_capacity": read(region_path, regional),
            "region_capacity_csv": read(f"{region_path}?format=csv", regional, "text/csv"),
            "enquiry_create": {
                "method": "POST",
                "base": base,
                "path": f"{prefix}/enquiries",
                "token": token,
                "received_on": today.isoformat(),
            },
        }
        section["paths"] = {name: spec["path"] for name, spec in specs.items()}
        section["smoke"] = smoke(base, specs, today, args.endpoints)
        for name, check in section["smoke"].items():
            print(
                f"  smoke {name}: HTTP {check['status']} in {check['ms']:.1f} ms"
                f" ({check['bytes']} bytes){' ' + check['detail'] if check['detail'] else ''}",
                flush=True,
            )

        points = section["points"]
        health = f"{base}/health"
        for c in args.concurrency:
            points.append(load.point(backend, "bare", specs["bare"], c, measured=bare))
        for c in args.concurrency:
            for name in READS:
                if name not in args.endpoints:
                    continue
                if name == "region_capacity_csv" and c not in args.csv_concurrency:
                    continue
                points.append(load.point(backend, name, specs[name], c, server, health))
        if "enquiry_create" in args.endpoints:
            database = Database(url)
            before = volume(database, AUTHORITY)["enquiries"]
            database.dispose()
            create_points = []
            for c in args.concurrency:
                create_points.append(
                    load.point(
                        backend, "enquiry_create", specs["enquiry_create"], c, server, health
                    )
                )
            points += create_points
            database = Database(url)
            after = volume(database, AUTHORITY)
            database.dispose()
            created_201 = sum(
                p["statuses"].get("201", 0) + p["warmup_statuses"].get("201", 0)
                for p in create_points
            )
            section["writes"] = {
                "enquiries_before_creates": before,
                "enquiries_after": after["enquiries"],
                "rows_added": after["enquiries"] - before,
                "responses_201": created_201,
            }
            # wrk stops counting at the deadline: requests in flight then may still commit.
            in_flight = sum(p["concurrency"] * (2 if args.warmup else 1) for p in create_points)
            added = after["enquiries"] - before
            section["writes"]["unreported_in_flight_max"] = in_flight
            if added < created_201 or added > created_201 + in_flight:
                section["notes"].append(
                    f"rows added ({added}) do not match 201 responses ({created_201}) even "
                    f"allowing {in_flight} requests in flight at the end of the runs"
                )
        section["server_stop"] = server.stop()
        section["server_memory"] = {
            "peak_rss_mib": server.peak_rss_mib(),
            "by_run": server.memory_by_run,
            "source": "VmHWM of /proc/<pid>/status of the `fostering serve` process, read just "
            "before each stop (one run per start, restarts included)",
        }
        section["server_problems"] = server.problems()
        section["server_restarts"] = server.restarts
        if args.forecast_run != "off" and backend in args.forecast_run_backends:
            section["forecast_run"] = forecast_run(env, tmp, args.forecast_run)
        print(
            f"  {backend}: fostering serve peak RSS (VmHWM) {server.peak_rss_mib()} MiB over "
            f"{len(server.memory_by_run)} run(s): "
            + ", ".join(f"{m['server_peak_rss_mib']} MiB" for m in server.memory_by_run)
            + f"; RSS at ready {section['server_memory_at_ready']['server_rss_mib']} MiB",
            flush=True,
        )
        if args.keep_logs:
            kept = RESULTS / f"api-{stamp}-{backend}-server.log"
            shutil.copyfile(log, kept)
            section["server_log"] = str(kept.relative_to(ROOT))
    section["seconds"] = round(time.monotonic() - started, 1)
    return section


FORECAST_ROW = re.compile(r"(E\d{8})\s*\W\s*(\d+)\s*\W\s*(\w+)\s*\W\s*(\d+)")


def forecast_run(env: dict[str, str], cwd: Path, scope: str) -> dict[str, Any]:
    """`fostering forecast run` on the loaded database, as an operator would start it (the
    installation's default executor and workers): time, outcome and peak memory of the
    process and its workers."""
    from memory import run_measured

    argv = [str(BIN / "fostering"), "forecast", "run"]
    if scope == "one":
        argv += ["--authority", AUTHORITY]
    print(f"  forecast run ({scope}): {' '.join(argv[1:])} ...", flush=True)
    log = cwd / "forecast-run.log"
    result = run_measured(argv, {**env, "COLUMNS": "120"}, cwd, log, interval=0.2)
    text = log.read_text(errors="replace")
    runs = [
        {"authority": code, "run": int(run), "status": status, "series": int(series)}
        for code, run, status, series in FORECAST_ROW.findall(text)
    ]
    result.update(
        scope=scope,
        authorities=len(runs),
        series=sum(r["series"] for r in runs),
        succeeded=sum(r["status"] == "succeeded" for r in runs),
        runs=runs,
    )
    if result["returncode"] != 0:
        result["log_tail"] = text[-2000:]
    mem = result["memory"]
    print(
        f"  forecast run: {result['authorities']} "
        f"{'authority' if result['authorities'] == 1 else 'authorities'}, {result['series']} "
        f"series in {result['seconds']} s (exit {result['returncode']}); peak memory of the "
        f"process and its workers {mem['peak_tree_rss_mib']} MiB "
        f"({mem['processes_at_peak']} processes), largest single process "
        f"{mem['largest_process_peak_rss_mib']} MiB",
        flush=True,
    )
    return result


def http_get(
    url: str, token: str | None, accept: str = "application/json"
) -> tuple[int, bytes, float, str]:
    """One GET: status, body, milliseconds and content type (errors are answers too)."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw, status = response.read(), response.status
            media = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raw, status, media = exc.read(), exc.code, exc.headers.get("Content-Type", "")
    return status, raw, (time.perf_counter() - started) * 1000, media


def _read_detail(name: str, raw: bytes) -> str:
    """A sanity figure of a 200 answer, so the report shows what was being served."""
    if name == "region_capacity_csv":
        lines = raw.decode(errors="replace").splitlines()
        codes = {line.split(",", 1)[0] for line in lines[1:] if line}
        return f"{len(lines) - 1} rows, {len(codes)} authorities"
    payload = json.loads(raw)
    if name == "funnel":
        return (
            f"overall.enquiries={payload['overall']['enquiries']}, "
            f"approved={payload['overall']['approved']}"
        )
    if name == "funnel_monthly":
        return f"{len(payload['points'])} months"
    if name == "enquiry_list":
        return f"{len(payload['items'])} items of total={payload.get('total')}"
    if name == "capacity":
        total = payload["total"]
        return (
            f"households={total['households']}, approved_places={total['approved_places']}, "
            f"occupancy={total['occupancy']}"
        )
    if name == "region_capacity":
        rollup = payload.get("rollup") or {}
        whole = next((r for r in rollup.get("rows", []) if r["care_type"] == "all"), {})
        return (
            f"{len(payload['authorities'])} authorities, roll-up households="
            f"{whole.get('households')}, by source {rollup.get('authorities_by_source')}"
        )
    return ""


def smoke(base: str, specs: dict[str, Any], today: date, endpoints: list[str]) -> dict[str, Any]:
    """One request of each endpoint before the load: status, size, a sanity figure."""
    checks: dict[str, Any] = {}
    for name in READS:
        if name not in endpoints:
            continue
        spec = specs[name]
        status, raw, ms, media = http_get(base + spec["path"], spec["token"], spec["accept"])
        detail = ""
        if status == 200:
            try:
                detail = _read_detail(name, raw)
            except (ValueError, KeyError, TypeError) as exc:
                detail = f"unexpected body ({type(exc).__name__}: {exc}): {raw[:200]!r}"
        else:
            detail = raw[:300].decode(errors="replace")
        checks[name] = {
            "status": status,
            "ms": round(ms, 1),
            "bytes": len(raw),
            "content_type": media,
            "detail": detail,
        }
    if "enquiry_create" not in endpoints:
        return checks
    spec = specs["enquiry_create"]
    body = json.dumps(
        {
            "received_on": today.isoformat(),
            "channel": "phone",
            "enquirer_name": "Smoke Test",
            "interests": ["undecided"],
        }
    ).encode()
    status, payload, ms, size = http_json(base + spec["path"], spec["token"], "POST", body)
    checks["enquiry_create"] = {
        "status": status,
        "ms": round(ms, 1),
        "bytes": size,
        "detail": "" if status == 201 else str(payload)[:300],
    }
    return checks


# --------------------------------------------------------------------------- report


def machine_facts(generator: str) -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {}
    for module in ("litestar", "uvicorn", "sqlalchemy", "psycopg", "msgspec"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[module] = version(module)
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    if generator == "wrk":
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        versions["wrk"] = (out.stdout or out.stderr).splitlines()[0].split(" [")[0]
    with contextlib.suppress(Exception):
        from sqlalchemy import create_engine, text

        engine = create_engine(normalise_url(PG_ADMIN_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            versions["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
    commit, dirty = "", []
    with contextlib.suppress(Exception):  # read-only git queries
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True
        ).stdout.splitlines()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": list(os.getloadavg()),
        "git_commit": commit,
        "git_uncommitted": dirty,
        "versions": versions,
    }


def add_ratios(sections: list[dict[str, Any]]) -> None:
    for section in sections:
        bare = {p["concurrency"]: p for p in section["points"] if p["endpoint"] == "bare"}
        for p in section["points"]:
            ref = bare.get(p["concurrency"])
            p["ratio_req_per_s"] = (
                round(p["req_per_s"] / ref["req_per_s"], 4) if ref and ref["req_per_s"] else None
            )
            for key in ("p50", "p99"):
                mine, base = p[f"{key}_ms"], ref[f"{key}_ms"] if ref else None
                p[f"ratio_{key}"] = round(mine / base, 2) if base and mine is not None else None
            mine, base = (
                p.get("server_cpu_ms_per_req"),
                ref.get("server_cpu_ms_per_req") if ref else None,
            )
            p["ratio_cpu"] = round(mine / base, 1) if base and mine is not None else None


HEADER = (
    "backend",
    "endpoint",
    "conc",
    "req/s",
    "p50 ms",
    "p99 ms",
    "x bare req/s",
    "x bare p99",
    "cpu ms/req",
    "x bare cpu",
    "non-2xx",
    "sock err",
    "note",
)


def rows(sections: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    out = []
    for section in sections:
        order = {e: i for i, e in enumerate(ENDPOINTS)}
        for p in sorted(section["points"], key=lambda p: (order[p["endpoint"]], p["concurrency"])):
            ratio = p["ratio_req_per_s"]
            out.append(
                (
                    p["backend"],
                    p["endpoint"],
                    str(p["concurrency"]),
                    f"{p['req_per_s']:.1f}",
                    ms(p["p50_ms"]),
                    ms(p["p99_ms"]),
                    "-" if ratio is None else f"{ratio:.3f}",
                    "-" if p["ratio_p99"] is None else f"{p['ratio_p99']:.1f}",
                    ms(p.get("server_cpu_ms_per_req")),
                    "-" if p.get("ratio_cpu") is None else f"{p['ratio_cpu']:.1f}",
                    str(p["non_2xx_3xx"] + p["warmup_non_2xx_3xx"]),
                    str(p["socket_errors"]),
                    point_note(p),
                )
            )
    return out


def point_note(p: dict[str, Any]) -> str:
    notes = []
    if p.get("stretched"):
        notes.append(f"{p['requests']} answers in a {p['duration_s']:g} s run")
    if p.get("warmup_skipped"):
        notes.append("no warm-up")
    if p.get("warmup_restarted"):
        notes.append("warm-up backlog, restarted")
    elif p.get("warmup_drain_s", 0) > 1:
        notes.append(f"warm-up backlog {p['warmup_drain_s']:g} s")
    if p.get("stalled"):
        notes.append("no response in the run")
    if p.get("restarted"):
        notes.append("server stuck, restarted")
    elif p.get("drain_s", 0) > 1:
        notes.append(f"server busy {p['drain_s']:g} s after")
    return "; ".join(notes)


def text_table(table: list[tuple[str, ...]]) -> str:
    widths = [max(len(HEADER[i]), *(len(r[i]) for r in table)) for i in range(len(HEADER))]
    right = set(range(2, len(HEADER) - 1))  # the note stays left-aligned

    def fmt(r: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    lines = [fmt(HEADER), "  ".join("-" * w for w in widths)]
    previous = None
    for r in table:
        if previous is not None and r[0] != previous:
            lines.append("")
        lines.append(fmt(r))
        previous = r[0]
    return "\n".join(lines)


def markdown(report: dict[str, Any], table: list[tuple[str, ...]]) -> str:
    m, cfg = report["machine"], report["config"]
    out = [
        f"# API benchmark, {m['date'][:10]}",
        "",
        f"Machine: {m['nproc']} CPU ({m['cpu_model']}), Python {m['python']}, {m['platform']}; "
        f"load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}; "
        f"commit {m['git_commit'] or '?'}"
        + (f" plus {len(m['git_uncommitted'])} uncommitted paths" if m["git_uncommitted"] else "")
        + ".",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        "",
        f"Load: {cfg['generator']}, {cfg['duration_s']:g} s per point after a "
        f"{cfg['warmup_s']:g} s warm-up, wrk threads min({cfg['wrk_threads']}, concurrency), "
        f"server workers {cfg['workers']} and access log {'on' if cfg['access_log'] else 'off'} "
        "(tracker and bare alike), client and servers on the same "
        f"machine. Authority {AUTHORITY}; funnel period {cfg['date_from']} .. {cfg['date_to']}; "
        f"region {REGION} ({cfg.get('region_authorities', '?')} authorities). Tokens: recruiter "
        f"for funnel and enquiries, manager of {AUTHORITY} for its capacity, regional for the "
        "region (regional CSV at concurrency "
        f"{','.join(map(str, cfg.get('csv_concurrency', [])))} only). After each warm-up the "
        "server is left to finish what the warm-up queued (/health answers, CPU near idle) "
        "before the measured run. A slow endpoint's run is stretched so each client is "
        f"answered about twice (at most {cfg.get('max_duration_s')} s), and its warm-up "
        "skipped when one answer to every client would take longer than the warm-up "
        "(see the note column). "
        "x bare req/s = endpoint req/s ÷ bare Litestar req/s, x bare p99 = endpoint p99 ÷ bare "
        "p99, both at the same concurrency in the same run. cpu ms/req = CPU time the server "
        "process used during the run per answer (steadier than req/s on a shared machine); x bare "
        "cpu = that over the bare server's.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|"
        + "|".join("---" if i < 2 or i == len(HEADER) - 1 else "---:" for i in range(len(HEADER)))
        + "|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in table]
    for s in report["sections"]:
        out += ["", f"## {s['backend']}", ""]
        if "error" in s:
            out.append(f"FAILED: {s['error']}")
            continue
        v = s["preload"]["volume"]
        out.append(
            f"- Preload: {v['enquiries']} enquiries received {v['received_from']} .. "
            f"{v['received_to']} ({v['reached_application_or_later']} at application or later, "
            f"{v['by_stage'].get('approved', 0)} approved, {v['closed']} closed; "
            f"{v['events']} history events) via {s['preload']['loader']} in "
            f"{s['preload']['seconds']} s."
        )
        r = s["preload"].get("region")
        if r:
            out.append(
                f"- Region {r['region']}: {r['authorities']} authorities (figures from: "
                f"{r['authorities_by_source']}); {r['households_today']} households active or on "
                f"hold today with {r['approved_places_today']} approved places "
                f"({r['households_stored']} households stored over the years, "
                f"{r['placements']} placements); {r['enquiries']} enquiries across the region; "
                f"{r['capacity_return_rows']} capacity-return rows."
            )
        if s["preload"].get("returns"):
            ret = s["preload"]["returns"]
            out.append(
                f"- Capacity returns loaded (tracker.regional.load_returns) for "
                f"{', '.join(ret['authorities'])}: {ret['rows']} rows."
            )
        for note in s["preload"]["notes"]:
            out.append(f"- Preload note: {note}")
        smoke_text = "; ".join(
            f"{k} HTTP {c['status']} {c['ms']} ms {c['bytes']} B"
            f"{' (' + c['detail'] + ')' if c['detail'] else ''}"
            for k, c in s["smoke"].items()
        )
        out.append(f"- First requests (cold, one client): {smoke_text}.")
        w = s.get("writes")
        if w:
            out.append(
                f"- Creates: {w['responses_201']} answered 201, {w['rows_added']} rows added "
                f"({w['enquiries_before_creates']} -> {w['enquiries_after']})."
            )
        mem = s.get("server_memory") or {}
        if mem:
            at_ready = s.get("server_memory_at_ready", {}).get("server_rss_mib")
            runs = ", ".join(f"{m['server_peak_rss_mib']}" for m in mem["by_run"])
            out.append(
                f"- Server memory: peak RSS (VmHWM) of `fostering serve` {mem['peak_rss_mib']} "
                f"MiB (per run, restarts included: {runs} MiB); RSS when first ready "
                f"{at_ready} MiB."
            )
        for p in s["points"]:
            if p.get("warmup_drain_s", 0) > 1 or p.get("warmup_restarted"):
                out.append(
                    f"- {p['endpoint']} c={p['concurrency']}: the warm-up left "
                    f"{p['warmup_drain_s']} s of queued work (until /health answered and "
                    "the server idled)"
                    + ("; the server was restarted." if p.get("warmup_restarted") else ".")
                )
            if p.get("stalled") or p.get("drain_s", 0) > 1:
                out.append(
                    f"- {p['endpoint']} c={p['concurrency']}: "
                    + ("no response at all during the run; " if p.get("stalled") else "")
                    + f"server took {p['drain_s']} s to finish its work afterwards "
                    "(/health, CPU idle)"
                    + ("; it was restarted (stuck)." if p.get("restarted") else ".")
                )
        bad = [
            p
            for p in s["points"]
            if p["non_2xx_3xx"] or p["warmup_non_2xx_3xx"] or p["socket_errors"]
        ]
        for p in bad:
            out.append(
                f"- {p['endpoint']} c={p['concurrency']}: statuses {p['statuses']} "
                f"(warm-up {p['warmup_statuses']}), socket errors {p['errors']}; sample: "
                f"`{p['bad_sample'][:200]}`"
            )
        pr = s["server_problems"]
        out.append(
            f"- Server log: {pr['count']} error lines, {pr['tracebacks']} tracebacks, "
            f"{pr['queuepool_timeouts']} QueuePool timeouts, {pr['database_is_locked']} "
            f"'database is locked'; statuses in the access log {pr['statuses']}; "
            f"{len(s['server_restarts'])} restart(s) of a stuck server; final stop by "
            f"{s['server_stop'].get('how')} in {s['server_stop'].get('seconds')} s."
        )
        for kind in pr["kinds"][:6]:
            out.append(f"  - {kind['count']} x `{kind['line'][:220]}`")
        for note in s["notes"]:
            out.append(f"- Note: {note}")
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=4, help="seconds per point (4)")
    parser.add_argument(
        "--warmup", type=int, default=1, help="warm-up seconds per point (1; 0 for none)"
    )
    parser.add_argument("--concurrency", default="1,10,50", help="client counts (1,10,50)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument(
        "--enquiries",
        type=int,
        default=4000,
        help="preloaded enquiries (4000; the demo's own are topped up to this)",
    )
    parser.add_argument("--years", type=int, default=10, help="years of enquiries and funnel span")
    parser.add_argument(
        "--endpoints",
        default=",".join(ENDPOINTS[1:]),
        help="endpoints to measure besides the bare baseline (default: all of "
        + ", ".join(ENDPOINTS[1:])
        + ")",
    )
    parser.add_argument(
        "--returns",
        default="",
        help=f"ONS codes of {REGION} authorities to load as capacity returns instead of a "
        "demo register (default: none; the demo sizes councils without Ofsted figures from "
        "its fallbacks)",
    )
    parser.add_argument(
        "--loader",
        choices=["auto", "demo", "own"],
        default="auto",
        help="auto: demo.generate if it works, topped up by the own loader",
    )
    parser.add_argument("--workers", type=int, default=1, help="server workers, both servers (1)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2, <= clients)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--max-duration",
        type=int,
        default=20,
        help="longest measured run of a slow endpoint, stretched so each client is answered "
        "about twice (20)",
    )
    parser.add_argument(
        "--csv-concurrency",
        default="1,10",
        help="client counts for the regional CSV (1,10: at 50 it costs what the JSON does)",
    )
    parser.add_argument(
        "--drain-limit",
        type=float,
        default=10.0,
        help="seconds to wait after a point for the server to answer /health and go idle "
        "before restarting it as stuck (10; longer for slow endpoints)",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="copy the server logs to bench/results/"
    )
    parser.add_argument(
        "--forecast-run",
        choices=["off", "one", "all"],
        default="off",
        help="after the API load, time `fostering forecast run` on the loaded database (one: "
        f"{AUTHORITY} only, all: every authority) and sample its memory (default off)",
    )
    parser.add_argument(
        "--forecast-run-backends",
        default="sqlite",
        help="backends to do the forecast run on (sqlite)",
    )
    parser.add_argument("--output", type=Path, default=None, help="results JSON (.md beside it)")
    parser.add_argument(
        "--keep-sqlite", default="", help="development: keep a copy of the preloaded SQLite file"
    )
    parser.add_argument(
        "--preloaded-sqlite",
        default="",
        help="development: start from a copy of this file (from --keep-sqlite) instead of "
        "preloading",
    )
    parser.add_argument(
        "--access-log",
        choices=["serve-default", "on", "off"],
        default="serve-default",
        help="access log of both servers (default: whatever `fostering serve` "
        "does by default, copied to the bare server)",
    )
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.csv_concurrency = [int(c) for c in args.csv_concurrency.split(",") if c.strip()]
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    unknown = set(args.endpoints) - set(ENDPOINTS[1:])
    if unknown:
        parser.error(f"unknown endpoint(s): {', '.join(sorted(unknown))}")
    args.returns = [c.strip().upper() for c in args.returns.split(",") if c.strip()]
    outside = set(args.returns) - set(region_codes(REGION, AUTHORITY)[1:])
    if outside:
        parser.error(f"not {REGION} authorities other than {AUTHORITY}: {sorted(outside)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    generator = args.loadgen
    if generator == "auto":
        generator = "wrk" if have_wrk() else "python"
    if generator == "wrk" and not have_wrk():
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    if generator == "python":
        print(
            "NOTE: wrk not used: falling back to the Python asyncio+httpx generator "
            "(bench/loadgen.py); absolute numbers are lower and ratios compressed."
        )

    # Turn SIGTERM into KeyboardInterrupt so every server and database is cleaned up.
    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)

    RESULTS.mkdir(parents=True, exist_ok=True)
    today = london_today()
    stamp = today.isoformat()
    points_per_backend = len(args.concurrency) * (1 + len(args.endpoints))
    if "region_capacity_csv" in args.endpoints:
        points_per_backend -= len(set(args.concurrency) - set(args.csv_concurrency))
    # Preload and start-up: about 30 s on SQLite, 50 s on PostgreSQL (14 demo authorities);
    # the regional view at 50 clients runs up to --max-duration and then drains.
    slow = args.max_duration + 15 if "region_capacity" in args.endpoints else 0
    estimate = sum(
        points_per_backend * (args.duration + args.warmup + 0.5)
        + (30 if b == "sqlite" else 50)
        + slow
        for b in args.backends
    )
    print(
        f"API benchmark: {generator}, backends {','.join(args.backends)}, concurrency "
        f"{','.join(map(str, args.concurrency))}, {args.duration:g} s/point "
        f"(+{args.warmup:g} s warm-up), workers {args.workers}; about {estimate / 60:.1f} min"
        " (plus ~20 s for each point that leaves the server stuck)"
    )
    facts = machine_facts(generator)
    if facts["loadavg_at_start"][0] > 0.5 * (facts["nproc"] or 1):
        print(
            f"WARNING: load average {facts['loadavg_at_start'][0]:.2f} on {facts['nproc']} CPUs: "
            "something else is running; numbers will be noisy (see loadavg_1m per point)"
        )
    serve_default = serve_access_log_default()
    access_log = {"on": True, "off": False}.get(
        args.access_log, True if serve_default is None else serve_default
    )
    load = Load(
        generator,
        args.duration,
        args.warmup,
        args.wrk_threads,
        args.drain_limit,
        args.max_duration,
    )
    report: dict[str, Any] = {
        "machine": facts,
        "config": {
            "generator": generator,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "backends": args.backends,
            "enquiries": args.enquiries,
            "years": args.years,
            "loader": args.loader,
            "workers": args.workers,
            "wrk_threads": args.wrk_threads,
            "authority": AUTHORITY,
            "region": REGION,
            "region_authorities": len(region_codes(REGION, AUTHORITY)),
            "returns": args.returns,
            "endpoints": args.endpoints,
            "csv_concurrency": args.csv_concurrency,
            "max_duration_s": args.max_duration,
            "access_log": access_log,
            "serve_access_log_default": serve_default,
            "date_from": years_ago(today, args.years).isoformat(),
            "date_to": today.isoformat(),
        },
        "sections": [],
    }
    status = 0
    with contextlib.ExitStack() as stack:
        bare_port = free_port()
        bare_argv = [
            *bare_command(bare_port, access_log=access_log),
            "--workers",
            str(args.workers),
            "--log-level",
            "info",
            "--timeout-graceful-shutdown",
            "20",
        ]
        bare_tmp = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="fostering-bench-bare-"))
        )
        bare = Server(
            "bare uvicorn",
            bare_argv,
            dict(os.environ),
            bare_tmp,
            bare_tmp / "server.log",
        )
        stack.callback(bare.stop)
        bare.start()
        bare_base = f"http://127.0.0.1:{bare_port}"
        bare.wait_ready(f"{bare_base}/health")
        try:
            for backend in args.backends:
                try:
                    report["sections"].append(
                        run_backend(backend, args, load, bare_base, stamp, today, bare)
                    )
                except BenchError as exc:
                    status = 1
                    print(f"!! {backend} failed: {exc}", file=sys.stderr)
                    report["sections"].append({"backend": backend, "error": str(exc), "points": []})
        except KeyboardInterrupt:
            status = 130
            print("\ninterrupted: stopping servers and dropping databases", file=sys.stderr)
        report["bare_server_stop"] = bare.stop()
        report["bare_server_problems"] = bare.problems()
        report["machine"]["loadavg_at_end"] = list(os.getloadavg())

    add_ratios(report["sections"])
    table = rows(report["sections"])
    print()
    print(text_table(table) if table else "(no results)")
    for s in report["sections"]:
        problems = s.get("server_problems", {})
        if s.get("error"):
            print(f"\n{s['backend']}: FAILED: {s['error'][:500]}")
        if problems:
            print(
                f"\n{s['backend']} server log: {problems['count']} error lines, "
                f"{problems['tracebacks']} tracebacks, {problems['queuepool_timeouts']} QueuePool "
                f"timeouts, {problems['database_is_locked']} 'database is locked'; access-log "
                f"statuses {problems['statuses']}; {len(s.get('server_restarts', []))} restart(s)"
            )
            for kind in problems["kinds"][:6]:
                print(f"  {kind['count']:>5} x {kind['line'][:180]}")
        region = s.get("preload", {}).get("region")
        if region:
            print(
                f"{s['backend']} loaded: {region['authorities']} {region['region']} authorities "
                f"{region['authorities_by_source']}, {region['households_today']} households "
                f"today ({region['households_stored']} stored), {region['enquiries']} enquiries "
                f"in the region ({s['preload']['volume']['enquiries']} of {AUTHORITY})"
            )
        mem = s.get("server_memory")
        if mem:
            print(
                f"{s['backend']} fostering serve peak RSS (VmHWM): {mem['peak_rss_mib']} MiB "
                f"(per run: {', '.join(str(m['server_peak_rss_mib']) for m in mem['by_run'])})"
            )
        for p in s.get("points", []):
            if p.get("warmup_drain_s", 0) > 1 or p.get("warmup_restarted"):
                print(
                    f"{s['backend']} {p['endpoint']} c={p['concurrency']}: warm-up backlog "
                    f"{p['warmup_drain_s']} s" + (" -> restarted" if p["warmup_restarted"] else "")
                )
            if p.get("stalled") or p.get("drain_s", 0) > 1:
                print(
                    f"{s['backend']} {p['endpoint']} c={p['concurrency']}: "
                    + ("NO response during the run; " if p.get("stalled") else "")
                    + f"server needed {p['drain_s']} s to finish its work (/health, CPU idle)"
                    + (" -> restarted" if p.get("restarted") else "")
                )
            if p["non_2xx_3xx"] or p["warmup_non_2xx_3xx"] or p["socket_errors"]:
                print(
                    f"{s['backend']} {p['endpoint']} c={p['concurrency']}: statuses "
                    f"{p['statuses']} warm-up {p['warmup_statuses']} socket {p['errors']} "
                    f"sample {p['bad_sample'][:160]!r}"
                )
        for note in s.get("notes", []):
            print(f"{s['backend']}: {note}")
    json_path = args.output or RESULTS / f"api-{stamp}.json"
    md_path = json_path.with_suffix(".md")
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    md_path.write_text(markdown(report, table))
    print(f"\nwrote {json_path} and {md_path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
