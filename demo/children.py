"""SSDA903 returns for the demo's home authority: synthetic episodes sized from its real
children-in-care figure and Staying Put rate, imported the way a council's files are."""

from __future__ import annotations

import sys
from datetime import date

from sqlalchemy.orm import Session

from demo.ssda903 import STAYING_PUT_RATE, generate
from forecast.months import year_ending_march
from tracker.children.importer import import_ssda903
from tracker.core.access import SYSTEM
from tracker.reference import AuthorityFigures

# In the synthetic returns a council holds about 3.4 children in care per child starting a
# year; sizing starters as CLA / 3.6 keeps Stoke-on-Trent's near its published 1,063 in
# care, 178-287 starters a year and 15-30 Staying Put leavers at 18 (DfE, 2020-2025).
CHILDREN_PER_STARTER = 3.6
FALLBACK_CHILDREN = 500


def demo_returns_years(start: date, today: date) -> tuple[int, int] | None:
    """The complete collection years (ending 31 March) inside [start, today], first and last."""
    first = year_ending_march(start) + (0 if (start.month, start.day) == (4, 1) else 1)
    last = year_ending_march(today) - (0 if (today.month, today.day) == (3, 31) else 1)
    return (first, last) if first <= last else None


def import_demo_returns(
    session: Session,
    figures: AuthorityFigures,
    *,
    start: date,
    today: date,
    key: bytes,
    seed: int,
) -> int:
    """Import synthetic SSDA903 returns for the complete collection years since `start`;
    returns the number of episode rows (0 when no whole year fits)."""
    years = demo_returns_years(start, today)
    if years is None:
        return 0
    children = figures.children_in_care or FALLBACK_CHILDREN
    rate = STAYING_PUT_RATE
    if figures.staying_put_eligible and figures.staying_put_stayed is not None:
        rate = figures.staying_put_stayed / figures.staying_put_eligible
    returns = generate(
        seed=seed,
        first_year=years[0],
        last_year=years[1],
        starters_per_year=children / CHILDREN_PER_STARTER,
        authority_code=figures.code,
        staying_put_rate=rate,
    )
    # The demo's own returns of every year at once: not held to an upload's row limit.
    import_ssda903(session, SYSTEM, figures.code, returns.files, key, max_rows=sys.maxsize)
    return returns.episode_rows
