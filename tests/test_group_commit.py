"""Enquiries logged together (tracker.enquiries.service.create_enquiries) and the thread that
groups the API's creates into one transaction (tracker.core.group_commit): each enquiry gets
its own row, history, audit entry and count, a refused one fails alone, and the prepared
months equal a rebuild; on SQLite and PostgreSQL. Also SQLite's checkpoints off the writers'
path (tracker.core.wal_checkpoints)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Sequence
from datetime import date, timedelta

import msgspec
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.conftest import STOKE, bearer
from tests.test_monthly_figures import TODAY, D, _compare, _stored
from tracker.core.access import SYSTEM
from tracker.core.audit import AuditEntry
from tracker.core.db import Database
from tracker.core.errors import ConflictError, DomainError, InvalidValueError, NotFoundError
from tracker.core.group_commit import GroupCommit
from tracker.core.monthly_tables import FunnelMonth, FunnelMonthEvents
from tracker.core.monthly_upkeep import rebuild
from tracker.core.wal_checkpoints import WalCheckpoints
from tracker.enquiries.schemas import NewEnquiry
from tracker.enquiries.service import PendingEnquiry, create_enquiries
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.enquiries.vocabulary import Channel

BASE = f"/api/v1/authorities/{STOKE}/enquiries"


@pytest.fixture
def built(authorities: Database) -> Database:
    """Stoke with its prepared figures built (as in test_monthly_figures)."""
    with authorities.writing() as session:
        rebuild(session, STOKE, TODAY)
    return authorities


def _pending(received: date, name: str, **fields: object) -> PendingEnquiry:
    new = NewEnquiry(
        received_on=received, channel=Channel.PHONE, enquirer_name=name, note=f"note {name}"
    )
    return PendingEnquiry(SYSTEM, STOKE, msgspec.structs.replace(new, **fields), TODAY)


def test_a_batch_writes_each_enquiry_and_refuses_the_bad_ones_alone(built):
    with built.writing() as session:
        create_enquiries(session, [_pending(D(2025, 4, 2), "Taken", external_ref="REF-1")])
    batch = [
        _pending(D(2025, 5, 2), "Ann"),
        _pending(TODAY + timedelta(days=1), "Future"),
        _pending(D(2025, 5, 9), "Bob", campaign="Spring", channel=Channel.WEB_FORM),
        PendingEnquiry(SYSTEM, "E99999999", _pending(D(2025, 5, 3), "Nowhere").new, TODAY),
        _pending(D(2025, 5, 4), "Again", external_ref="REF-1"),
        _pending(D(2025, 6, 1), "Cat", external_ref="REF-2"),
        _pending(D(2025, 6, 2), "Twice", external_ref="REF-2"),
        _pending(D(2025, 5, 20), "Dan", campaign="Spring", channel=Channel.WEB_FORM),
    ]
    with built.writing() as session:
        results = create_enquiries(session, batch)
    kinds = [type(r).__name__ for r in results]
    assert kinds == [
        "EnquiryRecord",
        "InvalidValueError",
        "EnquiryRecord",
        "NotFoundError",
        "ConflictError",
        "EnquiryRecord",
        "ConflictError",
        "EnquiryRecord",
    ]
    assert isinstance(results[1], InvalidValueError) and results[1].field == "received_on"
    assert isinstance(results[3], NotFoundError) and results[3].field == "code"
    assert isinstance(results[4], ConflictError) and isinstance(results[6], ConflictError)
    made = [r for r in results if not isinstance(r, DomainError)]
    assert len({r.id for r in made}) == 4
    with built.read_session() as session:
        for sent, record in zip(batch, results, strict=True):
            if isinstance(record, DomainError):
                continue
            # Each record is its own row: the name sent, its note in its own history.
            row = session.get(Enquiry, record.id)
            assert row is not None and row.enquirer_name == sent.new.enquirer_name
            assert record.enquirer_name == sent.new.enquirer_name
            notes = session.scalars(
                select(EnquiryEvent.note).where(EnquiryEvent.enquiry_id == record.id)
            ).all()
            assert notes == [sent.new.note]
            audited = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.entity == "enquiry", AuditEntry.entity_id == str(record.id))
            )
            assert audited == 1
        refused = session.scalar(
            select(func.count())
            .select_from(Enquiry)
            .where(Enquiry.enquirer_name.in_(["Future", "Nowhere", "Again", "Twice"]))
        )
        assert refused == 0
    counted = [_stored(built, t) for t in (FunnelMonth, FunnelMonthEvents)]
    _compare(built)
    with built.writing() as session:
        rebuild(session, STOKE, TODAY)
    assert [_stored(built, t) for t in (FunnelMonth, FunnelMonthEvents)] == counted


class _Held:
    """A writer whose first write (of 1) waits until `release()`, so that what is submitted
    meanwhile queues up; `apply` may stand in front of the waiting one."""

    def __init__(self, db: Database, front=None) -> None:
        self.seen: list[list[int]] = []
        self._started, self._release = threading.Event(), threading.Event()
        self.writer: GroupCommit[int, int] = GroupCommit(
            db, front(self._apply, self.seen) if front else self._apply, name="test-writer"
        )

    def _apply(self, session, items: Sequence[int]) -> list[int | DomainError]:
        self.seen.append(list(items))
        if len(self.seen) == 1:
            self._started.set()
            self._release.wait(10)
        session.execute(text("SELECT 1"))
        return [
            InvalidValueError("odd", field="n") if item % 2 and item > 100 else item * 10
            for item in items
        ]

    def __enter__(self) -> _Held:
        self.writer.start()
        self.first = self.writer.submit(1)
        assert self._started.wait(10)
        return self

    def release(self) -> None:
        self._release.set()
        assert self.first.result(10) == 10

    def __exit__(self, *_: object) -> None:
        self._release.set()
        self.writer.stop()


def test_writes_waiting_while_one_is_written_go_together(db: Database):
    with _Held(db) as held:
        waiting = [held.writer.submit(n) for n in (2, 3, 104, 105)]
        held.release()
        assert [f.result(10) for f in waiting[:3]] == [20, 30, 1040]
        with pytest.raises(InvalidValueError):
            waiting[3].result(10)
    assert held.seen == [[1], [2, 3, 104, 105]] and held.writer.batches == 2


def test_a_batch_whose_transaction_fails_is_written_one_by_one(db: Database):
    def front(apply, seen):
        def breaking(session, items: Sequence[int]) -> list[int | DomainError]:
            if 13 in items:
                seen.append(list(items))
                raise IntegrityError("INSERT", None, Exception("13 breaks a constraint"))
            return apply(session, items)

        return breaking

    with _Held(db, front) as held:
        futures = [held.writer.submit(n) for n in (11, 12, 13, 14)]
        held.release()
        assert [f.result(10) for f in (futures[0], futures[1], futures[3])] == [110, 120, 140]
        with pytest.raises(IntegrityError):
            futures[2].result(10)
    assert held.seen == [[1], [11, 12, 13, 14], [11], [12], [13], [14]]


def test_a_batch_the_database_cannot_take_fails_at_once(db: Database):
    def front(apply, seen):
        def locked(session, items: Sequence[int]) -> list[int | DomainError]:
            if len(items) > 1:
                seen.append(list(items))
                raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
            return apply(session, items)

        return locked

    with _Held(db, front) as held:
        futures = [held.writer.submit(n) for n in (2, 3, 4)]
        held.release()
        for future in futures:
            with pytest.raises(OperationalError):
                future.result(10)
    assert held.seen == [[1], [2, 3, 4]]


def test_a_write_cancelled_before_its_turn_is_not_written(db: Database):
    with _Held(db) as held:
        gone, kept = held.writer.submit(2), held.writer.submit(3)
        assert gone.cancel()
        held.release()
        assert kept.result(10) == 30
    assert held.seen == [[1], [3]]


def test_creates_sent_at_once_each_get_their_own_enquiry(client, tokens, db):
    def send(n: int) -> tuple[str, dict]:
        name = f"Parallel {n}"
        body = {
            "received_on": (TODAY - timedelta(days=n % 5)).isoformat(),
            "channel": "web_form",
            "enquirer_name": name,
            "note": f"sent by thread {n}",
        }
        response = client.post(BASE, json=body, headers=bearer(tokens["recruiter_stoke"]))
        assert response.status_code == 201, response.text
        return name, response.json()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        made = list(pool.map(send, range(40)))
    assert len({record["id"] for _, record in made}) == 40
    for name, record in made:
        assert record["enquirer_name"] == name
        history = client.get(
            f"{BASE}/{record['id']}/history", headers=bearer(tokens["recruiter_stoke"])
        ).json()
        assert [h["note"] for h in history] == [f"sent by thread {name.split()[1]}"]
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Enquiry)) == 40


def test_checkpoints_run_off_the_writers_path_on_sqlite(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with database.engine.connect() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.commit()
        checkpoints = WalCheckpoints(database, interval_s=3600)
        checkpoints.start()

        def autocheckpoint() -> int:
            with database.engine.connect() as conn:
                return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())

        assert autocheckpoint() == 0
        with database.writing() as session:
            for n in range(2000):
                session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        logged, copied = checkpoints.checkpoint()
        assert logged > 0 and copied == logged
        checkpoints.stop()
        assert autocheckpoint() == 1000
        with database.read_session() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 2000
    finally:
        database.dispose()


def test_writes_from_an_event_loop_get_their_results_in_one_call_per_batch(db: Database):
    with _Held(db) as held:

        async def send() -> tuple[list[object], bool]:
            waiting = [asyncio.ensure_future(held.writer.write(n)) for n in (2, 3, 104, 105, 6)]
            await asyncio.sleep(0.05)  # all five queued behind the held write
            gone = waiting.pop()
            gone.cancel()
            held.release()
            done = await asyncio.gather(*waiting, return_exceptions=True)
            return done, gone.cancelled()

        done, cancelled = asyncio.run(send())
    assert done[:3] == [20, 30, 1040] and isinstance(done[3], InvalidValueError)
    assert cancelled
    assert held.seen == [[1], [2, 3, 104, 105]]  # the cancelled write was never written
    assert held.writer.wakeups == 1  # the first write's future is a thread's: no call
