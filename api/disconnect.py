"""Upload routes stop reading a file when the client disconnects.

Once the request body has been read, nothing else in the request listens to the ASGI
`receive` channel, so this middleware waits on it: the server answers `http.disconnect`
when the client goes, and the middleware sets the event that `tracker.core.cancellation`
gives the readers, which stop at their next check (between rows) with AbandonedError.
Work that does not check (openpyxl opening a workbook, an import's own checks after the
file is read) runs to its end.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import anyio
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tracker.core.cancellation import watching

log = logging.getLogger("fostering.api")


def stop_on_disconnect(app: ASGIApp) -> ASGIApp:
    """Middleware for a route that reads an upload (route handlers' `middleware=`)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        gone = threading.Event()
        body_read = anyio.Event()
        answered = False

        async def receiving() -> Any:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
            elif not message.get("more_body", False):
                body_read.set()
            return message

        async def sending(message: Message) -> None:
            nonlocal answered
            answered = True
            await send(message)

        async def wait_for_disconnect() -> None:
            await body_read.wait()
            message = await receive()
            if message["type"] == "http.disconnect" and not answered:
                log.info("client disconnected from %s: reading its upload stops", scope["path"])
                gone.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(wait_for_disconnect)
            with watching(gone):
                await app(scope, receiving, sending)
            tasks.cancel_scope.cancel()

    return middleware
