"""What every `fostering` command shares: the top-level group, the console, the caller the
CLI acts as, and the database the environment names."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from tracker.core.access import Caller, Role
from tracker.core.db import Database
from tracker.core.settings import Settings

console = Console()
CLI_CALLER = Caller(token_id=None, name="cli", role=Role.ADMIN)


def open_database() -> Database:
    """The installation's database, as the environment configures it."""
    return Database.from_settings(Settings.from_env())


def fail(message: str) -> None:
    """Print the error in one line and exit with status 2."""
    console.print(f"[red]error:[/red] {message}")
    sys.exit(2)


@click.group()
def main() -> None:
    """Fostering recruitment and capacity tracker.

    Configuration comes from the environment: DATABASE_URL (default: the SQLite file
    fostering.db in the current folder) and FOSTERING_* settings (see the README).
    """
