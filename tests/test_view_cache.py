"""The capacity views' store: one computation per key however many ask at once, least
recently used dropped first."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tracker.core.settings import Settings
from tracker.core.view_cache import ComputeGate, ViewCache


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


def _running_at_once(views: ViewCache, keys: list[str]) -> int:
    """The most computations running at the same time when each key is asked for at once."""
    lock, running, most = threading.Lock(), [0], [0]

    def compute() -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return "view"

    with ThreadPoolExecutor(len(keys)) as pool:
        list(pool.map(lambda k: views.get_or_compute(k, compute), keys))
    return most[0]


def test_a_gate_lets_only_its_limit_compute_at_once():
    keys = [f"k{i}" for i in range(6)]
    assert _running_at_once(ViewCache(gate=ComputeGate(1)), keys) == 1
    assert _running_at_once(ViewCache(gate=ComputeGate(2)), keys) == 2
    assert _running_at_once(ViewCache(), keys) == 6


def test_a_view_asked_for_inside_a_computation_passes_the_gate():
    # With one slot, a view computed inside another would wait for itself forever.
    gate = ComputeGate(1)
    outer, inner = ViewCache(gate=gate), ViewCache(gate=gate)
    answer = outer.get_or_compute("region", lambda: inner.get_or_compute("council", lambda: 7))
    assert answer == 7


def test_a_kept_view_is_answered_while_another_is_being_computed():
    gate = ComputeGate(1)
    views = ViewCache(gate=gate)
    views.get_or_compute("kept", lambda: "old")
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "new"

    with ThreadPoolExecutor(2) as pool:
        busy = pool.submit(views.get_or_compute, "slow", slow)
        assert started.wait(5)
        # The slot is taken; a kept view does not need one.
        assert pool.submit(views.get_or_compute, "kept", lambda: "x").result(timeout=2) == "old"
        release.set()
        assert busy.result(timeout=5) == "new"


def test_the_limit_is_a_setting_left_to_the_backend_when_unset():
    assert Settings.from_env({}).view_computations is None
    assert Settings.from_env({"FOSTERING_VIEW_COMPUTATIONS": "0"}).view_computations == 0
    assert Settings.from_env({"FOSTERING_VIEW_COMPUTATIONS": "3"}).view_computations == 3


def test_a_family_is_held_while_any_of_its_keys_is_kept():
    """A tuple key's family (the key less its last part, a council's view less its
    revision) is held while a key of it is kept: through views kept once computed, not
    after the last is dropped as least recently used, nor after clear."""
    views = ViewCache(size=2)
    assert views.compute_and_keep(lambda: (("capacity", "d1", "E1", 3), "a")) == "a"
    assert views.holds_family(("capacity", "d1", "E1"))
    assert views.get_or_compute(("capacity", "d1", "E1", 3), lambda: "again") == "a"
    assert views.compute_and_keep(lambda: (None, "not kept")) == "not kept"
    views.get_or_compute(("capacity", "d1", "E1", 4), lambda: "b")
    views.get_or_compute(("capacity", "d2", "E1", 4), lambda: "c")  # drops revision 3's
    assert views.holds_family(("capacity", "d1", "E1"))
    views.get_or_compute(("capacity", "d3", "E1", 4), lambda: "d")  # drops d1's last
    assert not views.holds_family(("capacity", "d1", "E1"))
    assert views.holds_family(("capacity", "d3", "E1"))
    views.clear()
    assert not views.holds_family(("capacity", "d3", "E1"))
