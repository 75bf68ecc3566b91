"""The text patterns inputs are checked against, each with the plain words an error uses.

msgspec reports a failed pattern by quoting its regular expression; `plain_words` turns that
back into what a person can act on ("an email address such as name@example.org").
"""

from __future__ import annotations

import re

# The one-line patterns end "(?!\n)$": Python's "$" also matches before a final line break
# (msgspec searches with Python's re), so "ST4\n" would pass "^...$"; the lookahead closes
# that and reads the same in the JSON Schema (ECMA) dialect, where "$" is the end alone.
NO_NUL = r"^[^\x00]*$"
"""Any text without the NUL character (PostgreSQL text cannot hold it, so no backend takes it).
Multi-line text (notes) keeps its line breaks."""
CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
"""Characters a one-line text never holds: C0 (tab, CR, LF ...), DEL, C1, and the Unicode
line and paragraph separators."""
BLANKS = (
    r" \xa0\u00ad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u2000-\u200f"
    r"\u202a-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0"
)
"""Characters that show nothing: spaces of every width and the zero-width and format
characters (zero-width space, joiners, direction marks, the byte-order mark ...)."""
ONE_LINE = rf"^[{BLANKS}]*[^{BLANKS}{CONTROLS}][^{CONTROLS}]*(?!\n)$"
"""Text on one line (a name, a campaign, a reference): no control character, and something
to see (a value of spaces or zero-width characters only is blank)."""
EMAIL = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+(?!\n)$"
PHONE = r"^\+?\(?[0-9][0-9 ()-]{5,}(?!\n)$"
"""A phone number: an optional "+", an optional opening bracket ("(01782) 234567"), a digit,
then at least five more digits, spaces, brackets or dashes."""
POSTCODE_DISTRICT = r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]?(?!\n)$"
AUTHORITY_CODE = r"^[EWSN][0-9]{8}(?!\n)$"
HOUSEHOLD_REFERENCE = r"^[A-Za-z0-9/_.-]+(?!\n)$"
CHILD_REFERENCE = r"^[A-Za-z0-9-]+(?!\n)$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"

WORDS: dict[str, str] = {
    NO_NUL: "text without the NUL character",
    ONE_LINE: "text on one line, without tabs or other control characters, and not blank",
    EMAIL: "an email address such as name@example.org",
    PHONE: "a phone number of digits, spaces, brackets or dashes, such as 01782 234567",
    POSTCODE_DISTRICT: "the first half of a postcode, such as ST4",
    AUTHORITY_CODE: "a nine-character local authority code such as E06000021",
    HOUSEHOLD_REFERENCE: "letters, digits and / _ . - only",
    CHILD_REFERENCE: "a pseudonymous reference of letters, digits and dashes only",
    MONTH: "a month written YYYY-MM, such as 2026-03",
}

_CONTROL = re.compile(f"[{CONTROLS}]")
_BLANK = re.compile(rf"[\s{BLANKS}]*")
_NAMES = {"\t": "a tab", "\n": "a line break", "\r": "a carriage return"}

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


def is_blank(text: str) -> bool:
    """Whether the text shows nothing: only spaces, line breaks and zero-width characters
    (an empty cell or form field, as far as a one-line value goes)."""
    return _BLANK.fullmatch(text) is not None


def control_character(text: str) -> str | None:
    """The first character `ONE_LINE` refuses in the text, in words ("a tab", "the control
    character U+001B"), or None when there is none."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    char = found.group()
    return _NAMES.get(char, f"the control character U+{ord(char):04X}")
