"""The server's access log without what a query string may hold about a person.

Search boxes put what was typed (a name, an email address, a phone number) into the query
string of a GET, and uvicorn's access log writes the whole request line, so every search
would leave personal data in log files that erasure cannot reach. The log keeps the method,
the path and the parameters' names, and drops every value: `?search=*&stage=*` (a name that
is not a plain identifier, which only a made-up request would send, is dropped too). Paths
hold no personal data (ids and codes only).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

REDACTED = "*"
"""What stands in the log for a query parameter's value (or a name that is no identifier)."""
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,39}")


def redact_query(path: str) -> str:
    """`path` with each query value replaced by REDACTED (names kept, in order)."""
    base, mark, query = path.partition("?")
    if not mark:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return f"{base}?{REDACTED}" if query else f"{base}?"
    names = [name if _NAME.fullmatch(name) else REDACTED for name, _ in pairs]
    return base + "?" + "&".join(f"{name}={REDACTED}" for name in names)


class RedactQuery(logging.Filter):
    """A filter for uvicorn's access logger: its records carry (client, method, path,
    http version, status) as args; the path loses its query values."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_query(args[2]), args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up with RedactQuery on the access log's handler (a dict, so
    every server process, one per worker, builds the filter itself)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": f"{__name__}.RedactQuery"}
    config["handlers"]["access"]["filters"] = ["redact_query"]
    return config
