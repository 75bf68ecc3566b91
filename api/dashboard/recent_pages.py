"""Pages built in the last minute, so a download serves the table the person has just seen
without working the whole page out again (a capacity or forecasts page takes a good part of
a second on PostgreSQL). Viewing a page always builds it afresh; only downloads read here."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from api.dashboard.layout import Page

MAX_AGE_S = 60.0
MAX_PAGES = 128


class RecentPages:
    """A small, thread-safe, least-recently-used store of built pages with an age limit."""

    def __init__(self, max_age_s: float = MAX_AGE_S, max_pages: int = MAX_PAGES) -> None:
        self._max_age_s = max_age_s
        self._max_pages = max_pages
        self._pages: OrderedDict[Hashable, tuple[float, Page]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Page | None:
        """The page stored under `key` if it is young enough."""
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            built_at, page = found
            if time.monotonic() - built_at > self._max_age_s:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: Page) -> None:
        """Store a page just built, forgetting the least recently used beyond the limit."""
        with self._lock:
            self._pages[key] = (time.monotonic(), page)
            self._pages.move_to_end(key)
            while len(self._pages) > self._max_pages:
                self._pages.popitem(last=False)
