"""`fostering serve` keeps its threads on one CPU where it is asked to (by default with
SQLite), and a forecast run's processes still get every CPU."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from api.cli.server import wants_one_cpu
from forecast.executors import run_process, use_every_cpu
from tests.live_server import ServeProcess, server_env
from tracker.core.settings import Settings

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux CPU affinity and at least two CPUs",
)


def _threads_cpus(pid: int) -> dict[int, str]:
    """Each thread of the process and the CPUs it may run on, as Linux lists them."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                found[int(task.name)] = line.split(":", 1)[1].strip()
    return found


def _serve(tmp_path: Path, **settings: str) -> dict[int, str]:
    env = server_env(f"sqlite:///{tmp_path / 'cpu.db'}", **settings)
    server = ServeProcess(env, tmp_path, tmp_path / "serve.log").start(timeout=120)
    try:
        assert server.proc is not None
        return _threads_cpus(server.proc.pid)
    finally:
        server.stop()


def test_serve_on_sqlite_keeps_every_thread_on_one_cpu(tmp_path):
    cpus = _serve(tmp_path)
    assert len(cpus) >= 3  # the event loop, the enquiry writer, the WAL checkpoints
    assert len(set(cpus.values())) == 1
    (only,) = set(cpus.values())
    assert only.isdigit() and int(only) in os.sched_getaffinity(0)


def test_one_cpu_false_leaves_serve_on_every_cpu(tmp_path):
    cpus = _serve(tmp_path, one_cpu="false")
    everywhere = {str(c) for c in os.sched_getaffinity(0)}
    for listed in cpus.values():
        assert _expand(listed) == everywhere


def _expand(listed: str) -> set[str]:
    found: set[str] = set()
    for part in listed.split(","):
        first, _, last = part.partition("-")
        found.update(str(c) for c in range(int(first), int(last or first) + 1))
    return found


def test_the_default_is_one_cpu_with_sqlite_alone_and_one_worker():
    assert wants_one_cpu(Settings(), is_sqlite=True, workers=1)
    assert not wants_one_cpu(Settings(), is_sqlite=False, workers=1)
    assert not wants_one_cpu(Settings(), is_sqlite=True, workers=2)
    assert wants_one_cpu(Settings(one_cpu=True), is_sqlite=False, workers=1)
    assert not wants_one_cpu(Settings.from_env({"FOSTERING_ONE_CPU": "false"}), True, 1)


def _cpus_here(_chunk: list[int], _options: object) -> set[int]:
    return os.sched_getaffinity(0)


def test_a_forecast_pool_started_from_a_thread_on_one_cpu_uses_every_cpu():
    everywhere = os.sched_getaffinity(0)
    seen: dict[str, object] = {}

    def pinned_run() -> None:
        os.sched_setaffinity(0, {min(everywhere)})
        seen["before"] = os.sched_getaffinity(0)
        seen["workers"] = [cpus for _, cpus in run_process(_cpus_here, [[1], [2]], None, 2, None)]
        seen["after"] = os.sched_getaffinity(0)

    thread = threading.Thread(target=pinned_run)
    thread.start()
    thread.join(120)
    assert seen["before"] == {min(everywhere)}
    assert seen["workers"] == [everywhere, everywhere]
    assert seen["after"] == everywhere
    use_every_cpu()  # the test's own thread was never pinned: nothing changes
    assert os.sched_getaffinity(0) == everywhere
