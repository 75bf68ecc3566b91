"""What the API's own tables (`api.tables`) do when an enquirer is erased or their rows expire:
the hooks the erasing routes, the retention job and the scheduler's purge job call (`jobs/`
never imports `api/`: `fostering serve`, `fostering worker` and `fostering retention run`
hand these functions to it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from api.dashboard import uploads
from api.idempotency import store as idempotency
from tracker.core.clock import utcnow
from tracker.core.db import checkpoint_after_commit


def forget_erased(session: Session, authority_code: str, enquiry_id: int) -> None:
    """After an enquirer's erasure, in its transaction: the stored responses that showed them
    become tombstones (`idempotency.forget_enquiry`), and the council's enquiry uploads
    waiting for their confirmation are deleted, whoever sent them (any may hold the person;
    the uploader checks the file again)."""
    idempotency.forget_enquiry(session, authority_code, enquiry_id)
    uploads.drop_enquiry_uploads(session, authority_code)


def purge_expired(
    session: Session, now: datetime | None = None, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete (or, with `dry_run`, count) the uploads waiting past their hour and the
    responses kept past their 24 hours, in the session's transaction; how many of each."""
    now = now or utcnow()
    if dry_run:
        return {
            "waiting uploads": uploads.count_expired(session, now=now),
            "stored responses": idempotency.count_expired(session.connection(), now=now),
        }
    purged = {
        "waiting uploads": uploads.purge_expired(session, now=now),
        "stored responses": idempotency.purge_expired(session.connection(), now=now),
    }
    if any(purged.values()):
        # What the deletion freed must leave SQLite's write-ahead log too.
        checkpoint_after_commit(session)
    return purged
