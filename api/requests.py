"""JSON request bodies: read only when sent as JSON, and never nested deeper than can be read.

Litestar decodes a handler's `data` from any body whatever its Content-Type; here a body
that is not declared JSON (`application/json` or `application/*+json`) is refused with 415,
and one nested so deep that the decoder gives up (hundreds of thousands of brackets fit in
a small body) is a 400 naming the body rather than a 500. Uploads (CSV, xlsx, multipart) and
the dashboard's forms are read as bytes or forms and never pass through here.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE


def is_json(content_type: str) -> bool:
    """True for application/json and structured-syntax JSON types (application/*+json)."""
    media = content_type.partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


class JsonCheckedRequest(Request[Any, Any, Any]):
    """The application's request: its JSON body checked as the module says."""

    async def json(self) -> Any:
        """The decoded JSON body."""
        if not is_json(self.headers.get("content-type", "")):
            raise HTTPException(
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail="send the body as JSON, with Content-Type: application/json",
                extra={"field": "body"},
            )
        try:
            return await super().json()
        except RecursionError as exc:
            raise ClientException(
                "the request body is nested too deeply to read", extra={"field": "body"}
            ) from exc
