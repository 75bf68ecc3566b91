"""Finding enquiries as the recruitment team asks for them: a search term matched against
name, email, phone or reference, and the orders a list can be sorted in."""

from __future__ import annotations

import enum
import re
from typing import Any

from sqlalchemy import Boolean, case, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from tracker.enquiries.stages import STAGE_ORDER
from tracker.enquiries.tables import Enquiry

# A phone number is compared by its digits alone: "01782 234 567" and "(01782) 234-567" match.
PHONE_PUNCTUATION = (" ", "-", "(", ")", "+", ".")
MIN_PHONE_DIGITS = 4
# A name is typed with a straight apostrophe or a curly one (U+2019, U+2018, U+02BC): a term with
# any of them matches each way of writing it.
APOSTROPHES = ("'", "\u2019", "\u2018", "\u02bc")
UK_PREFIXES = ("+44", "0044")


class EnquirySort(enum.StrEnum):
    """Orders of the enquiry list."""

    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"
    STAGE = "stage"
    REFERENCE = "reference"


def digits(text: str) -> str:
    """The digits of a phone number, in order."""
    return re.sub(r"\D", "", text)


def spellings(text: str) -> list[str]:
    """`text` with its apostrophes written each way (one way in all of them), itself first."""
    if not any(mark in text for mark in APOSTROPHES):
        return [text]
    plain = text
    for mark in APOSTROPHES[1:]:
        plain = plain.replace(mark, "'")
    return list(dict.fromkeys([text, *(plain.replace("'", mark) for mark in APOSTROPHES)]))


def phone_forms(term: str) -> list[str]:
    """The digits to look for in a stored phone number: a UK number is stored with +44 or
    with its 0, so a term written either way looks for both."""
    wanted = digits(term)
    written = term.strip().replace(" ", "")
    for prefix in UK_PREFIXES:
        if written.startswith(prefix):
            national = digits(written.removeprefix(prefix)).removeprefix("0")
            return ["0" + national, "44" + national]
    if wanted.startswith("0") and not wanted.startswith("00"):
        return [wanted, "44" + wanted[1:]]
    return [wanted]


def phone_digits(column: Any = None) -> Any:
    """SQL for the digits of the stored phone number (its punctuation removed)."""
    expression = col(Enquiry.phone) if column is None else column
    for mark in PHONE_PUNCTUATION:
        expression = func.replace(expression, mark, "")
    return expression


class ContainsAnyCase(FunctionElement[bool]):
    """`column` contains the lower-case `text` in any case, as `lower(column) LIKE '%text%'`.
    On SQLite it is `column LIKE '%text%'`: SQLite's LIKE ignores the case of ASCII letters
    as its lower() lowers them (and only them), so the matches are the same without a call
    to lower() on every row scanned. (PostgreSQL keeps lower(): its ILIKE is slower.)"""

    type = Boolean()
    inherit_cache = True
    name = "contains_any_case"

    def __init__(self, column: Any, text: str) -> None:
        escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
        super().__init__(column, f"%{escaped}%")


def _like(element: ContainsAnyCase, compiler: SQLCompiler, template: str, **kw: Any) -> str:
    column, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return "(" + template.format(column) + f" LIKE {pattern} ESCAPE '/')"


@compiles(ContainsAnyCase)
def _lower_like(element: ContainsAnyCase, compiler: SQLCompiler, **kw: Any) -> str:
    return _like(element, compiler, "lower({})", **kw)


@compiles(ContainsAnyCase, "sqlite")
def _sqlite_like(element: ContainsAnyCase, compiler: SQLCompiler, **kw: Any) -> str:
    return _like(element, compiler, "{}", **kw)


def search_condition(term: str) -> Any:
    """Enquiries whose name, email or reference contains `term` (any case, its apostrophes
    written any way), whose phone holds its digits (when it has at least four; +44 or 0 at
    the start either way), or whose id it is."""
    text = term.strip().lower()
    matches = [
        ContainsAnyCase(col(column), spelling)
        for spelling in spellings(text)
        for column in (Enquiry.enquirer_name, Enquiry.email, Enquiry.external_ref)
    ]
    if len(digits(text)) >= MIN_PHONE_DIGITS:
        matches += [
            phone_digits().contains(wanted, autoescape=True) for wanted in phone_forms(text)
        ]
    if text.isdigit() and len(text) <= 12:
        matches.append(col(Enquiry.id) == int(text))
    return or_(*matches)


def stage_rank() -> Any:
    """SQL for the funnel position of an enquiry's stage (0 for enquiry)."""
    return case({stage.value: stage.rank for stage in STAGE_ORDER}, value=col(Enquiry.stage))


def sort_order(sort: EnquirySort) -> list[Any]:
    """ORDER BY terms of a sort, each ending with the id so pages never overlap."""
    newest = [col(Enquiry.received_on).desc(), col(Enquiry.id).desc()]
    return {
        EnquirySort.NEWEST: newest,
        EnquirySort.OLDEST: [col(Enquiry.received_on), col(Enquiry.id)],
        EnquirySort.NAME: [
            col(Enquiry.enquirer_name).is_(None),
            func.lower(col(Enquiry.enquirer_name)),
            col(Enquiry.id),
        ],
        EnquirySort.STAGE: [stage_rank().desc(), *newest],
        EnquirySort.REFERENCE: [
            col(Enquiry.external_ref).is_(None),
            col(Enquiry.external_ref),
            col(Enquiry.id),
        ],
    }[sort]
