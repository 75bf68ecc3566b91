"""Build ``tracker/reference/authorities.csv`` from the official Ofsted and DfE CSVs.

Reads the unmodified copies described in ``shared/data/README.md`` and writes one row per
English local authority (the 155 LAs of the DfE 2025 release) plus one row for England
(E92000001).

* Ofsted *Fostering in England 2018-19*, LA-level sheet (wide, cp1252): measures are selected
  by row position and checked against their labels. Ofsted has no ONS codes, so its column
  names are joined to DfE names, with ``OFSTED_NAME_MAP`` for the spellings that differ.
  The England column covers ALL fostering services (LA and IFA); LA columns cover only the
  LA's own service.
* DfE EES 2025 release (2021-2025): children looked after at 31 March and children starting
  to be looked after, for the latest year in which each LA existed.
* DfE 2019 underlying data: ``CLA_Fost`` (children in foster placements at 31 March 2019).
* DfE EES 2024 release (2020-2024): Staying Put at age 18, latest year in which each LA
  existed.

Suppressed or missing values (``..``, ``c``, ``x``, ``z``, ``k``, blanks) are written as empty
cells, never as 0. Crown copyright, Open Government Licence v3.0.

Usage: ``python scripts/build_reference.py [DATA_DIR]`` (default ``../shared/data`` relative
to the repository root).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
OUTPUT = REPO_ROOT / "tracker" / "reference" / "authorities.csv"

OFSTED_FILE = "ofsted_Local_authority_level_fostering_data_2018_to_2019.csv"
CLA_EES_FILE = "dfe_cla_number_and_rate_per_10k_children_2021-2025.csv"
CLA_2019_FILE = "dfe_CLA2019.csv"
STAYPUT_FILE = "dfe_la_care_leavers_stayput_2020-2024.csv"

ENGLAND_CODE = "E92000001"
OFSTED_YEAR = 2019

# Ofsted measure -> (0-based csv.reader row index, start of the expected label in column 2).
OFSTED_ROWS: dict[str, tuple[int, str]] = {
    "enquiries": (98, "Number of initial enquiries from new prospective fostering"),
    "applications": (100, "Total number of applications received"),
    "applications_approved": (101, "Number of applications approved"),
    "applications_withdrawn_by_applicant": (102, "Number of applications withdrawn by applicants"),
    "applications_withdrawn_by_service": (103, "Number of applications withdrawn by services"),
    "applications_rejected_at_panel": (104, "Number of applications rejected after being"),
    "applications_in_progress": (105, "Number of applications which remained in progress"),
    "households": (71, "Total approved households"),
    "approved_places": (93, "Number of approved foster places"),
    "filled_places": (94, "Number of filled places"),
    "vacant_places": (95, "Number of vacant places"),
    "unavailable_places": (96, "Number of places not available"),
    "households_approved_in_year": (107, "Total number of households approved in year"),
    "households_deregistered": (115, "Total households deregistered"),
}

# Ofsted column name -> DfE (EES 2025) LA name, where the two spellings differ. Both sources
# spell "St. Helens" with a dot here; "St Helens" occurs only in the 2017-18 Ofsted file.
OFSTED_NAME_MAP: dict[str, str] = {
    "Durham": "County Durham",
    "Kingston Upon Hull": "Kingston upon Hull, City of",
    "Herefordshire": "Herefordshire, County of",
    "Bedford Borough": "Bedford",
    "Richmond Upon Thames": "Richmond upon Thames",
    "Bristol": "Bristol, City of",
}

# Ofsted columns that are not single LAs. The Tri-borough column (Hammersmith and Fulham,
# Kensington and Chelsea, Westminster) cannot be split; those LAs' own columns are "..".
OFSTED_AGGREGATES: frozenset[str] = frozenset(
    {
        "England",
        "North East",
        "North West",
        "Yorkshire and The Humber",
        "East Midlands",
        "West Midlands",
        "East of England",
        "London",
        "Inner London",
        "Outer London",
        "London Tri-borough",
        "South East",
        "South West",
    }
)

# Ofsted 2018-19 LAs abolished on 1 April 2019 with a boundary change, so their figures
# describe a different area from any current code (Bournemouth and Poole merged with
# Christchurch into BCP; the new Dorset unitary lost Christchurch). Deliberately not joined.
OFSTED_BOUNDARY_CHANGED: frozenset[str] = frozenset({"Bournemouth", "Poole", "Dorset"})

# Old ONS code -> current code, for councils recoded with an unchanged area.
RECODED: dict[str, str] = {
    "E10000002": "E06000060",  # Buckinghamshire, 2020
    "E10000023": "E06000065",  # North Yorkshire, 2023
    "E10000027": "E06000066",  # Somerset, 2023
}

# Every missing/suppression marker used by Ofsted or DfE; anything else non-numeric is an error.
MISSING_MARKERS: frozenset[str] = frozenset({"", "..", ".", "c", "x", "z", "k", "-"})

CLA_MEASURE = "Children looked after on 31 March each year"
STARTERS_MEASURE = "Children starting to be looked after each year"
SP_ELIGIBLE = (
    "Young people who ceased to be looked after in a foster placement on their 18th birthday "
    "and were eligible for care leavers support"
)
SP_STAYED = "Total living with former foster carers in the current year"

COLUMNS: list[str] = [
    "code",
    "name",
    "region",
    "ofsted_year",
    *OFSTED_ROWS,
    "cla_year",
    "children_in_care",
    "starters",
    "children_in_foster_care_2019",
    "staying_put_year",
    "staying_put_eligible",
    "staying_put_stayed",
]

Row = dict[str, str | int | None]


def parse_count(raw: str | None) -> int | None:
    """Return a published count as an int, or None if it is missing or suppressed.

    Thousands separators are removed. Raises ValueError on an unknown marker.
    """
    text = (raw or "").strip().replace(",", "")
    if text.isdigit():
        return int(text)
    if text in MISSING_MARKERS:
        return None
    raise ValueError(f"unexpected value {raw!r}")


def read_ees(path: Path) -> pd.DataFrame:
    """Read an explore-education-statistics CSV as strings (BOM-safe, no NaN conversion)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def area_key(frame: pd.DataFrame) -> pd.Series:
    """Return the ONS code of each EES row: the LA code, or E92000001 for national rows."""
    national = frame["geographic_level"] == "National"
    return frame["new_la_code"].where(~national, frame["country_code"])


def load_authorities(data_dir: Path) -> list[Row]:
    """Return England plus the LAs of the 2025 CLA release, with code, name and region."""
    frame = read_ees(data_dir / CLA_EES_FILE)
    las = frame.loc[
        frame["geographic_level"] == "Local authority", ["new_la_code", "la_name", "region_name"]
    ].drop_duplicates()
    if las["new_la_code"].duplicated().any():
        raise ValueError("an LA code has more than one name or region")
    rows: list[Row] = [{"code": ENGLAND_CODE, "name": "England", "region": None}]
    for code, name, region in las.itertuples(index=False):
        # EES splits London into Inner/Outer London sub-regions; the DfE region is London.
        if region in ("Inner London", "Outer London"):
            region = "London"
        rows.append({"code": code, "name": name, "region": region})
    return rows


def latest_existing(frame: pd.DataFrame, value: str) -> dict[str, int]:
    """Map each area code to the latest year whose ``value`` cell is not ``z`` (not applicable).

    A suppressed (``c``) latest year is still chosen, so every LA reports the same year unless
    it was created or abolished; the count is then left empty.
    """
    existing = frame[frame[value] != "z"]
    years = existing.groupby("key")["time_period"].max()
    return {code: int(year) for code, year in years.items()}


def add_cla(rows: list[Row], data_dir: Path) -> None:
    """Add ``cla_year``, ``children_in_care`` and ``starters`` from the 2021-2025 release."""
    frame = read_ees(data_dir / CLA_EES_FILE)
    frame["key"] = area_key(frame)
    frame = frame[frame["geographic_level"].isin(["National", "Local authority"])]
    cla = frame[frame["population_type"] == CLA_MEASURE]
    years = latest_existing(cla, "children_count")
    counts = {
        (key, int(year), measure): count
        for key, year, measure, count in frame[
            ["key", "time_period", "population_type", "children_count"]
        ].itertuples(index=False)
    }
    for row in rows:
        year = years.get(str(row["code"]))
        row["cla_year"] = year
        row["children_in_care"] = parse_count(counts.get((row["code"], year, CLA_MEASURE)))
        row["starters"] = parse_count(counts.get((row["code"], year, STARTERS_MEASURE)))


def add_foster_care_2019(rows: list[Row], data_dir: Path) -> list[str]:
    """Add ``children_in_foster_care_2019`` (``CLA_Fost``); return the 2019 areas not placed."""
    frame = pd.read_csv(data_dir / CLA_2019_FILE, dtype=str, keep_default_na=False)
    frame = frame[frame["geog_l"].isin(["NATIONAL", "LA"])]
    fostered = {
        RECODED.get(code, code): (name, fost)
        for code, name, fost in frame[["New_geog_code", "geog_n", "CLA_Fost"]].itertuples(
            index=False
        )
    }
    for row in rows:
        _, fost = fostered.pop(str(row["code"]), ("", None))
        row["children_in_foster_care_2019"] = parse_count(fost)
    return [f"{name} ({code})" for code, (name, _) in fostered.items()]


def add_staying_put(rows: list[Row], data_dir: Path) -> None:
    """Add Staying Put at 18 (eligible and stayed) for each area's latest existing year."""
    frame = read_ees(data_dir / STAYPUT_FILE)
    frame["key"] = area_key(frame)
    frame = frame[
        frame["geographic_level"].isin(["National", "Local authority"])
        & (frame["age"] == "Aged 18")
    ]
    years = latest_existing(frame[frame["stay_put"] == SP_ELIGIBLE], "number")
    counts = {
        (key, int(year), measure): number
        for key, year, measure, number in frame[
            ["key", "time_period", "stay_put", "number"]
        ].itertuples(index=False)
    }
    for row in rows:
        year = years.get(str(row["code"]))
        row["staying_put_year"] = year
        row["staying_put_eligible"] = parse_count(counts.get((row["code"], year, SP_ELIGIBLE)))
        row["staying_put_stayed"] = parse_count(counts.get((row["code"], year, SP_STAYED)))


def read_ofsted(path: Path) -> dict[str, dict[str, int | None]]:
    """Return Ofsted 2018-19 figures keyed by column header (LAs, regions and England)."""
    with path.open(encoding="cp1252", newline="") as handle:
        lines = list(csv.reader(handle))
    for field, (index, label) in OFSTED_ROWS.items():
        if not lines[index][2].strip().startswith(label):
            raise ValueError(f"{field}: row {index} is {lines[index][2]!r}, expected {label!r}")
    figures: dict[str, dict[str, int | None]] = {}
    for column, header in enumerate(lines[0]):
        header = header.strip()
        if column < 3 or not header:
            continue
        figures[header] = {
            field: parse_count(lines[index][column]) for field, (index, _) in OFSTED_ROWS.items()
        }
    return figures


def add_ofsted(rows: list[Row], data_dir: Path) -> list[str]:
    """Add the Ofsted 2018-19 fields; return the Ofsted LA columns left unmatched."""
    figures = read_ofsted(data_dir / OFSTED_FILE)
    by_name = {str(row["name"]): row for row in rows}
    unmatched: list[str] = []
    for header, values in figures.items():
        if header in OFSTED_AGGREGATES and header != "England":
            if header == "London Tri-borough":
                unmatched.append(f"{header} (aggregate of three LAs; cannot be split)")
            continue
        if header in OFSTED_BOUNDARY_CHANGED:
            unmatched.append(f"{header} (abolished 1 April 2019 with a boundary change)")
            continue
        row = by_name.get(OFSTED_NAME_MAP.get(header, header))
        if row is None:
            unmatched.append(f"{header} (no DfE name)")
            continue
        row["ofsted_year"] = OFSTED_YEAR
        row.update(values)
    return unmatched


def write_csv(rows: Iterable[Row], path: Path) -> None:
    """Write rows with ``COLUMNS`` as header; None becomes an empty cell."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column) for column in COLUMNS})


def build(data_dir: Path, output: Path = OUTPUT) -> list[Row]:
    """Build the reference rows from ``data_dir``, write them to ``output`` and report gaps."""
    rows = load_authorities(data_dir)
    for row in rows:
        row["ofsted_year"] = None
        row.update(dict.fromkeys(OFSTED_ROWS))
    unmatched = add_ofsted(rows, data_dir)
    add_cla(rows, data_dir)
    unplaced = add_foster_care_2019(rows, data_dir)
    add_staying_put(rows, data_dir)
    write_csv(rows, output)

    print(f"wrote {len(rows) - 1} LAs + England to {output}")
    print("Ofsted columns not joined:", *unmatched, sep="\n  ")
    print("CLA2019 areas with no current code:", *unplaced, sep="\n  ")
    no_ofsted = [str(row["name"]) for row in rows if row["ofsted_year"] is None]
    print("LAs with no Ofsted 2018-19 column:", *no_ofsted, sep="\n  ")
    return rows


def main() -> None:
    """Parse the command line and build the reference CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "data_dir",
        nargs="?",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="directory holding the shared CSVs (default: ../shared/data from the repo root)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="CSV to write")
    args = parser.parse_args()
    build(args.data_dir, args.output)


if __name__ == "__main__":
    main()
