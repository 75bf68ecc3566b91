"""Adding a council (`POST /api/v1/authorities`, `fostering authority add`): its region is the
reference's for its code, since a region decides which regional tokens see its figures, and
a council already held is never overwritten by an add."""

from __future__ import annotations

from click.testing import CliRunner

from api.cli import main
from tests.conftest import STOKE, bearer

PATH = "/api/v1/authorities"
MIDDLESBROUGH = {"code": "E06000002", "name": "Middlesbrough", "region": "North East"}


def _held(client, admin) -> dict[str, dict]:
    return {a["code"]: a for a in client.get(PATH, headers=admin).json()}


def test_a_council_is_added_once_and_an_identical_repeat_changes_nothing(client, tokens):
    admin = bearer(tokens["admin"])
    first = client.post(PATH, json=MIDDLESBROUGH, headers=admin)
    assert first.status_code == 201 and first.headers["location"] == f"{PATH}/E06000002"
    again = client.post(PATH, json=MIDDLESBROUGH, headers=admin)
    assert again.status_code == 200 and again.json() == first.json()
    audit = client.get("/api/v1/audit", params={"entity_id": "E06000002"}, headers=admin)
    assert [e["action"] for e in audit.json()] == ["create"]


def test_a_region_other_than_the_references_is_refused_naming_it(client, tokens):
    admin = bearer(tokens["admin"])
    before = _held(client, admin)
    wrong = client.post(PATH, json=MIDDLESBROUGH | {"region": "London"}, headers=admin)
    assert wrong.status_code == 422 and wrong.json()["field"] == "region"
    assert "Middlesbrough, in North East" in wrong.json()["detail"]
    unknown = {"code": "E06999999", "name": "New Town", "region": "Atlantis"}
    refused = client.post(PATH, json=unknown, headers=admin)
    assert refused.status_code == 422 and refused.json()["field"] == "region"
    assert _held(client, admin) == before
    # A code the reference does not hold (a council formed since) takes any English region.
    formed = client.post(PATH, json=unknown | {"region": "South West"}, headers=admin)
    assert formed.status_code == 201


def test_a_council_already_held_is_not_overwritten(client, tokens):
    admin = bearer(tokens["admin"])
    before = _held(client, admin)
    renamed = {"code": STOKE, "name": "dup", "region": "West Midlands"}
    response = client.post(PATH, json=renamed, headers=admin)
    assert response.status_code == 409 and response.json()["field"] == "code"
    assert "already held, as Stoke-on-Trent (West Midlands)" in response.json()["detail"]
    retarget = {"code": STOKE, "name": "Stoke-on-Trent", "region": "West Midlands"}
    target = client.post(PATH, json=retarget | {"annual_approvals_target": 99}, headers=admin)
    assert target.status_code == 409
    assert _held(client, admin) == before


def test_the_cli_follows_the_same_rule(authorities, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    runner = CliRunner()
    wrong = runner.invoke(main, ["authority", "add", "E06000002", "--region", "London"])
    assert wrong.exit_code != 0 and "North East" in wrong.output
    added = runner.invoke(main, ["authority", "add", "E06000002"])
    assert added.exit_code == 0 and "added E06000002 Middlesbrough (North East)" in added.output
    again = runner.invoke(main, ["authority", "add", "E06000002"])
    assert again.exit_code == 0 and "already held, unchanged" in again.output
    renamed = runner.invoke(main, ["authority", "add", "E06000002", "--name", "Boro"])
    assert renamed.exit_code != 0 and "already held" in renamed.output
