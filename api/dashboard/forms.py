"""Reading the dashboard's forms: the submitted fields, GOV.UK date inputs (day, month and
year boxes), checks field by field against the same msgspec structs the JSON API takes, and
the errors shown next to each field and in the error summary (GOV.UK's pattern).

Forms are parsed by Litestar (`FormData`: a URL-encoded body into a dict) and every POST
carries the session's CSRF token (`api.dashboard.security`), checked before anything else.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import Body

from api.dashboard.security import check_signed_in_form
from api.dashboard.tables import long_date
from tracker.core.errors import DomainError
from tracker.core.patterns import is_blank

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
S = TypeVar("S", bound=msgspec.Struct)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class FormErrors:
    """Problems found in a form, in the order of its fields: field name to message."""

    def __init__(self) -> None:
        self._messages: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self._messages)

    def __contains__(self, field: str) -> bool:
        return field in self._messages

    def add(self, field: str, message: str) -> None:
        """Keep the first problem of each field."""
        self._messages.setdefault(field, message)

    def move(self, field: str, to: str) -> None:
        """Show a field's problem on another input (a kind's own copy of the field)."""
        if field in self._messages:
            self._messages[to] = self._messages.pop(field)

    def message(self, field: str) -> dict[str, str] | None:
        """The field's `errorMessage` option for a GOV.UK component (None: no error)."""
        found = self._messages.get(field)
        return {"text": found} if found else None

    def summary(self, anchors: dict[str, str] | None = None) -> list[dict[str, str]]:
        """The error summary's list: each message linking to its field (`anchors` names the
        element of fields whose first input has another id, such as a date's day box)."""
        anchors = anchors or {}
        return [
            {"text": text, "href": "#" + anchors.get(field, field)}
            for field, text in self._messages.items()
        ]

    def items(self) -> list[tuple[str, str]]:
        """(field, message) pairs."""
        return list(self._messages.items())


class Form:
    """A submitted form: its values and the problems found while reading them."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data: dict[str, Any] = data or {}
        self.errors = FormErrors()

    def text(self, name: str) -> str | None:
        """A text field, trimmed; None when empty, blank (spaces or zero-width characters
        only) or absent."""
        value = self.data.get(name)
        if isinstance(value, list):
            value = value[-1]
        value = (value or "").strip()
        return None if is_blank(value) else value

    def values(self, name: str) -> list[str]:
        """Every value of a repeated field (checkboxes), blanks left out."""
        value = self.data.get(name)
        found = value if isinstance(value, list) else [value]
        return [v.strip() for v in found if isinstance(v, str) and v.strip()]

    def date(self, name: str, label: str, *, required: bool = False) -> date | None:
        """A GOV.UK date input (`name-day`, `name-month`, `name-year`); the month may also be
        a name ("March", "mar"). An incomplete or impossible date is an error naming it."""
        parts = [self.text(f"{name}-{p}") for p in ("day", "month", "year")]
        if not any(parts):
            if required:
                self.errors.add(name, f"Enter the {label}")
            return None
        day, month, year = parts
        missing = [p for p, v in zip(("day", "month", "year"), parts, strict=True) if not v]
        if missing:
            self.errors.add(name, f"The {label} must include a {' and '.join(missing)}")
            return None
        assert day and month and year
        month_number = _month(month)
        try:
            if not (day.isdigit() and year.isdigit() and len(year) == 4 and month_number):
                raise ValueError
            return date(int(year), month_number, int(day))
        except (ValueError, OverflowError):  # a day of 2147483648 overflows the C int
            self.errors.add(name, f"The {label} must be a real date, like 27 3 2026")
            return None

    def date_parts(self, name: str, value: date | None) -> dict[str, str]:
        """What a date input shows: the submitted boxes, or `value` when nothing was sent."""
        sent = {p: self.text(f"{name}-{p}") for p in ("day", "month", "year")}
        if any(sent.values()):
            return {p: v or "" for p, v in sent.items()}
        if value is None:
            return {"day": "", "month": "", "year": ""}
        return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}

    def number(self, name: str, label: str) -> float | None:
        """A number field ("1,250" and "62%" read as 1250 and 62); an error when not a number."""
        raw = self.text(name)
        if raw is None:
            return None
        try:
            number = float(raw.replace(",", "").removesuffix("%").strip())
            if not math.isfinite(number):  # "1e309", "inf" and "nan" read as floats
                raise ValueError
            return number
        except ValueError:
            self.errors.add(name, f"The {label} must be a number, like 62 or 12.5")
            return None

    def check(self, struct: type[S], values: dict[str, Any], messages: dict[str, str]) -> S | None:
        """`values` as `struct`, checked one field at a time so every problem is found: each
        field that fails gets its message from `messages` (or a plain one)."""
        for info in msgspec.structs.fields(struct):
            if info.name in self.errors:
                continue
            if info.name not in values:
                if info.required:
                    self.errors.add(info.name, messages.get(info.name, f"Enter {info.name}"))
                continue
            try:
                msgspec.convert(values[info.name], info.type, strict=False)
            except msgspec.ValidationError:
                self.errors.add(info.name, messages.get(info.name, f"Check {info.name}"))
        if self.errors:
            return None
        return msgspec.convert(values, struct, strict=False)

    def refused(self, error: DomainError, fallback: str) -> None:
        """A refusal of the domain shown on its field (or on `fallback`), in plain words."""
        self.errors.add(error.field or fallback, plain(error.message))


ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def plain(message: str) -> str:
    """A message of the domain's (written for the API) in the pages' words: its days as
    "3 Dec 2026", its codes ("initial_visit") as words, the first letter a capital."""

    def day(found: re.Match[str]) -> str:
        try:
            return long_date(date.fromisoformat(found.group(0)))
        except ValueError:
            return found.group(0)

    words = CODE.sub(lambda found: found.group(0).replace("_", " "), ISO_DAY.sub(day, message))
    return words[:1].upper() + words[1:]


def checked_form(request: Request[Any, Any, Any], data: dict[str, Any]) -> Form:
    """The submitted form, once its CSRF token has been checked (403 otherwise)."""
    token = data.get("csrf_token") if isinstance(data, dict) else None
    check_signed_in_form(request, token if isinstance(token, str) else None)
    return Form(data)


def _month(text: str) -> int | None:
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    prefix = text[:3].lower()
    return MONTHS.index(prefix) + 1 if prefix in MONTHS else None
