"""The Ofsted return as the API, the command line and the dashboard show it: figures in the
return's order, warnings with the figures involved, and the records behind each figure
(ids, references, dates and codes only: never a name, a contact or a child's reference)."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from tracker.ofsted.collections import Source

Value = int | float | None


class RecordRef(msgspec.Struct, frozen=True, kw_only=True):
    """An enquiry or a household a figure counts, and what about it counts."""

    kind: Literal["enquiry", "household"]
    id: int
    reference: str | None
    on: date | None
    detail: str


class ReturnFigure(msgspec.Struct, frozen=True, kw_only=True):
    """One figure of the return; `records` is how many records it lists (None for figures,
    like the median of days, that are not a count of them)."""

    key: str
    label: str
    value: Value
    unit: Literal["count", "days"]
    required: bool
    definition: str
    records: int | None


class ReturnSection(msgspec.Struct, frozen=True, kw_only=True):
    """A part of the return with its figures (none for a part collected one carer at a time)."""

    key: str
    title: str
    level: Literal["aggregate", "carer"]
    required: bool
    note: str
    figures: list[ReturnFigure]


class ReturnWarning(msgspec.Struct, frozen=True, kw_only=True):
    """Something to check before submitting, with the figures involved and (the first 50 of)
    the records concerned."""

    rule: str
    message: str
    figures: dict[str, Value]
    records: list[RecordRef]
    more_records: int = 0


class OfstedReturn(msgspec.Struct, frozen=True, kw_only=True):
    """A council's return for one collection year, built from what the service holds."""

    authority_code: str
    authority_name: str
    year: str
    title: str
    period_start: date
    period_end: date
    built_on: date
    complete: bool
    sections: list[ReturnSection]
    warnings: list[ReturnWarning]
    sources: list[Source]


class FigureRecords(msgspec.Struct, frozen=True, kw_only=True):
    """The records one figure counts, so a manager can check it before submission."""

    authority_code: str
    year: str
    key: str
    label: str
    value: Value
    records: list[RecordRef]
