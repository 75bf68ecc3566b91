"""Ofsted routes: each year's collection as data, an authority's return (figures, warnings,
the records behind each figure, and the file to submit from), and its benchmarks against the
published Ofsted and DfE figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import Parameter
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE, WRITING
from api.downloads import CSV_MEDIA, XLSX_MEDIA, download
from tracker.benchmarks import compare
from tracker.benchmarks.compare import Benchmarks
from tracker.children.mapping import load_mapping
from tracker.core.access import Caller
from tracker.core.settings import Settings
from tracker.core.spreadsheets import FileFormat
from tracker.ofsted import service
from tracker.ofsted.collections import Collection, collection_years, load_collection
from tracker.ofsted.schemas import FigureRecords, OfstedReturn

READ = {"access": "ofsted.read"}
DEFINITIONS = {"access": "ofsted_collections.read"}

CollectionYear = Annotated[
    str,
    Parameter(pattern=r"^\d{4}-\d{2}$", description="a collection year ending 31 March: 2025-26"),
]
FieldKey = Annotated[
    str, Parameter(pattern=r"^[a-z0-9_]{1,60}$", description="a figure's key: initial_enquiries")
]


class OfstedCollectionController(Controller):
    """What Ofsted collects each year: fields, codes, definitions and their sources."""

    path = "/api/v1/ofsted-collections"
    tags = ["ofsted"]

    @get("/", opt=DEFINITIONS, sync_to_thread=False, summary="Collection years shipped")
    def years(self) -> list[Collection]:
        """Every collection year this service can build a return for, oldest first."""
        return [load_collection(year) for year in collection_years()]

    @get("/{year:str}", opt=DEFINITIONS, sync_to_thread=False, summary="One year's collection")
    def collection(self, year: CollectionYear) -> Collection:
        """The year's sections and fields in the return's order, each field's definition and
        sources, and how the register's codes map to the return's."""
        return load_collection(year)


class OfstedReturnController(Controller):
    """An authority's Ofsted return: for its managers (each figure lists its records)."""

    path = "/api/v1/authorities/{code:str}/ofsted-returns"
    tags = ["ofsted"]
    dependencies = IN_SCOPE

    @get("/{year:str}", opt=READ, sync_to_thread=True, summary="The return for a year")
    def report(
        self, authority: str, session: Session, today: date, year: CollectionYear
    ) -> OfstedReturn:
        """Figures by section in the return's order, built from the funnel and the register,
        and the warnings to check before submitting (a year under way is built to today)."""
        return service.ofsted_return(session, authority, year, today)

    @get(
        "/{year:str}/figures/{field:str}/records",
        opt=READ,
        sync_to_thread=True,
        summary="The records a figure counts",
    )
    def records(
        self,
        authority: str,
        session: Session,
        today: date,
        year: CollectionYear,
        field: FieldKey,
    ) -> FigureRecords:
        """Each enquiry or household a figure counts, by id and reference, with the date and
        code that made it count (no personal data)."""
        return service.figure_records(session, authority, year, field, today)

    @get(
        "/{year:str}/export",
        opt=READ,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="The return as CSV or xlsx",
        **download("The return in its order, as CSV or xlsx (`format`)", CSV_MEDIA, XLSX_MEDIA),
    )
    def export(
        self,
        authority: str,
        caller: Caller,
        session: Session,
        today: date,
        year: CollectionYear,
        format: FileFormat = FileFormat.CSV,
    ) -> Response[bytes]:
        """One row a figure (section, field, label, value), in the return's order; audited."""
        content = service.export_return(session, caller, authority, year, today, format)
        session.commit()
        media = XLSX_MEDIA if format is FileFormat.XLSX else CSV_MEDIA
        filename = f"ofsted-return-{authority}-{year}.{format.value}"
        return Response(
            content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


class BenchmarkController(Controller):
    """How an authority compares with England, its region and its statistical neighbours."""

    path = "/api/v1/authorities/{code:str}/benchmarks"
    tags = ["benchmarks"]
    dependencies = IN_SCOPE

    @get("/", opt={"access": "benchmarks.read"}, sync_to_thread=True, summary="Benchmarks")
    def benchmarks(
        self,
        authority: str,
        session: Session,
        today: date,
        settings: Settings,
        year: CollectionYear | None = None,
    ) -> Benchmarks:
        """Conversion rates, approvals, deregistrations and net change per 10,000 children,
        occupancy, in-house share of foster care and Staying Put: the authority's own (from
        its records, in `year`, default the latest ended) beside the latest published Ofsted
        and DfE figures up to that year for itself, England, its region and its statistical
        neighbours, suppressed counts as published. Aggregates only."""
        mapping = load_mapping(settings.placement_mapping)
        return compare.benchmarks(
            session, authority, year or compare.latest_ended_year(today), today, mapping
        )
