"""`fostering aggregates`: build the prepared monthly figures the funnel and capacity reads use."""

from __future__ import annotations

import click

from api.cli.base import console, fail, main, open_database
from tracker.core.monthly_upkeep import rebuild_councils
from tracker.enquiries.timeliness import london_today


@main.group()
def aggregates() -> None:
    """Prepared monthly figures (funnel and register per council and month)."""


@aggregates.command("rebuild")
@click.option("--authority", "codes", multiple=True, help="Council code (repeatable).")
@click.option("--missing", is_flag=True, help="Only councils whose figures are not built yet.")
def aggregates_rebuild(codes: tuple[str, ...], missing: bool) -> None:
    """Recompute councils' prepared figures from their raw rows (default: every council)."""
    database = open_database()
    done = rebuild_councils(database, london_today(), codes or None, missing=missing)
    if codes and len(done) < len(codes) and not missing:
        fail(f"no such authority: {', '.join(sorted(set(codes) - set(done)))}")
    console.print(f"prepared figures built for {len(done)} councils")
