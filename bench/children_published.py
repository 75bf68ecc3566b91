#!/usr/bin/env python
"""The demo's synthetic SSDA903 returns for Stoke-on-Trent against Stoke's published figures.

    .venv/bin/python bench/children_published.py [--data ../shared/data] [--seed 2026]
                                                 [--today 2025-12-31]

Imports the returns the demo makes for Stoke-on-Trent (`demo.children.import_demo_returns`,
sized from the shipped reference figures, whole collection years in the six years to
`--today`) into a temporary SQLite database, works out the service's figures as DfE
defines them, and prints them beside DfE's published ones for the same years: children
looked after at 31 March, starting and ceasing to be looked after, and Staying Put at 18
and at 19 to 20. The published figures are read from the DfE files in `--data`
(`dfe_cla_number_and_rate_per_10k_children_2021-2025.csv`,
`dfe_la_care_leavers_stayput_2020-2024.csv`). The returns are synthetic: the point is that
they are of the same order as the real ones, so the demo shows believable rates, not that
they match year by year.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dateutil.relativedelta import relativedelta  # noqa: E402

from demo.children import import_demo_returns  # noqa: E402
from tracker.children import figures  # noqa: E402
from tracker.children.mapping import load_mapping  # noqa: E402
from tracker.children.returns import loaded_years  # noqa: E402
from tracker.core import schema  # noqa: E402
from tracker.core.authorities import NewAuthority, add_authority  # noqa: E402
from tracker.core.db import Database  # noqa: E402
from tracker.reference import load_reference  # noqa: E402

STOKE = "E06000021"
CLA_FILE = "dfe_cla_number_and_rate_per_10k_children_2021-2025.csv"
STAY_PUT_FILE = "dfe_la_care_leavers_stayput_2020-2024.csv"
MEASURES = {
    "Children looked after on 31 March each year": "in care at 31 March",
    "Children starting to be looked after each year": "starters",
    "Children ceasing to be looked after each year": "ceased",
}
DEFINITIONS = {
    "in care at 31 March": "looked after on 31 March, short breaks (V3, V4) left out",
    "starters": "started to be looked after in the year ending 31 March, each child once",
    "ceased": "ceased to be looked after in the year ending 31 March, each child once",
    "Staying Put at 18": (
        "left a foster placement on their 18th birthday, eligible for care-leaver support: "
        "living with former foster carers"
    ),
    "Staying Put at 19 to 20": "the same young people at 19 and 20, by that year's OC3",
}


def published(data: Path) -> dict[tuple[str, int], str]:
    """Stoke-on-Trent's published figures by (measure, year ending March)."""
    found: dict[tuple[str, int], str] = {}
    with (data / CLA_FILE).open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["new_la_code"] == STOKE and row["population_type"] in MEASURES:
                found[(MEASURES[row["population_type"]], int(row["time_period"]))] = row[
                    "children_count"
                ]
    counts: dict[tuple[str, int, str], str] = {}
    with (data / STAY_PUT_FILE).open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["new_la_code"] == STOKE:
                part = "stayed" if row["stay_put"].startswith("Total living") else "eligible"
                counts[(row["age"], int(row["time_period"]), part)] = row["number"]
    for (age, year, part), number in counts.items():
        if part == "eligible":
            label = "Staying Put at 18" if age == "Aged 18" else "Staying Put at 19 to 20"
            found[(label, year)] = _rate(counts.get((age, year, "stayed"), "c"), number)
    return found


def _rate(stayed: str | int | None, eligible: str | int | None) -> str:
    if stayed is None or eligible is None:
        return "-"
    if not str(stayed).isdigit() or not str(eligible).isdigit() or not int(eligible):
        return f"{stayed} / {eligible}"
    return f"{stayed} / {eligible} = {int(stayed) / int(eligible):.0%}"


def service(seed: int, today: date) -> tuple[dict[tuple[str, int], str], list[int]]:
    """The service's figures for the demo's Stoke-on-Trent returns, by (measure, year)."""
    reference = load_reference()[STOKE]
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/published.db")
        schema.upgrade(database)
        with database.writing() as session:
            add_authority(
                session, NewAuthority(code=STOKE, name="Stoke-on-Trent", region="West Midlands")
            )
            start = today - relativedelta(years=6) + relativedelta(days=1)
            import_demo_returns(session, reference, start=start, today=today, key=b"k", seed=seed)
        mapping = load_mapping()
        found: dict[tuple[str, int], str] = {}
        with database.read_session() as session:
            years = loaded_years(session, STOKE)
            for year in years:
                first, last = date(year - 1, 4, 1), date(year, 3, 31)
                in_care = figures.children_in_care(session, STOKE, last, mapping).figures
                found[("in care at 31 March", year)] = str(in_care.children)
                starters = figures.starters(session, STOKE, first, last, mapping).starters
                found[("starters", year)] = str(starters)
                found[("ceased", year)] = str(figures.ceased(session, STOKE, first, last).ceased)
                put = figures.staying_put(session, STOKE, first, last, mapping)
                found[("Staying Put at 18", year)] = _rate(
                    put.years[0].stayed, put.years[0].eligible
                )
                both = next(p for p in put.later if p.age == "19_to_20")
                found[("Staying Put at 19 to 20", year)] = _rate(both.stayed, both.eligible)
        database.dispose()
    return found, years


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2025, 12, 31))
    args = parser.parse_args()
    real = published(args.data)
    ours, years = service(args.seed, args.today)
    print(f"Stoke-on-Trent: the demo's synthetic returns (seed {args.seed}) and DfE's figures\n")
    print("| measure | definition (DfE) | year | service (synthetic) | published |")
    print("|---|---|---|---|---|")
    for measure, definition in DEFINITIONS.items():
        for index, year in enumerate(years):
            said = f"{measure} | {definition}" if index == 0 else " | "
            print(
                f"| {said} | {year - 1}-{year % 100:02d} | {ours.get((measure, year), '-')} | "
                f"{real.get((measure, year), '-')} |"
            )


if __name__ == "__main__":
    main()
