"""Enquiry routes: log, list, follow through the funnel, edit, erase, import and export."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.concurrency import sync_to_thread
from sqlalchemy.orm import Session

from api import read_audit
from api.deps import IN_SCOPE, WRITER, WRITING
from api.disconnect import stop_on_disconnect
from api.downloads import CSV_MEDIA, download, spreadsheet
from api.etags import created, expected_version, with_etag
from api.housekeeping import forget_erased
from api.idempotency.middleware import IdempotencyKeyHeader, is_keyed, write_session
from api.params import MAX_PAGE, Limit, Offset, RecordId, SearchTerm, date_range
from api.request_limits import EXPENSIVE
from api.uploads import IMPORT_LIMIT, UPLOAD
from tracker.core.access import Caller
from tracker.core.db import Database
from tracker.core.spreadsheets import FileFormat
from tracker.enquiries import files as enquiry_files
from tracker.enquiries import queries, service
from tracker.enquiries.files import ImportReport
from tracker.enquiries.schemas import (
    Closure,
    EnquiryChanges,
    EnquiryFilter,
    EnquiryPage,
    EnquiryRecord,
    EventRecord,
    NewEnquiry,
    Overdue,
    Reopening,
    StageMove,
)
from tracker.enquiries.search import EnquirySort
from tracker.enquiries.stages import Stage, Status
from tracker.enquiries.timeliness import london_today
from tracker.enquiries.vocabulary import Channel

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

READ = {"access": "enquiries.read"}
WRITE = {"access": "enquiries.write"}


class EnquiryController(Controller):
    """The recruitment team's enquiries of one authority."""

    path = "/api/v1/authorities/{code:str}/enquiries"
    tags = ["enquiries"]
    dependencies = IN_SCOPE

    @post("/", opt=WRITE, summary="Log a new enquiry")
    async def create(
        self,
        request: Request[Caller, Any, Any],
        code: str,
        data: NewEnquiry,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[EnquiryRecord]:
        """Log an enquiry the day it arrives; it starts at the enquiry stage."""
        # The caller, the authority and today straight from the request, with no dependency
        # to resolve: they cost Litestar more than this whole handler's part. The access
        # guard has refused a caller out of the path's authority's scope (as IN_SCOPE would).
        pending = service.PendingEnquiry(request.user, code, data, london_today())
        state = request.app.state
        if is_keyed(request):  # its stored answer commits with it, in a session of its own
            record = await sync_to_thread(_create_keyed, request, state.database, pending)
        else:  # written with the enquiries other requests are logging at the same time
            record = await state.enquiry_writer.write(pending)
        return created(record, f"/api/v1/authorities/{code}/enquiries/{record.id}")

    @get("/", opt=READ, sync_to_thread=True, summary="List enquiries")
    def list(
        self,
        request: Request[Caller, Any, Any],
        authority: str,
        session: Session,
        today: date,
        stage: Stage | None = None,
        status: Status | None = None,
        channel: Channel | None = None,
        campaign: str | None = None,
        received_from: date | None = None,
        received_to: date | None = None,
        overdue: Overdue | None = None,
        search: SearchTerm = None,
        sort: EnquirySort = EnquirySort.NEWEST,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> EnquiryPage:
        """Enquiries filtered and sorted (newest first unless `sort` says otherwise); `search`
        matches name, email, reference or id, and a phone number by its digits; `total`
        counts every match. The page read is audited (its count and ids, not the search)."""
        date_range(received_from, received_to, names=("received_from", "received_to"))
        filters = EnquiryFilter(
            stage=stage,
            status=status,
            channel=channel,
            campaign=campaign,
            received_from=received_from,
            received_to=received_to,
            overdue=overdue,
            search=search,
        )
        page = queries.list_enquiries(
            session, authority, filters, today, limit=limit, offset=offset, sort=sort
        )
        session.rollback()  # the read snapshot is no longer needed
        _listed(request, authority, "list", page, search=search is not None)
        return page

    @get("/overdue", opt=READ, sync_to_thread=True, summary="Overdue enquiries")
    def overdue_list(
        self,
        request: Request[Caller, Any, Any],
        authority: str,
        session: Session,
        today: date,
        limit: Limit = MAX_PAGE,
        offset: Offset = 0,
    ) -> EnquiryPage:
        """Open enquiries past a timeliness norm: first contact within one working day,
        application to approval within 8 months. Audited as the list is."""
        page = queries.list_enquiries(
            session,
            authority,
            EnquiryFilter(),
            today,
            limit=limit,
            offset=offset,
            any_overdue=True,
        )
        session.rollback()
        _listed(request, authority, "overdue", page)
        return page

    @get("/{enquiry_id:int}", opt=READ, sync_to_thread=True, summary="One enquiry")
    def read(
        self,
        request: Request[Caller, Any, Any],
        authority: str,
        enquiry_id: RecordId,
        session: Session,
        today: date,
    ) -> Response[EnquiryRecord]:
        """An enquiry with its ETag (send it back as If-Match to edit); the read is audited."""
        record = queries.get_enquiry(session, authority, enquiry_id, today)
        session.rollback()
        read_audit.write(request, read_audit.one(authority, enquiry_id, "record", request.user))
        return with_etag(record)

    @get("/{enquiry_id:int}/history", opt=READ, sync_to_thread=True, summary="Enquiry history")
    def history(
        self,
        request: Request[Caller, Any, Any],
        authority: str,
        enquiry_id: RecordId,
        session: Session,
    ) -> list[EventRecord]:
        """Every change of the enquiry, oldest first: date, who, note (notes may name the
        enquirer: the read is audited)."""
        events = queries.enquiry_history(session, authority, enquiry_id)
        session.rollback()
        read_audit.write(request, read_audit.one(authority, enquiry_id, "history", request.user))
        return events

    @patch(
        "/{enquiry_id:int}",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Edit an enquiry (If-Match required)",
    )
    def edit(
        self,
        request: Request,
        authority: str,
        enquiry_id: RecordId,
        data: EnquiryChanges,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[EnquiryRecord]:
        """Change details; a stale If-Match gets 412 and changes nothing."""
        version = expected_version(request, required=True)
        assert version is not None
        record = service.edit_enquiry(
            session, caller, authority, enquiry_id, data, today, expected_version=version
        )
        session.commit()
        return with_etag(record)

    @post(
        "/{enquiry_id:int}/stage",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Move to a later stage",
    )
    def advance(
        self,
        request: Request,
        authority: str,
        enquiry_id: RecordId,
        data: StageMove,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[EnquiryRecord]:
        """Move the enquiry forward; a move breaking a funnel rule gets 409 or 422."""
        record = service.advance_enquiry(
            session,
            caller,
            authority,
            enquiry_id,
            data,
            today,
            expected_version=expected_version(request, required=False),
        )
        session.commit()
        response = with_etag(record)
        if record.stage is Stage.APPROVED:
            # Approval offers the next step: add the household, linked to this enquiry.
            households = f"/api/v1/authorities/{authority}/households"
            response.headers["Link"] = f'<{households}>; rel="create-household"'
        return response

    @post(
        "/{enquiry_id:int}/close",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Close with a reason",
    )
    def close(
        self,
        request: Request,
        authority: str,
        enquiry_id: RecordId,
        data: Closure,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[EnquiryRecord]:
        """Close the enquiry at its current stage."""
        record = service.close_enquiry(
            session,
            caller,
            authority,
            enquiry_id,
            data,
            today,
            expected_version=expected_version(request, required=False),
        )
        session.commit()
        return with_etag(record)

    @post(
        "/{enquiry_id:int}/reopen",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Reopen, or move back a stage",
    )
    def reopen(
        self,
        request: Request,
        authority: str,
        enquiry_id: RecordId,
        data: Reopening,
        caller: Caller,
        session: Session,
        today: date,
    ) -> Response[EnquiryRecord]:
        """Reopen a closed enquiry, optionally at an earlier stage."""
        record = service.reopen_enquiry(
            session,
            caller,
            authority,
            enquiry_id,
            data,
            today,
            expected_version=expected_version(request, required=False),
        )
        session.commit()
        return with_etag(record)

    @delete(
        "/{enquiry_id:int}/personal-data",
        opt={"access": "enquiries.erase"},
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Erase personal data",
    )
    def erase(
        self, authority: str, enquiry_id: RecordId, caller: Caller, session: Session, today: date
    ) -> EnquiryRecord:
        """Erase the enquirer's name, contacts, postcode and ethnicity; keep dates and stages."""
        record = service.erase_personal_data(session, caller, authority, enquiry_id, today)
        forget_erased(session, authority, enquiry_id)
        session.commit()
        return record

    @post(
        "/import",
        opt={**WRITE, EXPENSIVE: True},
        dependencies={**WRITER, **UPLOAD},
        sync_to_thread=True,
        status_code=200,
        request_max_body_size=IMPORT_LIMIT,
        middleware=[stop_on_disconnect],
        summary="Import the team's spreadsheet (CSV or xlsx body)",
    )
    def import_file(
        self,
        authority: str,
        content: bytes,
        caller: Caller,
        session: Session,
        writer: Session,
        today: date,
        format: FileFormat | None = None,
        dry_run: bool = False,
    ) -> ImportReport:
        """Send the file as the request body (text/csv, or an xlsx workbook), or as the one
        file of a multipart/form-data form.

        All-or-nothing and idempotent on external_ref: a second import changes nothing;
        errors name the row and field. `dry_run=true` checks without storing.
        """
        report = enquiry_files.import_enquiries(
            session,
            caller,
            authority,
            content,
            today,
            file_format=format,
            dry_run=dry_run,
            writer=writer,
        )
        if not dry_run:
            writer.commit()
        return report

    @get(
        "/export",
        opt={**READ, EXPENSIVE: True},
        dependencies=WRITER,
        sync_to_thread=True,
        summary="Export as CSV or xlsx",
        **download("The enquiries, as CSV or xlsx (`format`)", CSV_MEDIA, XLSX_MEDIA),
    )
    def export_file(
        self,
        authority: str,
        caller: Caller,
        session: Session,
        writer: Session,
        today: date,
        format: FileFormat = FileFormat.CSV,
        stage: Stage | None = None,
        status: Status | None = None,
        channel: Channel | None = None,
        campaign: str | None = None,
        received_from: date | None = None,
        received_to: date | None = None,
        search: SearchTerm = None,
    ) -> Response[bytes]:
        """The import's columns plus id, stage and status; every export is audited."""
        date_range(received_from, received_to, names=("received_from", "received_to"))
        filters = EnquiryFilter(
            stage=stage,
            status=status,
            channel=channel,
            campaign=campaign,
            received_from=received_from,
            received_to=received_to,
            search=search,
        )
        content = enquiry_files.export_enquiries(
            session, caller, authority, filters, today, format, writer=writer
        )
        writer.commit()
        return spreadsheet(content, format, f"enquiries-{authority}-{today.isoformat()}")


def _listed(
    request: Request[Caller, Any, Any],
    authority: str,
    view: str,
    page: EnquiryPage,
    *,
    search: bool = False,
) -> None:
    ids = [item.id for item in page.items]
    read_audit.write(request, read_audit.listed(authority, view, ids, request.user, search=search))


def _create_keyed(
    request: Request, database: Database, pending: service.PendingEnquiry
) -> EnquiryRecord:
    with write_session(request, database) as session:
        record = service.create_enquiry(
            session, pending.caller, pending.authority_code, pending.new, pending.today
        )
        session.commit()
    return record
