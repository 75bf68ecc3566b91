"""The national benchmark data set: every English council of the shipped reference.

Each council gets `years` years of enquiries with history, its household register and
children's figures, made by the same generator as the demo (`demo.generate.generate_authority`),
so the rows are as realistic as the demo's. Enquiry volumes are the council's Ofsted 2018-19
enquiries to its own service (150 a year where Ofsted has none) times one national scale
factor, chosen so the whole set holds about `enquiries` enquiries (600,000 by default: the
issue's national scale). The reference's 155 councils with a region receive 35,975 enquiries
a year by those figures, so ten years at 600,000 is a factor of about 1.67. Household
registers and children's figures stay at the councils' real sizes.

Each council is stored in a transaction of its own (all or nothing per council), and a
council already stored is skipped, so a load that stopped can be run again to finish it.
On PostgreSQL its rows are written with COPY (`tracker.core.bulk`), elsewhere by executemany;
the same seed, `today`, years and total give identical rows either way. The caller builds
the prepared monthly figures afterwards (`fostering demo --national` does).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, timedelta

import msgspec
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from demo.enquiries import annual_volume
from demo.generate import generate_authority
from tracker.core.authorities import Authority
from tracker.core.db import Database
from tracker.core.errors import InvalidValueError
from tracker.reference import AuthorityFigures, load_reference

__all__ = ["NationalSummary", "councils", "generate_national", "scale_factor"]

DEFAULT_YEARS = 10
DEFAULT_ENQUIRIES = 600_000


class CouncilLoad(msgspec.Struct, frozen=True, kw_only=True):
    """One council's share of the national data set and the seconds it took to store."""

    code: str
    enquiries: int
    events: int
    households: int
    placements: int
    seconds: float


class NationalSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What `generate_national` stored (councils already there are listed in `skipped`)."""

    scale: float
    loaded: list[CouncilLoad]
    skipped: list[str]
    seconds: float

    @property
    def enquiries(self) -> int:
        """Enquiries stored by this load."""
        return sum(c.enquiries for c in self.loaded)


def councils(codes: Sequence[str] | None = None) -> list[AuthorityFigures]:
    """The English councils of the reference (those with a region), by ONS code; with
    `codes`, only those, in that order."""
    reference = load_reference()
    every = sorted((f for f in reference.values() if f.region is not None), key=lambda f: f.code)
    if codes is None:
        return every
    known = {f.code: f for f in every}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidValueError(
            f"no reference figures for {', '.join(unknown)}: give English LA ONS codes",
            field="authorities",
        )
    return [known[c] for c in codes]


def scale_factor(chosen: Sequence[AuthorityFigures], years: int, enquiries: int) -> float:
    """The factor on the councils' real yearly enquiries that makes `years` years of them
    add up to about `enquiries`."""
    if years < 1:
        raise InvalidValueError("years must be at least 1", field="years")
    if enquiries < 1:
        raise InvalidValueError("enquiries must be at least 1", field="enquiries")
    real = sum(annual_volume(f) for f in chosen) * years
    return enquiries / real


def generate_national(
    database: Database,
    *,
    today: date,
    years: int = DEFAULT_YEARS,
    enquiries: int = DEFAULT_ENQUIRIES,
    seed: int = 2026,
    codes: Sequence[str] | None = None,
    copy: bool = True,
) -> NationalSummary:
    """Store the national data set, one transaction per council; councils already stored
    are skipped. `enquiries` is the national total: the scale factor is computed over all
    the councils, so a slice (`codes`) gets exactly the rows it has in the whole set. On
    PostgreSQL the rows are written with COPY unless `copy` is false (then by executemany,
    as on SQLite); either way the same rows."""
    began = time.perf_counter()
    chosen = councils(codes)
    scale = scale_factor(councils(), years, enquiries)
    start = today - relativedelta(years=years) + timedelta(days=1)
    with database.read_session() as session:
        stored = set(session.scalars(select(Authority.code)))
    loaded: list[CouncilLoad] = []
    skipped: list[str] = []
    for figures in chosen:
        if figures.code in stored:
            skipped.append(figures.code)
            continue
        council_began = time.perf_counter()
        with database.writing() as session:
            result = generate_authority(
                session,
                figures,
                start=start,
                today=today,
                years=years,
                seed=seed,
                annual_enquiries=max(1, round(annual_volume(figures) * scale)),
                copy=copy,
            )
        loaded.append(
            CouncilLoad(
                code=figures.code,
                enquiries=result.enquiries,
                events=result.events,
                households=result.households,
                placements=result.placements,
                seconds=round(time.perf_counter() - council_began, 3),
            )
        )
    database.refresh_statistics()
    return NationalSummary(
        scale=scale,
        loaded=loaded,
        skipped=skipped,
        seconds=round(time.perf_counter() - began, 3),
    )
