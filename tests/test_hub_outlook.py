"""The hub as a whole: its councils' monthly enquiries, applications and approvals summed,
forecast by the service's engine, and its targets with the chance of meeting them."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from litestar.testing import TestClient

from forecast.types import ForecastOptions
from tests.conftest import COVENTRY, STOCKTON, STOKE, bearer
from tracker.core.access import SYSTEM
from tracker.core.db import Database
from tracker.enquiries.tables import Enquiry
from tracker.hubs.outlook import HubMetric, TargetIn, hub_outlook, set_target, year_of
from tracker.hubs.schemas import NewHub
from tracker.hubs.service import create_hub

TODAY = date(2026, 11, 20)
OPTIONS = ForecastOptions(models=("seasonal_naive",), paths=200, horizon=12)


def _enquiries(session, code: str, rng: random.Random) -> Counter[tuple[str, date]]:
    """Three years of enquiries, a fifth applying a month later; counts by metric and month."""
    counts: Counter[tuple[str, date]] = Counter()
    day = date(2023, 10, 1)
    while day < date(2026, 11, 1):
        for _ in range(rng.randrange(2, 6)):
            applied = day + timedelta(days=30) if rng.random() < 0.2 else None
            if applied and applied >= date(2026, 11, 1):
                applied = None
            session.add(
                Enquiry(
                    authority_code=code,
                    received_on=day,
                    channel="phone",
                    stage="application" if applied else "enquiry",
                    application_on=applied,
                )
            )
            counts["enquiries", day.replace(day=1)] += 1
            if applied:
                counts["applications", applied.replace(day=1)] += 1
        day += timedelta(days=9)
    return counts


def test_the_hub_forecasts_its_councils_together_against_its_targets(
    authorities: Database,
) -> None:
    rng = random.Random(16)
    with authorities.writing() as session:
        hub = create_hub(session, SYSTEM, NewHub(name="WM", members=[STOKE, COVENTRY]))
        assert hub.id is not None
        counts = _enquiries(session, STOKE, rng) + _enquiries(session, COVENTRY, rng)
        _enquiries(session, STOCKTON, rng)  # not a member: never counted
        session.flush()
        year = year_of(TODAY)
        set_target(
            session, SYSTEM, hub.id, TargetIn(metric=HubMetric.ENQUIRIES, year=year, target=0)
        )
        set_target(
            session,
            SYSTEM,
            hub.id,
            TargetIn(metric=HubMetric.APPLICATIONS, year=year, target=10_000),
        )
        outlook = hub_outlook(session, hub.id, TODAY, OPTIONS)
    assert outlook.cutoff == date(2026, 10, 1)
    by_metric = {m.metric: m for m in outlook.metrics}
    enquiries = by_metric[HubMetric.ENQUIRIES]
    assert enquiries.history_start == date(2023, 10, 1)
    months = [
        date(2023 + (9 + i) // 12, (9 + i) % 12 + 1, 1) for i in range(len(enquiries.history))
    ]
    assert enquiries.history == [float(counts["enquiries", m]) for m in months]
    assert by_metric[HubMetric.APPLICATIONS].history == [
        float(counts["applications", m]) for m in months
    ]
    # April to October 2026 are actual; November to March come from the forecast.
    to_date = sum(counts["enquiries", m] for m in months if m >= date(2026, 4, 1))
    assert enquiries.actual_to_date == to_date
    assert enquiries.projected_lo80 <= enquiries.projected <= enquiries.projected_hi80
    assert enquiries.projected > to_date  # five more months of enquiries to come
    assert enquiries.forecast[0].month == date(2026, 11, 1) and len(enquiries.forecast) == 12
    assert enquiries.chance == 1.0  # a target of 0 is met on every path
    assert by_metric[HubMetric.APPLICATIONS].chance == 0.0
    assert by_metric[HubMetric.APPROVALS].target is None
    assert by_metric[HubMetric.APPROVALS].chance is None


def test_targets_through_the_api(client: TestClient, tokens: dict[str, str]) -> None:
    made = client.post(
        "/api/v1/hubs",
        json={"name": "West Midlands hub", "members": [STOKE, COVENTRY]},
        headers=bearer(tokens["admin"]),
    )
    hub_id = made.json()["id"]
    admin = bearer(tokens["admin"])
    saved = client.put(
        f"/api/v1/hubs/{hub_id}/targets",
        json={"metric": "approvals", "year": 2026, "target": 40},
        headers=admin,
    )
    assert saved.status_code == 200, saved.text
    bad = client.put(
        f"/api/v1/hubs/{hub_id}/targets",
        json={"metric": "households", "year": 2026, "target": 40},
        headers=admin,
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "metric"
    negative = client.put(
        f"/api/v1/hubs/{hub_id}/targets",
        json={"metric": "approvals", "year": 2026, "target": -1},
        headers=admin,
    )
    assert negative.status_code == 400
    denied = client.put(
        f"/api/v1/hubs/{hub_id}/targets",
        json={"metric": "approvals", "year": 2026, "target": 40},
        headers=bearer(tokens["manager_stoke"]),
    )
    assert denied.status_code == 403
    empty = client.get(f"/api/v1/hubs/{hub_id}/outlook", headers=admin)
    assert empty.status_code == 200 and empty.json()["metrics"] == []
