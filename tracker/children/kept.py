"""A council's children's figures kept between its changes (`tracker.core.view_cache`): an
SSDA903 import, replace or withdrawal, or monthly figures entered, each moves its revision.
Figures counted with a placement mapping are kept under that mapping."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy.orm import Session

from tracker.children.mapping import Mapping, mapping_digest
from tracker.core.view_cache import ViewCache, kept_for_council

T = TypeVar("T")


def kept_children_figure(
    session: Session,
    views: ViewCache | None,
    authority_code: str,
    key: tuple[Hashable, ...],
    mapping: Mapping | None,
    compute: Callable[[], T],
) -> T:
    """`compute()`'s children's figure, kept under `key` (and `mapping`'s digest, when it
    counts with one) until the council's next audited change; no `views`: afresh."""
    digest = mapping_digest(mapping) if mapping is not None else None
    return kept_for_council(session, views, authority_code, ("children", *key, digest), compute)
