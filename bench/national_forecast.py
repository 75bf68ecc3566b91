#!/usr/bin/env python
"""National forecast run benchmark: every council of a national-size database forecast in one
batch (jobs/national_forecast.py) on the process pool and on Dask, timed.

    .venv/bin/python bench/national_forecast.py make [--database URL] [--years 3] [--seed 2026]
    .venv/bin/python bench/national_forecast.py run [--database URL] [--configs ...]
        [--models seasonal_naive,drift,...] [--paths 500] [--horizon 24] [--councils N]
    .venv/bin/python bench/national_forecast.py profile [--database URL] [--councils 20]

`make` fills an empty database with the demo generators (demo/generate.py) for every English
council in tracker/reference/authorities.csv (153), each sized from its real figures, over
--years years ending today (London), seeded: reproducible, and the stand-in for
`fostering demo --national` until that is on main. The default database is
sqlite:////tmp/i17-forecast/national.sqlite.

`run` times one national run per configuration, each on the same database (each adds one
forecast run per council):

    process-1, process-2   a pool of 1 or 2 local processes (forked from a server that has
                           imported the engine)
    dask-1, dask-2         a local Dask cluster of 1 or 2 single-threaded worker processes
                           (cluster start included)
    dask-address           the same code pointed at a scheduler address: this script starts
                           `dask scheduler` and two `dask worker --nthreads 1` processes on
                           loopback and passes tcp://127.0.0.1:<port> (start not included)

For each: wall time; CPU seconds of the main process (user + system) and of the workers (every
process below the main one, or the `dask worker` processes, sampled every 0.2 s with psutil);
peak resident memory of each worker and of the main process; where the main process spends
its time (reading series, storing results, waiting for the executor); and the scaling 1 -> 2
workers. From the two process-pool runs, T(N) = S + P / N with P = 2 (T1 - T2) and
S = T1 - P, the projection for N workers.

`profile` profiles the main process reading the first councils' series (cProfile).

Results go to the terminal and to bench/results/national-forecast-<date>.json and .md
(`profile`: national-forecast-<date>-reading-profile.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecast.types import ForecastOptions  # noqa: E402
from jobs import national_forecast  # noqa: E402
from jobs.national_forecast import refresh_all  # noqa: E402
from tracker.core import schema  # noqa: E402
from tracker.core.db import Database  # noqa: E402
from tracker.core.settings import Settings  # noqa: E402
from tracker.forecasting.tables import RunStatus, Trigger  # noqa: E402

DEFAULT_URL = "sqlite:////tmp/i17-forecast/national.sqlite"
CONFIGS = ("process-1", "process-2", "dask-1", "dask-2", "dask-address")
RESULTS = ROOT / "bench" / "results"


def english_councils() -> list[str]:
    """Every English council of the shipped reference (those with a region), in code order."""
    from tracker.reference import load_reference

    return sorted(code for code, row in load_reference().items() if row.region is not None)


def make(url: str, years: int, seed: int) -> dict[str, Any]:
    """Fill an empty database with demo data for every English council."""
    from demo.generate import generate_demo
    from tracker.enquiries.timeliness import london_today

    database = Database(url)
    schema.upgrade(database)
    codes = english_councils()
    started = time.perf_counter()
    with database.writing() as session:
        summary = generate_demo(
            session, today=london_today(), authorities=codes, years=years, seed=seed
        )
    database.refresh_statistics()
    database.dispose()
    made = {
        "database": url,
        "councils": len(codes),
        "years": years,
        "seed": seed,
        "enquiries": sum(summary.enquiries.values()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(made, indent=2))
    return made


class _Sampler:
    """Samples, every 0.2 s, the CPU times and resident memory of a set of processes (the
    main process's descendants, or given pids and theirs)."""

    def __init__(self, roots: list[int] | None = None) -> None:
        self._roots = roots
        self.cpu: dict[int, float] = {}
        self.peak: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.parents: set[int] = set()
        self.parent_of: dict[int, int] = {}
        self.python: set[int] = set()
        self.before: set[int] = set()
        self.start_cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _processes(self) -> list[psutil.Process]:
        if self._roots is None:
            return psutil.Process().children(recursive=True)
        found = []
        for pid in self._roots:
            try:
                root = psutil.Process(pid)
                found += [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return found

    def sample(self) -> None:
        for process in self._processes():
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    rss = process.memory_info().rss
                    self.names.setdefault(process.pid, " ".join(process.cmdline()[:4])[:120])
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            self.cpu[process.pid] = times.user + times.system
            self.peak[process.pid] = max(self.peak.get(process.pid, 0), rss)
            self.parent_of[process.pid] = process.ppid()
            if self.names[process.pid].split(" ")[0].rsplit("/", 1)[-1].startswith("python"):
                self.python.add(process.pid)
                self.parents.add(process.ppid())

    def workers(self) -> dict[int, float]:
        """The processes that forecast, with their CPU seconds and those of the programs they
        ran (Prophet's cmdstan): the Python processes that started no other Python process
        (not the fork server, a nanny or a `dask worker` launcher) and did some work."""
        helpers: dict[int, float] = {}
        for pid, cpu in self.cpu.items():
            if pid not in self.python:
                parent = self.parent_of.get(pid, 0)
                helpers[parent] = helpers.get(parent, 0.0) + cpu
        return {
            pid: cpu - self.start_cpu.get(pid, 0.0) + helpers.get(pid, 0.0)
            for pid, cpu in self.cpu.items()
            if pid in self.python
            and pid not in self.parents
            and pid not in self.before
            and cpu > 0.5
        }

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    def __enter__(self) -> _Sampler:
        # Processes already there (a fork server left by an earlier run) are not this run's,
        # unless they are the given roots' (a cluster started for this run): their CPU is
        # counted from here on.
        self.sample()
        if self._roots is None:
            self.before = set(self.cpu)
        self.start_cpu = dict(self.cpu)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class _MainTimes:
    """Wall seconds the main process spends reading series and storing results, measured by
    wrapping the two functions the national run calls for them."""

    def __init__(self) -> None:
        self.reading = 0.0
        self.storing = 0.0
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> _MainTimes:
        for name, field in (("series_for_authority", "reading"), ("finish_run", "storing")):
            original = getattr(national_forecast, name)
            self._saved[name] = original

            def timed(*args: Any, _original: Any = original, _field: str = field, **kw: Any):
                start = time.perf_counter()
                try:
                    return _original(*args, **kw)
                finally:
                    setattr(self, _field, getattr(self, _field) + time.perf_counter() - start)

            setattr(national_forecast, name, timed)
        return self

    def __exit__(self, *_: object) -> None:
        for name, original in self._saved.items():
            setattr(national_forecast, name, original)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dask_cli() -> list[str]:
    found = shutil.which("dask") or str(Path(sys.executable).with_name("dask"))
    return [found]


def start_cluster(workers: int) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A `dask scheduler` and `workers` single-threaded `dask worker` processes on loopback."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = subprocess.Popen(
        [*_dask_cli(), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--dashboard-address", ":0", "--no-show"],
        **quiet,
    )  # fmt: skip
    processes = [scheduler]
    for _ in range(workers):
        processes.append(
            subprocess.Popen(
                [
                    *_dask_cli(),
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                **quiet,
            )
        )
    from distributed import Client

    deadline = time.monotonic() + 90
    with Client(address, timeout=60) as client:
        while len(client.scheduler_info()["workers"]) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError("the dask workers did not join the scheduler")
            time.sleep(0.5)
    return address, processes


def stop_cluster(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def run_one(
    config: str, url: str, options: ForecastOptions, councils: int | None
) -> dict[str, Any]:
    """One national run in a configuration, timed."""
    kind, _, rest = config.partition("-")
    workers = 2 if rest == "address" else int(rest)
    cluster: list[subprocess.Popen[bytes]] = []
    address = None
    if rest == "address":
        address, cluster = start_cluster(workers)
    settings = Settings(
        database_url=url, forecast_executor=kind, forecast_workers=workers, dask_address=address
    )
    database = Database(url)
    codes = national_forecast.council_codes(database)
    if councils is not None:
        codes = codes[:councils]
    roots = [p.pid for p in cluster[1:]] if cluster else None
    try:
        main_before = psutil.Process().cpu_times()
        with _Sampler(roots) as sampler, _MainTimes() as main_times:
            started = time.perf_counter()
            outcomes = refresh_all(
                database,
                settings=settings,
                options=options,
                codes=codes,
                trigger=Trigger.CLI,
                triggered_by="bench:national",
            )
            wall = time.perf_counter() - started
            sampler.sample()
        main_after = psutil.Process().cpu_times()
    finally:
        if cluster:
            stop_cluster(cluster)
        database.dispose()
    main_cpu = (main_after.user - main_before.user) + (main_after.system - main_before.system)
    busy = sampler.workers()
    statuses = [o.status for o in outcomes]
    return {
        "config": config,
        "workers": workers,
        "councils": len(codes),
        "series": sum(o.series for o in outcomes),
        "succeeded": statuses.count(RunStatus.SUCCEEDED),
        "failed": statuses.count(RunStatus.FAILED),
        "skipped": statuses.count(RunStatus.SKIPPED),
        "wall_s": round(wall, 1),
        "main_cpu_s": round(main_cpu, 1),
        "main_reading_series_s": round(main_times.reading, 1),
        "main_storing_results_s": round(main_times.storing, 1),
        "main_peak_rss_mb": round(psutil.Process().memory_info().rss / 2**20),
        "worker_cpu_s": round(sum(busy.values()), 1),
        "other_processes_cpu_s": round(sum(sampler.cpu.values()) - sum(busy.values()), 1),
        "processes": [
            {
                "pid": pid,
                "command": sampler.names.get(pid, ""),
                "cpu_s": round(sampler.cpu[pid], 1),
                "peak_rss_mb": round(sampler.peak.get(pid, 0) / 2**20),
            }
            for pid in sorted(sampler.cpu)
        ],
        "peak_rss_per_worker_mb": sorted(
            (round(sampler.peak.get(pid, 0) / 2**20) for pid in busy), reverse=True
        ),
    }


def projection(runs: dict[str, dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """T(N) = S + P / N from the 1- and 2-worker runs of an executor."""
    one, two = runs.get(f"{kind}-1"), runs.get(f"{kind}-2")
    if one is None or two is None:
        return None
    t1, t2 = one["wall_s"], two["wall_s"]
    parallel = 2 * (t1 - t2)
    serial = t1 - parallel
    return {
        "scaling_1_to_2": round(t1 / t2, 2) if t2 else None,
        "serial_s": round(serial, 1),
        "parallel_s": round(parallel, 1),
        "projected_wall_s": {n: round(serial + parallel / n, 1) for n in (1, 2, 4, 8, 16, 32)},
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# National forecast run, {report['date']}",
        "",
        f"Database: {report['database']}; options: {report['options']}; "
        f"machine: {report['machine']}.",
        "",
        "| config | councils | series | wall s | main CPU s | main reading s | main storing s"
        " | worker CPU s | peak RSS per worker MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in report["runs"]:
        lines.append(
            f"| {run['config']} | {run['councils']} | {run['series']} | {run['wall_s']} | "
            f"{run['main_cpu_s']} | {run['main_reading_series_s']} | "
            f"{run['main_storing_results_s']} | {run['worker_cpu_s']} | "
            f"{', '.join(map(str, run['peak_rss_per_worker_mb']))} |"
        )
    for kind, fit in report["projections"].items():
        if fit is None:
            continue
        lines += [
            "",
            f"{kind}: scaling 1 -> 2 workers {fit['scaling_1_to_2']}x; T(N) = "
            f"{fit['serial_s']} s + {fit['parallel_s']} s / N: "
            + ", ".join(f"N={n}: {t} s" for n, t in fit["projected_wall_s"].items()),
        ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> None:
    options = ForecastOptions(horizon=args.horizon, paths=args.paths)
    if args.models:
        options = msgspec.structs.replace(options, models=tuple(args.models.split(",")))
    runs: dict[str, dict[str, Any]] = {}
    for config in args.configs:
        print(f"{config}...", flush=True)
        runs[config] = run_one(config, args.database, options, args.councils)
        print(json.dumps({k: v for k, v in runs[config].items() if k != "processes"}), flush=True)
        save(args, options, runs)


def save(args: argparse.Namespace, options: ForecastOptions, runs: dict[str, Any]) -> None:
    """Write the report of the runs so far (after each, so a stopped benchmark keeps them)."""
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": args.database,
        "options": msgspec.to_builtins(options),
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, shared",
        "runs": list(runs.values()),
        "projections": {kind: projection(runs, kind) for kind in ("process", "dask")},
    }
    stem = RESULTS / f"national-forecast-{datetime.now(UTC):%Y-%m-%d}{args.suffix}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


def profile_reading(url: str, councils: int) -> None:
    """Profile the main process's reading of the first councils' series (cProfile, by
    cumulative time) and write it beside the results."""
    import cProfile
    import io
    import pstats

    from tracker.children.mapping import load_mapping
    from tracker.enquiries.timeliness import london_today
    from tracker.series.registry import series_for_authority
    from tracker.series.window import last_complete_month

    database = Database(url)
    codes = national_forecast.council_codes(database)[:councils]
    mapping = load_mapping(None)
    cutoff = last_complete_month(london_today())
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for code in codes:
        with database.read_session() as session:
            series_for_authority(session, code, cutoff, mapping=mapping)
    profiler.disable()
    per_council = (time.perf_counter() - started) / len(codes)
    database.dispose()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(20)
    text = f"{url}: reading the series of {len(codes)} councils, {per_council:.3f} s each\n"
    text += out.getvalue()
    path = RESULTS / f"national-forecast-{datetime.now(UTC):%Y-%m-%d}-reading-profile.txt"
    path.write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    making = sub.add_parser("make", help="fill an empty database with every English council")
    making.add_argument("--database", default=DEFAULT_URL)
    making.add_argument("--years", type=int, default=3)
    making.add_argument("--seed", type=int, default=2026)
    running = sub.add_parser("run", help="time national runs")
    running.add_argument("--database", default=DEFAULT_URL)
    running.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    running.add_argument("--models", default=None, help="comma-separated (default: engine's)")
    running.add_argument("--paths", type=int, default=ForecastOptions().paths)
    running.add_argument("--horizon", type=int, default=24)
    running.add_argument("--councils", type=int, default=None, help="the first N only")
    running.add_argument("--suffix", default="", help="added to the results' file names")
    profiling = sub.add_parser("profile", help="profile the reading of the councils' series")
    profiling.add_argument("--database", default=DEFAULT_URL)
    profiling.add_argument("--councils", type=int, default=20)
    args = parser.parse_args()
    if args.command == "make":
        Path("/tmp/i17-forecast").mkdir(exist_ok=True)
        make(args.database, args.years, args.seed)
    elif args.command == "profile":
        profile_reading(args.database, args.councils)
    else:
        run(args)


if __name__ == "__main__":
    main()
