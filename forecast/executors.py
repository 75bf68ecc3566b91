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
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from forecast.backtest import describe_failure

Item = TypeVar("Item")
Task = Callable[[list[Any], Any], bytes]
Outcome = tuple[int, bytes | str]
Runner = Callable[[Task, list[list[Any]], Any, int, str | None], Iterator[Outcome]]
Keyed = tuple[Hashable, list[Any]]
StreamRunner = Callable[
    [Task, Iterable[Keyed], Any, int, str | None], Iterator[tuple[Hashable, bytes | str]]
]
IN_FLIGHT_PER_WORKER = 2
"""Chunks a streaming runner keeps submitted per worker: one running and one queued, so a
worker never waits for the main process, and the chunks held at once stay few."""
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
        try:
            for future in concurrent.futures.as_completed(futures):
                try:
                    yield futures[future], future.result()
                except Exception as exc:
                    yield futures[future], describe_failure(exc)
        finally:  # closed before the end (a run stopped): the tasks not started never run
            pool.shutdown(wait=True, cancel_futures=True)


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
            try:
                for future in as_completed(futures):
                    try:
                        yield index[future.key], future.result()
                    except Exception as exc:
                        yield index[future.key], describe_failure(exc)
            finally:  # closed before the end: the tasks still to run are cancelled
                client.cancel(futures)
    finally:
        if cluster is not None:
            cluster.close()


def stream_process(
    task: Task, chunks: Iterable[Keyed], options: Any, workers: int, _address: str | None
) -> Iterator[tuple[Hashable, bytes | str]]:
    """Run keyed chunks drawn from an iterable on a pool of `workers` local processes, taking
    the next chunk only as one finishes (a few per worker in flight), so however many chunks
    come, few are held at once; yields each chunk's key and outcome as it finishes."""
    source = iter(chunks)
    limit = IN_FLIGHT_PER_WORKER * workers
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=_process_context()
    ) as pool:
        pending: dict[concurrent.futures.Future[bytes], Hashable] = {}

        def fill() -> None:
            while len(pending) < limit:
                keyed = next(source, None)
                if keyed is None:
                    return
                pending[pool.submit(task, keyed[1], options)] = keyed[0]

        fill()
        while pending:
            done, _ = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                key = pending.pop(future)
                try:
                    outcome: bytes | str = future.result()
                except Exception as exc:
                    outcome = describe_failure(exc)
                yield key, outcome
            fill()


def stream_dask(
    task: Task, chunks: Iterable[Keyed], options: Any, workers: int, address: str | None
) -> Iterator[tuple[Hashable, bytes | str]]:
    """Run keyed chunks drawn from an iterable on the Dask scheduler at `address` (or a local
    cluster of `workers` single-threaded processes), a few per worker in flight; yields each
    chunk's key and outcome as it finishes."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if address is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        address = cluster.scheduler_address
    try:
        with Client(address) as client:
            # A cluster at an address has as many workers as it has, not as we were told.
            limit = IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))
            source = iter(chunks)
            keys: dict[str, Hashable] = {}

            def submit() -> Any:
                keyed = next(source, None)
                if keyed is None:
                    return None
                future = client.submit(task, keyed[1], options, pure=False)
                keys[future.key] = keyed[0]
                return future

            first = [f for f in (submit() for _ in range(limit)) if f is not None]
            running = as_completed(first)
            for future in running:
                try:
                    outcome: bytes | str = future.result()
                except Exception as exc:
                    outcome = describe_failure(exc)
                key = keys.pop(future.key)
                future.release()
                following = submit()
                if following is not None:
                    running.add(following)
                yield key, outcome
    finally:
        if cluster is not None:
            cluster.close()


RUNNERS: dict[str, Runner] = {"process": run_process, "dask": run_dask}
"""The runners by executor name ("serial" runs in the caller's process, without a runner)."""
STREAM_RUNNERS: dict[str, StreamRunner] = {"process": stream_process, "dask": stream_dask}
"""The streaming runners by executor name, for work too large to hold as one list."""
