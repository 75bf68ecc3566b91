"""What the `fostering` commands share: the console they print to, the caller they act as,
the configured database, and failing with one line."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

from tracker.core.access import Caller, Role
from tracker.core.db import Database
from tracker.core.settings import Settings

console = Console()
CLI_CALLER = Caller(token_id=None, name="cli", role=Role.ADMIN)


def open_database() -> Database:
    """The database the environment configures."""
    return Database.from_settings(Settings.from_env())


def fail(message: str) -> NoReturn:
    """Print the error in one line and exit with status 2."""
    console.print(f"[red]error:[/red] {message}")
    sys.exit(2)
