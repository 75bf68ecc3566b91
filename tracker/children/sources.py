"""Where a children's figure comes from, and the pieces every figure shares.

Every figure comes from the SSDA903 returns when the authority has any (source "ssda903"),
else from its monthly figures entered by hand (source "aggregates"); each answer says
which. Counts are made in SQL (or, for Staying Put, from a few dozen young people's
episodes in memory) and only counts leave the figures: no child-level value is returned.
Headline figures leave out short breaks (legal status V3, V4), as DfE's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, extract, select
from sqlalchemy.orm import Session

from tracker.children import codes
from tracker.children.mapping import Mapping, category_case
from tracker.children.tables import CareEpisode
from tracker.core.authorities import get_authority
from tracker.households.care_types import AGE_BANDS, PlacementCategory

SSDA903 = "ssda903"
AGGREGATES = "aggregates"
UNKNOWN_AGE = "unknown"
AGE_BAND_NAMES: tuple[str, ...] = tuple(band for band, _, _ in AGE_BANDS)
CATEGORY_NAMES: tuple[str, ...] = tuple(c.value for c in PlacementCategory)


def has_episodes(session: Session, authority_code: str) -> bool:
    """True when SSDA903 episodes have been imported for the authority."""
    query = select(CareEpisode.id).where(CareEpisode.authority_code == authority_code).limit(1)
    return session.scalar(query) is not None


def source_of(session: Session, authority_code: str) -> str:
    """ "ssda903" when the authority has episodes, else "aggregates" (NotFoundError for an
    unknown authority)."""
    get_authority(session, authority_code)
    return SSDA903 if has_episodes(session, authority_code) else AGGREGATES


def sum_known(values: Sequence[int | None]) -> int | None:
    """The sum of the values known (None when none is)."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def collection_year(column: Any) -> Any:
    """SQL: the collection year (ending 31 March) of a date column."""
    return extract("year", column) + case((extract("month", column) >= 4, 1), else_=0)


def category(mapping: Mapping, episode: Any = CareEpisode) -> Any:
    """SQL: the placement category of an episode (of the table or an alias of it)."""
    return category_case(mapping, episode.place, episode.place_provider)


def short_break(episode: Any = CareEpisode) -> Any:
    """SQL: whether an episode is under an agreed series of short-term placements."""
    return episode.ls.in_(codes.SHORT_BREAKS)


def headline(episode: Any = CareEpisode) -> Any:
    """SQL: whether an episode counts in DfE's headline figures (not a short break)."""
    return episode.ls.is_(None) | episode.ls.not_in(codes.SHORT_BREAKS)


def age_band(episode: Any = CareEpisode) -> Any:
    """SQL: the DfE age band of an episode's age at its start."""
    age = episode.age_at_start
    return case(
        *[(age.between(low, high), band) for band, low, high in AGE_BANDS], else_=UNKNOWN_AGE
    )
