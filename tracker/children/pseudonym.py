"""Keyed pseudonyms for children: HMAC-SHA256 of the CHILD id under an installation secret.

The same child gets the same pseudonym on every import of one installation, so years merge;
without the secret a pseudonym cannot be turned back into the CHILD id.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from tracker.core.settings import ConfigurationError, Settings

log = logging.getLogger("fostering.ssda903")


def load_key(settings: Settings) -> bytes:
    """The installation's pseudonym key: from the environment, else its file (made once)."""
    if settings.pseudonym_key:
        return settings.pseudonym_key.encode()
    path = Path(settings.pseudonym_key_file)
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
            log.warning("created a new pseudonym key file at %s: back it up", path)
        key = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"FOSTERING_PSEUDONYM_KEY_FILE={path}: the pseudonym key cannot be read or made "
            f"({getattr(exc, 'strerror', None) or exc})"
        ) from exc
    if not key:
        # An empty key would still pseudonymise, silently matching no earlier import.
        raise ConfigurationError(
            f"FOSTERING_PSEUDONYM_KEY_FILE={path} is empty: restore the key file from its "
            "backup (a new key cannot match the children of earlier imports)"
        )
    return key.encode()


def pseudonymise(key: bytes, child: str) -> str:
    """The stored pseudonym of a CHILD id."""
    return hmac.new(key, child.strip().encode(), hashlib.sha256).hexdigest()
