"""Regional and national capacity views kept once computed, until what they are built from
changes.

A view is keyed by its scope, its date and the latest recorded change to its sources
(`regional.last_modified`, the same marker the regional view's Last-Modified header gives):
a write to a household, placement, unavailability, return, children's figure or authority
moves the marker, so the next read computes the view afresh; reads between writes cost one
marker query instead of every council's register. The marker is read before the view is
computed, so a change committed in between is at worst computed again, never hidden. Each
process keeps its own views (a few dozen, least recently used dropped first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

SIZE = 64
"""Views kept: every region on a few dates, and England's."""


class ViewCache:
    """Computed views by key, least recently used dropped first; safe across threads."""

    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._views: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The view kept under `key`, else `compute()`'s, kept. Readers asking for a view
        being computed wait for it rather than computing it again."""
        with self._lock:
            if key in self._views:
                self._views.move_to_end(key)
                return self._views[key]  # type: ignore[return-value]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                if key in self._views:
                    return self._views[key]  # type: ignore[return-value]
            view = compute()
            with self._lock:
                self._views[key] = view
                self._views.move_to_end(key)
                while len(self._views) > self._size:
                    self._views.popitem(last=False)
                self._computing.pop(key, None)
        return view

    def clear(self) -> None:
        """Forget every view (tests; an installation's authorities reloaded)."""
        with self._lock:
            self._views.clear()
