"""`fostering retention run`: the retention job now, or a dry run that only counts."""

from __future__ import annotations

import click

from api.cli.base import console, main, open_database
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
    """Erase the personal data of enquiries closed (unsuccessful) more than the retention
    period ago, as the nightly job does; audited, and printed per authority."""
    from api.idempotency.store import forget_enquiry
    from jobs.retention import run_retention

    years = years or Settings.from_env().retention_years
    if years <= 0:
        console.print("retention is off (FOSTERING_RETENTION_YEARS=0): nothing erased")
        return
    report = run_retention(
        open_database(), london_today(), years, dry_run=dry_run, after_erasure=forget_enquiry
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
