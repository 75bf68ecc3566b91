"""The Ofsted return pages: a year's return in the return's order with the checks to make
before submitting (each figure links to the records it counts), and one figure's records.
The return's table downloads as the same CSV and Excel file the API and CLI give."""

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
from api.dashboard.tables import Tile, display, label, long_date, table
from tracker.core.access import Caller
from tracker.core.table_export import CellFormat
from tracker.ofsted.collections import collection_years, default_year, load_collection
from tracker.ofsted.schemas import OfstedReturn, RecordRef
from tracker.ofsted.service import (
    EXPORT_COLUMNS,
    EXPORT_FORMATS,
    figure_records,
    ofsted_return,
    return_rows,
)
from tracker.ofsted.validation import CHECK_TITLES

C = CellFormat
RETURN_PATH = "/dashboard/ofsted-return"
Year = Annotated[
    str | None,
    Parameter(pattern=r"^\d{4}-\d{2}$", description="the collection year: 2025-26"),
]
PathYear = Annotated[
    str, Parameter(pattern=r"^\d{4}-\d{2}$", description="the collection year: 2025-26")
]
FieldKey = Annotated[str, Parameter(pattern=r"^[a-z0-9_]{1,60}$", description="a figure's key")]
RECORD_COLUMNS = [
    ("kind", "Record", C.TEXT),
    ("id", "Id", C.TEXT),
    ("reference", "Reference", C.TEXT),
    ("on", "Date", C.DATE),
    ("detail", "Why it counts", C.TEXT),
]


def year_chooser(selected: str) -> Chooser:
    """The collection years shipped, newest first."""
    options = []
    for year in reversed(collection_years()):
        collection = load_collection(year)
        span = f"{long_date(collection.period_start)} to {long_date(collection.period_end)}"
        options.append(Choice(year, f"{year} ({span})"))
    return Chooser(name="year", label="Collection year", options=options, selected=selected)


def _record_rows(records: list[RecordRef]) -> list[list[Any]]:
    return [[r.kind, str(r.id), r.reference, r.on, r.detail] for r in records]


def _return_table(scope: Scope, built: OfstedReturn) -> Any:
    """The return in its order; each count links to the records it counts."""
    counts = {f.key for s in built.sections for f in s.figures if f.records is not None and f.value}
    rows = return_rows(built)
    links = [
        scope.link(f"{RETURN_PATH}/{built.year}/records", field=row[1])
        if row[1] in counts
        else None
        for row in rows
    ]
    headings = ("Section", "Field", "Figure", "Value")
    return table(
        "return",
        f"{built.title}: {built.authority_name}",
        [
            (k, h, f or C.TEXT)
            for k, h, f in zip(EXPORT_COLUMNS, headings, EXPORT_FORMATS, strict=True)
        ],
        rows,
        row_links=links,
        link_column=3,
        note="Select a value to see the records it counts. The downloads are the return in "
        "this order, one row a figure, ready to copy into Ofsted's portal.",
    )


def _check_title(rule: str) -> str:
    """A check's name in words, never its rule's code."""
    return CHECK_TITLES.get(rule) or label(rule)


def build(session: Session, scope: Scope, today: date, year: str) -> Page:
    """The return page of the authority in scope for a collection year."""
    code = scope.authority_code
    assert code is not None
    built = ofsted_return(session, code, year, today)
    figures = {f.key: f.value for s in built.sections for f in s.figures}
    names = {f.key: f.label for s in built.sections for f in s.figures}
    warnings = built.warnings
    tiles = [
        Tile(
            label="Checks to look at",
            value=display(len(warnings)),
            detail="before submitting" if warnings else "none: every check passed",
            tone="warning" if warnings else "good",
            href="#checks",
        ),
        Tile(label="Initial enquiries", value=display(figures.get("initial_enquiries"))),
        Tile(label="Applications approved", value=display(figures.get("applications_approved"))),
        Tile(
            label="Approved households at 31 March",
            value=display(figures.get("approved_households")),
        ),
    ]
    checks = table(
        "checks",
        "Checks before submitting",
        [
            ("rule", "Check", C.TEXT),
            ("message", "What to look at", C.TEXT),
            ("figures", "Figures", C.TEXT),
        ],
        [
            [
                _check_title(w.rule),
                w.message,
                "; ".join(
                    f"{names.get(k) or label(k)}: {display(v)}" for k, v in w.figures.items()
                ),
            ]
            for w in warnings
        ],
        empty="Every check passed.",
    )
    check_records = [
        table(
            f"check-{w.rule}",
            f"Records to look at: {_check_title(w.rule)}"
            + (f" (the first {len(w.records)}; {w.more_records} more)" if w.more_records else ""),
            RECORD_COLUMNS,
            _record_rows(w.records),
            collapsed=True,
        )
        for w in warnings
    ]
    notes = [
        f"{section.title}: {section.note}" for section in built.sections if section.level == "carer"
    ]
    intro = (
        f"{scope.where}: {built.title}, {long_date(built.period_start)} to "
        f"{long_date(built.period_end)}, built from the funnel and the household register on "
        f"{long_date(today)}."
    )
    return Page(
        key="ofsted",
        title="Ofsted return",
        intro=intro,
        tiles=tiles,
        chooser=year_chooser(year),
        notes=[] if built.complete else [f"The year has not ended: figures to {long_date(today)}."],
        sections=[
            Section(
                title="Checks before submitting", anchor="checks", tables=[checks, *check_records]
            ),
            Section(
                title="The return",
                anchor="return",
                tables=[_return_table(scope, built)],
                notes=[
                    *notes,
                    "Where each rule comes from: "
                    + "; ".join(
                        f"{s.title}" + (f" ({s.seen})" if s.seen else "") for s in built.sources
                    ),
                ],
            ),
        ],
    )


def build_records(session: Session, scope: Scope, today: date, year: str, key: str) -> Page:
    """The records one figure of the return counts."""
    code = scope.authority_code
    assert code is not None
    found = figure_records(session, code, year, key, today)
    collection = load_collection(year)
    spec = next(f for f in collection.fields if f.key == key)
    counts = [f for f in collection.produced() if f.unit == "count"]
    return Page(
        key="ofsted",
        title=found.label,
        intro=f"{scope.where}, Ofsted return {year}: {display(found.value)}. {spec.definition}",
        chooser=Chooser(
            name="field",
            label="Figure",
            options=[Choice(f.key, f.label) for f in counts],
            selected=key,
        ),
        sections=[
            Section(
                title="The records this figure counts",
                anchor="records",
                tables=[
                    table(
                        "records",
                        f"{len(found.records)} record(s)",
                        RECORD_COLUMNS,
                        _record_rows(found.records),
                        empty="This figure counts no record.",
                    )
                ],
                notes=[
                    "Enquiries and households are listed by id and reference only; open them "
                    "in the enquiry list or the household register to correct them."
                ],
            )
        ],
    )


class OfstedPages(Controller):
    """The Ofsted return pages (managers and admins)."""

    include_in_schema = False

    @get("/ofsted-return", opt={"access": "dashboard.ofsted"}, sync_to_thread=True)
    def ofsted_return(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        authority: AuthorityCode = None,
        year: Year = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """A year's return (the latest ended year unless chosen)."""
        chosen = year or default_year(today)
        return serve_authority_page(
            request, session, caller, authority, today, download, table, chosen,
            lambda scope: build(session, scope, today, chosen),
        )  # fmt: skip

    @get(
        "/ofsted-return/{year:str}/records",
        opt={"access": "dashboard.ofsted"},
        sync_to_thread=True,
    )
    def records(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        year: PathYear,
        field: FieldKey,
        authority: AuthorityCode = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """The records one figure of a year's return counts."""
        return serve_authority_page(
            request, session, caller, authority, today, download, table, field,
            lambda scope: build_records(session, scope, today, year, field),
        )  # fmt: skip
