"""Withdrawing a collection year's SSDA903 return: its episodes and OC3 rows are removed
(audited), the periods of care of its children are worked out again from the returns left,
and children no return mentions any more are removed with it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.children import history
from tracker.children.rows import year_label
from tracker.children.tables import CareEpisode, CareLeaverRecord, ImportRun
from tracker.children.writing import apply, remove_orphans, stored_episodes, stored_leavers
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import NotFoundError


class Withdrawal(msgspec.Struct, frozen=True, kw_only=True):
    """What withdrawing a year's return removed."""

    year: str
    episodes: int
    care_leavers: int
    children: int
    # Episodes of the children's other returns whose period of care was worked out again.
    episodes_rederived: int


def withdraw_return(session: Session, caller: Caller, code: str, year: int) -> Withdrawal:
    """Remove the return of the collection year ending March `year`; NotFoundError when
    neither Episodes nor OC3 rows of that year are stored."""
    get_authority(session, code)
    children = set(
        session.scalars(
            select(CareEpisode.child_key).where(
                CareEpisode.authority_code == code, CareEpisode.source_year == year
            )
        )
    )
    leavers = stored_leavers(session, code, [year])
    if not children and not leavers:
        raise NotFoundError(f"no {year_label(year)} return is stored", field="year")
    stored = stored_episodes(session, code, (), children)
    returns: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    wanted: dict[Any, dict[str, Any]] = {}
    for key, episode in stored.items():
        if key[0] != year:
            values = {"period_start": episode.period_start, "decom": episode.decom}
            values.update(dec=episode.dec, rec=episode.rec, rne=episode.rne)
            returns[episode.child_key][key[0]].append(values)
            wanted[key] = values
    for child_returns in returns.values():
        history.derive_periods(child_returns)
    kept = {k: {"period_start": v["period_start"]} for k, v in wanted.items()}
    episodes = apply(session, CareEpisode, code, kept, stored, list(stored), dry_run=False)
    removed_leavers = apply(
        session, CareLeaverRecord, code, {}, leavers, list(leavers), dry_run=False
    )
    orphans = remove_orphans(session, code, children | {c for _, c in leavers})
    result = Withdrawal(
        year=year_label(year),
        episodes=episodes.removed,
        care_leavers=removed_leavers.removed,
        children=orphans,
        episodes_rederived=episodes.updated,
    )
    counts = msgspec.to_builtins(result)
    session.add(
        ImportRun(authority_code=code, actor=caller.actor, action="withdraw", counts=counts)
    )
    audit.record(session, caller, "withdraw", "ssda903", year, authority_code=code, detail=counts)
    session.flush()
    return result
