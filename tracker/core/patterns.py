"""The text patterns inputs are checked against, each with the plain words an error uses.

msgspec reports a failed pattern by quoting its regular expression; `plain_words` turns that
back into what a person can act on ("an email address such as name@example.org").
"""

from __future__ import annotations

import re

NO_NUL = r"^[^\x00]*$"
"""Any text without the NUL character (PostgreSQL text cannot hold it, so no backend takes it)."""
EMAIL = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"
PHONE = r"^\+?[0-9][0-9 ()-]{5,}$"
POSTCODE_DISTRICT = r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]?$"
AUTHORITY_CODE = r"^[EWSN][0-9]{8}$"
HOUSEHOLD_REFERENCE = r"^[A-Za-z0-9/_.-]+$"
CHILD_REFERENCE = r"^[A-Za-z0-9-]+$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"

WORDS: dict[str, str] = {
    NO_NUL: "text without the NUL character",
    EMAIL: "an email address such as name@example.org",
    PHONE: "a phone number of digits, spaces, brackets or dashes, such as 01782 234567",
    POSTCODE_DISTRICT: "the first half of a postcode, such as ST4",
    AUTHORITY_CODE: "a nine-character local authority code such as E06000021",
    HOUSEHOLD_REFERENCE: "letters, digits and / _ . - only",
    CHILD_REFERENCE: "a pseudonymous reference of letters, digits and dashes only",
    MONTH: "a month written YYYY-MM, such as 2026-03",
}

_REGEX_MESSAGE = re.compile(r"Expected `str` matching regex (.*)$", re.DOTALL)
_BY_REPR = {repr(pattern): words for pattern, words in WORDS.items()}
"""msgspec quotes a pattern as Python's repr of it."""


def plain_words(message: str) -> str:
    """msgspec's message for a failed pattern in plain words; any other message unchanged."""
    head, sep, tail = message.partition(" - at ")
    found = _REGEX_MESSAGE.match(head)
    if found is None or found.group(1) not in _BY_REPR:
        return message
    return f"must be {_BY_REPR[found.group(1)]}" + (f" - at {tail}" if sep else "")
