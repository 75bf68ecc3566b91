"""Where the engine's tasks run: a pool of local processes or a Dask distributed cluster.

A runner takes the task function, the chunks of series and the options, and yields each
chunk's index with the task's msgpack-encoded result, or a description of what failed, as
chunks finish. The task is passed by reference, so this module knows nothing of forecasting.
"""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from forecast.backtest import describe_failure

Item = TypeVar("Item")
Task = Callable[[list[Any], Any], bytes]
Outcome = tuple[int, bytes | str]
Runner = Callable[[Task, list[list[Any]], Any, int, str | None], Iterator[Outcome]]
PRELOAD = ["forecast.engine", "statsforecast.models"]
"""Modules the process pool's fork server imports once, so workers start with them loaded
(statsforecast takes about 1.5 s to import; a worker forked from the server pays nothing)."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def in_chunks(items: Sequence[Item], workers: int, largest: int) -> list[list[Item]]:
    """Items in chunks of at most `largest`, about four chunks per worker (to balance load)."""
    size = max(1, min(largest, math.ceil(len(items) / (4 * workers))))
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _process_context() -> Any:
    """Workers fork from a server that has already imported the engine (and so numpy, pandas,
    statsmodels): cheap to start, and safe in a parent that runs threads, unlike plain fork."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def run_process(
    task: Task, chunks: list[list[Any]], options: Any, workers: int, _address: str | None
) -> Iterator[Outcome]:
    """Run the chunks on a pool of `workers` local processes."""
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)), mp_context=_process_context()
    ) as pool:
        futures = {pool.submit(task, chunk, options): i for i, chunk in enumerate(chunks)}
        for future in concurrent.futures.as_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as exc:
                yield futures[future], describe_failure(exc)


def run_dask(
    task: Task, chunks: list[list[Any]], options: Any, workers: int, address: str | None
) -> Iterator[Outcome]:
    """Run the chunks on the Dask scheduler at `address`, or on a local cluster of `workers`
    single-threaded processes when no address is given."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if address is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        address = cluster.scheduler_address
    try:
        with Client(address) as client:
            futures = [client.submit(task, chunk, options, pure=False) for chunk in chunks]
            index = {future.key: i for i, future in enumerate(futures)}
            for future in as_completed(futures):
                try:
                    yield index[future.key], future.result()
                except Exception as exc:
                    yield index[future.key], describe_failure(exc)
    finally:
        if cluster is not None:
            cluster.close()


RUNNERS: dict[str, Runner] = {"process": run_process, "dask": run_dask}
"""The runners by executor name ("serial" runs in the caller's process, without a runner)."""
