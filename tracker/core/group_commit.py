"""Writes of one kind from many requests made by one thread, as many at a time as are waiting,
in one transaction (group commit).

SQLite lets one transaction write at a time, and most of a small write's cost is the same
whatever it writes: a session, BEGIN IMMEDIATE, each statement's execution, the commit, the
write gate passed from thread to thread. Requests hand their write to a `GroupCommit` and
wait for its result; its thread takes every write waiting, does them in one transaction by
one call of its `apply` (which writes them all at once and refuses, one by one, those it must),
commits, and hands each request its own result. A write arriving alone is written alone, at
once; under load the writes share the transaction's cost.

`apply` returns, for each write, its result or the `DomainError` that refused it; a refused
write is not written and does not fail the others. When the transaction itself fails (a
database error), each write of the batch is tried again alone, so that only those that fail
on their own fail.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from tracker.core.db import Database
from tracker.core.errors import DomainError

Item = TypeVar("Item")
Result = TypeVar("Result")

MOST = 64
"""Writes in one transaction at most."""
ONE_WRITES_FAULT = (IntegrityError, DataError)
"""Failures that one write of a batch may have caused: the batch's writes are then tried
alone. Any other (the database locked past its busy timeout, a lost connection) fails the
whole batch at once, rather than each of its writes waiting for it in turn."""

log = logging.getLogger("fostering.db")


class _Stop:
    """Tells the thread to end once the writes queued before it are done."""


Waiter = Future[Result] | asyncio.Future[Result]
"""Where a write's result goes: a thread's future (`submit`) or an event loop's (`write`)."""


def _take(waiter: Waiter[Result]) -> bool:
    """Whether the write is still wanted; a thread's future can no longer be cancelled after."""
    if isinstance(waiter, Future):
        return waiter.set_running_or_notify_cancel()
    return not waiter.cancelled()


def _resolve(waiter: Waiter[Result], outcome: Result | BaseException) -> None:
    """Give the waiter its write's result, or its error."""
    if isinstance(outcome, BaseException):
        waiter.set_exception(outcome)
    else:
        waiter.set_result(outcome)


def _settle(outcomes: list[tuple[asyncio.Future[Result], Result | BaseException]]) -> None:
    """In the event loop: hand each waiting request its result (skipping any gone since)."""
    for waiter, outcome in outcomes:
        if not waiter.done():
            _resolve(waiter, outcome)


class GroupCommit(Generic[Item, Result]):
    """A thread that writes `Item`s in batches with `apply(session, items)`."""

    def __init__(
        self,
        database: Database,
        apply: Callable[[Session, Sequence[Item]], list[Result | DomainError]],
        *,
        name: str,
        most: int = MOST,
    ) -> None:
        self._database = database
        self._apply = apply
        self._name = name
        self._most = most
        self._queue: queue.SimpleQueue[tuple[Item, Waiter[Result]] | _Stop] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        """Transactions committed so far (for tests and benchmarks)."""
        self.wakeups = 0
        """Calls into an event loop made to hand over results (for tests and benchmarks)."""

    def start(self) -> None:
        """Start the writing thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the writing thread has started (and not been stopped)."""
        return self._thread is not None

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_Stop())
            thread.join()

    def submit(self, item: Item) -> Future[Result]:
        """Queue one write; the future holds its result, or the error that refused it."""
        if self._thread is None:
            raise RuntimeError(f"{self._name} is not running")
        future: Future[Result] = Future()
        self._queue.put((item, future))
        return future

    async def write(self, item: Item) -> Result:
        """Queue one write from an event loop and wait for its result (or its error). The
        results of one batch reach a loop in one call, not one wake-up per write."""
        if self._thread is None:
            raise RuntimeError(f"{self._name} is not running")
        waiter: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.put((item, waiter))
        return await waiter

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if isinstance(first, _Stop):
                return
            batch = [first]
            while len(batch) < self._most:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(more, _Stop):
                    stopping = True
                    break
                batch.append(more)
            # A write whose request went away before its turn is dropped; one taken can no
            # longer be cancelled, so its result always has a future to go to.
            taken = [entry for entry in batch if _take(entry[1])]
            if taken:
                self._write(taken)

    def _write(self, batch: list[tuple[Item, Waiter[Result]]]) -> None:
        try:
            with self._database.write_session() as session:
                results = self._apply(session, [item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for {len(batch)} writes")
                session.commit()
        except Exception as failed:
            if len(batch) == 1 or not isinstance(failed, ONE_WRITES_FAULT):
                self._hand_over([(waiter, failed) for _, waiter in batch])
                return
            log.warning("%s: a batch of %d failed; writing each alone", self._name, len(batch))
            for one in batch:
                self._write([one])
            return
        self.batches += 1
        waiters = [waiter for _, waiter in batch]
        self._hand_over(list(zip(waiters, results, strict=True)))

    def _hand_over(self, outcomes: Sequence[tuple[Waiter[Result], Result | BaseException]]) -> None:
        """Each write's result or error to its waiter: a thread's future at once, an event
        loop's in one call per loop."""
        by_loop: defaultdict[asyncio.AbstractEventLoop, list[Any]] = defaultdict(list)
        for waiter, outcome in outcomes:
            if isinstance(waiter, Future):
                _resolve(waiter, outcome)
            else:
                by_loop[waiter.get_loop()].append((waiter, outcome))
        for loop, waiting in by_loop.items():
            self.wakeups += 1
            try:
                loop.call_soon_threadsafe(_settle, waiting)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                log.warning("%s: %d results had no event loop to go to", self._name, len(waiting))
