#!/usr/bin/env python
"""CPU per read of the funnel and the register's monthly flows, off the prepared monthly
figures against the reference computation from raw rows (issue 17, part a).

    .venv/bin/python bench/monthly_figures.py [--database URL] [--repeat 20]

Without --database, a demo database is made in a temporary folder with `fostering demo`
(five councils, ten years) and its prepared figures built. For each council it times, as CPU
milliseconds of this process (time.process_time: the database's own CPU counts too on
SQLite, which runs in process; on PostgreSQL only the client's side is counted, so the
wall-clock figure is printed beside it), the median over --repeat runs of:

    funnel 12m         funnel_report for the last full year ending March
    funnel 36m by ch   three years, broken down by channel
    series 36m         monthly_series of enquiries, applications, approvals, closures
    flows 36m          monthly_flows with per-care-type stock
    upkeep 1 month     refreshing one council-month's funnel rows and the register's
                       current month (what each write adds)

Results go to bench/results/monthly-figures-<date>-<backend>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from forecast.months import add_months, month_end, month_start  # noqa: E402
from tracker.capacity.figures import monthly_flows  # noqa: E402
from tracker.capacity.monthly import refresh_register_months  # noqa: E402
from tracker.core.authorities import Authority  # noqa: E402
from tracker.core.db import Database  # noqa: E402
from tracker.core.monthly_upkeep import rebuild_councils  # noqa: E402
from tracker.enquiries.funnel import Dimension, funnel_report, monthly_series  # noqa: E402
from tracker.enquiries.monthly import refresh_funnel_months  # noqa: E402
from tracker.enquiries.timeliness import london_today  # noqa: E402


def _demo(folder: Path) -> str:
    url = f"sqlite:///{folder / 'demo.db'}"
    env = os.environ | {"DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "demo"],
        check=True,
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return url


def _median_ms(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median CPU and wall-clock milliseconds of `run` over `repeat` calls (after one)."""
    run()
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        run()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return round(statistics.median(cpu), 2), round(statistics.median(wall), 2)


def measure(database: Database, repeat: int, today: date) -> list[dict[str, object]]:
    year_end = date(today.year - (today.month < 4), 3, 31)
    year_start = date(year_end.year - 1, 4, 1)
    three = date(year_end.year - 3, 4, 1)
    series_end = month_end(add_months(month_start(today), -1))
    rows = []
    with database.read_session() as session:
        codes = list(session.scalars(select(Authority.code).order_by(Authority.code)))
    for code in codes:
        reads: dict[str, Callable[[bool | None], Callable[[], object]]] = {
            "funnel 12m": lambda p, c=code: (
                lambda: funnel_report(session, c, year_start, year_end, today, prepared=p)
            ),
            "funnel 36m by ch": lambda p, c=code: (
                lambda: funnel_report(
                    session, c, three, year_end, today, Dimension.CHANNEL, prepared=p
                )
            ),
            "series 36m": lambda p, c=code: (
                lambda: monthly_series(session, c, three, series_end, prepared=p)
            ),
            "flows 36m": lambda p, c=code: (
                lambda: monthly_flows(session, c, three, year_end, by_care_type=True, prepared=p)
            ),
        }
        with database.read_session() as session:
            for name, make in reads.items():
                prepared = _median_ms(make(None), repeat)
                reference = _median_ms(make(False), repeat)
                rows.append(
                    {
                        "council": code,
                        "read": name,
                        "prepared_cpu_ms": prepared[0],
                        "reference_cpu_ms": reference[0],
                        "prepared_wall_ms": prepared[1],
                        "reference_wall_ms": reference[1],
                    }
                )
        with database.writing() as session:

            def upkeep(c: str = code) -> None:
                refresh_funnel_months(session, c, [today])
                refresh_register_months(session, c, today, today)

            cpu, wall = _median_ms(upkeep, repeat)
            rows.append({"council": code, "read": "upkeep 1 month", "cpu_ms": cpu, "wall_ms": wall})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="database URL (default: a new demo in /tmp)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    today = london_today()
    with tempfile.TemporaryDirectory(prefix="monthly-figures-") as folder:
        url = args.database or _demo(Path(folder))
        database = Database(url)
        started = time.perf_counter()
        built = rebuild_councils(database, today)
        build_s = round(time.perf_counter() - started, 2)
        rows = measure(database, args.repeat, today)
        backend = database.engine.dialect.name
        database.dispose()
    print(f"{backend}: prepared figures of {len(built)} councils built in {build_s} s")
    print(f"{'council':10} {'read':18} {'prepared':>14} {'reference':>14}   (CPU ms; wall ms)")
    for row in rows:
        if "cpu_ms" in row:
            print(f"{row['council']:10} {row['read']:18} {row['cpu_ms']:>8} ; {row['wall_ms']}")
            continue
        print(
            f"{row['council']:10} {row['read']:18} "
            f"{row['prepared_cpu_ms']:>7} ; {row['prepared_wall_ms']:<6}"
            f"{row['reference_cpu_ms']:>7} ; {row['reference_wall_ms']}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"monthly-figures-{date.today().isoformat()}-{backend}.json"
    out.write_text(
        json.dumps(
            {
                "backend": backend,
                "councils": len(built),
                "build_seconds": build_s,
                "repeat": args.repeat,
                "machine": platform.platform(),
                "python": platform.python_version(),
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
