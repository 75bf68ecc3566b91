#!/usr/bin/env python
"""How long the Ofsted return and the benchmarks take to build, and how many SQL statements.

    .venv/bin/python bench/ofsted.py [--backend sqlite|postgresql|both] [--repeat 20]
                                     [--enquiries 4000] [--years 10]

Loads the benchmark's data set (bench/preload.py: the 14 West Midlands authorities over ten
years, E06000021 topped up to `--enquiries`) into a fresh database, then builds E06000021's
2025-26 return (`tracker.ofsted.service.ofsted_return`), its Excel file (`export_return`,
rolled back so nothing is audited) and its 2025-26 benchmarks, `--repeat` times each, and
prints the median and the slowest wall time, the CPU time of this process and the statements
one build runs (counted by a `before_cursor_execute` listener). Nothing is asserted: the
figures are printed to be read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for extra in (str(ROOT), str(BENCH)):
    if extra not in sys.path:
        sys.path.insert(0, extra)

from preload import preload, region_codes  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

from tracker.benchmarks.compare import benchmarks  # noqa: E402
from tracker.children.mapping import load_mapping  # noqa: E402
from tracker.core import schema  # noqa: E402
from tracker.core.access import SYSTEM  # noqa: E402
from tracker.core.authorities import NewAuthority, add_authority  # noqa: E402
from tracker.core.db import Database, normalise_url  # noqa: E402
from tracker.core.spreadsheets import FileFormat  # noqa: E402
from tracker.ofsted.service import export_return, ofsted_return  # noqa: E402

AUTHORITY = "E06000021"
REGION = "West Midlands"
YEAR = "2025-26"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _database(backend: str) -> tuple[str, Callable[[], None]]:
    """A fresh migrated database's URL, and how to drop it afterwards."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="fostering-ofsted-"))
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    name = f"fostering_ofsted_{int(time.time())}"
    admin = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


def _time(database: Database, work: Callable[[Any], object], repeat: int) -> dict[str, float]:
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    walls, cpus = [], []
    event.listen(database.engine, "before_cursor_execute", count)
    try:
        for _ in range(repeat):
            with database.read_session() as session:
                wall, cpu = time.perf_counter(), time.process_time()
                work(session)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                session.rollback()
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    return {
        "median_ms": statistics.median(walls) * 1000,
        "max_ms": max(walls) * 1000,
        "cpu_ms": statistics.median(cpus) * 1000,
        "statements": statements / repeat,
    }


def run(backend: str, repeat: int, enquiries: int, years: int, today: date) -> None:
    url, drop = _database(backend)
    try:
        database = Database(url)
        schema.upgrade(database)
        with database.writing() as session:
            add_authority(
                session, NewAuthority(code=AUTHORITY, name="Stoke-on-Trent", region=REGION)
            )
        database.dispose()
        started = time.perf_counter()
        preload(
            url, AUTHORITY, enquiries, years, today, authorities=region_codes(REGION, AUTHORITY)
        )
        print(f"{backend}: preloaded in {time.perf_counter() - started:.1f} s", flush=True)
        database = Database(url)
        mapping = load_mapping(None)
        works: dict[str, Callable[[Any], object]] = {
            f"Ofsted return {YEAR}": lambda s: ofsted_return(s, AUTHORITY, YEAR, today),
            f"Ofsted return {YEAR}, Excel": lambda s: export_return(
                s, SYSTEM, AUTHORITY, YEAR, today, FileFormat.XLSX
            ),
            f"benchmarks {YEAR}": lambda s: benchmarks(s, AUTHORITY, YEAR, today, mapping),
        }
        with database.read_session() as session:
            built = ofsted_return(session, AUTHORITY, YEAR, today)
        figures = {f.key: f.value for s in built.sections for f in s.figures}
        print(
            f"{backend}: {AUTHORITY} {YEAR}: {figures['initial_enquiries']} enquiries, "
            f"{figures['approved_households']} households at 31 March, "
            f"{figures['approved_carers']} carers, {len(built.warnings)} warning(s)"
        )
        print("| backend | build | median ms | slowest ms | CPU ms | statements |")
        print("|---|---|---:|---:|---:|---:|")
        for name, work in works.items():
            t = _time(database, work, repeat)
            print(
                f"| {backend} | {name} | {t['median_ms']:.1f} | {t['max_ms']:.1f} | "
                f"{t['cpu_ms']:.1f} | {t['statements']:.0f} |",
                flush=True,
            )
        database.dispose()
    finally:
        drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--enquiries", type=int, default=4000)
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args(argv)
    today = date.today()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run(backend, args.repeat, args.enquiries, args.years, today)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
