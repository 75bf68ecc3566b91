"""Importing and exporting spreadsheets (SSDA903 returns: `api.cli.children`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from api.cli.base import CLI_CALLER, console, fail, main, open_database
from tracker.core.errors import DomainError, ImportRejectedError
from tracker.enquiries.timeliness import london_today


def _import_spreadsheet(
    run_import: Callable[..., Any],
    authority_code: str,
    file: Path,
    dry_run: bool,
    *,
    reads_apart: bool = False,
) -> None:
    """Run a spreadsheet import and print its report, or its errors by row (exit 2).
    `reads_apart`: the import checks with a read session and writes with a writer."""
    database = open_database()
    try:
        with database.read_session() as reader, database.writing() as session:
            report = run_import(
                reader if reads_apart else session,
                CLI_CALLER,
                authority_code,
                file.read_bytes(),
                london_today(),
                dry_run=dry_run,
                **({"writer": session} if reads_apart else {}),
            )
    except ImportRejectedError as exc:
        for error in exc.errors:
            console.print(f"row {error.row} {error.field or ''}: {error.message}", markup=False)
        listed = f" (the first {len(exc.errors)} listed)" if exc.left_out else ""
        fail(f"{exc.total} error(s){listed}: nothing imported")
    except DomainError as exc:
        fail(exc.message)
    console.print(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged" + (" (dry run)" if dry_run else "")
    )
    for warning in report.warnings:
        # An enquiry warning names its row; a register warning, the rows of its column.
        rows = warning.rows_words() if hasattr(warning, "rows_words") else warning.row
        console.print(f"warning, row {rows} {warning.column}: {warning.message}", markup=False)


@main.group("import")
def import_group() -> None:
    """Import files."""


@import_group.command("enquiries")
@click.option("--authority", "authority_code", required=True)
@click.option("--dry-run", is_flag=True, help="Check the file; store nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_enquiries(authority_code: str, dry_run: bool, file: Path) -> None:
    """Import the team's enquiry spreadsheet (CSV or xlsx): all-or-nothing, idempotent."""
    from tracker.enquiries.files import import_enquiries as run_import

    _import_spreadsheet(run_import, authority_code, file, dry_run, reads_apart=True)


@import_group.command("households")
@click.option("--authority", "authority_code", required=True)
@click.option("--dry-run", is_flag=True, help="Check and apply the file; store nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_households(authority_code: str, dry_run: bool, file: Path) -> None:
    """Import the household register (CSV or xlsx): all-or-nothing, idempotent on reference."""
    from tracker.households.files import import_households as run_import

    _import_spreadsheet(run_import, authority_code, file, dry_run)


@main.group("export")
def export_group() -> None:
    """Export files."""


@export_group.command("enquiries")
@click.option("--authority", "authority_code", required=True)
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_enquiries(authority_code: str, file_format: str, output: Path) -> None:
    """Export every enquiry of an authority (audited: it carries personal data)."""
    from tracker.core.spreadsheets import FileFormat
    from tracker.enquiries.files import export_enquiries as run_export
    from tracker.enquiries.schemas import EnquiryFilter

    database = open_database()
    try:
        with database.read_session() as session, database.writing() as writer:
            content = run_export(
                session,
                CLI_CALLER,
                authority_code,
                EnquiryFilter(),
                london_today(),
                FileFormat(file_format),
                writer=writer,
            )
    except DomainError as exc:
        fail(exc.message)
    output.write_bytes(content)
    console.print(f"wrote {output}")


@export_group.command("households")
@click.option("--authority", "authority_code", required=True)
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--as-at", "as_at", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), default=None)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_households(
    authority_code: str, file_format: str, as_at: datetime | None, output: Path
) -> None:
    """Export the household register as at a date, default today (audited: it carries
    carers' ethnicity)."""
    from tracker.core.spreadsheets import FileFormat
    from tracker.households.files import export_households as run_export

    today = london_today()
    database = open_database()
    try:
        with database.read_session() as session, database.writing() as writer:
            content = run_export(
                session,
                CLI_CALLER,
                authority_code,
                as_at.date() if as_at else today,
                today,
                FileFormat(file_format),
                writer=writer,
            )
    except DomainError as exc:
        fail(exc.message)
    output.write_bytes(content)
    console.print(f"wrote {output}")
