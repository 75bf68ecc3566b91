"""The Ofsted return of an authority for a collection year: built from the funnel and the
register, checked, listed figure by figure, and written as CSV or Excel in the return's
order (every export audited)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import InvalidValueError, NotFoundError
from tracker.core.spreadsheets import FileFormat
from tracker.core.table_export import CellFormat, csv_bytes, xlsx_bytes
from tracker.ofsted.collections import Collection, load_collection
from tracker.ofsted.figures import Counted, YearFacts, compute, load_facts
from tracker.ofsted.schemas import (
    FigureRecords,
    OfstedReturn,
    ReturnFigure,
    ReturnSection,
)
from tracker.ofsted.validation import warnings_of

EXPORT_COLUMNS = ("section", "field", "label", "value")
EXPORT_FORMATS = (CellFormat.TEXT, CellFormat.TEXT, CellFormat.TEXT, None)


def _figures(
    session: Session, code: str, year: str, today: date
) -> tuple[Collection, YearFacts, dict[str, Counted]]:
    """The year's collection, facts and figures (refused before the year has begun)."""
    get_authority(session, code)
    collection = load_collection(year)
    if today < collection.period_start:
        raise InvalidValueError(
            f"the {year} collection year starts on {collection.period_start.isoformat()}",
            field="year",
        )
    facts = load_facts(session, code, collection, min(collection.period_end, today))
    return collection, facts, compute(facts)


def ofsted_return(session: Session, code: str, year: str, today: date) -> OfstedReturn:
    """The return for a year ("2025-26"): figures by section in the return's order, and the
    warnings to look at before submitting. A year under way is built to today."""
    collection, facts, figures = _figures(session, code, year, today)
    authority = get_authority(session, code)
    sections = []
    for section in collection.sections:
        specs = [f for f in collection.produced() if f.section == section.key]
        sections.append(
            ReturnSection(
                key=section.key,
                title=section.title,
                level=section.level,
                required=section.required,
                note=section.note,
                figures=[
                    ReturnFigure(
                        key=spec.key,
                        label=spec.label,
                        value=figures[spec.key][0],
                        unit=spec.unit,
                        required=spec.required,
                        definition=spec.definition,
                        records=None if spec.unit != "count" else len(figures[spec.key][1] or []),
                    )
                    for spec in specs
                ],
            )
        )
    return OfstedReturn(
        authority_code=code,
        authority_name=authority.name,
        year=collection.year,
        title=collection.title,
        period_start=collection.period_start,
        period_end=collection.period_end,
        built_on=today,
        complete=today > collection.period_end,
        sections=sections,
        warnings=warnings_of(facts, figures),
        sources=collection.sources,
    )


def figure_records(session: Session, code: str, year: str, key: str, today: date) -> FigureRecords:
    """The records one figure of the return counts (NotFoundError naming `field` for a key
    the year's return does not have)."""
    collection, _, figures = _figures(session, code, year, today)
    spec = next((f for f in collection.produced() if f.key == key), None)
    if spec is None:
        raise NotFoundError(f"the {year} return has no figure {key!r}", field="field")
    value, records = figures[key]
    return FigureRecords(
        authority_code=code,
        year=year,
        key=key,
        label=spec.label,
        value=value,
        records=records or [],
    )


def return_rows(built: OfstedReturn) -> list[list[Any]]:
    """The return as rows of (section, field, label, value), in the return's order; a part
    Ofsted collects one carer at a time is one row saying so."""
    rows: list[list[Any]] = [
        ["About this return", "authority_code", built.authority_name, built.authority_code],
        ["About this return", "year", built.title, built.year],
        ["About this return", "built_on", "Built from the service's records on", built.built_on],
    ]
    for section in built.sections:
        if section.level == "carer":
            rows.append([section.title, "", section.note, None])
        rows += [[section.title, f.key, f.label, f.value] for f in section.figures]
    return rows


def export_return(
    session: Session,
    caller: Caller,
    code: str,
    year: str,
    today: date,
    file_format: FileFormat,
) -> bytes:
    """The return as CSV or an Excel workbook (one sheet, the return's order); audited."""
    built = ofsted_return(session, code, year, today)
    rows = return_rows(built)
    audit.record(
        session,
        caller,
        "export",
        "ofsted_return",
        year,
        authority_code=code,
        detail={"format": file_format.value, "complete": built.complete},
    )
    session.flush()
    if file_format is FileFormat.XLSX:
        return xlsx_bytes(
            EXPORT_COLUMNS, rows, sheet_name=f"Ofsted return {year}", formats=EXPORT_FORMATS
        )
    return csv_bytes(EXPORT_COLUMNS, rows, formats=EXPORT_FORMATS)
