"""Upkeep of the prepared monthly figures: the one call every write path makes, in its own
transaction, with the council and what it touched; and the rebuild of a council's figures.

Each call recomputes the touched council-months from the raw rows and replaces them (a new
enquiry is only counted in, an UPDATE or two instead of a dozen statements), so the prepared
figures equal the reference computation after every commit. Councils not yet built are left
alone (their reads compute from the raw rows until `rebuild` builds them).

On PostgreSQL each call first takes the council's upkeep lock (a transaction-scoped advisory
lock), so two transactions never recompute the same council's months at once: without it, two
refreshes of one month could both delete and both insert (a duplicate key), or one could miss
the other's rows. The lock is held to the end of the writer's transaction; a council's writes
queue behind each other's upkeep, other councils' do not. SQLite serialises every write anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from forecast.months import add_months, month_label, months_from, parse_month
from tracker.capacity.monthly import first_register_day, refresh_register_months
from tracker.core.authorities import Authority
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.core.monthly_tables import (
    FunnelMonth,
    FunnelMonthClosure,
    FunnelMonthEvents,
    FunnelMonthHistogram,
    PreparedAuthority,
    RegisterMonth,
    RegisterMonthFlow,
)
from tracker.core.prepared import is_prepared, prepared_codes
from tracker.enquiries.monthly import count_new_enquiries, refresh_funnel_months
from tracker.enquiries.stages import STAGE_ORDER
from tracker.enquiries.tables import Enquiry

ALL_TABLES = (
    FunnelMonth,
    FunnelMonthClosure,
    FunnelMonthHistogram,
    FunnelMonthEvents,
    RegisterMonth,
    RegisterMonthFlow,
)


def _lock_key(authority_code: str) -> int:
    digest = hashlib.blake2b(f"prepared:{authority_code}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _hold_upkeep_lock(session: Session, authority_code: str) -> None:
    """Wait for, then hold to the end of the transaction, the council's upkeep lock
    (PostgreSQL; see the module's docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(authority_code)}
        )


def enquiries_touched(session: Session, authority_code: str, months: Iterable[date]) -> None:
    """Bring the council's prepared funnel months up to date after enquiry writes (`months`:
    any day of each month whose figures the writes may have changed, before and after)."""
    months = list(months)
    if months and is_prepared(session, authority_code):
        session.flush()
        _hold_upkeep_lock(session, authority_code)
        refresh_funnel_months(session, authority_code, months)


def enquiries_created(session: Session, created: list[tuple[str, date, str, str | None]]) -> None:
    """Count newly logged enquiries (at the enquiry stage; each a council, receipt date,
    channel and campaign) into their councils' prepared months (`count_new_enquiries` leaves
    a council whose figures are not built alone)."""
    for code in sorted({c[0] for c in created}):
        _hold_upkeep_lock(session, code)
    count_new_enquiries(session, created)


DEFERRED = "register_upkeep_deferred"


def register_touched(session: Session, authority_code: str, since: date, today: date) -> None:
    """Bring the council's prepared register months up to date after a write to its
    households, placements or unavailability dated `since` (every later month-end moves);
    inside `register_batch` only the earliest day is noted, and refreshed once at its end."""
    deferred = session.info.get(DEFERRED)
    if deferred is not None:
        deferred[authority_code] = min(since, deferred.get(authority_code, since))
        return
    if is_prepared(session, authority_code):
        session.flush()
        _hold_upkeep_lock(session, authority_code)
        refresh_register_months(session, authority_code, since, max(today, since))


@contextmanager
def register_batch(session: Session, today: date) -> Iterator[None]:
    """Writes of many households (a register import) refresh the prepared months once, from
    the earliest day any of them touched, when the block ends without an error."""
    session.info[DEFERRED] = {}
    try:
        yield
        touched = session.info[DEFERRED]
    finally:
        del session.info[DEFERRED]
    for authority_code, since in touched.items():
        register_touched(session, authority_code, since, today)


def enquiries_imported(session: Session, authority_code: str, today: date) -> None:
    """Bring every prepared funnel month of the council up to date after a file import (its
    rows may have moved any of their dates)."""
    if is_prepared(session, authority_code):
        session.flush()
        _hold_upkeep_lock(session, authority_code)
        _refresh_all_funnel_months(session, authority_code, today)


def _refresh_all_funnel_months(session: Session, authority_code: str, today: date) -> None:
    for table in (FunnelMonth, FunnelMonthClosure, FunnelMonthHistogram, FunnelMonthEvents):
        session.execute(delete(table).where(table.authority_code == authority_code))
    columns = [getattr(Enquiry, s.date_column) for s in STAGE_ORDER] + [Enquiry.closed_on]
    bounds = session.execute(
        select(func.min(Enquiry.received_on), *(func.max(c) for c in columns)).where(
            Enquiry.authority_code == authority_code
        )
    ).one()
    if bounds[0] is not None:
        latest = max(today, *(d for d in bounds[1:] if d is not None))
        refresh_funnel_months(session, authority_code, months_from(bounds[0], latest))


def rebuild(session: Session, authority_code: str, today: date) -> None:
    """Build (or build again) a council's prepared figures from its raw rows, up to `today`'s
    month, and mark it built."""
    _hold_upkeep_lock(session, authority_code)
    for table in ALL_TABLES:
        session.execute(delete(table).where(table.authority_code == authority_code))
    _refresh_all_funnel_months(session, authority_code, today)
    first = first_register_day(session, authority_code)
    if first is not None:
        refresh_register_months(session, authority_code, first, today)
    built = session.get(PreparedAuthority, authority_code)
    if built is None:
        session.add(PreparedAuthority(authority_code=authority_code))
    else:
        built.built_at = utcnow()
    session.flush()


def rebuild_councils(
    database: Database, today: date, codes: Iterable[str] | None = None, *, missing: bool = False
) -> list[str]:
    """Rebuild the prepared figures of the named councils (default every council; with
    `missing`, only those not built yet), one short transaction each; the codes rebuilt."""
    with database.read_session() as session:
        known = list(session.scalars(select(Authority.code).order_by(Authority.code)))
        built = prepared_codes(session) if missing else set()
    wanted = known if codes is None else [c for c in codes if c in known]
    done = []
    for code in wanted:
        if code in built:
            continue
        with database.writing() as session:
            rebuild(session, code, today)
        done.append(code)
    return done


def extend_to_month(database: Database, today: date) -> list[str]:
    """Store the register's months up to `today`'s for every built council whose prepared
    months end before it (no register write this month yet): the daily job's work, so the
    current month is read off prepared rows from its first day rather than computed from the
    register until the council's first write of the month. Each council from the month after
    its last stored one (a gap of several months, after an outage, is filled whole), one short
    transaction each; the codes extended. Funnel months need no such step: a month with no
    prepared funnel rows is a month with none of those events."""
    label = month_label(today)
    with database.read_session() as session:
        behind = session.execute(
            select(PreparedAuthority.authority_code, func.max(RegisterMonth.month))
            .outerjoin(
                RegisterMonth, RegisterMonth.authority_code == PreparedAuthority.authority_code
            )
            .group_by(PreparedAuthority.authority_code)
            .order_by(PreparedAuthority.authority_code)
        ).all()
    done = []
    for code, last_stored in behind:
        if last_stored is not None and last_stored >= label:
            continue
        with database.writing() as session:
            first = (
                first_register_day(session, code)
                if last_stored is None
                else add_months(parse_month(last_stored), 1)
            )
            if first is None:
                continue
            _hold_upkeep_lock(session, code)
            refresh_register_months(session, code, first, today)
        done.append(code)
    return done
