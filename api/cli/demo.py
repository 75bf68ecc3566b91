"""Loading the synthetic demo data (and its first forecast run)."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.base import console, fail, main, open_database
from tracker.core import schema
from tracker.core.db import Database
from tracker.core.monthly_upkeep import rebuild_councils
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today


@main.command()
@click.option(
    "--authority",
    "authorities",
    multiple=True,
    help="ONS code; repeat for several (default: Stoke-on-Trent and neighbours).",
)
@click.option("--years", type=int, default=None, help="Years of data [default: 6, national 10].")
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option(
    "--national",
    is_flag=True,
    help="The national benchmark data set instead: every English council of the reference, "
    "one transaction each (councils already stored are skipped), no tokens or forecast.",
)
@click.option(
    "--enquiries",
    type=int,
    default=600_000,
    show_default=True,
    help="With --national: enquiries in all, by scaling the councils' Ofsted figures.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if data exists.")
@click.option(
    "--forecast/--no-forecast",
    default=True,
    show_default=True,
    help="Forecast the first authority's series once the data is in.",
)
@click.option(
    "--hub",
    default=None,
    help='Also create a regional recruitment hub of this name (e.g. "West Midlands") over '
    "the demo's councils of the first one's region, with a hub token.",
)
@click.option(
    "--tokens-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the demo tokens to this file.",
)
def demo(
    authorities: tuple[str, ...],
    years: int | None,
    seed: int,
    national: bool,
    enquiries: int,
    if_empty: bool,
    forecast: bool,
    hub: str | None,
    tokens_file: Path | None,
) -> None:
    """Fill an empty database with realistic synthetic data and print demo tokens."""
    from demo.generate import DEFAULT_AUTHORITIES, generate_demo
    from tracker.children.pseudonym import load_key
    from tracker.core.errors import ConflictError

    settings = Settings.from_env()
    database = open_database()
    schema.upgrade(database)
    if national:
        _national(database, authorities, years or 10, enquiries, seed)
        return
    years = years or 6
    try:
        with database.writing() as session:
            summary = generate_demo(
                session,
                today=london_today(),
                authorities=authorities or DEFAULT_AUTHORITIES,
                years=years,
                seed=seed,
                ssda903_key=load_key(settings),
                hub=hub,
            )
    except ConflictError as exc:
        if if_empty:
            console.print("demo: the database already holds data; left as it is")
            return
        fail(exc.message)
    rebuild_councils(database, london_today(), missing=True)
    database.refresh_statistics()
    lines = [token_line(role, scope, secret) for role, scope, secret in summary.tokens]
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


def _national(
    database: Database, authorities: tuple[str, ...], years: int, enquiries: int, seed: int
) -> None:
    """Load the national data set (or the councils given of it) and print what it took."""
    from demo.national import generate_national
    from tracker.core.errors import InvalidValueError

    try:
        summary = generate_national(
            database,
            today=london_today(),
            years=years,
            enquiries=enquiries,
            seed=seed,
            codes=[a.strip().upper() for a in authorities] or None,
        )
    except InvalidValueError as exc:
        fail(exc.message)
    rebuild_councils(database, london_today(), missing=True)
    console.print(
        f"national data: {summary.enquiries} enquiries in {len(summary.loaded)} councils "
        f"(scale {summary.scale:.3f} on Ofsted 2018-19 enquiries) in {summary.seconds:.1f} s; "
        f"{len(summary.skipped)} councils were already stored"
    )


def token_line(role: str, scope: str | None, secret: str) -> str:
    """A line of the tokens file: role, scope (authority or region) and secret, tab-separated;
    the secret is the last field, so `awk '{print $NF}'` finds it whatever the scope holds."""
    return f"{role}\t{scope or '-'}\t{secret}"


def _demo_forecast(settings: Settings, code: str) -> None:
    """Forecast the demo's first authority now, so trajectories have a forecast to show."""
    from jobs.forecast_refresh import refresh_forecasts
    from tracker.forecasting.tables import Trigger

    console.print(f"forecasting {code}'s series (the scheduler refreshes them monthly)...")
    for outcome in refresh_forecasts(
        settings.database_url, code, Trigger.CLI, "cli:demo", settings=settings
    ):
        console.print(f"forecast run {outcome.run_id}: {outcome.status}")
