#!/usr/bin/env python
"""Every benchmark of the project in one run: API, imports, forecasting and memory.

    .venv/bin/python bench/run_all.py            # the full suite (make bench), ~15 min
    .venv/bin/python bench/run_all.py --quick    # a short run (make bench-quick), ~5 min
        [--backends sqlite,postgresql] [--only api,import,forecast] [--readme] [--name suite]
    .venv/bin/python bench/run_all.py --summarise bench/results/suite-<date> [--readme]

Runs, each as its own process so one's memory does not weigh on the next:

    api       bench/api.py: `fostering serve` on a fresh SQLite file and a fresh PostgreSQL
              database holding a region of 14 authorities, 10 years of enquiries and several
              thousand households; wrk at 1, 10 and 50 connections against enquiry create and
              list, funnel analytics, the capacity API of one council and of the region, each
              as a ratio to a bare Litestar JSON endpoint measured in the same run; the
              server's peak resident memory; then `fostering forecast run` for every
              authority on the loaded SQLite database, with the peak memory of that process
              and its workers (memory of a full forecast run).
    import    bench/import_903.py: SSDA903 episode rows and enquiry CSV rows per second on
              each backend.
    forecast  bench/forecast.py: the forecasting engine's scheduled run against Prophet
              fitted once per series, accuracy on a held-back year, and the run's memory.

Quick mode: SQLite only, 2 s per API point, 20,000 SSDA903 rows and 4,000 enquiry rows, one
forecast repeat, and the forecast run of one authority. Every figure is printed and written
to bench/results/<name>-<date>.json and .md (each part's own JSON beside them, with the
details); --readme also puts the summary in README.md between its bench markers.
--summarise prints and writes the summary of an earlier run again from those files.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
README = ROOT / "README.md"
START_MARK = "<!-- bench:start (written by bench/run_all.py --readme) -->"
END_MARK = "<!-- bench:end -->"
PG_ADMIN_URL = os.environ.get("FOSTERING_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PARTS = ("api", "import", "forecast")
ENDPOINT_LABELS = {
    "enquiry_create": "enquiry create (POST)",
    "enquiry_list": "enquiry list, 50 a page",
    "funnel": "funnel, 10 years",
    "funnel_monthly": "funnel monthly series",
    "capacity": "capacity, one council",
    "region_capacity": "capacity, region of 14 (JSON)",
    "region_capacity_csv": "capacity, region of 14 (CSV)",
}


def machine() -> dict[str, Any]:
    """Where the figures come from: architecture, CPU, cores, Python, SQLite, PostgreSQL."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    postgres = None
    with contextlib.suppress(Exception):
        from sqlalchemy import create_engine, text

        from tracker.core.db import normalise_url

        engine = create_engine(normalise_url(PG_ADMIN_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            postgres = str(conn.execute(text("SHOW server_version")).scalar()).split(" ")[0]
        engine.dispose()
    commit = ""
    with contextlib.suppress(Exception):  # read-only
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "cpu_model": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
        "kernel": platform.release(),
        "git_commit": commit,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run_part(name: str, argv: list[str]) -> dict[str, Any]:
    """Run one benchmark script, its output shown as it comes; seconds and exit code."""
    print(f"\n######## {name}: {' '.join(argv)}", flush=True)
    started = time.monotonic()
    code = subprocess.run([sys.executable, *argv], cwd=ROOT).returncode
    seconds = round(time.monotonic() - started, 1)
    print(f"######## {name}: exit {code} after {seconds} s", flush=True)
    return {"argv": argv, "returncode": code, "seconds": seconds}


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def api_rows(api: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per backend, endpoint and concurrency, bare endpoint included."""
    rows = []
    for section in api.get("sections", []):
        for p in section.get("points", []):
            rows.append(
                {
                    "backend": p["backend"],
                    "endpoint": p["endpoint"],
                    "concurrency": p["concurrency"],
                    "req_per_s": p["req_per_s"],
                    "p50_ms": p["p50_ms"],
                    "p99_ms": p["p99_ms"],
                    "ratio_req_per_s": p.get("ratio_req_per_s"),
                    "ratio_p50": p.get("ratio_p50"),
                    "ratio_p99": p.get("ratio_p99"),
                    "cpu_ms_per_req": p.get("server_cpu_ms_per_req"),
                    "ratio_cpu": p.get("ratio_cpu"),
                    "errors": p["non_2xx_3xx"] + p["warmup_non_2xx_3xx"] + p["socket_errors"],
                }
            )
    return rows


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of every part, in one place."""
    out: dict[str, Any] = {}
    api = report.get("api")
    if api:
        out["api"] = api_rows(api)
        out["api_volume"] = {}
        out["serve_peak_rss_mib"] = {}
        for section in api.get("sections", []):
            backend = section["backend"]
            mem = section.get("server_memory") or {}
            out["serve_peak_rss_mib"][backend] = mem.get("peak_rss_mib")
            region = (section.get("preload") or {}).get("region") or {}
            vol = (section.get("preload") or {}).get("volume") or {}
            out["api_volume"][backend] = {
                "authorities": region.get("authorities"),
                "households_today": region.get("households_today"),
                "households_stored": region.get("households_stored"),
                "placements": region.get("placements"),
                "enquiries_region": region.get("enquiries"),
                "enquiries_authority": vol.get("enquiries"),
                "received_from": vol.get("received_from"),
                "received_to": vol.get("received_to"),
            }
            problems = section.get("server_problems") or {}
            out.setdefault("api_problems", {})[backend] = {
                "error_lines": problems.get("count"),
                "tracebacks": problems.get("tracebacks"),
                "statuses": problems.get("statuses"),
                "restarts": len(section.get("server_restarts", [])),
                "error": section.get("error"),
            }
            run = section.get("forecast_run")
            if run:
                out["forecast_run"] = {
                    "backend": backend,
                    "scope": run["scope"],
                    "authorities": run["authorities"],
                    "series": run["series"],
                    "succeeded": run["succeeded"],
                    "seconds": run["seconds"],
                    "returncode": run["returncode"],
                    "peak_tree_rss_mib": run["memory"]["peak_tree_rss_mib"],
                    "peak_tree_pss_mib": run["memory"].get("peak_tree_pss_mib"),
                    "processes_at_peak": run["memory"]["processes_at_peak"],
                    "main_process_peak_rss_mib": run["memory"]["main_process_peak_rss_mib"],
                    "largest_process_peak_rss_mib": run["memory"]["largest_process_peak_rss_mib"],
                }
        out["api_config"] = {
            k: api.get("config", {}).get(k)
            for k in ("generator", "duration_s", "warmup_s", "workers", "concurrency")
        }
    imports = report.get("import")
    if imports:
        out["import"] = [
            {
                "backend": r["backend"],
                "ssda903_rows": r["ssda903"]["episode_rows"],
                "ssda903_rows_per_s": r["ssda903"]["rows_per_s"],
                "ssda903_import_s": r["ssda903"]["import_s"],
                "ssda903_second_import_s": r["ssda903"]["second_import_s"],
                "enquiry_rows": r["enquiries"]["rows"],
                "enquiry_rows_per_s": r["enquiries"]["rows_per_s"],
                "enquiry_import_s": r["enquiries"]["import_s"],
                "enquiry_second_import_s": r["enquiries"]["second_import_s"],
            }
            for r in imports.get("results", [])
        ]
    forecast = report.get("forecast")
    if forecast:
        timing, scores = forecast["timing"], forecast["accuracy_held_back_year"]
        out["forecast"] = {
            "series": forecast["region"]["series"],
            "workers": forecast["workers"],
            "repeats": len(timing["scheduled_runs_s"]),
            "scheduled_run_s": timing["scheduled_run_s"],
            "prophet_once_per_series_s": timing["prophet_once_per_series_s"],
            "time_ratio": timing["ratio"],
            "mase_engine": scores["mean_mase"]["engine"],
            "mase_prophet": scores["mean_mase"]["prophet"],
            "mase_seasonal_naive": scores["mean_mase"]["seasonal_naive"],
            "engine_over_seasonal_naive": scores["engine_over_seasonal_naive"],
            "engine_over_prophet": scores["engine_over_prophet"],
            "coverage80": scores["coverage80"],
            "coverage95": scores["coverage95"],
            "targets_met": forecast["targets_met"],
            "peak_tree_rss_mib": (forecast.get("memory_scheduled_run") or {}).get(
                "peak_tree_rss_mib"
            ),
            "peak_tree_pss_mib": (forecast.get("memory_scheduled_run") or {}).get(
                "peak_tree_pss_mib"
            ),
        }
    return out


def _n(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _api_compact(rows: list[dict[str, Any]]) -> list[str]:
    """One line per backend and endpoint, the concurrencies side by side."""
    order = ["bare", *ENDPOINT_LABELS]
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault((r["backend"], r["endpoint"]), []).append(r)
    clients = sorted({r["concurrency"] for r in rows})
    each = "/".join(map(str, clients))
    lines = [
        f"| backend | endpoint | req/s at {each} clients | x bare req/s | p50 ms | p99 ms | "
        "server CPU ms/req (x bare) at 1 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (backend, endpoint), points in sorted(
        grouped.items(),
        key=lambda kv: (kv[0][0] != "sqlite", order.index(kv[0][1]) if kv[0][1] in order else 99),
    ):
        by = {p["concurrency"]: p for p in points}

        def cells(key: str, fmt: Any, by: dict[int, dict[str, Any]] = by) -> str:
            return " / ".join(fmt(by[c][key]) if c in by else "-" for c in clients)

        one = by.get(min(clients), {})
        errors = sum(p["errors"] for p in points)
        label = ENDPOINT_LABELS.get(endpoint, "bare Litestar JSON (baseline)")
        lines.append(
            f"| {backend} | {label}{f' ({errors} errors)' if errors else ''} | "
            f"{cells('req_per_s', lambda v: _n(v, 0) if v >= 100 else _n(v))} | "
            f"{cells('ratio_req_per_s', _ratio)} | {cells('p50_ms', lambda v: _n(v, 1))} | "
            f"{cells('p99_ms', lambda v: _n(v, 0))} | {_n(one.get('cpu_ms_per_req'), 2)} "
            f"({_n(one.get('ratio_cpu'), 0)}) |"
        )
    return lines


def tables(report: dict[str, Any], compact: bool = False) -> str:
    """Markdown of every figure (printed too); `compact` puts an endpoint's concurrencies on
    one line (the README's form)."""
    m, s = report["machine"], report["summary"]
    lines = [
        f"Run {m['date'][:10]} ({report['mode']} mode) on {m['machine']}, {m['cpu_model']}, "
        f"{m['cores']} cores; Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL "
        f"{m['postgresql'] or '-'}; load average at start {m['loadavg_at_start'][0]}"
        f"{', at end ' + str(m['loadavg_at_end'][0]) if m.get('loadavg_at_end') else ''}; "
        f"commit {m['git_commit'] or '?'}; {report['seconds'] / 60:.1f} min in all.",
        "",
    ]
    if "api" in s:
        cfg = s["api_config"]
        lines += [
            f"API ({cfg['generator']}, {cfg['duration_s']} s a point after a {cfg['warmup_s']} s "
            f"warm-up, {cfg['workers']} server worker, client on the same machine). x bare = the "
            "endpoint's req/s (or p99) over the bare Litestar endpoint's at the same concurrency "
            "in the same run; server CPU ms/req = CPU time of the server process per request it "
            "answered (steadier than req/s when other work shares the machine; on PostgreSQL "
            "the database server's own CPU time is not in it).",
            "",
        ]
        if compact:
            lines += _api_compact(s["api"])
        else:
            lines += [
                "| backend | endpoint | clients | req/s | p50 ms | p99 ms | x bare req/s | "
                "x bare p99 | server CPU ms/req | x bare CPU | errors |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
        order = ["bare", *ENDPOINT_LABELS]
        rows = sorted(
            s["api"],
            key=lambda r: (
                r["backend"] != "sqlite",
                order.index(r["endpoint"]) if r["endpoint"] in order else 99,
                r["concurrency"],
            ),
        )
        for r in [] if compact else rows:
            label = ENDPOINT_LABELS.get(r["endpoint"], "bare Litestar JSON (baseline)")
            lines.append(
                f"| {r['backend']} | {label} | {r['concurrency']} | {_n(r['req_per_s'])} | "
                f"{_n(r['p50_ms'], 2)} | {_n(r['p99_ms'], 2)} | {_ratio(r['ratio_req_per_s'])} | "
                f"{_n(r['ratio_p99'])} | {_n(r['cpu_ms_per_req'], 2)} | {_n(r['ratio_cpu'])} | "
                f"{r['errors']} |"
            )
        lines.append("")
        for backend, v in s["api_volume"].items():
            lines.append(
                f"- {backend} data: {v['authorities']} authorities, {_n(v['households_today'], 0)} "
                f"households active today ({_n(v['households_stored'], 0)} stored, "
                f"{_n(v['placements'], 0)} placements), {_n(v['enquiries_region'], 0)} enquiries "
                f"in the region ({v['enquiries_authority']} of the measured council, received "
                f"{v['received_from']} .. {v['received_to']})."
            )
        for backend, p in s.get("api_problems", {}).items():
            lines.append(
                f"- {backend} server log: {p['error_lines']} error lines, {p['tracebacks']} "
                f"tracebacks, {p['restarts']} restarts; statuses {p['statuses']}"
                + (f"; FAILED: {p['error'][:200]}" if p.get("error") else "")
                + "."
            )
        lines.append("")
    if "import" in s:
        lines += [
            "| import | backend | rows | seconds | rows/s | second import s |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for r in s["import"]:
            lines.append(
                f"| SSDA903 episodes | {r['backend']} | {r['ssda903_rows']:,} | "
                f"{r['ssda903_import_s']:.1f} | {r['ssda903_rows_per_s']:,} | "
                f"{r['ssda903_second_import_s']:.1f} |"
            )
        for r in s["import"]:
            lines.append(
                f"| enquiry CSV | {r['backend']} | {r['enquiry_rows']:,} | "
                f"{r['enquiry_import_s']:.1f} | {r['enquiry_rows_per_s']:,} | "
                f"{r['enquiry_second_import_s']:.1f} |"
            )
        lines.append("")
    if "forecast" in s:
        f = s["forecast"]
        lines += [
            f"Forecast ({f['series']} series, {f['workers']} workers, median of {f['repeats']}): "
            f"scheduled run {f['scheduled_run_s']:.1f} s against "
            f"{f['prophet_once_per_series_s']:.1f} s for Prophet once per series "
            f"(ratio {f['time_ratio']:.3f}, target <= 0.5); mean "
            f"MASE on the held-back year {f['mase_engine']:.3f} (seasonal naive "
            f"{f['mase_seasonal_naive']:.3f}, ratio {f['engine_over_seasonal_naive']:.3f}, target "
            f"<= 0.70; Prophet {f['mase_prophet']:.3f}); 80% interval coverage "
            f"{f['coverage80']:.3f} (target 0.75-0.85), 95% {f['coverage95']:.3f}. Targets met: "
            f"{', '.join(k for k, ok in f['targets_met'].items() if ok) or 'none'}"
            + (
                "; missed: " + ", ".join(k for k, ok in f["targets_met"].items() if not ok)
                if not all(f["targets_met"].values())
                else ""
            )
            + ".",
            "",
        ]
    memory = [
        "| memory | peak resident MiB (RSS) | shared pages counted once (PSS) |",
        "|---|---:|---:|",
    ]
    for backend, mib in s.get("serve_peak_rss_mib", {}).items():
        memory.append(
            f"| `fostering serve` under the API load, {backend} (VmHWM, one process) | "
            f"{_n(mib)} | - |"
        )
    run = s.get("forecast_run")
    if run:
        memory.append(
            f"| `fostering forecast run`, {run['authorities']} "
            f"{'authority' if run['authorities'] == 1 else 'authorities'}, {run['series']} "
            f"series in {run['seconds']:.0f} s ({run['backend']}): the command and its workers "
            f"together | {_n(run['peak_tree_rss_mib'])} | {_n(run.get('peak_tree_pss_mib'))} |"
        )
        memory.append(
            "| the same, largest single process (VmHWM) | "
            f"{_n(run['largest_process_peak_rss_mib'])} | - |"
        )
    if s.get("forecast", {}).get("peak_tree_rss_mib"):
        memory.append(
            "| forecast benchmark, scheduled run: the process and its workers together | "
            f"{_n(s['forecast']['peak_tree_rss_mib'])} | "
            f"{_n(s['forecast'].get('peak_tree_pss_mib'))} |"
        )
    if len(memory) > 2:
        lines += [*memory, ""]
    failed = [
        f"{k} (exit {p['returncode']})" for k, p in report["parts"].items() if p["returncode"]
    ]
    if failed:
        lines += [f"FAILED parts: {', '.join(failed)}", ""]
    return "\n".join(lines)


def update_readme(text: str) -> bool:
    """Replace what is between the bench markers of README.md; False if they are missing."""
    readme = README.read_text()
    pattern = re.compile(re.escape(START_MARK) + r".*?" + re.escape(END_MARK), re.DOTALL)
    if not pattern.search(readme):
        return False
    block = f"{START_MARK}\n{text.strip()}\n{END_MARK}"
    README.write_text(pattern.sub(lambda _: block, readme, count=1))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short run (~5 min)")
    parser.add_argument("--backends", default=None, help="default: both (quick: sqlite)")
    parser.add_argument("--only", default=",".join(PARTS), help="parts to run (all)")
    parser.add_argument("--name", default=None, help="results name (suite, quick: suite-quick)")
    parser.add_argument("--readme", action="store_true", help="write the summary into README.md")
    parser.add_argument(
        "--api-args",
        default="",
        help="more arguments for bench/api.py, e.g. '--preloaded-sqlite FILE' (development)",
    )
    parser.add_argument(
        "--summarise",
        type=Path,
        default=None,
        metavar="RESULTS",
        help="run nothing: summarise an earlier run again, e.g. bench/results/suite-2026-12-01",
    )
    args = parser.parse_args(argv)
    if args.summarise is not None:
        base = args.summarise
        return summarise(base.with_name(base.name.removesuffix(".json")), args.readme)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    backends = args.backends or ("sqlite" if args.quick else "sqlite,postgresql")
    name = args.name or ("suite-quick" if args.quick else "suite")
    sys.path.insert(0, str(ROOT))

    from tracker.enquiries.timeliness import london_today

    stamp = london_today().isoformat()
    RESULTS.mkdir(exist_ok=True)
    base = RESULTS / f"{name}-{stamp}"
    paths = {part: base.with_name(f"{base.name}-{part}.json") for part in PARTS}
    started = time.monotonic()
    report: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "backends": backends.split(","),
        "machine": machine(),
        "parts": {},
    }
    m = report["machine"]
    print(
        f"Benchmarks ({report['mode']}): {', '.join(parts)} on {backends}; {m['machine']}, "
        f"{m['cpu_model']}, {m['cores']} cores, Python {m['python']}, SQLite {m['sqlite']}, "
        f"PostgreSQL {m['postgresql']}; load average {m['loadavg_at_start']}",
        flush=True,
    )
    if m["loadavg_at_start"][0] > 0.5 * (m["cores"] or 1):
        print("WARNING: the machine is busy; absolute figures will be noisy (ratios less so).")
    if "api" in parts:
        argv = [
            "bench/api.py",
            "--backends",
            backends,
            "--output",
            str(paths["api"]),
        ]
        if args.quick:
            argv += ["--duration", "2", "--warmup", "1", "--max-duration", "6"]
            argv += ["--forecast-run", "one"]
        else:
            argv += ["--duration", "4", "--warmup", "1", "--forecast-run", "all"]
        argv += args.api_args.split()
        report["parts"]["api"] = run_part("api", argv)
    if "import" in parts:
        argv = ["bench/import_903.py", "--backends", backends, "--output", str(paths["import"])]
        if args.quick:
            argv += ["--rows", "20000", "--enquiries", "4000"]
        report["parts"]["import"] = run_part("import", argv)
    if "forecast" in parts:
        argv = ["bench/forecast.py", "--output", str(paths["forecast"])]
        argv += ["--repeats", "1" if args.quick else "3"]
        report["parts"]["forecast"] = run_part("forecast", argv)
    for part in parts:
        data = _load(paths[part])
        if data is not None and report["parts"][part]["returncode"] == 0:
            report[part] = data
        elif data is not None:
            report[part] = data
            report["parts"][part]["note"] = "exit code not 0: figures may be partial"
        report["parts"][part]["results"] = str(paths[part].relative_to(ROOT))
    report["seconds"] = round(time.monotonic() - started, 1)
    report["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finish(report, base, args.readme)
    return 1 if any(p["returncode"] for p in report["parts"].values()) else 0


def finish(report: dict[str, Any], base: Path, readme: bool) -> None:
    """Summarise, print, write <base>.json and .md, and the README's figures if asked."""
    report["summary"] = summary(report)
    text = tables(report)
    print("\n" + "=" * 100 + "\n" + text)
    slim = {k: v for k, v in report.items() if k not in PARTS}
    json_path, md_path = base.with_name(base.name + ".json"), base.with_name(base.name + ".md")
    json_path.write_text(json.dumps(slim, indent=2, default=str) + "\n")
    md_path.write_text(f"# Benchmarks, {report['machine']['date'][:10]}\n\n{text}\n")
    print(f"wrote {json_path} and {md_path}")
    if readme:
        if update_readme(tables(report, compact=True)):
            print("README.md: figures updated")
        else:
            print(f"README.md: no {START_MARK!r} marker; figures not written", file=sys.stderr)


def summarise(base: Path, readme: bool) -> int:
    """Rebuild the summary of an earlier run from its files (<base>.json and the parts')."""
    report = _load(base.with_name(base.name + ".json"))
    if report is None:
        print(f"no {base}.json", file=sys.stderr)
        return 2
    for part in PARTS:
        data = _load(base.with_name(f"{base.name}-{part}.json"))
        if data is not None:
            report[part] = data
    finish(report, base, readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
