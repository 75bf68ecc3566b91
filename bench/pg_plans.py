#!/usr/bin/env python
"""What PostgreSQL spends planning a council's first reads, statement by statement (issue 17).

    .venv/bin/python bench/pg_plans.py POSTGRESQL_URL [--codes E06000033,E10000012]
        [--days 40] [--kind capacity|funnel]

Runs `capacity_figures` (a new day each time) or `funnel_report` (a new 12 months each time)
for each council, catches every statement it runs with its values, and runs each again under
EXPLAIN (ANALYZE, SUMMARY): planning and execution ms, medians over the days. Statements
with parameters are shown as run (a plan for their values each time); with --generic each is
also prepared once (PREPARE) and run with its generic plan (plan_cache_mode
force_generic_plan), to show what planning once would save and whether the generic plan
executes as fast. The prepared capacity statement (`tracker.capacity.as_at`, EXECUTE) is
shown as it runs, and so is the funnel's period statement (`tracker.enquiries.period.planned`).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# This folder's forecast.py would hide the forecast package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from psycopg import sql as pg_sql  # noqa: E402
from sqlalchemy import event  # noqa: E402

from tracker.capacity.as_at import PLANNED  # noqa: E402
from tracker.capacity.figures import capacity_figures  # noqa: E402
from tracker.core.db import Database  # noqa: E402
from tracker.enquiries import period  # noqa: E402
from tracker.enquiries.funnel import funnel_report  # noqa: E402
from tracker.enquiries.timeliness import london_today  # noqa: E402


def _times(raw: Any, statement: str, params: Any = None) -> tuple[float, float]:
    rows = [r[0] for r in raw.execute("EXPLAIN (ANALYZE, SUMMARY) " + statement, params)]
    found = {r.split(":")[0]: float(r.split()[2]) for r in rows if r.endswith(" ms")}
    return found["Planning Time"], found["Execution Time"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--codes", default="E06000033,E10000012")
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--kind", choices=["capacity", "funnel"], default="capacity")
    parser.add_argument("--generic", action="store_true")
    args = parser.parse_args()
    database = Database(args.database_url)
    seen: list[tuple[str, Any]] = []
    # The statements run prepared (`PlannedOnce`), by name: capacity's, and the funnel's
    # period statements without a breakdown.
    periods = [period.planned("postgresql", e, None, t) for e in range(3) for t in (False, True)]
    planned = {p.name: p for p in [PLANNED, *periods]}

    @event.listens_for(database.engine, "before_cursor_execute")
    def _caught(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        seen.append((statement, params))

    today = london_today()
    days = [today - timedelta(days=(i * 37) % 2200) for i in range(args.days)]
    with database.engine.connect() as explain:
        raw = explain.connection.dbapi_connection
        raw.autocommit = True
        for code in args.codes.split(","):
            found: dict[str, list[tuple[float, float]]] = defaultdict(list)
            prepared: dict[str, str] = {}
            for day in days:
                seen.clear()
                with database.read_session() as session:
                    if args.kind == "capacity":
                        capacity_figures(session, code, day)
                    else:
                        funnel_report(session, code, day - timedelta(days=364), day, today)
                for statement, params in list(seen):
                    if statement.startswith(("PREPARE", "SELECT set_config")):
                        continue
                    if statement.startswith("EXECUTE"):
                        name = statement.split('"')[1]
                        if not raw.execute(
                            "SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name]
                        ).fetchone():
                            raw.execute(planned[name].prepare_statement())
                        raw.execute("SET plan_cache_mode = force_generic_plan")
                        found[f"EXECUTE {name} (generic)"].append(
                            _times(raw, statement.split(";")[0])
                        )
                        raw.execute("RESET plan_cache_mode")
                        continue
                    label = " ".join(statement.split())[:100]
                    found[label].append(_times(raw, statement, params))
                    if not args.generic or not params:
                        continue
                    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
                    if statement not in prepared:
                        body = re.sub(
                            r"%\((\w+)\)s",
                            lambda m, names=names: f"${names.index(m.group(1)) + 1}",
                            statement,
                        ).replace("%%", "%")
                        prepared[statement] = f"pg_plans_{len(prepared)}"
                        raw.execute(f"PREPARE {prepared[statement]} AS {body}")
                    values = pg_sql.SQL(", ").join(pg_sql.Literal(params[n]) for n in names)
                    raw.execute("SET plan_cache_mode = force_generic_plan")
                    execute = f"EXECUTE {prepared[statement]}({values.as_string(raw)})"
                    found["  generic: " + label[:89]].append(_times(raw, execute))
                    raw.execute("RESET plan_cache_mode")
            raw.execute("DEALLOCATE ALL")
            print(f"{args.kind} {code}, {len(days)} days: planning / execution ms, median (max)")
            for label, times in found.items():
                plans, runs = [p for p, _ in times], [e for _, e in times]
                print(
                    f"  {statistics.median(plans):6.3f} ({max(plans):6.3f}) / "
                    f"{statistics.median(runs):6.3f} ({max(runs):6.3f})  {label}"
                )
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
