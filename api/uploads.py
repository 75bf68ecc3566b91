"""Spreadsheet uploads (enquiries, the household register, capacity returns): the file as the
request body, or as the one file part of a multipart/form-data form, as browsers, `curl -F`
and the SSDA903 upload send files."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.exceptions import ClientException

MULTIPART = "multipart/form-data"
# The largest file upload (the request body): an import's spreadsheet, or all the SSDA903
# files of one upload. Litestar refuses a larger announced body before reading it, and stops
# reading one that grows past it (413).
IMPORT_LIMIT = 20_000_000


async def uploaded_file(request: Request[Any, Any, Any]) -> bytes:
    """The uploaded file's bytes, from a multipart form's single file part or the body."""
    if not request.headers.get("content-type", "").lower().startswith(MULTIPART):
        return await request.body()
    parts = list((await request.form()).multi_items())
    files = [value for _, value in parts if isinstance(value, UploadFile)]
    if len(files) != 1 or len(parts) != 1:
        raise ClientException(
            "send one file, and nothing else, as the multipart/form-data form's only part",
            extra={"field": "file"},
        )
    return await files[0].read()


# Route dependencies: the upload as `content`.
UPLOAD = {"content": Provide(uploaded_file)}
