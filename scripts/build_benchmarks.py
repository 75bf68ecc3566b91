"""Build the published figures ``tracker/benchmarks`` compares a council with.

Reads the unmodified Ofsted and DfE copies described in ``shared/data/README.md`` and DfE's
statistical neighbours (``scripts/data/dfe_sn_model_2025_wide.csv``), and writes:

* ``areas.csv``: England, the nine regions and every local authority of the DfE 2025 release
  (ONS code, name, level, region, old three-digit DfE code);
* ``published.csv``: one row per area and year ending 31 March, one column per measure, each
  value **as published**: DfE's suppression (``c``, ``x``, ``z``, ``k``) and Ofsted's ``..`` are
  kept, never read as 0; an empty cell means no source gives the figure;
* ``sources.csv``: for every measure and year, the publisher, release, file, and the row,
  column or filter it was read from, with the file's SHA-256;
* ``neighbours.csv``: each authority's ten statistical neighbours, closest first.

Ofsted publishes regional figures for council fostering services only; its England figure
covers every service, independent agencies included (kept under the area ``E92000001``).
Crown copyright, Open Government Licence v3.0.

Usage: ``python scripts/build_benchmarks.py [DATA_DIR]`` (default ``../shared/data``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from build_reference import (
    CLA_2019_FILE,
    OFSTED_AGGREGATES,
    OFSTED_BOUNDARY_CHANGED,
    OFSTED_FILE,
    OFSTED_NAME_MAP,
    OFSTED_ROWS,
    RECODED,
    SP_ELIGIBLE,
    SP_STAYED,
    area_key,
    load_authorities,
    read_ees,
)

from tracker.benchmarks.published import DFE_MEASURES, ENGLAND, OFSTED_MEASURES

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
NEIGHBOURS_FILE = Path(__file__).resolve().parent / "data" / "dfe_sn_model_2025_wide.csv"
OUTPUT = REPO_ROOT / "tracker" / "benchmarks"
CLA_RELEASE = "Children looked after in England including adoption"

OFSTED_2017_FILE = "ofsted_Fostering_in_England_2017-18_dataset_transposed_extended.csv"
POPULATION_FILES = (  # later releases win where they overlap
    "dfe_cla_number_and_rate_per_10k_children_2019-2023.csv",
    "dfe_cla_number_and_rate_per_10k_children_2021-2025.csv",
)
STAYPUT_FILES = (
    "dfe_la_care_leavers_stayput_2019-2023.csv",
    "dfe_la_care_leavers_stayput_2020-2024.csv",
)
CARE_LEAVERS_2018_FILE = "dfe_CareLeavers17182018_amended.csv"

MEASURES = (*OFSTED_MEASURES, *DFE_MEASURES)
# The 2017-18 file's columns (it has no applications received nor households approved in
# year, and its applications approved is defined differently, so it is left out).
OFSTED_2017_COLUMNS = {
    "enquiries": "Number_of_initial_enquiries_from_new_prospective_fostering_households",
    "households_deregistered": "Total_households_de_registered_between_1_April_and_31_March",
    "households": "Total_approved_households",
    "approved_places": "Number_of_approved_foster_places",
    "filled_places": "Number_of_filled_places",
    "vacant_places": "Number_of_vacant_places",
    "unavailable_places": "Number_of_places_not_available",
}
# 2017-18 spellings that differ from DfE's (the file's author mislabelled Gloucestershire and
# Somerset, shared/data README item 2); its two Bournemouth rows (the second is Poole) and
# Dorset describe areas that changed in 2019 and are left out.
OFSTED_2017_NAMES = {
    **OFSTED_NAME_MAP,
    "Gloucester": "Gloucestershire",
    "South Somerset": "Somerset",
    "St Helens": "St. Helens",
    "Bedford": "Bedford",
}
REGION_NAMES = {  # Ofsted and DfE region spellings, lower case, to ONS region codes
    "north east": "E12000001",
    "north west": "E12000002",
    "yorkshire and the humber": "E12000003",
    "yorkshire and humber": "E12000003",
    "east midlands": "E12000004",
    "west midlands": "E12000005",
    "east of england": "E12000006",
    "london": "E12000007",
    "south east": "E12000008",
    "south west": "E12000009",
}

Row = dict[str, str]


def sha256(path: Path) -> str:
    """The file's SHA-256, as shared/data/README.md lists it (first 16 hex digits)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def region_code(name: str) -> str | None:
    """An Ofsted or DfE region name's ONS code ("North East England" too), else None."""
    key = name.strip().lower()
    return REGION_NAMES.get(key) or REGION_NAMES.get(key.removesuffix(" england"))


def published(raw: str | None) -> str:
    """A cell as published, thousands separators removed ("c", "..", "x" kept as they are)."""
    return (raw or "").strip().replace(",", "")


class Table:
    """The published values by (area, year), and where each measure of each year came from."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, int], dict[str, str]] = {}
        self.sources: dict[tuple[str, int], Row] = {}

    def put(self, area: str, year: int, measure: str, value: str) -> None:
        """Keep a value (an old code of a council recoded with an unchanged area is recoded)."""
        self.values.setdefault((RECODED.get(area, area), year), {})[measure] = value

    def source(
        self, measure: str, year: int, data_dir: Path, file: str, item: str, **more: str
    ) -> None:
        path = NEIGHBOURS_FILE if file == NEIGHBOURS_FILE.name else data_dir / file
        self.sources[measure, year] = {
            "measure": measure,
            "year": str(year),
            "file": file,
            "sha256": sha256(path),
            "item": item,
            **more,
        }


def add_ofsted_2019(table: Table, data_dir: Path, codes: dict[str, str]) -> list[str]:
    """Ofsted 2018-19 LA-level sheet: every LA, region and England column; the unmatched."""
    with (data_dir / OFSTED_FILE).open(encoding="cp1252", newline="") as handle:
        lines = list(csv.reader(handle))
    left_out = []
    for column, header in enumerate(lines[0]):
        name = header.strip()
        if column < 3 or not name:
            continue
        if name == "England":
            area: str | None = ENGLAND
        elif name in OFSTED_AGGREGATES:
            area = region_code(name)
        elif name in OFSTED_BOUNDARY_CHANGED:
            area = None
        else:
            area = codes.get(OFSTED_NAME_MAP.get(name, name))
        if area is None:
            left_out.append(f"2018-19 {name}")
            continue
        for measure in OFSTED_MEASURES:
            index, label = OFSTED_ROWS[measure]
            if not lines[index][2].strip().startswith(label):
                raise ValueError(f"{measure}: row {index} is {lines[index][2]!r}")
            table.put(area, 2019, measure, published(lines[index][column]))
    for measure in OFSTED_MEASURES:
        index, label = OFSTED_ROWS[measure]
        table.source(
            measure, 2019, data_dir, OFSTED_FILE, f"row {index}: {label}",
            publisher="Ofsted", release="Fostering in England 1 April 2018 to 31 March 2019",
        )  # fmt: skip
    return left_out


def add_ofsted_2018(table: Table, data_dir: Path, codes: dict[str, str]) -> list[str]:
    """Ofsted 2017-18 (transposed): the measures it has, for its LAs, regions and England."""
    frame = pd.read_csv(data_dir / OFSTED_2017_FILE, dtype=str, keep_default_na=False)
    left_out, seen = [], set()
    for _, row in frame.iterrows():
        name = row["council"].strip()
        if name == "England":
            area: str | None = ENGLAND
        elif region_code(name) and name not in ("London", "Inner London", "Outer London"):
            area = region_code(name)
        elif name == "London":
            area = "E12000007"
        else:
            area = codes.get(OFSTED_2017_NAMES.get(name, name))
        if area is None or name in ("Bournemouth", "Dorset") or area in seen:
            left_out.append(f"2017-18 {name}")
            continue
        seen.add(area)
        for measure, column in OFSTED_2017_COLUMNS.items():
            table.put(area, 2018, measure, published(row[column]))
    for measure, column in OFSTED_2017_COLUMNS.items():
        table.source(
            measure, 2018, data_dir, OFSTED_2017_FILE, f"column {column}",
            publisher="Ofsted", release="Fostering in England 1 April 2017 to 31 March 2018",
        )  # fmt: skip
    return left_out


def add_population(table: Table, data_dir: Path) -> None:
    """Children aged 0 to 17 (DfE's population estimate beside children looked after)."""
    for file in POPULATION_FILES:
        frame = read_ees(data_dir / file)
        frame["key"] = area_key(frame)
        measure_column = "population_type" if "population_type" in frame else "population_count"
        frame = frame[frame[measure_column].str.startswith("Children looked after")]
        frame = frame[frame["geographic_level"].isin(["National", "Regional", "Local authority"])]
        frame = frame[
            ~frame["region_name"].isin(["Inner London", "Outer London"])
            | (frame["geographic_level"] == "Local authority")
        ]
        frame["key"] = frame["key"].where(
            frame["geographic_level"] != "Regional", frame["region_code"]
        )
        for key, year, value in frame[["key", "time_period", "population_estimate"]].itertuples(
            index=False
        ):
            table.put(key, int(year), "population_0_17", published(value))
        for year in sorted({int(y) for y in frame["time_period"]}):
            table.source(
                "population_0_17", year, data_dir, file,
                f"population_estimate of the rows '{frame[measure_column].iloc[0]}'",
                publisher="DfE", release=CLA_RELEASE,
            )  # fmt: skip


def add_foster_care(table: Table, data_dir: Path) -> None:
    """Children in foster placements at 31 March 2019 (DfE 2019 underlying data, CLA_Fost)."""
    frame = pd.read_csv(data_dir / CLA_2019_FILE, dtype=str, keep_default_na=False)
    frame = frame[frame["geog_l"].isin(["NATIONAL", "REGION", "LA"])]
    for level, code, value in frame[["geog_l", "New_geog_code", "CLA_Fost"]].itertuples(
        index=False
    ):
        if level == "REGION" and not code.startswith("E12"):
            continue  # Inner and Outer London
        table.put(code, 2019, "children_in_foster_care", published(value))
    table.source(
        "children_in_foster_care", 2019, data_dir, CLA_2019_FILE, "column CLA_Fost",
        publisher="DfE", release=f"{CLA_RELEASE}: 2018 to 2019",
    )  # fmt: skip


def add_staying_put(table: Table, data_dir: Path) -> None:
    """Staying Put at 18: eligible care leavers and those living with former foster carers."""
    frame = pd.read_csv(data_dir / CARE_LEAVERS_2018_FILE, dtype=str, keep_default_na=False)
    for level, name, code, eligible, stayed in frame[
        ["geog_l", "geog_n", "New_geog_code", "CL_Stayput_18", "CL_Stayput_FFC_18"]
    ].itertuples(index=False):
        if level == "REGION" and name.strip().upper() in ("INNER LONDON", "OUTER LONDON"):
            continue  # coded as London in this file
        table.put(code, 2018, "staying_put_eligible", published(eligible))
        table.put(code, 2018, "staying_put_stayed", published(stayed))
    for measure, column in (
        ("staying_put_eligible", "CL_Stayput_18"),
        ("staying_put_stayed", "CL_Stayput_FFC_18"),
    ):
        table.source(
            measure, 2018, data_dir, CARE_LEAVERS_2018_FILE, f"column {column}",
            publisher="DfE", release=f"{CLA_RELEASE}: 2017 to 2018",
        )  # fmt: skip
    for file in STAYPUT_FILES:
        frame = read_ees(data_dir / file)
        frame["key"] = area_key(frame)
        frame["key"] = frame["key"].where(
            frame["geographic_level"] != "Regional", frame["region_code"]
        )
        frame = frame[
            frame["geographic_level"].isin(["National", "Regional", "Local authority"])
            & (frame["age"] == "Aged 18")
            & frame["key"].str.match(r"^E(92|12|06|07|08|09|10)")
        ]
        for key, year, kind, number in frame[
            ["key", "time_period", "stay_put", "number"]
        ].itertuples(index=False):
            measure = {SP_ELIGIBLE: "staying_put_eligible", SP_STAYED: "staying_put_stayed"}.get(
                kind
            )
            if measure:
                table.put(key, int(year), measure, published(number))
        for year in sorted({int(y) for y in frame["time_period"]}):
            for measure, kind in (
                ("staying_put_eligible", SP_ELIGIBLE),
                ("staying_put_stayed", SP_STAYED),
            ):
                table.source(
                    measure, year, data_dir, file,
                    f"age 'Aged 18', stay_put '{kind}', column number",
                    publisher="DfE", release=CLA_RELEASE,
                )  # fmt: skip


def neighbours(old_codes: dict[str, str]) -> list[Row]:
    """Each authority's ten statistical neighbours by ONS code, closest first."""
    frame = pd.read_csv(NEIGHBOURS_FILE, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = []
    for _, row in frame.iterrows():
        code = old_codes[row["old_la_code"]]
        for rank in range(1, 11):
            rows.append(
                {
                    "area": code,
                    "rank": str(rank),
                    "neighbour": old_codes[row[f"SN_{rank}"]],
                    "closeness": row[f"SN_{rank}P"].strip(),
                }
            )
    return rows


def areas(data_dir: Path) -> tuple[list[Row], dict[str, str]]:
    """England, the regions and the LAs (with their old DfE codes), and old code -> ONS code."""
    frame = read_ees(data_dir / POPULATION_FILES[-1])
    las = frame[frame["geographic_level"] == "Local authority"]
    old_codes = dict(zip(las["old_la_code"], las["new_la_code"], strict=True))
    regions = frame[frame["geographic_level"] == "Regional"][["region_code", "region_name"]]
    rows: list[Row] = [
        {"code": ENGLAND, "name": "England", "level": "england", "region": "", "old_code": ""}
    ]
    for code, name in sorted(set(regions.itertuples(index=False))):
        if code.startswith("E12"):
            rows.append(
                {"code": code, "name": name, "level": "region", "region": "", "old_code": ""}
            )
    by_code = {new: old for old, new in old_codes.items()}
    for la in load_authorities(data_dir)[1:]:
        rows.append(
            {
                "code": str(la["code"]),
                "name": str(la["name"]),
                "level": "la",
                "region": region_code(str(la["region"])) or "",
                "old_code": by_code.get(str(la["code"]), ""),
            }
        )
    return rows, old_codes


def write(path: Path, columns: Iterable[str], rows: Iterable[Row]) -> None:
    """Write rows as UTF-8 CSV with LF line ends."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build(data_dir: Path, output: Path = OUTPUT) -> list[str]:
    """Write the four files to `output`; return what was left out, for the log."""
    area_rows, old_codes = areas(data_dir)
    codes = {row["name"]: row["code"] for row in area_rows if row["level"] == "la"}
    known = {row["code"] for row in area_rows}
    table = Table()
    left_out = add_ofsted_2019(table, data_dir, codes) + add_ofsted_2018(table, data_dir, codes)
    add_population(table, data_dir)
    add_foster_care(table, data_dir)
    add_staying_put(table, data_dir)
    kept = {key: values for key, values in table.values.items() if key[0] in known}
    left_out += sorted(
        {f"{area} (no current code)" for area, _ in table.values if area not in known}
    )
    order = {row["code"]: i for i, row in enumerate(area_rows)}
    write(output / "areas.csv", ("code", "name", "level", "region", "old_code"), area_rows)
    write(
        output / "published.csv",
        ("area", "year", *MEASURES),
        (
            {"area": area, "year": str(year), **values}
            for (area, year), values in sorted(
                kept.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])
            )
        ),
    )
    write(
        output / "sources.csv",
        ("measure", "year", "publisher", "release", "file", "sha256", "item"),
        (
            table.sources[key]
            for key in sorted(table.sources, key=lambda k: (MEASURES.index(k[0]), k[1]))
        ),
    )
    write(
        output / "neighbours.csv", ("area", "rank", "neighbour", "closeness"), neighbours(old_codes)
    )
    return left_out


def main() -> None:
    """Parse the command line and build the files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="folder to write")
    args = parser.parse_args()
    left_out = build(args.data_dir, args.output)
    print(f"wrote {args.output}/areas.csv, published.csv, sources.csv, neighbours.csv")
    print("left out:", *left_out, sep="\n  ")


if __name__ == "__main__":
    main()
