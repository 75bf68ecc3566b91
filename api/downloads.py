"""Routes that answer with a file (CSV, xlsx): the attachment itself, and how such routes
are described in the OpenAPI spec.

Litestar documents one media type per status; a download route offers several (chosen by
its `format` parameter). `download(...)` gives the handler keyword arguments that list each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from litestar import Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema

from tracker.core.spreadsheets import FileFormat

CSV_MEDIA = "text/csv"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class _DownloadOperation(Operation):
    """An operation whose success response is one of several file media types."""

    media_types: ClassVar[tuple[str, ...]] = ()
    status: ClassVar[str] = "200"

    def __post_init__(self) -> None:
        response = (self.responses or {}).get(self.status)
        if not isinstance(response, OpenAPIResponse):
            return
        content = dict(response.content or {})
        file = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
        response.content = {
            media: content.get(media, OpenAPIMediaType(schema=file)) for media in self.media_types
        }


def download_operation(*media_types: str, status: int = 200) -> type[Operation]:
    """An `operation_class` listing each media type for the status (an existing entry, such as
    the JSON variant's schema, is kept)."""
    return type(
        "DownloadOperation",
        (_DownloadOperation,),
        {"media_types": media_types, "status": str(status), "__module__": __name__},
    )


def download(description: str, *media_types: str) -> dict[str, Any]:
    """Handler keyword arguments documenting a file answered in any of `media_types`."""
    spec = ResponseSpec(
        data_container=bytes,
        media_type=media_types[0],
        description=description,
        generate_examples=False,
    )
    return {"responses": {200: spec}, "operation_class": download_operation(*media_types)}


def spreadsheet(content: bytes, file_format: FileFormat, name: str) -> Response[bytes]:
    """A CSV or xlsx file as an attachment named `name` plus the format's extension."""
    media = XLSX_MEDIA if file_format is FileFormat.XLSX else CSV_MEDIA
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{file_format.value}"'},
    )
