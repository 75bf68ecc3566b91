"""The benchmarking page: the council's conversion rates, approvals and deregistrations per
10,000 children, net change, occupancy, in-house share of foster care and Staying Put beside
England, its region and its statistical neighbours, from the published Ofsted and DfE
figures (suppressed counts shown as published), with where each figure comes from."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import Parameter
from sqlalchemy.orm import Session

from api.dashboard.layout import Choice, Chooser, Page, Section
from api.dashboard.pages import AuthorityCode, DownloadFormat, TableName
from api.dashboard.scope import Scope
from api.dashboard.serving import serve_authority_page
from api.dashboard.tables import Table, table
from tracker.benchmarks.compare import (
    Benchmarks,
    Comparator,
    Comparison,
    benchmarks,
    latest_ended_year,
)
from tracker.benchmarks.measures import Figure
from tracker.children.mapping import Mapping, load_mapping
from tracker.core.access import Caller
from tracker.core.settings import Settings
from tracker.core.table_export import CellFormat

C = CellFormat
YEARS_OFFERED = 10
Year = Annotated[
    str | None,
    Parameter(pattern=r"^\d{4}-\d{2}$", description="the year ending 31 March: 2025-26"),
]


def _label(year: int | None) -> str:
    return "" if year is None else f"{year - 1}-{str(year)[-2:]}"


def _cell(figure: Figure | None) -> Any:
    """The value, or the marker as published ("c") where there is none."""
    if figure is None:
        return None
    return figure.value if figure.value is not None else figure.marker


def _of(comparator: Comparator | None) -> Any:
    return _cell(comparator.figure) if comparator else None


def _published_year(year: int | None, service_year: str) -> str:
    """The published figures' year, saying so when it is not the service's."""
    label = _label(year)
    return f"{label} (not {service_year})" if label and label != service_year else label


def _rows(built: Benchmarks, unit: str) -> list[list[Any]]:
    return [
        [
            c.label,
            _cell(c.council),
            _published_year(c.published_year, built.year),
            _of(c.council_published),
            _of(c.england),
            _of(c.region),
            _cell(c.neighbours_median),
            c.neighbours_median.parts["neighbours_with_a_figure"] if c.neighbours_median else None,
        ]
        for c in built.comparisons
        if c.unit == unit
    ]


def _comparison_table(
    name: str, title: str, built: Benchmarks, unit: str, kind: CellFormat
) -> Table:
    first = next(c for c in built.comparisons if c.unit == unit)
    region = first.region.name if first.region else "Region"
    years = sorted(
        {_label(c.published_year) for c in built.comparisons if c.unit == unit} - {"", built.year}
    )
    apart = (
        f"Not the same year: the service's figures are for {built.year}; the published "
        f"figures beside them are for {' or '.join(years)}, as each row's year of the "
        "published figures says. Read those rows as a rough guide, not like for like. "
        if years
        else ""
    )
    if years:
        title += f": the service in {built.year}, published figures of {' and '.join(years)}"
    return table(
        name,
        title,
        [
            ("benchmark", "Benchmark", C.TEXT),
            ("council", f"{built.authority_name} {built.year} (the service)", kind),
            ("published_year", "Year of the published figures", C.TEXT),
            ("council_published", f"{built.authority_name} (published)", kind),
            ("england", "England (council services)", kind),
            ("region", region, kind),
            ("neighbours_median", "Statistical neighbours (median)", kind),
            ("neighbours_with_a_figure", "Neighbours with a figure", C.TEXT),
        ],
        _rows(built, unit),
        note=apart
        + " ".join(f"{c.label}: {c.definition}" for c in built.comparisons if c.unit == unit),
    )


def _neighbours_table(built: Benchmarks) -> Table:
    comparisons: list[Comparison] = [c for c in built.comparisons if c.neighbours]
    if not comparisons:
        return table("neighbours", "Statistical neighbours", [("name", "Neighbour", C.TEXT)], [])
    columns = [("neighbour", "Neighbour", C.TEXT), ("closeness", "Closeness", C.TEXT)] + [
        (
            c.key,
            f"{c.label} ({_label(c.published_year)})",
            C.SHARE if c.unit == "share" else C.DECIMAL,
        )
        for c in comparisons
    ]
    rows = [
        [first.name, first.closeness, *(_cell(c.neighbours[i].figure) for c in comparisons)]
        for i, first in enumerate(comparisons[0].neighbours)
    ]
    return table(
        "neighbours",
        "Each statistical neighbour (DfE's ten closest, closest first)",
        columns,
        rows,
        note=f"Published figures, for the year in each heading (not the service's {built.year}). "
        "c: suppressed by DfE (a small count, or one that would reveal it); ..: no figure "
        "from Ofsted; not published: no source gives it for that year.",
    )


def build(session: Session, scope: Scope, today: date, year: str, mapping: Mapping) -> Page:
    """The benchmarking page of the authority in scope."""
    code = scope.authority_code
    assert code is not None
    built = benchmarks(session, code, year, today, mapping)
    latest = int(latest_ended_year(today)[:4])
    options = [
        Choice(f"{y}-{str(y + 1)[-2:]}", f"{y}-{str(y + 1)[-2:]}")
        for y in range(latest, latest - YEARS_OFFERED, -1)
    ]
    sources = table(
        "sources",
        "Where the published figures come from",
        [
            ("measure", "Measure", C.TEXT),
            ("year", "Year ending 31 March", C.TEXT),
            ("publisher", "Publisher", C.TEXT),
            ("release", "Release", C.TEXT),
            ("file", "File", C.TEXT),
            ("item", "Row, column or filter", C.TEXT),
        ],
        [[s.measure, str(s.year), s.publisher, s.release, s.file, s.item] for s in built.sources],
        collapsed=True,
    )
    return Page(
        key="benchmarks",
        title="How we compare",
        intro=f"{scope.where} in {year}, from the service's records, beside the latest "
        "published Ofsted and DfE figures up to that year.",
        chooser=Chooser(name="year", label="Year (April to March)", options=options, selected=year),
        notes=built.notes,
        sections=[
            Section(
                title="Conversion, occupancy and shares",
                anchor="shares",
                tables=[_comparison_table("shares", "Shares", built, "share", C.SHARE)],
            ),
            Section(
                title="Per 10,000 children",
                anchor="rates",
                tables=[
                    _comparison_table("rates", "Per 10,000 children", built, "per_10k", C.DECIMAL)
                ],
            ),
            Section(
                title="Statistical neighbours",
                anchor="neighbours",
                tables=[_neighbours_table(built)],
            ),
            Section(title="Sources", anchor="sources", tables=[sources]),
        ],
    )


class BenchmarkPages(Controller):
    """The benchmarking page (managers and admins)."""

    include_in_schema = False

    @get("/benchmarks", opt={"access": "dashboard.benchmarks"}, sync_to_thread=True)
    def benchmarks(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        authority: AuthorityCode = None,
        year: Year = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """A year's benchmarks (the latest ended year unless chosen)."""
        chosen = year or latest_ended_year(today)
        mapping = load_mapping(settings.placement_mapping)
        return serve_authority_page(
            request, session, caller, authority, today, download, table, chosen,
            lambda scope: build(session, scope, today, chosen, mapping),
        )  # fmt: skip
