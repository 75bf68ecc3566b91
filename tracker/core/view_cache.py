"""Capacity views (a region's, England's, and one council's figures as at a day) kept once
computed, until what they are built from changes.

A view is keyed by its scope, its date and the revision of its councils
(`tracker.core.revisions`: every audited change of a council's records moves it when the
change commits): a write to a household, placement, unavailability, return, children's
figure or authority moves it, so the next read computes the view afresh; reads between
writes cost one small query instead of every council's register. The revision is read
before the view is computed, so a change committed in between is at worst computed again,
never hidden. Views are also kept at most `max_age_s`, so rows loaded without an audit
entry (a demo or bulk load beside a running server) show within that time. Each process
keeps its own views (least recently used dropped first).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.orm import Session

from tracker.core.db import autocommit_reads
from tracker.core.revisions import revision

T = TypeVar("T")

SIZE = 64
"""Views kept: every region on a few dates, and England's."""
MAX_AGE_S = 300.0
"""Kept at most this long, whatever the revisions say."""
COUNCIL_VIEWS = 1024
"""Councils' views kept per process: a few of each council's (figures on a day, funnels)."""


class ComputeGate:
    """At most `limit` views computed at once in the process (None: any number). A view
    asked for while its thread computes another passes, so nested views never wait on their
    own thread. Taken before a view's own lock, so a thread never holds one while waiting
    here."""

    def __init__(self, limit: int | None) -> None:
        self._slots = threading.BoundedSemaphore(limit) if limit else None
        self._inside = threading.local()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for a free slot (none when nested in a computation, or unlimited)."""
        if self._slots is None or getattr(self._inside, "held", False):
            yield
            return
        with self._slots:
            self._inside.held = True
            try:
                yield
            finally:
                self._inside.held = False


UNLIMITED = ComputeGate(None)


class ViewCache:
    """Computed views by key, least recently used dropped first; safe across threads."""

    def __init__(
        self,
        size: int = SIZE,
        max_age_s: float | None = MAX_AGE_S,
        gate: ComputeGate = UNLIMITED,
    ) -> None:
        self._size = size
        self._max_age_s = max_age_s
        self._gate = gate
        self._views: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def _kept(self, key: Hashable) -> tuple[bool, object]:
        """(True, the view) when one is kept under `key` and not past its age; hold the lock."""
        kept = self._views.get(key)
        if kept is None:
            return False, None
        if self._max_age_s is not None and time.monotonic() - kept[0] > self._max_age_s:
            del self._views[key]
            return False, None
        self._views.move_to_end(key)
        return True, kept[1]

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The view kept under `key`, else `compute()`'s, kept. Readers asking for a view
        being computed wait for it rather than computing it again."""
        with self._lock:
            found, view = self._kept(key)
            if found:
                return view  # type: ignore[return-value]
        with self._gate.turn():
            with self._lock:
                computing = self._computing.setdefault(key, threading.Lock())
            with computing:
                with self._lock:
                    found, view = self._kept(key)
                    if found:
                        return view  # type: ignore[return-value]
                computed = compute()
                with self._lock:
                    self._views[key] = (time.monotonic(), computed)
                    self._views.move_to_end(key)
                    while len(self._views) > self._size:
                        self._views.popitem(last=False)
                    self._computing.pop(key, None)
        return computed

    def clear(self) -> None:
        """Forget every view (tests; an installation's authorities reloaded)."""
        with self._lock:
            self._views.clear()


def council_views(gate: ComputeGate = UNLIMITED) -> ViewCache:
    """The store of one council's views (`kept_for_council`), one per process."""
    return ViewCache(COUNCIL_VIEWS, gate=gate)


def kept_for_council(
    session: Session,
    views: ViewCache | None,
    authority_code: str,
    key: tuple[Hashable, ...],
    compute: Callable[[], T],
) -> T:
    """`compute()`'s view of one council, kept in `views` under `key` until the council's
    revision moves (any audited change of its records); with no `views`, computed afresh.
    The revision is read first, so a change committed meanwhile is at worst computed again,
    never hidden. A read session not begun yet reads in autocommit on PostgreSQL
    (`autocommit_reads`)."""
    autocommit_reads(session)
    if views is None:
        return compute()
    changes = revision(session, authority_code)
    return views.get_or_compute((*key, authority_code, changes), compute)
