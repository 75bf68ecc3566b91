"""A query parameter a JSON route does not take is refused, naming it, before anything is
read or written: a typing slip (`?dryrun=true`) must not turn a dry run into a real import,
nor `?dry_run=true` on a route without one into a write. The dashboard's pages ignore them."""

from __future__ import annotations

from tests.conftest import STOKE, bearer
from tests.test_dashboard import sign_in
from tests.test_regional import RETURNS, table_6_csv

ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries"
ROW = b"external_ref,received_on,channel\nQ1,2025-03-03,phone\n"


def _total(client, token) -> int:
    return client.get(ENQUIRIES, headers=bearer(token)).json()["total"]


def test_a_misspelt_dry_run_is_refused_and_nothing_is_imported(client, tokens):
    token = tokens["recruiter_stoke"]
    before = _total(client, token)
    headers = bearer(token) | {"Content-Type": "text/csv"}
    refused = client.post(f"{ENQUIRIES}/import?dryrun=true", content=ROW, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["field"] == "dryrun"
    assert "'dryrun'" in refused.json()["detail"] and "dry_run" in refused.json()["detail"]
    assert _total(client, token) == before
    checked = client.post(f"{ENQUIRIES}/import?dry_run=true", content=ROW, headers=headers)
    assert checked.status_code == 200 and _total(client, token) == before


def test_a_dry_run_asked_of_a_route_without_one_writes_nothing(client, tokens):
    refused = client.post(
        f"{RETURNS}?dry_run=true",
        content=table_6_csv().encode(),
        headers=bearer(tokens["admin"]) | {"Content-Type": "text/csv"},
    )
    assert refused.status_code == 400 and refused.json()["field"] == "dry_run"
    assert "takes none" in refused.json()["detail"]
    listed = client.get("/api/v1/authorities", headers=bearer(tokens["admin"])).json()
    assert "E08000025" not in {a["code"] for a in listed}  # a council only that file names


def test_a_misspelt_filter_is_refused_not_ignored(client, tokens):
    token = tokens["recruiter_stoke"]
    response = client.get(f"{ENQUIRIES}?recieved_from=2025-01-01", headers=bearer(token))
    assert response.status_code == 400 and response.json()["field"] == "recieved_from"
    spelt = client.get(f"{ENQUIRIES}?received_from=2025-01-01", headers=bearer(token))
    assert spelt.status_code == 200


def test_without_a_token_the_answer_is_401_not_the_routes_parameters(client):
    assert client.get(f"{ENQUIRIES}?nonsense=1").status_code == 401


def test_the_dashboards_pages_ignore_parameters_they_do_not_use(client, tokens):
    sign_in(client, tokens["recruiter_stoke"])
    assert client.get("/dashboard/enquiries?utm_source=newsletter").status_code == 200


def test_a_parameter_taken_once_given_twice_is_refused_naming_it(client, tokens):
    capacity = f"/api/v1/authorities/{STOKE}/capacity"
    headers = bearer(tokens["manager_stoke"])
    twice = client.get(f"{capacity}?as_at=2025-03-31&as_at=2024-03-31", headers=headers)
    assert twice.status_code == 400 and twice.json()["field"] == "as_at"
    assert "given 2 times" in twice.json()["detail"]
    assert client.get(f"{capacity}?as_at=2025-03-31", headers=headers).status_code == 200
