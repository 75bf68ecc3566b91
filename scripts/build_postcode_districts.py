"""Build `tracker/hubs/data/postcode_districts.csv` (postcode district -> local authority
codes, England) from the ONS Postcode Directory (ONSPD) or National Statistics Postcode
Lookup (NSPL), published by ONS under the Open Government Licence v3.0.

Usage:
    python scripts/build_postcode_districts.py ONSPD_FEB_2025_UK.zip --version "ONSPD February 2025"

The file given is the ONS download (zip) or its main CSV. Live postcodes only (no
termination date); a district's row per local authority counts its postcodes there, so a
district spanning councils has several rows. The README beside the data is rewritten with
the source, version, licence and counts.
"""

from __future__ import annotations

import argparse
import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tracker" / "hubs" / "data"
# The local authority column has been renamed with each boundary year (oslaua, lad23cd...).
LA_COLUMNS = ("lad25cd", "lad24cd", "lad23cd", "laua", "oslaua")
ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right. "
    "Contains Royal Mail data © Royal Mail copyright and database right."
)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if path.suffix.lower() != ".zip":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield from csv.DictReader(handle)
        return
    with zipfile.ZipFile(path) as archive:
        names = [
            n for n in archive.namelist() if n.lower().endswith(".csv") and "/data/" in n.lower()
        ]
        main = max(names, key=lambda n: archive.getinfo(n).file_size)
        with archive.open(main) as raw:
            yield from csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))


def district_counts(path: Path) -> Counter[tuple[str, str]]:
    """Live English postcodes per (district, local authority code)."""
    counts: Counter[tuple[str, str]] = Counter()
    column = None
    for row in _rows(path):
        if column is None:
            column = next((c for c in LA_COLUMNS if c in row), None)
            if column is None:
                raise SystemExit(f"no local authority column ({', '.join(LA_COLUMNS)}) in {path}")
        if row.get("doterm") or not row.get(column, "").startswith("E"):
            continue
        postcode = (row.get("pcds") or "").strip().upper()
        if " " not in postcode:
            continue
        counts[(postcode.split(" ")[0], row[column])] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="ONSPD or NSPL zip, or its CSV")
    parser.add_argument("--version", required=True, help='e.g. "ONSPD February 2025"')
    args = parser.parse_args()
    counts = district_counts(args.source)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "postcode_districts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["district", "authority_code", "postcodes"])
        for (district, code), n in sorted(counts.items()):
            writer.writerow([district, code, n])
    districts = {d for d, _ in counts}
    spanning = sum(1 for d in districts if sum(1 for dd, _ in counts if dd == d) > 1)
    (OUT / "README.md").write_text(
        "# Postcode districts to local authorities (England)\n\n"
        f"- Source: {args.version}, file `{args.source.name}`, built by"
        " `scripts/build_postcode_districts.py`.\n"
        "- Licence: Open Government Licence v3.0.\n"
        f"- {ATTRIBUTION}\n"
        f"- {len(districts)} districts, {spanning} spanning more than one council"
        " (one row per council, with its count of live postcodes).\n",
        encoding="utf-8",
    )
    print(f"{len(districts)} districts, {spanning} spanning councils, from {args.source}")


if __name__ == "__main__":
    main()
