"""The `fostering` command line: serve, migrate, tokens, authorities, demo, import, export,
SSDA903 returns, forecast, the Ofsted return, retention and the scheduler worker. Each module
adds its commands to the group in `base`."""

from api.cli import admin, aggregates, children, demo, files, forecasts, ofsted, retention, server
from api.cli.base import main

__all__ = [
    "admin",
    "aggregates",
    "children",
    "demo",
    "files",
    "forecasts",
    "main",
    "ofsted",
    "retention",
    "server",
]
