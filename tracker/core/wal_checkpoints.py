"""SQLite's write-ahead log copied into the database file by a thread of the server, off the
writers' path.

By default the connection whose commit takes the log past 1,000 pages copies it into the
database file and syncs the file, inside that commit. One create in about sixty then held
every other writer of the process (`tracker.core.write_gate`) for tens to hundreds of
milliseconds, which on the national data set bounded enquiry creates at 10 clients more than
their CPU did (bench/create_profile.py: the write gate's mean hold 4.9 ms, its median 1.8).

A server turns its connections' automatic checkpoints off and runs a passive checkpoint from a
thread of its own every `INTERVAL_S`. A passive checkpoint neither waits for nor blocks
readers and writers; once it has copied the whole log, the next writer starts the log again
from its beginning, so the file stays as large as the writes between two checkpoints. Other
processes (the CLI, a one-off import) keep SQLite's automatic checkpoints, and an erasure still
empties the log at once (`tracker.core.db.checkpoint_wal`).
"""

from __future__ import annotations

import logging
import threading

from tracker.core.db import Database

INTERVAL_S = 0.5
"""Seconds between two checkpoints: at a few hundred writes a second, a few thousand pages."""

log = logging.getLogger("fostering.db")


class WalCheckpoints:
    """Passive checkpoints of one SQLite database from a daemon thread (nothing on
    PostgreSQL, which checkpoints itself)."""

    def __init__(self, database: Database, interval_s: float = INTERVAL_S) -> None:
        self._database = database
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Turn the connections' automatic checkpoints off and start the thread."""
        if not self._database.is_sqlite or self._thread is not None:
            return
        self._database.set_automatic_checkpoints(False)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="fostering-wal-checkpoints", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after one last checkpoint, and give the connections their
        automatic checkpoints back."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        self.checkpoint()
        self._database.set_automatic_checkpoints(True)

    def checkpoint(self) -> tuple[int, int]:
        """One passive checkpoint now: the pages in the log and those copied into the file."""
        with self._database.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()
            try:
                _busy, logged, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                cursor.close()
        return int(logged), int(copied)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.checkpoint()
            except Exception:  # the next one tries again; the log only grows meanwhile
                log.exception("WAL checkpoint failed")
