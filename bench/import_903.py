#!/usr/bin/env python
"""Import benchmark: SSDA903 returns and the enquiry spreadsheet, on SQLite and PostgreSQL.

    .venv/bin/python bench/import_903.py [--rows 100000] [--enquiries 20000]
                                         [--backends sqlite,postgresql] [--seed 903]

SSDA903: demo.ssda903 generates Header, Episodes and OC3 files of ten collection years
(2014-15 to 2023-24) whose Episodes files hold exactly --rows rows in all (episodes open
across years repeat, as in the DfE returns; each return is stored whole, so every row is
stored). For each backend a fresh database is made (a temporary SQLite file; for PostgreSQL
a new database fostering_bench_<random> on FOSTERING_BENCH_PG, default
postgresql://postgres@127.0.0.1:5432/postgres, dropped afterwards), migrated, and given one
authority. Then, each in its own transaction:

    check    a dry run: read, check and derive every row; nothing written
    import   the real import: the same work, then the writes and the commit
    again    the same files once more: every record is found unchanged
    replace  the last year's files again, one episode fewer, replacing that year's return
    withdraw the last year's return withdrawn

`write` is import - check. Rows per second count episode rows (the Header and OC3 rows are
reported beside them). The enquiry spreadsheet: --enquiries generated CSV rows imported into
the same database with tracker.enquiry_files.import_enquiries, then imported again.

Results go to the terminal and to bench/results/import-903-<date>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import platform
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from demo.ssda903 import SyntheticSet, generate  # noqa: E402
from tracker.children.importer import SourceFile, import_ssda903  # noqa: E402
from tracker.children.rows import year_label  # noqa: E402
from tracker.children.withdrawal import withdraw_return  # noqa: E402
from tracker.core import schema  # noqa: E402
from tracker.core.access import Caller, Role  # noqa: E402
from tracker.core.authorities import NewAuthority, add_authority  # noqa: E402
from tracker.core.db import Database, normalise_url  # noqa: E402
from tracker.enquiries.files import COLUMNS, import_enquiries  # noqa: E402
from tracker.enquiries.timeliness import london_today  # noqa: E402
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest  # noqa: E402

AUTHORITY = NewAuthority(code="E06000021", name="Stoke-on-Trent", region="West Midlands")
CALLER = Caller(token_id=None, name="bench", role=Role.ADMIN)
KEY = b"bench-pseudonym-key"
FIRST_YEAR, LAST_YEAR = 2015, 2024
PG_ADMIN = os.environ.get("FOSTERING_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def fresh_database(backend: str) -> Iterator[Database]:
    """A migrated, empty database of the backend with the benchmark's authority."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            database = Database(f"sqlite:///{folder}/bench.db")
            yield from _prepared(database)
        return
    name = f"fostering_bench_{secrets.token_hex(5)}"
    admin = create_engine(normalise_url(PG_ADMIN), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield from _prepared(Database(normalise_url(PG_ADMIN).rsplit("/", 1)[0] + f"/{name}"))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepared(database: Database) -> Iterator[Database]:
    schema.upgrade(database)
    with database.writing() as session:
        add_authority(session, AUTHORITY)
    try:
        yield database
    finally:
        database.dispose()


def timed_import(
    database: Database, files: list[SourceFile], dry_run: bool = False, replace: bool = False
) -> tuple[float, Any]:
    started = time.perf_counter()
    with database.writing() as session:
        report = import_ssda903(
            session,
            CALLER,
            AUTHORITY.code,
            files,
            KEY,
            dry_run=dry_run,
            replace=replace,
            max_rows=sys.maxsize,
        )
    return time.perf_counter() - started, report


def last_year_less_one(synthetic: SyntheticSet, year: int) -> list[SourceFile]:
    """The last year's files, the last row of its Episodes file left out."""
    label = f"{year - 1}-{year % 100:02d}"
    files = [f for f in synthetic.files if label in f.name]
    episodes = next(f for f in files if f.name.startswith("episodes"))
    lines = episodes.content.decode().splitlines(keepends=True)
    shorter = SourceFile(episodes.name, "".join(lines[:-1]).encode())
    return [shorter if f is episodes else f for f in files]


def timed_withdrawal(database: Database, year: int) -> tuple[float, Any]:
    started = time.perf_counter()
    with database.writing() as session:
        result = withdraw_return(session, CALLER, AUTHORITY.code, year)
    return time.perf_counter() - started, result


def enquiry_csv(rows: int, seed: int, today: date) -> bytes:
    """A team spreadsheet of `rows` enquiries over three years, a few moved on a stage."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for number in range(1, rows + 1):
        received = today - timedelta(days=rng.randint(30, 3 * 365))
        contacted = received + timedelta(days=rng.randint(0, 3))
        writer.writerow(
            {
                "external_ref": f"BENCH-{number:06d}",
                "received_on": received.isoformat(),
                "channel": rng.choice(list(Channel)).value,
                "campaign": rng.choice(["", "Foster Care Fortnight", "Spring"]),
                "enquirer_name": f"Enquirer {number}",
                "email": f"enquirer{number}@example.org",
                "phone": f"01782 {rng.randint(100000, 999999)}",
                "postcode_district": rng.choice(["ST1", "ST4", "ST6", "ST10"]),
                "household_type": rng.choice(list(HouseholdType)).value,
                "ethnicity": rng.choice(list(Ethnicity)).value,
                "interests": rng.choice(list(Interest)).value,
                "first_contact_on": contacted.isoformat() if rng.random() < 0.8 else "",
            }
        )
    return buffer.getvalue().encode()


def timed_enquiries(database: Database, content: bytes, today: date) -> tuple[float, Any]:
    started = time.perf_counter()
    with database.writing() as session:
        report = import_enquiries(session, CALLER, AUTHORITY.code, content, today)
    return time.perf_counter() - started, report


def run_backend(
    backend: str, synthetic: SyntheticSet, enquiries: bytes, enquiry_rows: int, today: date
) -> dict[str, Any]:
    rows = synthetic.episode_rows
    with fresh_database(backend) as database:
        check_s, checked = timed_import(database, synthetic.files, dry_run=True)
        import_s, imported = timed_import(database, synthetic.files)
        again_s, again = timed_import(database, synthetic.files)
        assert checked.episodes.created == imported.episodes.created == rows
        assert (again.episodes.created, again.episodes.updated) == (0, 0)
        replace_s, replaced = timed_import(
            database, last_year_less_one(synthetic, LAST_YEAR), replace=True
        )
        assert (replaced.episodes.removed, replaced.replaced) == (1, [year_label(LAST_YEAR)])
        withdraw_s, withdrawn = timed_withdrawal(database, LAST_YEAR)
        enquiry_s, enquiry_report = timed_enquiries(database, enquiries, today)
        enquiry_again_s, enquiry_again = timed_enquiries(database, enquiries, today)
        assert enquiry_report.created == enquiry_rows
        assert enquiry_again.unchanged == enquiry_rows
    write_s = max(import_s - check_s, 0.0)
    return {
        "backend": backend,
        "ssda903": {
            "episode_rows": rows,
            "episodes_stored": imported.episodes.created,
            "children": imported.children.created,
            "care_leavers": imported.care_leavers.created,
            "check_s": round(check_s, 3),
            "write_s": round(write_s, 3),
            "import_s": round(import_s, 3),
            "rows_per_s": round(rows / import_s),
            "check_rows_per_s": round(rows / check_s),
            "second_import_s": round(again_s, 3),
            "second_import_unchanged": again.episodes.unchanged,
            "replace_last_year_s": round(replace_s, 3),
            "withdraw_last_year_s": round(withdraw_s, 3),
            "withdrawn_episodes": withdrawn.episodes,
        },
        "enquiries": {
            "rows": enquiry_rows,
            "import_s": round(enquiry_s, 3),
            "rows_per_s": round(enquiry_rows / enquiry_s),
            "second_import_s": round(enquiry_again_s, 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="SSDA903 episode rows")
    parser.add_argument("--enquiries", type=int, default=20_000, help="enquiry CSV rows")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=903)
    parser.add_argument("--output", type=Path, default=None, help="results JSON path")
    args = parser.parse_args()
    today = london_today()

    started = time.perf_counter()
    synthetic = generate(
        seed=args.seed, first_year=FIRST_YEAR, last_year=LAST_YEAR, episode_rows=args.rows
    )
    generate_s = time.perf_counter() - started
    size = sum(len(f.content) for f in synthetic.files)
    print(
        f"generated {synthetic.episode_rows} episode, {synthetic.header_rows} header and "
        f"{synthetic.oc3_rows} OC3 rows ({synthetic.children} children, {len(synthetic.files)} "
        f"files, {size / 1e6:.1f} MB) in {generate_s:.1f} s"
    )
    enquiries = enquiry_csv(args.enquiries, args.seed, today)

    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        result = run_backend(backend, synthetic, enquiries, args.enquiries, today)
        results.append(result)
        s, e = result["ssda903"], result["enquiries"]
        print(
            f"{backend:>10}  SSDA903 {s['episode_rows']} rows: check {s['check_s']:.1f} s, "
            f"write {s['write_s']:.1f} s, import {s['import_s']:.1f} s = "
            f"{s['rows_per_s']} rows/s; second import {s['second_import_s']:.1f} s; "
            f"replace the last year {s['replace_last_year_s']:.1f} s, withdraw it "
            f"{s['withdraw_last_year_s']:.1f} s ({s['withdrawn_episodes']} episodes)"
        )
        print(
            f"{'':>10}  enquiries {e['rows']} rows: {e['import_s']:.1f} s = "
            f"{e['rows_per_s']} rows/s; second import {e['second_import_s']:.1f} s"
        )

    RESULTS.mkdir(exist_ok=True)
    output = args.output or RESULTS / f"import-903-{today.isoformat()}.json"
    output.write_text(
        json.dumps(
            {
                "run_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                },
                "seed": args.seed,
                "generate": {
                    "episode_rows": synthetic.episode_rows,
                    "header_rows": synthetic.header_rows,
                    "oc3_rows": synthetic.oc3_rows,
                    "children": synthetic.children,
                    "files": len(synthetic.files),
                    "bytes": size,
                    "seconds": round(generate_s, 3),
                },
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results in {output}")


if __name__ == "__main__":
    main()
