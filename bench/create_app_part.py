#!/usr/bin/env python
"""The event loop's part of one enquiry create, in process: the app's CPU per request with
the writing thread taken out of the measurement, beside the bare app's (bench/bare_app.py).

    .venv/bin/python bench/create_app_part.py sqlite:////tmp/copy.db --authority E10000012
        [--requests 2000] [--rounds 5]

Builds the app on the database (scheduler off; it adds one enquiry and one token), writes one
enquiry for real, then hands that record back at once for every create that follows, so
the figure is Litestar's and the handler's work alone (authentication, the access guard,
reading and checking the body, the answer, the security headers), without uvicorn or the
network. Each create and each bare GET is an ASGI call from this process's event loop;
prints the median over rounds of the thread CPU ms per request of both and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# This folder's forecast.py would hide the forecast package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

BODY = {
    "received_on": None,
    "channel": "phone",
    "enquirer_name": "Sam Khan",
    "email": "bench.app@example.org",
    "phone": "07700 900005",
    "postcode_district": "ST1",
    "household_type": "couple",
    "ethnicity": "white_british",
    "interests": ["short_breaks", "emergency"],
    "campaign": "bench-campaign",
    "note": "Logged by bench/create_app_part.py",
}


class _Answered:
    """Stands in for the enquiry writer: the first write is written for real, every later
    one gets the same record back at once."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.record: Any = None

    async def write(self, pending: Any) -> Any:
        if self.record is None:
            self.record = await self.writer.write(pending)
        return self.record

    def submit(self, pending: Any) -> Future[Any]:
        """The same for older code, which waited on a thread's future (before
        `GroupCommit.write`), so that it can be measured beside this one."""
        if self.record is None:
            self.record = self.writer.submit(pending).result()
        done: Future[Any] = Future()
        done.set_result(self.record)
        return done


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(app: Any, scope: dict[str, Any], body: bytes) -> int:
    sent: list[dict[str, Any]] = []
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(dict(scope, state={}), receive, send)
    return int(sent[0]["status"])


async def _cpu_ms(app: Any, scope: dict[str, Any], body: bytes, requests: int, want: int) -> float:
    for _ in range(50):
        assert await _call(app, scope, body) == want
    started = time.thread_time()
    for _ in range(requests):
        await _call(app, scope, body)
    return (time.thread_time() - started) / requests * 1000


async def _main(args: argparse.Namespace) -> None:
    os.environ.update(
        DATABASE_URL=args.database_url,
        FOSTERING_SCHEDULER_ENABLED="false",
        FOSTERING_REQUESTS_PER_MINUTE="0",
        FOSTERING_EXPENSIVE_REQUESTS_PER_MINUTE="0",
    )
    sys.path.insert(1, str(BENCH))
    import bare_app

    from api.app import create_app
    from tracker.core.access import Role, issue_token
    from tracker.enquiries.timeliness import london_today

    app = create_app()
    database = app.state.database
    with database.writing() as session:
        secret = issue_token(
            session,
            role=Role.RECRUITER,
            name="bench-create-app-part",
            authority_code=args.authority,
        ).secret
    for hook in app.on_startup:
        await hook()
    body = json.dumps(BODY | {"received_on": london_today().isoformat()}).encode()
    path = f"/api/v1/authorities/{args.authority}/enquiries"
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {secret}".encode()),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = _scope("POST", path, headers)
    writer = app.state.enquiry_writer
    app.state.enquiry_writer = _Answered(writer)
    bare = bare_app.create_app()
    bare_scope = _scope("GET", "/", [(b"host", b"127.0.0.1"), (b"accept", b"application/json")])
    create, plain = [], []
    for _ in range(args.rounds):
        create.append(await _cpu_ms(app, scope, body, args.requests, 201))
        plain.append(await _cpu_ms(bare, bare_scope, b"", args.requests, 200))
    app.state.enquiry_writer = writer
    writer.stop()
    c, b = statistics.median(create), statistics.median(plain)
    print(f"create, the app's part: {c:.4f} ms CPU a request (median of {args.rounds} rounds)")
    print(f"bare GET:               {b:.4f} ms CPU a request")
    print(f"ratio create / bare:    {c / b:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--authority", default="E10000012")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
