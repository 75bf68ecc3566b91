"""The SSDA903 commands: `import ssda903` (files of one or several years, replacing a year's
return when asked), and `ssda903 returns` and `ssda903 withdraw`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from api.cli.base import CLI_CALLER, console, fail, main, open_database, print_table
from api.cli.files import import_group
from tracker.core.db import Database
from tracker.core.errors import DomainError, ImportRejectedError
from tracker.core.settings import Settings


@import_group.command("ssda903")
@click.option("--authority", "authority_code", required=True)
@click.option("--dry-run", is_flag=True, help="Check the files; store nothing.")
@click.option(
    "--replace", is_flag=True, help="Let the files replace the stored return of their years."
)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_ssda903(
    authority_code: str, dry_run: bool, replace: bool, files: tuple[Path, ...]
) -> None:
    """Import SSDA903 Header, Episodes and OC3 files (CSV or xlsx) of one or several
    collection years (a year in each file name, e.g. episodes_2022-23.csv, or a YEAR
    column): all-or-nothing, idempotent. Files that change a stored year need --replace."""
    from tracker.children.importer import SourceFile
    from tracker.children.importer import import_ssda903 as run_import
    from tracker.children.pseudonym import load_key

    settings = Settings.from_env()
    try:
        sources = [SourceFile(path.name, path.read_bytes()) for path in files]
    except OSError as exc:
        fail(f"{exc.filename}: cannot be read ({exc.strerror})")
    try:
        with Database.from_settings(settings).writing() as session:
            report = run_import(
                session,
                CLI_CALLER,
                authority_code,
                sources,
                load_key(settings),
                dry_run=dry_run,
                replace=replace,
            )
    except ImportRejectedError as exc:
        for error in exc.errors:
            where = f"{error.file or ''} row {error.row}"
            console.print(f"{where} {error.field or ''}: {error.message}", markup=False)
        listed = f" (the first {len(exc.errors)} listed)" if exc.left_out else ""
        fail(f"{exc.total} error(s){listed}: nothing imported")
    except DomainError as exc:
        fail(exc.message)
    for summary in report.files:
        years = ", ".join(str(y) for y in summary.years)
        console.print(
            f"{summary.name}: {summary.kind}, year ending March {years}, {summary.rows} rows"
            + (f" ({summary.note})" if summary.note else ""),
            markup=False,
        )
    for label, counts in (
        ("children", report.children),
        ("episodes", report.episodes),
        ("care leavers", report.care_leavers),
    ):
        console.print(
            f"{label}: {counts.created} created, {counts.updated} updated, "
            f"{counts.removed} removed, {counts.unchanged} unchanged"
        )
    if report.children_kept_from_later:
        console.print(
            f"children: {report.children_kept_from_later} left as a later year's Header "
            "describes them"
        )
    if report.replaced:
        console.print(f"returns replaced: {', '.join(report.replaced)}")
    console.print(
        f"{report.warning_count} warning(s)" + (" (dry run: nothing stored)" if dry_run else "")
    )
    for issue in report.warnings[:10]:
        console.print(
            f"  {issue.file} row {issue.row} {issue.column or ''}: {issue.message}", markup=False
        )


@main.group("ssda903")
def ssda903_group() -> None:
    """SSDA903 returns stored: list them, withdraw one."""


@ssda903_group.command("returns")
@click.option("--authority", "authority_code", required=True)
def ssda903_returns(authority_code: str) -> None:
    """List each collection year's stored return with its counts."""
    from tracker.children.returns import list_returns

    try:
        with open_database().read_session() as session:
            summaries = list_returns(session, authority_code)
    except DomainError as exc:
        fail(exc.message)
    table = Table("year", "episodes", "children", "in care at 31 March", "OC3 rows", "not carried")
    for r in summaries:
        dropped = "-" if r.not_carried_forward is None else str(r.not_carried_forward)
        table.add_row(
            r.year,
            str(r.episodes),
            str(r.children),
            str(r.in_care_at_end),
            str(r.care_leavers),
            dropped,
        )
    print_table(table)


@ssda903_group.command("withdraw")
@click.option("--authority", "authority_code", required=True)
@click.argument("year")
def ssda903_withdraw(authority_code: str, year: str) -> None:
    """Withdraw the return of a collection year written 2022-23 (audited)."""
    from tracker.children.returns import parse_year
    from tracker.children.withdrawal import withdraw_return

    try:
        with open_database().writing() as session:
            result = withdraw_return(session, CLI_CALLER, authority_code, parse_year(year))
    except DomainError as exc:
        fail(exc.message)
    console.print(
        f"{result.year} withdrawn: {result.episodes} episodes, {result.care_leavers} OC3 rows "
        f"and {result.children} children removed"
    )
