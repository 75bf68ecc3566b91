"""Stored trajectories (`tracker.targets.stored`) on the dataset of `tests.test_trajectories`,
on both backends: what is served equals what `tracker.targets.trajectories` computes, it is
read from storage while its basis holds, and computed again when any rule makes it stale.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from api.app import create_app
from jobs.forecast_refresh import store_trajectories_after_run
from tests.conftest import bearer
from tests.test_dashboard import sign_in
from tests.test_targets import LEVEL
from tests.test_trajectories import (  # noqa: F401 (the module's fixtures)
    PATHS,
    STOKE,
    TODAY,
    add_target,
    built,
    dataset,
    split,
    store_forecast,
)
from tracker.core import audit
from tracker.core.access import SYSTEM, Role, issue_token
from tracker.core.clock import utcnow
from tracker.core.settings import Settings
from tracker.targets import stored
from tracker.targets.schemas import NewTarget
from tracker.targets.service import delete_target, update_target
from tracker.targets.tables import TargetTrajectory
from tracker.targets.trajectories import trajectories

APPROVALS = {
    "metric": "approvals",
    "kind": "annual_count",
    "name": "Approve 33 households a year",
    "target_value": 33,
    "start_date": date(2024, 4, 1),
    "target_date": date(2027, 3, 31),
}


@pytest.fixture
def target(dataset):  # noqa: F811
    """An annual count of approvals with a stored forecast; its trajectory served once."""
    store_forecast(dataset, "approvals/total", [split(11, 10, 700)] + [np.full(PATHS, 3.0)] * 13)
    target_id = add_target(dataset, **APPROVALS)
    serve(dataset)
    return target_id


def serve(database, today: date = TODAY) -> list[stored.Stored]:
    with database.read_session() as session:
        return stored.served(session, STOKE, today=today, database=database)


def row_of(database, target_id: int) -> TargetTrajectory | None:
    with database.read_session() as session:
        return session.scalar(
            select(TargetTrajectory).where(TargetTrajectory.target_id == target_id)
        )


def computed_at(database, target_id: int):
    row = row_of(database, target_id)
    assert row is not None
    return row.computed_at


def test_served_trajectories_equal_the_freshly_computed_ones(dataset, target):  # noqa: F811
    second = add_target(dataset, **{**APPROVALS, "name": "Approve 40", "target_value": 40})
    served = serve(dataset)
    with dataset.read_session() as session:
        fresh = trajectories(session, STOKE, today=TODAY)
    assert [s.trajectory for s in served] == fresh
    assert [s.trajectory.target.id for s in served] == [target, second]
    assert served[0].trajectory.probability == 0.7


def test_a_valid_stored_trajectory_is_read_not_computed(dataset, target):  # noqa: F811
    before = computed_at(dataset, target)
    served = serve(dataset)
    assert served[0].computed_at == before
    assert computed_at(dataset, target) == before


def test_the_target_set_stores_its_trajectory(dataset):  # noqa: F811
    target_id = add_target(dataset, **APPROVALS)
    row = row_of(dataset, target_id)
    assert row is not None and row.target_version == 1 and row.as_at == TODAY


def test_a_changed_target_is_stored_again_with_its_new_version(dataset, target):  # noqa: F811
    with dataset.writing() as session:
        update_target(
            session,
            SYSTEM,
            STOKE,
            target,
            NewTarget(**{**APPROVALS, "name": "Approve 34", "target_value": 34}),
            today=TODAY,
        )
    row = row_of(dataset, target)
    assert row is not None and row.target_version == 2
    assert serve(dataset)[0].trajectory.target.name == "Approve 34"


def test_a_target_changed_behind_the_store_is_computed_again(dataset, target):  # noqa: F811
    before = computed_at(dataset, target)
    with dataset.writing() as session:
        session.execute(
            update(TargetTrajectory).values(target_version=TargetTrajectory.target_version - 1)
        )
    assert serve(dataset)[0].computed_at > before


def test_a_newer_forecast_run_makes_it_stale(dataset, target):  # noqa: F811
    first_run = serve(dataset)[0].trajectory.forecast.run_id
    store_forecast(dataset, "approvals/total", [split(11, 10, 200)] + [np.full(PATHS, 3.0)] * 13)
    served = serve(dataset)[0].trajectory
    assert served.forecast.run_id != first_run
    assert served.probability == 0.2


def test_a_newer_audited_change_of_the_council_makes_it_stale(dataset, target):  # noqa: F811
    before = computed_at(dataset, target)
    with dataset.writing() as session:
        audit.record(session, SYSTEM, "create", "household", 999, authority_code=STOKE)
    assert serve(dataset)[0].computed_at > before


def test_an_audited_export_leaves_it_valid(dataset, target):  # noqa: F811
    before = computed_at(dataset, target)
    with dataset.writing() as session:
        audit.record(session, SYSTEM, "export", "enquiry", None, authority_code=STOKE)
        audit.record(session, SYSTEM, "create", "household", 999, authority_code="E06000002")
    assert serve(dataset)[0].computed_at == before


def test_a_new_day_makes_it_stale(dataset, target):  # noqa: F811
    tomorrow = TODAY + timedelta(days=1)
    assert serve(dataset, tomorrow)[0].trajectory.as_at == tomorrow
    assert row_of(dataset, target).as_at == tomorrow


def test_a_trajectory_older_than_an_hour_is_computed_again(dataset, target):  # noqa: F811
    old = utcnow() - stored.MAX_AGE - timedelta(minutes=1)
    with dataset.writing() as session:
        session.execute(update(TargetTrajectory).values(computed_at=old))
    assert serve(dataset)[0].computed_at > old + timedelta(minutes=30)


def test_a_deleted_target_forgets_its_trajectory(dataset, target):  # noqa: F811
    with dataset.writing() as session:
        delete_target(session, SYSTEM, STOKE, target)
    assert row_of(dataset, target) is None
    assert serve(dataset) == []


def test_a_finished_run_stores_the_trajectories_on_it(dataset, target):  # noqa: F811
    store_forecast(dataset, "approvals/total", [split(11, 10, 200)] + [np.full(PATHS, 3.0)] * 13)
    store_trajectories_after_run(dataset, STOKE)
    row = row_of(dataset, target)
    with dataset.read_session() as session:
        latest = stored.basis(session, STOKE, stored.load_mapping()).forecast_run_id
    assert row is not None and row.forecast_run_id == latest


# --- through the API and the page -----------------------------------------------------------


@pytest.fixture
def manager_client(dataset):  # noqa: F811
    """The application over the dataset, and a Stoke-on-Trent manager's token."""
    settings = Settings(
        database_url=dataset.url, scheduler_enabled=False, pseudonym_key="test-pseudonym-key"
    )
    with dataset.writing() as session:
        secret = issue_token(session, role=Role.MANAGER, name="m", authority_code=STOKE).secret
    with TestClient(create_app(settings, dataset)) as test_client:
        yield test_client, secret


def test_the_api_serves_the_trajectory_stored_when_the_target_was_set(manager_client, dataset):  # noqa: F811
    client, secret = manager_client
    headers = bearer(secret)
    base = f"/api/v1/authorities/{STOKE}"
    created = client.post(f"{base}/targets", json=LEVEL, headers=headers)
    assert created.status_code == 201, created.text
    target_id = created.json()["id"]
    stored_at = computed_at(dataset, target_id)
    one = client.get(f"{base}/targets/{target_id}/trajectory", headers=headers)
    every = client.get(f"{base}/trajectories", headers=headers)
    assert one.status_code == every.status_code == 200
    assert every.json() == [one.json()]
    assert one.json()["target"]["name"] == LEVEL["name"]
    assert computed_at(dataset, target_id) == stored_at


def test_the_targets_page_says_when_its_trajectories_were_computed(manager_client):
    client, secret = manager_client
    headers = bearer(secret)
    response = client.post(f"/api/v1/authorities/{STOKE}/targets", json=LEVEL, headers=headers)
    assert response.status_code == 201, response.text
    sign_in(client, secret)
    page = client.get("/dashboard/targets")
    assert page.status_code == 200
    assert "Computed at " in page.text
