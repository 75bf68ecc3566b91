"""Stopping a long read of an upload when whoever sent it has gone.

The API marks a request's work with a `threading.Event` (`watching`), set when the client
disconnects; the readers of uploaded files call `check_stop` as they go (every row, or every
thousand), which raises `AbandonedError` once it is set. The mark is a context variable, so
it follows the request into the worker thread that runs a synchronous handler.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from tracker.core.errors import DomainError

_stop: ContextVar[threading.Event | None] = ContextVar("stop_reading", default=None)


class AbandonedError(DomainError):
    """The client disconnected: the work it asked for was stopped, nothing stored."""

    rule = "client_disconnected"


@contextmanager
def watching(stop: threading.Event) -> Iterator[None]:
    """Within the block, `check_stop` raises once `stop` is set."""
    token = _stop.set(stop)
    try:
        yield
    finally:
        _stop.reset(token)


def check_stop() -> None:
    """AbandonedError when the work under way was asked for by a client that has gone."""
    stop = _stop.get()
    if stop is not None and stop.is_set():
        raise AbandonedError("the client disconnected: the upload was not read to the end")
