"""Household register file routes: import the register from CSV or xlsx, export it as at a date."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Response, get, post
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE, WRITER, WRITING
from api.disconnect import stop_on_disconnect
from api.downloads import CSV_MEDIA, download, spreadsheet
from api.enquiries import XLSX_MEDIA
from api.params import as_at_day
from api.request_limits import EXPENSIVE
from api.uploads import IMPORT_LIMIT, UPLOAD
from tracker.core.access import Caller
from tracker.core.spreadsheets import FileFormat
from tracker.households import files as household_files
from tracker.households.files import HouseholdImportReport

READ = {"access": "households.read"}
WRITE = {"access": "households.write"}


class HouseholdFileController(Controller):
    """The household register of one authority as a spreadsheet."""

    path = "/api/v1/authorities/{code:str}/households"
    tags = ["households"]
    dependencies = IN_SCOPE

    @post(
        "/import",
        opt={**WRITE, EXPENSIVE: True},
        dependencies={**WRITING, **UPLOAD},
        sync_to_thread=True,
        status_code=200,
        request_max_body_size=IMPORT_LIMIT,
        middleware=[stop_on_disconnect],
        summary="Import the register (CSV or xlsx body)",
    )
    def import_file(
        self,
        authority: str,
        content: bytes,
        caller: Caller,
        session: Session,
        today: date,
        format: FileFormat | None = None,
        dry_run: bool = False,
    ) -> HouseholdImportReport:
        """Send the file as the request body (text/csv, or an xlsx workbook), or as the one
        file of a multipart/form-data form.

        All-or-nothing and idempotent on reference: a second import changes nothing; a row
        that differs is a dated change from its status_from. Errors name the row and column.
        `dry_run=true` checks and applies without storing.
        """
        report = household_files.import_households(
            session, caller, authority, content, today, file_format=format, dry_run=dry_run
        )
        if not dry_run:
            session.commit()
        return report

    @get(
        "/export",
        opt={**READ, EXPENSIVE: True},
        dependencies=WRITER,
        sync_to_thread=True,
        summary="Export the register as CSV or xlsx",
        **download("The register, as CSV or xlsx (`format`)", CSV_MEDIA, XLSX_MEDIA),
    )
    def export_file(
        self,
        authority: str,
        caller: Caller,
        session: Session,
        writer: Session,
        today: date,
        format: FileFormat = FileFormat.CSV,
        as_at: date | None = None,
    ) -> Response[bytes]:
        """The import's columns plus id and filled, vacant and unavailable places as at
        `as_at` (default today); every export is audited."""
        day = as_at_day(as_at, today)
        content = household_files.export_households(
            session, caller, authority, day, today, format, writer=writer
        )
        writer.commit()
        return spreadsheet(content, format, f"households-{authority}-{day.isoformat()}")
