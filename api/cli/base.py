"""What every `fostering` command shares: the top-level group, the console, the caller the
CLI acts as, and the database the environment names."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tracker.core.access import Caller, Role
from tracker.core.db import Database
from tracker.core.settings import ConfigurationError, Settings

console = Console()
CLI_CALLER = Caller(token_id=None, name="cli", role=Role.ADMIN)


def open_database() -> Database:
    """The installation's database, as the environment configures it."""
    return Database.from_settings(Settings.from_env())


def print_table(table: Table) -> None:
    """Print a table; piped to a file or another program (no terminal: 80 columns), at its
    full width, so no code, name or date is cut short."""
    (console if console.is_terminal else Console(file=console.file, width=1000)).print(table)


def fail(message: str) -> None:
    """Print the error in one line (never wrapped, whatever the terminal) and exit with
    status 2."""
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    sys.exit(2)


def _unreachable(exc: OperationalError) -> str:
    """One line on a database that could not be opened: the URL (no password) and why."""
    url = make_url(Settings.from_env().database_url)
    reason = str(exc.orig or exc).strip().splitlines()[0]
    hint = (
        " (does its folder exist, and may this user write there?)"
        if url.get_backend_name() == "sqlite" and "unable to open" in reason
        else ""
    )
    return (
        f"cannot open the database of DATABASE_URL "
        f"({url.render_as_string(hide_password=True)}): {reason}{hint}"
    )


class _Main(click.Group):
    """The top-level group: a setting that cannot be used, or a database that cannot be
    reached, ends any command with one line naming it rather than a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            fail(str(exc))
        except OperationalError as exc:
            if exc.statement is not None:  # a statement failed: not a failure to connect
                raise
            fail(_unreachable(exc))


@click.group(cls=_Main)
def main() -> None:
    """Fostering recruitment and capacity tracker.

    Configuration comes from the environment: DATABASE_URL (default: the SQLite file
    fostering.db in the current folder) and FOSTERING_* settings (see the README).
    """
