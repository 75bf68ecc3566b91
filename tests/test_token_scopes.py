"""A token's scope is never silently dropped or replaced: a regional token given a council
of another region is refused, and the CLI refuses a token id no record can have."""

from __future__ import annotations

from click.testing import CliRunner

from api.cli.base import main
from tests.conftest import STOKE, bearer


def test_a_regional_token_given_a_council_of_another_region_is_refused(client, tokens):
    admin = bearer(tokens["admin"])
    before = client.get("/api/v1/tokens", headers=admin).json()
    body = {"role": "regional", "name": "x", "authority_code": STOKE, "region": "North East"}
    refused = client.post("/api/v1/tokens", headers=admin, json=body)
    assert refused.status_code == 422 and refused.json()["field"] == "authority_code"
    assert "West Midlands, not North East" in refused.json()["detail"]
    assert client.get("/api/v1/tokens", headers=admin).json() == before
    agreeing = client.post("/api/v1/tokens", headers=admin, json=body | {"region": "west midlands"})
    assert agreeing.status_code == 201
    assert agreeing.json()["record"]["region"] == "West Midlands"


def test_the_cli_refuses_to_revoke_a_token_id_no_record_can_have(authorities, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    result = CliRunner().invoke(main, ["token", "revoke", str(2**63)])
    assert result.exit_code == 2 and "token_id" in result.output.lower()
    assert "Traceback" not in result.output
