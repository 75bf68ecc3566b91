"""Realistic synthetic demo data: authorities, several years of enquiries, and demo tokens.

`generate_demo` fills an empty database with Stoke-on-Trent and some West Midlands
neighbours (or the authorities given), each with `years` years of enquiries ending on
`today`, moved through the funnel with dated history, the household register and capacity
figures over the same years, plus one token per role.

Volumes come from the shipped reference (Ofsted 2018-19 enquiries to the council's own
fostering service, 150 a year when missing), with mild year-to-year drift and a monthly
pattern: campaign peaks in January ("New Year") and May (Foster Care Fortnight), dips in
August and December.

Conversion targets (DOMAIN.md, Ofsted figures for councils):

* enquiry -> application about 12% (0.88 first contact x 0.40 initial visit x 0.34 apply);
* application -> approval about 60% (0.90 x 0.85 x 0.82 x 0.96 through Stage 1, Stage 2,
  panel and the decision), so enquiry -> approval about 7%. DOMAIN.md's "about 11% of
  council enquiries reach approval" cannot hold together with 12% reaching application
  (it would need over 90% of applications approved): Ofsted's households approved in a
  year include family-and-friends carers, who do not come through enquiries (England
  2018-19: 8,400 households approved, 2,415 applications approved), so the demo keeps
  the application rate and approves about 60% of applications;
* application -> approval takes about 273 days on average (the national figure; the
  norm is 8 months), so some open applications are overdue.

Closures carry the reasons a service records at each stage: no response and withdrawal by
the applicant early, withdrawal by the service during assessment, rejection after panel
only at panel and rarely. No stage or closure date is after `today`, so the latest
enquiries are still open at early stages, and a handful are open and overdue for first
contact.

Each authority also gets a household register over the same window (`demo.households`):
a stock of households and approvals and deregistrations sized from Ofsted's 2018-19 figures,
some in-house approvals linked to the approved demo enquiries, placements of pseudonymous
children (``DEMO-C-000123``) never beyond approved places, unavailable periods and holds, so
today's households, places and occupancy are near the reference; and children-in-care and
(for Stoke-on-Trent) external provision figures.

Personal data is plainly fake: names from short built-in lists, e-mail addresses at
example.org, phone numbers in Ofcom's drama range (07700 900000-900999) and postcode
districts of the authority's area. Every enquiry has an external reference such as
``DEMO-E06000021-000123``, and the same seed and `today` give identical enquiries and
history (token secrets are random, as tokens must be).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

import msgspec
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from demo import STOKE
from demo.children import import_demo_returns
from demo.enquiries import MAINSTREAM_SHARE, annual_volume, plan_enquiries, store_enquiries
from demo.figures import children_in_care_rows, external_provision_rows, store_figures
from demo.households import ApprovedEnquiry, plan_register, store_register
from demo.hub import create_demo_hub
from demo.plans import seed_scenarios, seed_targets
from tracker.core import audit
from tracker.core.access import SYSTEM, Role, issue_token
from tracker.core.authorities import NewAuthority, add_authority
from tracker.core.errors import ConflictError, InvalidValueError
from tracker.enquiries.stages import Stage
from tracker.enquiries.tables import Enquiry
from tracker.households.tables import Household
from tracker.reference import AuthorityFigures, load_reference

__all__ = [
    "DEFAULT_AUTHORITIES",
    "AuthorityDemo",
    "DemoSummary",
    "generate_authority",
    "generate_demo",
]

DEFAULT_AUTHORITIES: tuple[str, ...] = (
    STOKE,  # Stoke-on-Trent
    "E10000028",  # Staffordshire
    "E06000020",  # Telford and Wrekin
    "E08000031",  # Wolverhampton
    "E08000026",  # Coventry
)
# Approvals targets the councils' own strategies state (Stoke-on-Trent 2020-23: 33 in 2020/21).
SEED_TARGETS: dict[str, int] = {STOKE: 33}
MIN_TARGET = 5


class DemoSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What `generate_demo` stored; token secrets are shown here once and never again."""

    authorities: list[str]
    enquiries: dict[str, int]
    # (role, authority code or region, or None for the admin token, secret)
    tokens: list[tuple[Role, str | None, str]]
    events: int = 0
    # Households stored per authority (deregistered ones included), and in all authorities
    # their placements, unavailable periods and children-in-care and provision figure rows.
    households: dict[str, int] = msgspec.field(default_factory=dict)
    placements: int = 0
    unavailable_periods: int = 0
    figures: int = 0
    ssda903_episodes: int = 0
    # Scenarios and targets saved for the seed strategies (demo.plans).
    scenarios: int = 0
    targets: int = 0


def generate_demo(
    session: Session,
    *,
    today: date,
    authorities: Sequence[str] = DEFAULT_AUTHORITIES,
    years: int = 6,
    seed: int = 2026,
    ssda903_key: bytes | None = None,
    hub: str | None = None,
) -> DemoSummary:
    """Fill an empty database with demo authorities, enquiries with history, and tokens.

    Raises ConflictError if any enquiry is already stored, InvalidValueError for an unknown
    or repeated authority code or fewer than one year. Tokens: an admin, a recruiter and a
    manager for the first authority (Stoke-on-Trent by default) and a regional one for the
    first authority's region (West Midlands by default), plus a manager for each other
    authority. With `ssda903_key` (the installation's pseudonym key), the first authority
    also gets synthetic SSDA903 returns for the whole collection years in the window.
    """
    codes = [code.strip().upper() for code in authorities]
    if not codes:
        raise InvalidValueError("give at least one authority", field="authorities")
    if len(set(codes)) != len(codes):
        raise InvalidValueError("an authority is given twice", field="authorities")
    if years < 1:
        raise InvalidValueError("years must be at least 1", field="years")
    reference = load_reference()
    unknown = [c for c in codes if c not in reference or reference[c].region is None]
    if unknown:
        raise InvalidValueError(
            f"no reference figures for {', '.join(unknown)}: give English LA ONS codes",
            field="authorities",
        )
    for table, what in ((Enquiry, "enquiries"), (Household, "households")):
        if session.scalar(select(func.count()).select_from(table)):
            raise ConflictError(
                f"the database already holds {what}: the demo only fills an empty database",
                rule="not_empty",
            )
    start = today - relativedelta(years=years) + timedelta(days=1)
    counts: dict[str, int] = {}
    households: dict[str, int] = {}
    events = placements = unavailable = figure_rows = 0
    for code in codes:
        stored = generate_authority(
            session, reference[code], start=start, today=today, years=years, seed=seed
        )
        events += stored.events
        counts[code] = stored.enquiries
        households[code] = stored.households
        placements += stored.placements
        unavailable += stored.unavailable_periods
        figure_rows += stored.figures
    home = codes[0]
    region = reference[home].region
    episodes = 0
    if ssda903_key is not None:
        episodes = import_demo_returns(
            session, reference[home], start=start, today=today, key=ssda903_key, seed=seed
        )
    scenarios = seed_scenarios(session, home, today=today)
    targets = sum(seed_targets(session, code, today=today) for code in codes)
    tokens: list[tuple[Role, str | None, str]] = []
    for role, name, code, scope in (
        (Role.ADMIN, "demo admin", None, None),
        (Role.RECRUITER, f"demo recruiter {home}", home, home),
        (Role.MANAGER, f"demo manager {home}", home, home),
        (Role.REGIONAL, f"demo {region}", None, region),
        *((Role.MANAGER, f"demo manager {code}", code, code) for code in codes[1:]),
    ):
        issued = issue_token(
            session,
            role=role,
            name=name,
            authority_code=code,
            region=scope if role is Role.REGIONAL else None,
        )
        tokens.append((role, scope, issued.secret))
    if hub is not None:
        # A regional recruitment hub over the demo's councils of the first one's region.
        members = [c for c in codes if reference[c].region == region]
        _, hub_token = create_demo_hub(
            session, hub, members, today=today, seed=seed, key=ssda903_key
        )
        tokens.append((Role.HUB, hub, hub_token.secret))
    session.flush()
    return DemoSummary(
        authorities=codes,
        enquiries=counts,
        tokens=tokens,
        events=events,
        households=households,
        placements=placements,
        unavailable_periods=unavailable,
        figures=figure_rows,
        ssda903_episodes=episodes,
        scenarios=scenarios,
        targets=targets,
    )


class AuthorityDemo(msgspec.Struct, frozen=True, kw_only=True):
    """What `generate_authority` stored for one authority."""

    enquiries: int
    events: int
    households: int
    placements: int
    unavailable_periods: int
    figures: int


def generate_authority(
    session: Session,
    figures: AuthorityFigures,
    *,
    start: date,
    today: date,
    years: int,
    seed: int,
    annual_enquiries: int | None = None,
    copy: bool = True,
) -> AuthorityDemo:
    """Store one authority with its enquiries and history, household register and figures.

    The enquiries' yearly volume is the reference's (`annual_volume`) unless
    `annual_enquiries` is given; the same seed, dates and volume give identical rows, written
    with COPY on PostgreSQL or, with `copy` false, by executemany (`tracker.core.bulk`).
    """
    code = figures.code
    assert figures.region is not None
    add_authority(
        session,
        NewAuthority(
            code=code,
            name=figures.name,
            region=figures.region,
            annual_approvals_target=_approvals_target(figures),
        ),
    )
    rng = random.Random(f"fostering-demo:{seed}:{code}")
    volume = annual_volume(figures) if annual_enquiries is None else annual_enquiries
    plans = plan_enquiries(rng, code, volume, start, today)
    events, ids = store_enquiries(session, rng, plans, copy=copy)
    # The register has an RNG of its own, so the enquiries stay as they were without it.
    rng = random.Random(f"fostering-demo-register:{seed}:{code}")
    approved = [
        ApprovedEnquiry(
            id=enquiry_id,
            approved_on=plan.reached[Stage.APPROVED],
            ethnicity=plan.fields["ethnicity"],
            interests=plan.fields["interests"],
        )
        for enquiry_id, plan in zip(ids, plans, strict=True)
        if Stage.APPROVED in plan.reached
    ]
    register = plan_register(
        rng, figures, start=start, today=today, years=years, enquiries=approved
    )
    homes, placed, periods = store_register(session, rng, code, register, copy=copy)
    figure_rows = store_figures(
        session,
        children_in_care_rows(rng, figures, start, today),
        external_provision_rows(code, today, rng),
        copy=copy,
    )
    audit.record(
        session, SYSTEM, "demo", "authority", code,
        authority_code=code,
        detail={"enquiries": len(plans), "households": homes, "placements": placed,
                "seed": seed},
    )  # fmt: skip
    return AuthorityDemo(
        enquiries=len(plans),
        events=events,
        households=homes,
        placements=placed,
        unavailable_periods=periods,
        figures=figure_rows,
    )


def _approvals_target(figures: AuthorityFigures) -> int:
    """A yearly approvals target: the council's own where a strategy states one, else sized
    from the households it approved in 2018-19 without the family-and-friends share."""
    if figures.code in SEED_TARGETS:
        return SEED_TARGETS[figures.code]
    if figures.households_approved_in_year is not None:
        return max(MIN_TARGET, round(figures.households_approved_in_year * MAINSTREAM_SHARE))
    return max(MIN_TARGET, round(annual_volume(figures) * 0.07))
