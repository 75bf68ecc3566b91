"""Parameter types the routes share: ids and paging within what the database can hold."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

MAX_ID = 2**31 - 1
MAX_PAGE = 500

RecordId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="a record id")]
Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="page size (at most 500)")]
Offset = Annotated[int, Parameter(ge=0, le=MAX_ID, description="rows to skip")]
