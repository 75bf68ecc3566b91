"""SQLite writers of one process wait in line on the file's write gate (tracker.core.write_gate):
held from BEGIN IMMEDIATE to commit or rollback, shared by every engine of the file, and a
writer that waits longer than the busy timeout fails like a busy database."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tracker.core.db import Database
from tracker.core.write_gate import gate_for


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "gate.db"
    database = Database(f"sqlite:///{file}")
    with database.writing() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    database.dispose()
    return file


def test_the_gate_is_held_from_begin_to_commit_and_to_rollback(path: Path) -> None:
    database = Database(f"sqlite:///{path}")
    gate = gate_for(str(path))
    with database.writing() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        assert gate.locked()
    assert not gate.locked()
    with pytest.raises(RuntimeError), database.writing() as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
        assert gate.locked()
        raise RuntimeError("refused")
    assert not gate.locked()
    with database.read_session() as session:
        assert session.execute(text("SELECT n FROM t")).scalars().all() == [1]
        assert not gate.locked()  # reads never take it
    database.dispose()


def test_a_second_writer_waits_for_the_first_then_writes(path: Path) -> None:
    first, second = Database(f"sqlite:///{path}"), Database(f"sqlite:///{path}")
    began = threading.Event()
    held_from: list[float] = []

    def hold() -> None:
        with first.writing() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            held_from.append(time.perf_counter())
            began.set()
            time.sleep(0.3)

    thread = threading.Thread(target=hold)
    thread.start()
    began.wait(5)
    with second.writing() as session:  # another engine of the same file: the same gate
        session.execute(text("INSERT INTO t VALUES (2)"))
        started = time.perf_counter()
    thread.join()
    assert started - held_from[0] >= 0.29  # not before the first one committed
    with second.read_session() as session:
        assert sorted(session.execute(text("SELECT n FROM t")).scalars()) == [1, 2]
    first.dispose()
    second.dispose()


def test_a_writer_waiting_past_the_busy_timeout_fails_as_locked(path: Path) -> None:
    holder = Database(f"sqlite:///{path}")
    waiter = Database(f"sqlite:///{path}", busy_timeout_s=0.2)
    with holder.writing() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        began = time.perf_counter()
        with (
            pytest.raises(OperationalError, match="database is locked"),
            waiter.writing() as other,
        ):
            other.execute(text("INSERT INTO t VALUES (2)"))
        assert 0.15 < time.perf_counter() - began < 5
    with waiter.writing() as other:  # free again once the holder committed
        other.execute(text("INSERT INTO t VALUES (3)"))
    with waiter.read_session() as session:
        assert sorted(session.execute(text("SELECT n FROM t")).scalars()) == [1, 3]
    holder.dispose()
    waiter.dispose()
