"""The published Ofsted and DfE figures shipped with the package, as published.

``areas.csv`` (England, regions, local authorities), ``published.csv`` (one row per area and
year ending 31 March, each cell as published: DfE's ``c``, ``x``, ``z``, ``k`` and Ofsted's
``..`` kept, an empty cell where no source gives the figure), ``sources.csv`` (for each
measure and year: publisher, release, file, its SHA-256, and the row, column or filter read)
and ``neighbours.csv`` (DfE's ten statistical neighbours of each authority, closest first).
All four are written by ``scripts/build_benchmarks.py``. Crown copyright, Open Government
Licence v3.0.
"""

from __future__ import annotations

import csv
import functools
from importlib import resources

import msgspec

ENGLAND = "E92000001"
# Ofsted's figures: regions and authorities count council fostering services only, England
# every service (independent agencies too), so an England comparison sums the regions.
OFSTED_MEASURES: tuple[str, ...] = (
    "enquiries",
    "applications",
    "applications_approved",
    "households_approved_in_year",
    "households_deregistered",
    "households",
    "approved_places",
    "filled_places",
    "vacant_places",
    "unavailable_places",
)
# DfE's: the population the rates are per 10,000 of, foster care, and Staying Put at 18.
DFE_MEASURES: tuple[str, ...] = (
    "population_0_17",
    "children_in_foster_care",
    "staying_put_eligible",
    "staying_put_stayed",
)


class Area(msgspec.Struct, frozen=True, kw_only=True):
    """England, a region or a local authority."""

    code: str
    name: str
    level: str
    region: str
    old_code: str


class Neighbour(msgspec.Struct, frozen=True, kw_only=True):
    """One of an authority's statistical neighbours."""

    rank: int
    code: str
    closeness: str


class SourceRow(msgspec.Struct, frozen=True, kw_only=True):
    """Where a measure of a year was read from."""

    measure: str
    year: int
    publisher: str
    release: str
    file: str
    sha256: str
    item: str


class Published(msgspec.Struct, frozen=True, kw_only=True):
    """Every shipped figure."""

    areas: dict[str, Area]
    cells: dict[tuple[str, int], dict[str, str]]
    sources: list[SourceRow]
    neighbours: dict[str, list[Neighbour]]

    def cell(self, area: str, year: int, measure: str) -> str | None:
        """A figure as published ("25", "c", ".."), None when no source gives it."""
        return self.cells.get((area, year), {}).get(measure) or None

    def years(self, measure: str) -> list[int]:
        """The years a measure is published for, oldest first."""
        return sorted({s.year for s in self.sources if s.measure == measure})

    def regions(self) -> list[str]:
        """The nine regions' codes."""
        return [a.code for a in self.areas.values() if a.level == "region"]


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def load_published() -> Published:
    """The shipped figures (read once)."""
    areas = {row["code"]: msgspec.convert(row, Area) for row in _rows("areas.csv")}
    cells: dict[tuple[str, int], dict[str, str]] = {}
    for row in _rows("published.csv"):
        area, year = row.pop("area"), int(row.pop("year"))
        cells[area, year] = {k: v for k, v in row.items() if v}
    neighbours: dict[str, list[Neighbour]] = {}
    for row in _rows("neighbours.csv"):
        neighbours.setdefault(row["area"], []).append(
            Neighbour(rank=int(row["rank"]), code=row["neighbour"], closeness=row["closeness"])
        )
    sources = [msgspec.convert(row, SourceRow, strict=False) for row in _rows("sources.csv")]
    return Published(areas=areas, cells=cells, sources=sources, neighbours=neighbours)


def as_number(raw: str | None) -> float | None:
    """A published figure as a number, None when it is suppressed, missing or not applicable."""
    try:
        return float(raw) if raw else None
    except ValueError:
        return None
