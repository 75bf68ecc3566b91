"""SQLite's writers of one process queue on a lock instead of in SQLite's busy loop.

SQLite lets one transaction write at a time. A ``BEGIN IMMEDIATE`` that finds the write lock
taken retries in SQLite's busy handler, which sleeps between tries (1, 2, 5, 10 ... then
100 ms): with ten clients writing at once most of a write's time went on those sleeps (56 ms
of a 76 ms enquiry create in bench/create_profile.py), the lock often free while every waiter
slept, and the unlucky waited a second. The writers of one process now wait in line on a
lock per database file, taken just before ``BEGIN IMMEDIATE`` and given back as soon as the
transaction commits or rolls back, so the next writer starts at once. Other processes (the
CLI, a second server worker) still meet the write lock in SQLite's busy handler, as before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

_gates: dict[str, threading.Lock] = {}
_gates_lock = threading.Lock()


def gate_for(database: str | None) -> threading.Lock:
    """The write gate of a SQLite database file (one per file in the process; a new one for
    an in-memory database, which no other engine shares)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return threading.Lock()
    key = os.path.realpath(database)
    with _gates_lock:
        return _gates.setdefault(key, threading.Lock())


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that gives its write gate back when its transaction ends."""

    _gate: threading.Lock | None = None

    def hold(self, gate: threading.Lock, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the gate and hold it until the transaction ends;
        False when it stayed taken (the caller then fails as a busy database would)."""
        if not gate.acquire(timeout=timeout_s):
            return False
        self._gate = gate
        return True

    def release_gate(self) -> None:
        """Give the gate back (when held and no transaction is open any more)."""
        gate = self._gate
        if gate is not None and not self.in_transaction:
            self._gate = None
            gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            gate, self._gate = self._gate, None
            if gate is not None:
                gate.release()


def connect_args(busy_timeout_s: float) -> dict[str, Any]:
    """The sqlite3.connect arguments of a gated engine."""
    return {"timeout": busy_timeout_s, "check_same_thread": False, "factory": GatedConnection}
