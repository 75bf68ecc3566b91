"""Every operation of the spec that creates something answers 201 with a Location header,
and a GET of that Location (as the creator may) answers 200 with what was created: walked
from the spec, so a new create route without a known body here fails the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import STOKE
from tests.security_world import SCENARIO, TARGET, World, build_world, operations, own_path
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.forecasting.lease import release_lease
from tracker.forecasting.tables import RunLease

# A valid body for each create route, by its path after /api/v1/.
BODIES = {
    "authorities": {"code": "E06000001", "name": "Hartlepool", "region": "North East"},
    "authorities/{code}/enquiries": {"received_on": "2025-01-06", "channel": "phone"},
    "authorities/{code}/households": {
        "reference": "LOC-1",
        "care_type": "in_house",
        "approved_places": 2,
        "approved_on": "2024-01-10",
    },
    "authorities/{code}/households/{household_id}/placements": {
        "child_ref": "C-LOCATION",
        "start_on": "2025-03-01",
    },
    "authorities/{code}/households/{household_id}/unavailability": {
        "places": 1,
        "reason": "carer_circumstances",
        "start_on": "2025-07-01",
    },
    "authorities/{code}/children-in-care": {
        "as_at": "2025-03-31",
        "counts": {"in_house_foster": 200, "ifa_foster": 300},
    },
    "authorities/{code}/external-provision": {
        "as_at": "2025-03-31",
        "provision": "ifa_fostering",
        "places": 40,
        "used_by_authority": 25,
    },
    "authorities/{code}/targets": TARGET,
    "authorities/{code}/scenarios": SCENARIO,
    "tokens": {"role": "recruiter", "name": "located", "authority_code": STOKE},
    "hubs": {"name": "Located hub", "members": [STOKE]},
    "hubs/{hub_id}/enquiries": {
        "received_on": "2025-01-06",
        "channel": "phone",
        "authority_code": STOKE,
    },
}


@pytest.fixture
def world(authorities: Database) -> Iterator[World]:
    with build_world(authorities) as built:
        yield built


def test_every_create_answers_201_with_a_location_that_reads_back(world):
    spec = world.app.openapi_schema.to_schema()
    creates = [
        op
        for op in operations(world.app)
        if op.method == "post" and "201" in spec["paths"][op.path]["post"]["responses"]
    ]
    assert len(creates) >= 10, creates
    admin = world.headers["admin"]
    wrong = []
    for op in creates:
        suffix = op.path.removeprefix("/api/v1/")
        if suffix not in BODIES:
            wrong.append(f"{op}: no body known to this test")
            continue
        answer = world.client.post(own_path(world, op.path), json=BODIES[suffix], headers=admin)
        location = answer.headers.get("location")
        if answer.status_code != 201 or not location:
            wrong.append(f"{op}: {answer.status_code}, Location {location!r}: {answer.text[:80]}")
            continue
        read = world.client.get(location, headers=admin)
        if read.status_code != 200:
            wrong.append(f"{op}: GET {location} answered {read.status_code}")
            continue
        made, got = answer.json(), read.json()
        made = made.get("record", made) if isinstance(made, dict) else made
        if isinstance(made, dict) and "id" in made and got.get("id") != made["id"]:
            wrong.append(f"{op}: GET {location} is another record")
    assert wrong == [], "\n".join(wrong)


def test_a_forecast_run_started_answers_202_with_its_location(authorities):
    with build_world(authorities, forecast_cooldown_s=0) as world:
        with world.database.writing() as session:  # the world's claimed run lets go
            lease = session.get(RunLease, STOKE)
            assert lease is not None and lease.holder is not None
            release_lease(session, STOKE, lease.holder, utcnow())
        answer = world.client.post(
            f"/api/v1/authorities/{STOKE}/forecasts/runs", headers=world.headers["admin"]
        )
        assert answer.status_code == 202, answer.text
        assert answer.headers["location"] == answer.json()["location"]
        read = world.client.get(answer.headers["location"], headers=world.headers["admin"])
        assert read.status_code == 200
        assert read.json()["run"]["id"] == answer.json()["run_id"]
