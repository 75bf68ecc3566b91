"""The retention job: erase the personal data of closed, unsuccessful enquiries kept past the
retention period (FOSTERING_RETENTION_YEARS, default 3), in short transactions, and report
what it did. Scheduled daily by `jobs.scheduler`; `fostering retention run` runs it now.

The purge job deletes what is kept only for a while and has expired (the API's uploads
waiting for their confirmation and its stored idempotent responses: `api.housekeeping`,
handed in as `Purge`). Scheduled every 15 minutes; `fostering retention run` runs it too."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from tracker.core.db import Database
from tracker.enquiries.retention import (
    BATCH,
    AfterErasure,
    RetentionReport,
    count_expired,
    erase_expired,
)

log = logging.getLogger("fostering.jobs")


class Purge(Protocol):
    """Delete (or, with `dry_run`, count) the expired rows in the session's transaction; how
    many of each kind (`api.housekeeping.purge_expired`)."""

    def __call__(
        self, session: Session, now: datetime | None = None, *, dry_run: bool = False
    ) -> Mapping[str, int]: ...


def run_retention(
    database: Database,
    today: date,
    years: int,
    *,
    dry_run: bool = False,
    after_erasure: AfterErasure | None = None,
) -> RetentionReport:
    """Erase (or, with `dry_run`, count) every enquiry due, a batch per transaction, so other
    writers wait at most one batch; the report sums the batches."""
    if dry_run:
        with database.read_session() as session:
            return count_expired(session, today, years)
    erased: dict[str, int] = {}
    while True:
        with database.writing() as session:
            batch = erase_expired(session, today, years, limit=BATCH, after_erasure=after_erasure)
        for code, count in batch.erased.items():
            erased[code] = erased.get(code, 0) + count
        if batch.total < BATCH:
            break
    report = RetentionReport(
        years=years,
        closed_on_or_before=batch.closed_on_or_before,
        dry_run=False,
        erased=dict(sorted(erased.items())),
        total=sum(erased.values()),
    )
    log.info(
        "retention: erased the personal data of %d enquiries closed on or before %s (%s)",
        report.total,
        report.closed_on_or_before.isoformat(),
        ", ".join(f"{code}: {n}" for code, n in report.erased.items()) or "none due",
    )
    return report


def run_purge(
    database: Database, purge: Purge, now: datetime, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete (or, with `dry_run`, count) every expired row in one transaction; logged when
    anything was deleted. How many of each kind."""
    if dry_run:
        with database.read_session() as session:
            return dict(purge(session, now, dry_run=True))
    with database.writing() as session:
        purged = dict(purge(session, now, dry_run=False))
    if any(purged.values()):
        log.info(
            "purge: deleted expired %s",
            ", ".join(f"{kind}: {n}" for kind, n in purged.items()),
        )
    return purged
