"""The `fostering` command line: serve, migrate, tokens, authorities, demo, import, export,
forecast and the scheduler worker. Each module adds its commands to the group in `base`."""

from api.cli import admin, demo, files, forecasts, server
from api.cli.base import main

__all__ = ["admin", "demo", "files", "forecasts", "main", "server"]
