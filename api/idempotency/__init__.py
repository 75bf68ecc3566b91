"""Idempotent retries: the middleware that answers a repeated `Idempotency-Key` from the
stored first response, and the store it keeps them in."""
