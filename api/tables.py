"""The tables the API keeps for itself: responses stored for idempotent retries and the
dashboard's sign-in sessions. Imported with the domain's tables wherever the whole schema is
needed (the migrations' environment, the tests)."""

from api.dashboard.sessions import WebSession
from api.idempotency.store import IdempotencyRecord

__all__ = ["IdempotencyRecord", "WebSession"]
