#!/usr/bin/env python
"""Stored against freshly computed trajectories on a demo database: how long the overview
and targets pages take to build, and their trajectories alone, in process (no HTTP).

    .venv/bin/python -m bench.trajectories --database-url sqlite:////tmp/demo/demo.db

The database is one filled by `fostering demo` (five councils, the seed strategies' targets,
a first forecast run of Stoke-on-Trent, whose trajectories that run stored). For the demo
authority with the most targets, as its manager: each measure runs `--repeat` times after
one warm-up (so the proportion models' in-process cache is warm in both modes, as in a
running server) and prints the median and slowest in milliseconds. "fresh" rebuilds every
trajectory (`tracker.targets.trajectories`, the behaviour before stored trajectories);
"stored" serves them from `target_trajectory` (`tracker.targets.stored`). Figures are
written to bench/results/trajectories-<date>-<backend>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from api.dashboard import overview
from api.dashboard import targets as targets_page
from api.dashboard.scope import resolve_scope
from tracker.children.mapping import load_mapping
from tracker.core.access import Caller, Role
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.enquiries.timeliness import london_today
from tracker.targets import stored
from tracker.targets import trajectories as fresh
from tracker.targets.tables import Target

RESULTS = Path(__file__).resolve().parent / "results"


def timed(measure: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median and slowest milliseconds of `repeat` calls after one warm-up."""
    measure()
    spans = []
    for _ in range(repeat):
        started = time.perf_counter()
        measure()
        spans.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(spans), 2), "max_ms": round(max(spans), 2)}


def run(database: Database, repeat: int, today: date) -> dict[str, Any]:
    mapping = load_mapping()
    with database.read_session() as session:
        code, count = session.execute(
            select(Target.authority_code, func.count())
            .group_by(Target.authority_code)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    manager = Caller(token_id=None, name="bench", role=Role.MANAGER, authority_code=code)

    def fresh_counts(s: Any, c: str, day: date) -> dict[str, int]:
        counted = Counter(t.status.value for t in fresh.trajectories(s, c, today=day))
        return dict(counted)

    def stored_counts(s: Any, c: str, day: date) -> dict[str, int]:
        return targets_page.status_counts(s, c, day, mapping, database)

    def measure(build: Callable[[Any], Any]) -> Callable[[], Any]:
        def once() -> Any:
            with database.read_session() as session:
                return build(session)

        return once

    def scope(session: Any) -> Any:
        return resolve_scope(session, manager, None)

    def fresh_targets_page(session: Any) -> Any:
        # The targets page as it was built before: every trajectory rebuilt on each load.
        original = targets_page.served
        targets_page.served = lambda s, c, **kw: [
            stored.Stored(trajectory=t, computed_at=utcnow())
            for t in fresh.trajectories(s, c, today=kw["today"], mapping=kw["mapping"])
        ]
        try:
            return targets_page.build(session, scope(session), today, mapping)
        finally:
            targets_page.served = original

    cases = {
        "trajectories, fresh": lambda s: fresh.trajectories(s, code, today=today, mapping=mapping),
        "trajectories, stored": lambda s: stored.served(
            s, code, today=today, mapping=mapping, database=database
        ),
        "overview page, fresh": lambda s: overview.build(s, scope(s), today, fresh_counts),
        "overview page, stored": lambda s: overview.build(s, scope(s), today, stored_counts),
        "targets page, fresh": fresh_targets_page,
        "targets page, stored": lambda s: targets_page.build(s, scope(s), today, mapping, database),
    }
    figures = {name: timed(measure(build), repeat) for name, build in cases.items()}
    return {"authority": code, "targets": count, "today": today.isoformat(), "pages": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    database = Database(args.database_url)
    backend = "sqlite" if database.is_sqlite else "postgresql"
    result = run(database, args.repeat, london_today())
    print(f"{backend}: {result['authority']}, {result['targets']} targets, {args.repeat} runs")
    for name, figure in result["pages"].items():
        print(f"  {name:<24} p50 {figure['p50_ms']:8.1f} ms   max {figure['max_ms']:8.1f} ms")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"trajectories-{date.today().isoformat()}-{backend}.json"
    out.write_text(json.dumps({"backend": backend, "repeat": args.repeat, **result}, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
