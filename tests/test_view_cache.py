"""The capacity views' store: one computation per key however many ask at once, least
recently used dropped first."""

import time
from concurrent.futures import ThreadPoolExecutor

from tracker.core.view_cache import ViewCache


def test_readers_of_a_view_being_computed_wait_for_it():
    views = ViewCache()
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "view"

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: views.get_or_compute("k", compute), range(8)))
    assert answers == ["view"] * 8
    assert len(calls) == 1


def test_the_least_recently_used_view_goes_first():
    views = ViewCache(size=2)
    views.get_or_compute("a", lambda: 1)
    views.get_or_compute("b", lambda: 2)
    views.get_or_compute("a", lambda: 0)  # a is used again: b is now the oldest
    views.get_or_compute("c", lambda: 3)
    assert views.get_or_compute("a", lambda: -1) == 1
    assert views.get_or_compute("b", lambda: 22) == 22
