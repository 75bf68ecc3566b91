"""`fostering retention run`: the retention and purge jobs now, or a dry run that only
counts."""

from __future__ import annotations

import click

from api.cli.base import console, main, open_database
from tracker.core.clock import utcnow
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today


@main.group()
def retention() -> None:
    """Erasing applicants' personal data past the retention period."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be erased; change nothing.")
@click.option(
    "--years",
    type=click.IntRange(min=1),
    default=None,
    help="Years after closure (default FOSTERING_RETENTION_YEARS, 3).",
)
def retention_run(dry_run: bool, years: int | None) -> None:
    """Delete the expired uploads waiting for confirmation and stored responses, and erase
    the personal data of enquiries closed (unsuccessful) more than the retention period ago,
    as the scheduled jobs do; audited, and printed per authority."""
    from api.housekeeping import forget_erased, purge_expired
    from jobs.retention import run_purge, run_retention

    database = open_database()
    purged = run_purge(database, purge_expired, utcnow(), dry_run=dry_run)
    console.print(
        f"expired: {'would delete' if dry_run else 'deleted'} "
        + ", ".join(f"{n} {kind}" for kind, n in purged.items()),
        markup=False,
    )
    years = years or Settings.from_env().retention_years
    if years <= 0:
        console.print("retention is off (FOSTERING_RETENTION_YEARS=0): nothing erased")
        return
    report = run_retention(
        database, london_today(), years, dry_run=dry_run, after_erasure=forget_erased
    )
    verb = "would erase" if dry_run else "erased"
    console.print(
        f"enquiries closed on or before {report.closed_on_or_before.isoformat()} "
        f"({years} years): {verb} the personal data of {report.total}",
        markup=False,
        soft_wrap=True,
    )
    for code, count in report.erased.items():
        console.print(f"  {code}: {count}", markup=False)
