"""Optimistic concurrency over HTTP: a record's version as its ETag, and If-Match read back;
and the answer to a create (201 with Location)."""

from __future__ import annotations

import re
from typing import Any, Protocol, TypeVar

from litestar import Request, Response
from litestar.exceptions import ClientException

IF_MATCH = re.compile(r'^\s*(W/)?"?(\d+)"?\s*$')


class Versioned(Protocol):
    """A record that carries the version it was read at."""

    @property
    def version(self) -> int: ...


RecordT = TypeVar("RecordT", bound=Versioned)


def etag(record: Versioned) -> str:
    """The entity tag of a record's current version."""
    return f'"{record.version}"'


def with_etag(record: RecordT, status_code: int = 200) -> Response[RecordT]:
    """Answer with the record and its ETag."""
    return Response(record, status_code=status_code, headers={"ETag": etag(record)})


def created(record: Any, location: str, *, versioned: bool = True) -> Response[Any]:
    """201 Created with the new resource's Location (and its ETag when it has a version)."""
    headers = {"Location": location}
    if versioned:
        headers["ETag"] = etag(record)
    return Response(record, status_code=201, headers=headers)


def expected_version(request: Request, required: bool) -> int | None:
    """The version named by If-Match; 428 when a required one is missing, 400 for a tag
    this API never gives, 412 for a weak one (If-Match compares strongly, so it never
    matches)."""
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise ClientException(
                "If-Match is required: send the ETag of the record you edited",
                status_code=428,
            )
        return None
    match = IF_MATCH.match(header)
    if match is None:
        raise ClientException(f"If-Match {header!r} is not an ETag of this API", status_code=400)
    if match.group(1):  # RFC 9110 13.1.1
        raise ClientException(
            f"If-Match {header!r} is a weak tag, which never matches: send the ETag as given",
            status_code=412,
            extra={"field": "If-Match"},
        )
    return int(match.group(2))
