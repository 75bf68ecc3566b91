"""The tables the API keeps for itself: responses stored for idempotent retries, the
dashboard's sign-in sessions and its uploads waiting for their confirmation. Imported with
the domain's tables wherever the whole schema is needed (the migrations' environment, the
tests)."""

from api.dashboard.sessions import WebSession
from api.dashboard.uploads import PendingUpload
from api.idempotency.store import IdempotencyRecord

__all__ = ["IdempotencyRecord", "PendingUpload", "WebSession"]
