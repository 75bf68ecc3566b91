"""The service around the API: health, the docs served offline, the CLI, and clean logs."""

import logging

from click.testing import CliRunner

from api.cli.base import main
from tests.conftest import STOKE, bearer
from tracker.core.access import caller_for, list_tokens


def test_health_reports_database_and_schema(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "schema": "current"}


def test_openapi_spec_and_docs_need_no_internet(client):
    spec = client.get("/schema/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/authorities/{code}/enquiries" in paths
    page = client.get("/schema/")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text and "unpkg" not in page.text
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


def test_cli_lists_its_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "token", "demo", "import", "export", "authority"):
        assert command in result.output


def test_cli_creates_lists_and_revokes_tokens(authorities, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    runner = CliRunner()
    created = runner.invoke(
        main, ["token", "create", "--role", "recruiter", "--authority", STOKE, "--name", "Sam"]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    with authorities.read_session() as session:
        caller = caller_for(session, secret)
    assert caller is not None and caller.authority_code == STOKE
    listed = runner.invoke(main, ["token", "list"])
    assert "Sam" in listed.output and secret not in listed.output
    revoked = runner.invoke(main, ["token", "revoke", str(caller.token_id)])
    assert revoked.exit_code == 0
    with authorities.read_session() as session:
        assert caller_for(session, secret) is None


def test_cli_refuses_a_recruiter_token_without_authority(authorities, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    result = CliRunner().invoke(main, ["token", "create", "--role", "recruiter"])
    assert result.exit_code == 2 and "authority" in result.output


def test_cli_refuses_a_hub_id_no_record_can_have(authorities, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    result = CliRunner().invoke(
        main, ["token", "create", "--role", "hub", "--hub", str(2**63), "--name", "h"]
    )
    assert result.exit_code == 2 and "--hub" in result.output, result.output
    with authorities.read_session() as session:
        assert list_tokens(session, include_revoked=True) == []


def test_cli_refuses_a_scope_the_role_does_not_take(authorities, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    result = CliRunner().invoke(
        main, ["token", "create", "--role", "admin", "--authority", STOKE, "--name", "a"]
    )
    assert result.exit_code == 2 and "authority_code does not apply" in result.output
    with authorities.read_session() as session:
        assert list_tokens(session, include_revoked=True) == []


def test_personal_data_never_reaches_the_logs(client, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    token = tokens["recruiter_stoke"]
    base = f"/api/v1/authorities/{STOKE}/enquiries"
    person = {
        "enquirer_name": "Perdita Quennell",
        "email": "perdita.q@example.org",
        "phone": "07700 900871",
    }
    created = client.post(
        base,
        json={"received_on": "2025-03-03", "channel": "phone", **person},
        headers=bearer(token),
    ).json()
    url = f"{base}/{created['id']}"
    client.post(
        f"{url}/stage", json={"stage": "first_contact", "on": "2025-03-04"}, headers=bearer(token)
    )
    etag = client.get(url, headers=bearer(token)).headers["etag"]
    client.patch(url, json={"email": "bad-email"}, headers={**bearer(token), "If-Match": etag})
    client.patch(url, json={"phone": "07700 900872"}, headers={**bearer(token), "If-Match": etag})
    client.get(f"{base}/export", headers=bearer(token))
    client.post(
        f"{base}/import",
        content=b"external_ref,received_on,channel,enquirer_name\n"
        b"X1,2025-01-01,nope,Perdita Quennell\n",
        headers=bearer(token),
    )
    client.delete(f"{url}/personal-data", headers=bearer(tokens["manager_stoke"]))
    logged = caplog.text
    assert "Perdita" not in logged and "Quennell" not in logged
    assert "perdita.q@example.org" not in logged and "900871" not in logged
