"""The `fostering` command line: serve, migrate, tokens, authorities, demo, import, export."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from tracker import audit, schema
from tracker.access import Caller, Role, issue_token, list_tokens, revoke_token
from tracker.db import Database
from tracker.errors import DomainError, ImportRejectedError
from tracker.settings import Settings
from tracker.timeliness import london_today

console = Console()
CLI_CALLER = Caller(token_id=None, name="cli", role=Role.ADMIN)


def _database() -> Database:
    return Database.from_settings(Settings.from_env())


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    sys.exit(2)


@click.group()
def main() -> None:
    """Fostering recruitment and capacity tracker.

    Configuration comes from the environment: DATABASE_URL (default: the SQLite file
    fostering.db in the current folder) and FOSTERING_* settings (see the README).
    """


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
@click.option("--access-log/--no-access-log", default=True, show_default=True)
def serve(host: str | None, port: int | None, workers: int, access_log: bool) -> None:
    """Apply migrations, then serve the API (docs at /schema, health at /health)."""
    import uvicorn

    settings = Settings.from_env()
    database = Database.from_settings(settings)
    schema.upgrade(database)
    database.dispose()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=access_log,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=20,
    )


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    database = _database()
    schema.upgrade(database)
    console.print(
        f"schema is current on {database.engine.url.render_as_string(hide_password=True)}"
    )


@main.group()
def token() -> None:
    """Bearer tokens: create, list, revoke."""


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--authority", "authority_code", default=None, help="ONS code, e.g. E06000021.")
@click.option("--region", default=None, help="Region of a regional token.")
@click.option("--name", default="unnamed", show_default=True, help="Who or what holds it.")
def token_create(role: str, authority_code: str | None, region: str | None, name: str) -> None:
    """Create a token and print it once (only its digest is stored)."""
    database = _database()
    try:
        with database.writing() as session:
            issued = issue_token(
                session, role=Role(role), name=name, authority_code=authority_code, region=region
            )
            audit.record(
                session,
                CLI_CALLER,
                "create",
                "token",
                issued.record.id,
                authority_code=issued.record.authority_code,
                detail={"role": role},
            )
    except DomainError as exc:
        _fail(exc.message)
    click.echo(issued.secret)
    click.echo(f"# token {issued.record.id} ({role}) created; it is shown only this once", err=True)


@token.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked tokens.")
def token_list(include_revoked: bool) -> None:
    """List tokens (never their secrets)."""
    with _database().read_session() as session:
        tokens = list_tokens(session, include_revoked)
    table = Table("id", "name", "role", "authority", "region", "hint", "created", "revoked")
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.role,
            t.authority_code or "",
            t.region or "",
            t.hint,
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    console.print(table)


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token by id; it stops working at once."""
    try:
        with _database().writing() as session:
            record = revoke_token(session, token_id)
            audit.record(
                session,
                CLI_CALLER,
                "revoke",
                "token",
                token_id,
                authority_code=record.authority_code,
            )
    except DomainError as exc:
        _fail(exc.message)
    console.print(f"token {token_id} revoked")


@main.group()
def authority() -> None:
    """Authorities held by this installation."""


@authority.command("add")
@click.argument("code")
@click.option("--name", default=None, help="Defaults to the name in the reference data.")
@click.option("--region", default=None, help="Defaults to the region in the reference data.")
def authority_add(code: str, name: str | None, region: str | None) -> None:
    """Add an authority by ONS code (name and region looked up when not given)."""
    from tracker.authorities import NewAuthority, add_authority
    from tracker.reference import load_reference

    known = load_reference().get(code)
    name = name or (known.name if known else None)
    region = region or (known.region if known else None)
    if not name or not region:
        _fail(f"{code} is not in the reference data: give --name and --region")
    try:
        with _database().writing() as session:
            record, created = add_authority(
                session, NewAuthority(code=code, name=name or "", region=region or "")
            )
    except DomainError as exc:
        _fail(exc.message)
    console.print(
        f"{'added' if created else 'updated'} {record.code} {record.name} ({record.region})"
    )


@authority.command("list")
def authority_list() -> None:
    """List the authorities."""
    from tracker.authorities import list_authorities

    with _database().read_session() as session:
        records = list_authorities(session)
    table = Table("code", "name", "region", "approvals target")
    for a in records:
        table.add_row(a.code, a.name, a.region, str(a.annual_approvals_target or ""))
    console.print(table)


@main.command()
@click.option(
    "--authority",
    "authorities",
    multiple=True,
    help="ONS code; repeat for several (default: Stoke-on-Trent and neighbours).",
)
@click.option("--years", type=int, default=6, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if data exists.")
@click.option(
    "--tokens-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the demo tokens to this file.",
)
def demo(
    authorities: tuple[str, ...], years: int, seed: int, if_empty: bool, tokens_file: Path | None
) -> None:
    """Fill an empty database with realistic synthetic data and print demo tokens."""
    from tracker.demo import DEFAULT_AUTHORITIES, generate_demo
    from tracker.errors import ConflictError

    database = _database()
    schema.upgrade(database)
    try:
        with database.writing() as session:
            summary = generate_demo(
                session,
                today=london_today(),
                authorities=authorities or DEFAULT_AUTHORITIES,
                years=years,
                seed=seed,
            )
    except ConflictError as exc:
        if if_empty:
            console.print("demo: the database already holds data; left as it is")
            return
        _fail(exc.message)
    lines = [f"{role}\t{scope or '-'}\t{secret}" for role, scope, secret in summary.tokens]
    console.print(
        f"demo data: {sum(summary.enquiries.values())} enquiries in "
        f"{len(summary.authorities)} authorities"
    )
    console.print("demo tokens (role, scope, token) — shown once:")
    for line in lines:
        click.echo(line)
    if tokens_file is not None:
        tokens_file.write_text("\n".join(lines) + "\n")
        tokens_file.chmod(0o600)
        console.print(f"tokens also written to {tokens_file}")


@main.group("import")
def import_group() -> None:
    """Import files."""


@import_group.command("enquiries")
@click.option("--authority", "authority_code", required=True)
@click.option("--dry-run", is_flag=True, help="Check the file; store nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_enquiries(authority_code: str, dry_run: bool, file: Path) -> None:
    """Import the team's enquiry spreadsheet (CSV or xlsx): all-or-nothing, idempotent."""
    from tracker.enquiry_files import import_enquiries as run_import

    try:
        with _database().writing() as session:
            report = run_import(
                session,
                CLI_CALLER,
                authority_code,
                file.read_bytes(),
                london_today(),
                dry_run=dry_run,
            )
    except ImportRejectedError as exc:
        for error in exc.errors:
            console.print(f"row {error.row} {error.field or ''}: {error.message}")
        _fail(f"{len(exc.errors)} error(s): nothing imported")
    except DomainError as exc:
        _fail(exc.message)
    console.print(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged" + (" (dry run)" if dry_run else "")
    )


@import_group.command("households")
@click.option("--authority", "authority_code", required=True)
@click.option("--dry-run", is_flag=True, help="Check and apply the file; store nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_households(authority_code: str, dry_run: bool, file: Path) -> None:
    """Import the household register (CSV or xlsx): all-or-nothing, idempotent on reference."""
    from tracker.household_files import import_households as run_import

    try:
        with _database().writing() as session:
            report = run_import(
                session,
                CLI_CALLER,
                authority_code,
                file.read_bytes(),
                london_today(),
                dry_run=dry_run,
            )
    except ImportRejectedError as exc:
        for error in exc.errors:
            console.print(f"row {error.row} {error.field or ''}: {error.message}")
        _fail(f"{len(exc.errors)} error(s): nothing imported")
    except DomainError as exc:
        _fail(exc.message)
    console.print(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged" + (" (dry run)" if dry_run else "")
    )


@main.group("export")
def export_group() -> None:
    """Export files."""


@export_group.command("enquiries")
@click.option("--authority", "authority_code", required=True)
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_enquiries(authority_code: str, file_format: str, output: Path) -> None:
    """Export every enquiry of an authority (audited: it carries personal data)."""
    from tracker.enquiries import EnquiryFilter
    from tracker.enquiry_files import FileFormat
    from tracker.enquiry_files import export_enquiries as run_export

    try:
        with _database().writing() as session:
            content = run_export(
                session,
                CLI_CALLER,
                authority_code,
                EnquiryFilter(),
                london_today(),
                FileFormat(file_format),
            )
    except DomainError as exc:
        _fail(exc.message)
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
    from tracker.enquiry_files import FileFormat
    from tracker.household_files import export_households as run_export

    today = london_today()
    try:
        with _database().writing() as session:
            content = run_export(
                session,
                CLI_CALLER,
                authority_code,
                as_at.date() if as_at else today,
                today,
                FileFormat(file_format),
            )
    except DomainError as exc:
        _fail(exc.message)
    output.write_bytes(content)
    console.print(f"wrote {output}")
