"""Reading one spreadsheet cell into a typed value: the parsers every import shares. Each
takes the cell's trimmed text and returns its value, or raises ValueError saying what is wrong
(the import turns it into an error naming the row and column)."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from tracker.core.errors import ImportRejectedError, RowError

Parser = Callable[[str], Any]


def code_of(kind: type[enum.StrEnum]) -> Parser:
    """A code of `kind`, however spaced or cased ("Long term" reads as long_term)."""
    allowed = {m.value for m in kind}

    def parse(value: str) -> Any:
        code = value.strip().lower().replace(" ", "_").replace("-", "_")
        if code not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return kind(code)

    return parse


def codes_of(kind: type[enum.StrEnum]) -> Callable[[str], list[Any]]:
    """Several codes of `kind` separated by ";" or ",", each once, sorted."""
    parse = code_of(kind)

    def parse_all(value: str) -> list[Any]:
        return sorted({parse(part) for part in re.split(r"[;,]", value) if part.strip()})

    return parse_all


def bounded(max_length: int) -> Parser:
    """Any text of at most `max_length` characters."""

    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        return value

    return parse


def matching(regex: str, what: str, max_length: int) -> Parser:
    """Text matching `regex` (named `what` in the message), at most `max_length` characters."""
    compiled = re.compile(regex)

    def parse(value: str) -> str:
        if len(value) > max_length or not compiled.match(value):
            raise ValueError(f"{value!r} is not a valid {what}")
        return value

    return parse


def conforming(kind: Any, what: str) -> Callable[[Any], Any]:
    """A value meeting one of the domain's constrained types (`Annotated` with msgspec.Meta)."""

    def parse(value: Any) -> Any:
        try:
            return msgspec.convert(value, kind)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{value!r} is not a valid {what}: {exc}") from None

    return parse


def whole(kind: Any, what: str) -> Callable[[str], int]:
    """A whole number meeting a constrained type (an xlsx number cell may read as "2.0")."""
    check = conforming(kind, what)

    def parse(value: str) -> int:
        if not re.fullmatch(r"[0-9]+(\.0*)?", value):
            raise ValueError(f"{value!r} is not a whole number")
        return int(check(int(float(value))))

    return parse


def check_header(
    header: Iterable[str | None], known: Iterable[str], required: Iterable[str]
) -> None:
    """ImportRejectedError (row 1) for each unknown column and each required one missing."""
    columns = [h for h in header if h is not None]
    allowed = set(known)
    errors = [
        RowError(1, column, f"unknown column {column!r}")
        for column in columns
        if column not in allowed
    ]
    errors += [
        RowError(1, column, f"required column {column!r} is missing")
        for column in required
        if column not in columns
    ]
    if errors:
        raise ImportRejectedError(errors)
