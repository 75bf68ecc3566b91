"""Capacity views (a region's, England's, and one council's figures as at a day) kept once
computed, until what they are built from changes.

A view is keyed by its scope, its date and the revision of its councils
(`tracker.core.revisions`: every audited change of a council's records moves it when the
change commits): a write to a household, placement, unavailability, return, children's
figure or authority moves it, so the next read computes the view afresh; reads between
writes cost one small query instead of every council's register. The revision is read
before the view is computed (or, for a view of which nothing is kept, by the computation's
first statement), so a change committed in between is at worst computed again, never
hidden. Views are also kept at most `max_age_s`, so rows loaded without an audit
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
from tracker.core.revisions import revision, seen

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
        # How many kept keys each family has (a tuple key less its last part: a council's
        # view less its revision).
        self._families: dict[Hashable, int] = {}

    def _added(self, key: Hashable) -> None:
        if isinstance(key, tuple):
            self._families[key[:-1]] = self._families.get(key[:-1], 0) + 1

    def _dropped(self, key: Hashable) -> None:
        if isinstance(key, tuple):
            left = self._families.pop(key[:-1], 1) - 1
            if left:
                self._families[key[:-1]] = left

    def _store(self, key: Hashable, view: object) -> None:
        """Keep `view` under `key`, dropping the least recently used past the size; hold
        the lock."""
        if key not in self._views:
            self._added(key)
        self._views[key] = (time.monotonic(), view)
        self._views.move_to_end(key)
        while len(self._views) > self._size:
            self._dropped(self._views.popitem(last=False)[0])

    def _kept(self, key: Hashable) -> tuple[bool, object]:
        """(True, the view) when one is kept under `key` and not past its age; hold the lock."""
        kept = self._views.get(key)
        if kept is None:
            return False, None
        if self._max_age_s is not None and time.monotonic() - kept[0] > self._max_age_s:
            del self._views[key]
            self._dropped(key)
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
                    self._store(key, computed)
                    self._computing.pop(key, None)
        return computed

    def holds_family(self, family: tuple[Hashable, ...]) -> bool:
        """Whether a view is kept under a key `family` + (one more part,) (perhaps past its
        age)."""
        with self._lock:
            return family in self._families

    def compute_and_keep(self, compute: Callable[[], tuple[Hashable | None, T]]) -> T:
        """`compute()`'s view, kept under the key it returns with it (known only once
        computed; None: not kept), in its turn at the gate. Readers asking at once each
        compute."""
        with self._gate.turn():
            key, computed = compute()
        if key is not None:
            with self._lock:
                self._store(key, computed)
        return computed

    def clear(self) -> None:
        """Forget every view (tests; an installation's authorities reloaded)."""
        with self._lock:
            self._views.clear()
            self._families.clear()


def council_views(gate: ComputeGate = UNLIMITED) -> ViewCache:
    """The store of one council's views (`kept_for_council`), one per process."""
    return ViewCache(COUNCIL_VIEWS, gate=gate)


def kept_for_council(
    session: Session,
    views: ViewCache | None,
    authority_code: str,
    key: tuple[Hashable, ...],
    compute: Callable[[], T],
    *,
    notes_revision: bool = False,
) -> T:
    """`compute()`'s view of one council, kept in `views` under `key` until the council's
    revision moves (any audited change of its records); with no `views`, computed afresh.
    The revision is read first, so a change committed meanwhile is at worst computed again,
    never hidden. `notes_revision`: `compute` reads the council's revision in its first
    statement (`revisions.note_revision`); when no view of `key` is kept at any revision
    (a new period or day), that saves the revision its own query. A read session not
    begun yet reads in autocommit on PostgreSQL (`autocommit_reads`)."""
    autocommit_reads(session)
    if views is None:
        return compute()
    family = (*key, authority_code)
    unknown = seen(session, authority_code) is None
    if notes_revision and unknown and not views.holds_family(family):

        def computed() -> tuple[Hashable | None, T]:
            view = compute()
            # Noted by compute's first statement, before it read anything else.
            changes = seen(session, authority_code)
            return ((*family, changes) if changes is not None else None), view

        return views.compute_and_keep(computed)
    changes = revision(session, authority_code)
    return views.get_or_compute((*family, changes), compute)
