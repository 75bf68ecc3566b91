"""`fostering ofsted-return`: an authority's Ofsted return for a collection year, printed in
the return's order with the warnings to check, and written as CSV or xlsx when asked."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from api.cli.base import CLI_CALLER, console, fail, main, open_database, print_table
from tracker.core.errors import DomainError
from tracker.enquiries.timeliness import london_today


@main.command("ofsted-return")
@click.option("--authority", "authority_code", required=True, help="The authority's ONS code.")
@click.option("--year", required=True, help="The collection year ending 31 March, e.g. 2025-26.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the return to this file (audited); .xlsx writes Excel, anything else CSV.",
)
def ofsted_return(authority_code: str, year: str, output: Path | None) -> None:
    """Build the Ofsted annual fostering return from the funnel and the household register:
    print it with its warnings, and write it to --output."""
    from tracker.core.spreadsheets import FileFormat
    from tracker.ofsted.service import export_return, ofsted_return

    today = london_today()
    file_format = FileFormat.XLSX if output and output.suffix.lower() == ".xlsx" else FileFormat.CSV
    try:
        with open_database().writing() as session:
            built = ofsted_return(session, authority_code.upper(), year, today)
            content = (
                export_return(session, CLI_CALLER, built.authority_code, year, today, file_format)
                if output
                else None
            )
    except DomainError as exc:
        fail(exc.message)
    table = Table(title=f"{built.title}: {built.authority_name} ({built.authority_code})")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    table.add_column("Field")
    for section in built.sections:
        table.add_row(f"[bold]{section.title}[/bold]", "", "", end_section=True)
        if section.level == "carer":
            table.add_row(section.note, "", "")
        for figure in section.figures:
            value = "" if figure.value is None else f"{figure.value:,}"
            table.add_row(figure.label, value, figure.key)
        table.add_section()
    print_table(table)
    if not built.complete:
        console.print(f"[yellow]the year has not ended: figures to {today.isoformat()}[/yellow]")
    for warning in built.warnings:
        console.print(f"[yellow]warning[/yellow] {warning.rule}: {warning.message}", markup=True)
    if output and content is not None:
        output.write_bytes(content)
        console.print(f"wrote {output}")
