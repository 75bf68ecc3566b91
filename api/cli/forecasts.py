"""Forecasts from the command line: refresh an authority's now, or forecast any CSV of series."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import msgspec
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from api.cli.base import CLI_CALLER, console, fail, main, print_table
from tracker.core.db import Database
from tracker.core.errors import DomainError
from tracker.core.settings import Settings


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
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes (default: FOSTERING_FORECAST_WORKERS, else one per core).",
)
@click.option(
    "--scheduler",
    "scheduler_address",
    default=None,
    help="A Dask scheduler's address, e.g. tcp://10.0.0.5:8786 (with --executor dask).",
)
def forecast_run(
    authority_code: str | None,
    horizon: int | None,
    executor: str | None,
    workers: int | None,
    scheduler_address: str | None,
) -> None:
    """Refresh forecasts now, with a progress bar (series done of total) per authority;
    without --authority, every council in one national batch."""
    from jobs.forecast_refresh import forecast_options, refresh_forecasts
    from tracker.forecasting.tables import RunStatus, Trigger

    settings = Settings.from_env()
    if scheduler_address is not None and (executor or settings.forecast_executor) != "dask":
        fail("--scheduler needs --executor dask")
    if workers is not None:
        settings = msgspec.structs.replace(settings, forecast_workers=workers)
    if scheduler_address is not None:
        settings = msgspec.structs.replace(settings, dask_address=scheduler_address)
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
        fail(exc.message)
    table = Table("authority", "run", "status", "series", "error")
    for outcome in outcomes:
        table.add_row(
            outcome.authority_code,
            str(outcome.run_id),
            outcome.status.value,
            str(outcome.series),
            outcome.error or "",
        )
    print_table(table)
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
    help="Candidate models, comma-separated (default: the engine's default candidates).",
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
        fail(f"{source} is not UTF-8 text")
    try:
        series = csvio.read_series_csv(text)
    except ValueError as exc:
        fail(f"{source}: {exc}")
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
