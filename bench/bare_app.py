"""The baseline of the API benchmark: a minimal Litestar app returning a small dict.

Served by uvicorn exactly like the tracker (factory, same worker count, no access log),
so `bench/api.py` can report every endpoint as a ratio of this one's throughput.

    uvicorn --app-dir bench bare_app:create_app --factory --port 8001
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> dict[str, object]:
    """A small JSON body, about the size of a tiny API answer."""
    return {"status": "ok", "service": "bare", "value": 42}


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    """Readiness probe, like the tracker's."""
    return {"status": "ok"}


def create_app() -> Litestar:
    """The bare application (no middleware, no database, debug off)."""
    return Litestar(route_handlers=[hello, health], debug=False)
