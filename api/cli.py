"""The `fostering` command line: serve, migrate, tokens, authorities, demo, import, export,
forecast and the scheduler worker."""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import msgspec
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from api.dashboard.sessions import revoke
from tracker.core import audit, schema
from tracker.core.access import Caller, Role, issue_token, list_tokens
from tracker.core.db import Database
from tracker.core.errors import DomainError, ImportRejectedError
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today

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
    # On SIGTERM uvicorn stops taking connections, lets requests in flight finish, runs the
    # shutdown hooks, then raises the signal again with this handler back in place: a stop
    # asked for by the service manager that went to plan ends with status 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The modules and tables loaded so far live as long as the process: moving them out of
    # the collector's reach makes every later collection cheaper (about a quarter of the
    # CPU of a funnel request in bench/ab.py).
    gc.collect()
    gc.freeze()
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


@db.command("backup")
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(force: bool, path: Path) -> None:
    """Copy the SQLite database to PATH while the service runs (SQLite's online backup;
    for PostgreSQL use pg_dump, see the README)."""
    from tracker.core.backup import backup

    try:
        report = backup(Settings.from_env().database_url, path, overwrite=force)
    except DomainError as exc:
        _fail(exc.message)
    console.print(
        f"backed up {report.source} to {report.target}: {report.bytes:,} bytes, "
        f"{report.tables} tables, {report.rows:,} rows, schema revision {report.revision}",
        markup=False,
    )


@db.command("restore")
@click.option(
    "--force", is_flag=True, help="Restore even though another process has the database open."
)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def db_restore(force: bool, path: Path) -> None:
    """Replace the SQLite database with the backup at PATH, then migrate it to the current
    schema (stop the service first)."""
    from tracker.core.backup import restore

    try:
        report = restore(Settings.from_env().database_url, path, force=force)
    except DomainError as exc:
        _fail(exc.message)
    console.print(
        f"restored {report.source} (schema revision {report.revision}) into {report.target}: "
        f"{report.tables} tables, {report.rows:,} rows; schema now at {report.migrated_to}",
        markup=False,
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
            revoke(session, CLI_CALLER, token_id)
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
    from tracker.core.authorities import NewAuthority, add_authority
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
    from tracker.core.authorities import list_authorities

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
    "--forecast/--no-forecast",
    default=True,
    show_default=True,
    help="Forecast the first authority's series once the data is in.",
)
@click.option(
    "--tokens-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the demo tokens to this file.",
)
def demo(
    authorities: tuple[str, ...],
    years: int,
    seed: int,
    if_empty: bool,
    forecast: bool,
    tokens_file: Path | None,
) -> None:
    """Fill an empty database with realistic synthetic data and print demo tokens."""
    from demo.generate import DEFAULT_AUTHORITIES, generate_demo
    from tracker.children.pseudonym import load_key
    from tracker.core.errors import ConflictError

    settings = Settings.from_env()
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
                ssda903_key=load_key(settings),
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
    if forecast:
        _demo_forecast(settings, summary.authorities[0])


def _demo_forecast(settings: Settings, code: str) -> None:
    """Forecast the demo's first authority now, so trajectories have a forecast to show."""
    from jobs.forecast_refresh import refresh_forecasts
    from tracker.forecasting.tables import Trigger

    console.print(f"forecasting {code}'s series (the scheduler refreshes them monthly)...")
    for outcome in refresh_forecasts(
        settings.database_url, code, Trigger.CLI, "cli:demo", settings=settings
    ):
        console.print(f"forecast run {outcome.run_id}: {outcome.status}")


def _import_spreadsheet(
    run_import: Callable[..., Any], authority_code: str, file: Path, dry_run: bool
) -> None:
    """Run a spreadsheet import and print its report, or its errors by row (exit 2)."""
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
            console.print(f"row {error.row} {error.field or ''}: {error.message}", markup=False)
        _fail(f"{len(exc.errors)} error(s): nothing imported")
    except DomainError as exc:
        _fail(exc.message)
    console.print(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged" + (" (dry run)" if dry_run else "")
    )


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

    _import_spreadsheet(run_import, authority_code, file, dry_run)


@import_group.command("households")
@click.option("--authority", "authority_code", required=True)
@click.option("--dry-run", is_flag=True, help="Check and apply the file; store nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_households(authority_code: str, dry_run: bool, file: Path) -> None:
    """Import the household register (CSV or xlsx): all-or-nothing, idempotent on reference."""
    from tracker.households.files import import_households as run_import

    _import_spreadsheet(run_import, authority_code, file, dry_run)


@import_group.command("ssda903")
@click.option("--authority", "authority_code", required=True)
@click.option("--dry-run", is_flag=True, help="Check and merge the files; store nothing.")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_ssda903(authority_code: str, dry_run: bool, files: tuple[Path, ...]) -> None:
    """Import SSDA903 Header, Episodes and OC3 CSVs of one or several collection years (a
    year in each file name, e.g. episodes_2022-23.csv): all-or-nothing, idempotent."""
    from tracker.children.importer import SourceFile
    from tracker.children.importer import import_ssda903 as run_import
    from tracker.children.pseudonym import load_key

    settings = Settings.from_env()
    sources = [SourceFile(path.name, path.read_bytes()) for path in files]
    try:
        with Database.from_settings(settings).writing() as session:
            report = run_import(
                session, CLI_CALLER, authority_code, sources, load_key(settings), dry_run=dry_run
            )
    except ImportRejectedError as exc:
        for error in exc.errors:
            where = f"{error.file or ''} row {error.row}"
            console.print(f"{where} {error.field or ''}: {error.message}", markup=False)
        _fail(f"{len(exc.errors)} error(s): nothing imported")
    except DomainError as exc:
        _fail(exc.message)
    for summary in report.files:
        console.print(
            f"{summary.name}: {summary.kind}, year ending March {summary.year}, "
            f"{summary.rows} rows",
            markup=False,
        )
    for label, counts in (
        ("children", report.children),
        ("episodes", report.episodes),
        ("care leavers", report.care_leavers),
    ):
        console.print(
            f"{label}: {counts.created} created, {counts.updated} updated, "
            f"{counts.unchanged} unchanged"
        )
    if report.superseded:
        console.print(f"{report.superseded} episodes kept from a later year already stored")
    console.print(
        f"{report.warning_count} warning(s)" + (" (dry run: nothing stored)" if dry_run else "")
    )
    for issue in report.warnings[:10]:
        console.print(
            f"  {issue.file} row {issue.row} {issue.column or ''}: {issue.message}", markup=False
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
    from tracker.core.spreadsheets import FileFormat
    from tracker.enquiries.files import export_enquiries as run_export
    from tracker.enquiries.schemas import EnquiryFilter

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
    from tracker.core.spreadsheets import FileFormat
    from tracker.households.files import export_households as run_export

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


@main.group()
def forecast() -> None:
    """Forecasts: run a refresh now, or forecast any monthly series from a CSV file."""


def _progress_bar(stderr: bool = False) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("series"),
        TimeElapsedColumn(),
        console=Console(stderr=True) if stderr else console,
    )


@forecast.command("run")
@click.option("--authority", "authority_code", default=None, help="ONS code (default: all).")
@click.option("--horizon", type=click.IntRange(1, 120), default=None, help="Months ahead.")
@click.option(
    "--executor",
    type=click.Choice(["process", "serial", "dask"]),
    default=None,
    help="How the engine spreads the work (default: FOSTERING_FORECAST_EXECUTOR).",
)
def forecast_run(authority_code: str | None, horizon: int | None, executor: str | None) -> None:
    """Refresh forecasts now, with a progress bar (series done of total) per authority."""
    from jobs.forecast_refresh import forecast_options, refresh_forecasts
    from tracker.forecasting.tables import RunStatus, Trigger

    settings = Settings.from_env()
    options = forecast_options(settings)
    if horizon is not None:
        options = msgspec.structs.replace(options, horizon=horizon)
    tasks: dict[str, TaskID] = {}
    try:
        with _progress_bar() as bar:

            def progress(code: str, done: int, total: int) -> None:
                if code not in tasks:
                    tasks[code] = bar.add_task(code, total=total)
                bar.update(tasks[code], completed=done, total=total)

            outcomes = refresh_forecasts(
                Database.from_settings(settings),
                authority_code,
                Trigger.CLI,
                CLI_CALLER.actor,
                settings=settings,
                options=options,
                executor=executor,
                progress=progress,
            )
    except DomainError as exc:
        _fail(exc.message)
    table = Table("authority", "run", "status", "series", "error")
    for outcome in outcomes:
        table.add_row(
            outcome.authority_code,
            str(outcome.run_id),
            outcome.status.value,
            str(outcome.series),
            outcome.error or "",
        )
    console.print(table)
    if any(o.status is not RunStatus.SUCCEEDED for o in outcomes):
        sys.exit(1)


@forecast.command("file")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--horizon", type=click.IntRange(1, 120), required=True, help="Months ahead.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the forecasts (default: standard output).",
)
@click.option(
    "--models",
    default=None,
    help="Candidate models, comma-separated (default: all the engine offers).",
)
@click.option(
    "--executor",
    type=click.Choice(["process", "serial", "dask"]),
    default=None,
    help="How the engine spreads the work (default: FOSTERING_FORECAST_EXECUTOR).",
)
def forecast_file(
    source: Path, horizon: int, output: Path | None, models: str | None, executor: str | None
) -> None:
    """Forecast every series of a CSV with columns series_id, month (YYYY-MM), value; write
    series_id, month, model, mean, lo80, hi80, lo95, hi95, with the engine the service uses."""
    from forecast import csvio, engine
    from forecast.types import ForecastOptions

    settings = Settings.from_env()
    try:
        text = source.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        _fail(f"{source} is not UTF-8 text")
    try:
        series = csvio.read_series_csv(text)
    except ValueError as exc:
        _fail(f"{source}: {exc}")
    options = ForecastOptions(horizon=horizon)
    if models:
        options = msgspec.structs.replace(
            options, models=tuple(m.strip() for m in models.split(",") if m.strip())
        )
    with _progress_bar(stderr=True) as bar:
        task = bar.add_task(source.name, total=len(series))
        forecasts = engine.forecast_many(
            series,
            options,
            executor=executor or settings.forecast_executor,  # type: ignore[arg-type]
            workers=settings.forecast_workers,
            dask_address=settings.dask_address,
            progress=lambda done, total=None: bar.update(task, completed=done),
        )
        bar.update(task, completed=len(series))
    content = csvio.write_forecast_csv(forecasts)
    if output is None:
        click.echo(content, nl=False)
    else:
        output.write_text(content, encoding="utf-8")
        Console(stderr=True).print(f"wrote {len(forecasts)} series to {output}")


@main.command()
def worker() -> None:
    """Run only the forecast scheduler (for deployments that set
    FOSTERING_SCHEDULER_ENABLED=false on the API processes); stops on Ctrl-C or SIGTERM."""
    import signal
    import threading

    from jobs.scheduler import SCHEDULE_JOB_ID, shutdown_scheduler, start_scheduler

    settings = Settings.from_env()
    database = Database.from_settings(settings)
    schema.upgrade(database)
    scheduler = start_scheduler(settings, database)
    job = scheduler.get_job(SCHEDULE_JOB_ID)
    console.print(
        f"forecast worker: schedule {settings.forecast_schedule!r} (Europe/London), "
        f"next run {job.next_run_time if job else 'none'}"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    console.print("forecast worker: stopping")
    shutdown_scheduler(scheduler, wait=True)
    database.dispose()
