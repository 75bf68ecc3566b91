"""Regional routes: a region's capacity (JSON or CSV, cheap to poll) and loading returns.

Who sees what: regional tokens and admins see every authority of the region and the
roll-up. A manager asking for their own region sees their own authority only and no
roll-up (the roll-up would show the sum of councils they may not read one by one); any
other region is 403 to them, as it is to a regional token of another region.

Caching: the ETag is a hash of the exact body sent, so it is right whatever changed;
`Last-Modified` is the latest recorded change in the region (and, when `as_at` defaults
to today, no earlier than today's start) and is only consulted when no `If-None-Match`
was sent.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, date, datetime, time
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from sqlalchemy.orm import Session

from api.access import may_reach_authority
from api.deps import WRITING
from api.downloads import download_operation
from api.params import as_at_day
from api.request_limits import EXPENSIVE
from api.uploads import UPLOAD
from tracker.capacity import regional, returns
from tracker.capacity.regional import RegionalCapacity
from tracker.capacity.returns import LoadReport
from tracker.core.access import Caller, Role
from tracker.core.revisions import revisions_of
from tracker.enquiries.timeliness import LONDON

READ = {"access": "regional.read"}
LOAD = {"access": "regional.load"}
LOAD_LIMIT = 5_000_000
JSON_MEDIA = "application/json"
CSV_MEDIA = "text/csv"  # Litestar adds "; charset=utf-8" to text types


class ViewFormat(enum.StrEnum):
    """How the regional view is sent."""

    JSON = "json"
    CSV = "csv"


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/ prefixes are ignored."""
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _not_modified_since(header: str, modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return modified.replace(microsecond=0) <= since


def _last_modified(
    session: Session, region: str, as_at: date | None, today: date
) -> datetime | None:
    """The region's latest change; a view of "today" is new at least since today began."""
    latest = regional.last_modified(session, region)
    if as_at is None:
        day_start = datetime.combine(today, time(0), tzinfo=LONDON).astimezone(UTC)
        latest = max(latest, day_start) if latest else day_start
    return latest


class RegionalController(Controller):
    """A region's capacity, per authority and care type, and its roll-up."""

    path = "/api/v1/regions"
    tags = ["regional"]

    @get(
        "/{region:str}/capacity",
        opt={**READ, EXPENSIVE: True},
        sync_to_thread=True,
        summary="A region's capacity as at a date (JSON or CSV)",
        responses={
            200: ResponseSpec(
                data_container=RegionalCapacity,
                description="The regional view (format=csv: the same rows as a CSV return)",
            ),
            304: ResponseSpec(data_container=None, description="Not modified since last polled"),
        },
        operation_class=download_operation(JSON_MEDIA, CSV_MEDIA),
    )
    def capacity(
        self,
        request: Request,
        region: Annotated[
            str,
            Parameter(description="the region's name (West Midlands) or ONS code (E12000005)"),
        ],
        caller: Caller,
        session: Session,
        today: date,
        state: State,
        as_at: date | None = None,
        format: ViewFormat = ViewFormat.JSON,
    ) -> Response[bytes]:
        """Per authority and care type: households, approved, filled, vacant and unavailable
        places, occupancy, children in care and capacity as a share of demand; from the
        council's register when it keeps one, else its latest return. Send the ETag back as
        If-None-Match to get 304 while nothing changed."""
        authorities = regional.region_authorities(session, region)
        reachable = [
            a.code
            for a in authorities
            if may_reach_authority(caller, a.code, a.region, READ["access"])
        ]
        if not reachable:
            raise PermissionDeniedException(f"this token may not read region {region!r}")
        whole = len(reachable) == len(authorities)
        day = as_at_day(as_at, today)
        only = None if whole else tuple(sorted(reachable))
        # The councils' revisions before the view (see ViewCache); the view's Last-Modified
        # is kept with it, read before it too.
        codes = tuple(sorted(a.code for a in authorities))  # (a council may change region)
        changes = revisions_of(session, codes)

        def compute() -> tuple[datetime | None, RegionalCapacity]:
            modified = _last_modified(session, region, as_at, today)
            return modified, regional.regional_capacity(session, region, day, only=only)

        key = ("region", region.strip().lower(), day, as_at is None, only, codes, changes)
        modified, view = state.capacity_views.get_or_compute(key, compute)
        if caller.role is Role.REGIONAL:
            view = regional.withhold_small_children(view)
        if format is ViewFormat.CSV:
            body, media = regional.to_csv(view), CSV_MEDIA
        else:
            body, media = msgspec.json.encode(view), JSON_MEDIA
        headers = {
            "ETag": _etag(body),
            "Cache-Control": "private, no-cache",
            "Vary": "Authorization",
        }
        if format is ViewFormat.CSV:
            slug = view.region.lower().replace(" ", "-")
            filename = f"capacity-{slug}-{view.as_at.isoformat()}.csv"
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        if modified is not None:
            # Never later than now (RFC 9110 8.8.2.1): records stamped ahead of the clock,
            # as the demo's working-hours times of today are, say now.
            modified = min(modified, datetime.now(UTC))
            headers["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
        if_none_match = request.headers.get("if-none-match")
        if_modified_since = request.headers.get("if-modified-since")
        if if_none_match is not None:
            fresh = _etag_matches(if_none_match, headers["ETag"])
        else:
            fresh = (
                if_modified_since is not None
                and modified is not None
                and _not_modified_since(if_modified_since, modified)
            )
        if fresh:
            headers.pop("Content-Disposition", None)
            return Response(b"", status_code=304, headers=headers)
        return Response(body, media_type=media, headers=headers)


class CapacityReturnController(Controller):
    """Aggregate returns from other councils, so a hub serves its whole region."""

    path = "/api/v1/capacity-returns"
    tags = ["regional"]

    @post(
        "/",
        opt={**LOAD, EXPENSIVE: True},
        dependencies={**WRITING, **UPLOAD},
        sync_to_thread=True,
        status_code=200,
        request_max_body_size=LOAD_LIMIT,
        summary="Load councils' capacity returns (CSV body, the regional export's shape)",
    )
    def load(
        self, content: bytes, caller: Caller, session: Session, today: date, state: State
    ) -> LoadReport:
        """Send the CSV as the request body (or as the one file of a multipart form).
        All-or-nothing: errors name the row and field. Loading a council's return for a date
        replaces the one stored for that date, so the same file twice changes nothing."""
        report = returns.load_returns(session, caller, content, today)
        session.commit()
        state.regions.invalidate()
        return report
