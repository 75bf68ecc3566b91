"""The Ofsted return over HTTP and on the command line, on SQLite and PostgreSQL: who may read
it, the files it downloads as (audited), the records behind a figure, the collections, and
that no personal data leaves through it."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from click.testing import CliRunner

from api.cli.base import main as cli
from tests.conftest import COVENTRY, STOKE, bearer
from tracker.core.errors import InvalidValueError
from tracker.enquiries.timeliness import london_today
from tracker.ofsted.service import ofsted_return

TODAY = london_today()
RETURN = f"/api/v1/authorities/{STOKE}/ofsted-returns/2025-26"
ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries"


@pytest.fixture
def manager(tokens: dict[str, str]) -> dict[str, str]:
    return bearer(tokens["manager_stoke"])


@pytest.fixture
def applicant(client, manager) -> int:
    """An enquiry with a name and contacts, received and applied in 2025-26, then closed by
    the applicant (AW2)."""
    body = {
        "received_on": "2025-05-01",
        "channel": "email",
        "enquirer_name": "Pat Privateperson",
        "email": "pat.private@example.org",
        "phone": "07700 900123",
        "external_ref": "REF-1",
    }
    enquiry = client.post(ENQUIRIES, json=body, headers=manager).json()
    base = f"{ENQUIRIES}/{enquiry['id']}"
    client.post(f"{base}/stage", json={"stage": "application", "on": "2025-06-01"}, headers=manager)
    closed = client.post(
        f"{base}/close",
        json={"reason": "withdrawn_by_applicant", "on": "2025-09-01", "withdrawal_reason": "AW2"},
        headers=manager,
    )
    assert closed.status_code == 200, closed.text
    return enquiry["id"]


def _figures(body: dict) -> dict:
    return {f["key"]: f["value"] for s in body["sections"] for f in s["figures"]}


def test_a_manager_reads_the_return_with_its_definitions(client, manager, applicant) -> None:
    response = client.get(RETURN, headers=manager)

    assert response.status_code == 200, response.text
    body = response.json()
    figures = _figures(body)
    assert (body["year"], body["complete"]) == ("2025-26", date(2026, 3, 31) < TODAY)
    assert figures["initial_enquiries"] == 1
    assert (figures["applications_withdrawn"], figures["withdrawn_aw2"]) == (1, 1)
    first = body["sections"][0]["figures"][0]
    assert first["definition"] and first["records"] == 1
    assert {s["key"] for s in body["sources"]} >= {"ofsted-changes-2024-25", "service"}


@pytest.mark.parametrize("token_name", ["recruiter_stoke", "regional_wm", "manager_coventry"])
def test_only_the_authority_managers_and_admins_read_the_return(client, tokens, token_name) -> None:
    headers = bearer(tokens[token_name])

    assert client.get(RETURN, headers=headers).status_code == 403
    assert client.get(f"{RETURN}/export", headers=headers).status_code == 403
    assert (
        client.get(f"{RETURN}/figures/initial_enquiries/records", headers=headers).status_code
        == 403
    )


def test_an_admin_reads_any_authority_s_return(client, tokens) -> None:
    response = client.get(
        f"/api/v1/authorities/{COVENTRY}/ofsted-returns/2024-25", headers=bearer(tokens["admin"])
    )

    assert response.status_code == 200, response.text
    assert response.json()["authority_name"] == "Coventry"


def test_a_figure_lists_its_records_by_reference_only(client, manager, applicant) -> None:
    response = client.get(f"{RETURN}/figures/withdrawn_aw2/records", headers=manager)

    assert response.status_code == 200, response.text
    [record] = response.json()["records"]
    assert (record["kind"], record["id"], record["reference"], record["on"]) == (
        "enquiry",
        applicant,
        "REF-1",
        "2025-09-01",
    )
    assert record["detail"] == "withdrawn_by_applicant at application: AW2"


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/authorities/E06000021/ofsted-returns/2019-20", 404, "year"),
        (f"{RETURN}/figures/no_such_figure/records", 404, "field"),
        ("/api/v1/authorities/E06000021/ofsted-returns/2025", 400, "year"),
    ],
    ids=["no-collection", "no-figure", "malformed-year"],
)
def test_a_year_or_figure_the_return_does_not_have_is_a_4xx_naming_it(
    client, manager, path, status, field
) -> None:
    response = client.get(path, headers=manager)

    assert response.status_code == status, response.text
    assert field in response.text


def test_the_export_is_the_return_in_its_order_and_is_audited(client, manager, applicant) -> None:
    as_csv = client.get(f"{RETURN}/export?format=csv", headers=manager)
    as_xlsx = client.get(f"{RETURN}/export?format=xlsx", headers=manager)

    assert as_csv.status_code == 200 and as_xlsx.status_code == 200
    assert 'filename="ofsted-return-E06000021-2025-26.csv"' in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    figures = _figures(client.get(RETURN, headers=manager).json())
    assert [r[1] for r in rows[4:]] == list(figures)
    assert {r[1]: r[3] for r in sheet.iter_rows(min_row=5, values_only=True)} == figures
    audit = client.get("/api/v1/audit?limit=500", headers=manager).json()
    exports = [e for e in audit if e["action"] == "export" and e["entity"] == "ofsted_return"]
    assert sorted(e["detail"]["format"] for e in exports) == ["csv", "xlsx"]


def test_no_personal_data_leaves_through_the_return(client, manager, applicant) -> None:
    outputs = [
        client.get(RETURN, headers=manager).text,
        client.get(f"{RETURN}/export?format=csv", headers=manager).text,
        client.get(f"{RETURN}/figures/initial_enquiries/records", headers=manager).text,
    ]

    for text in outputs:
        for secret in ("Privateperson", "pat.private", "900123"):
            assert secret not in text


def test_the_collections_are_open_to_every_role(client, tokens) -> None:
    listed = client.get("/api/v1/ofsted-collections", headers=bearer(tokens["recruiter_stoke"]))
    one = client.get("/api/v1/ofsted-collections/2023-24", headers=bearer(tokens["regional_ne"]))

    assert [c["year"] for c in listed.json()] == ["2023-24", "2024-25", "2025-26"]
    assert one.status_code == 200
    assert next(s for s in one.json()["sections"] if s["key"] == "carers")["level"] == "carer"


def test_the_command_prints_the_return_and_writes_the_file(
    authorities, applicant, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    output = tmp_path / "return.xlsx"

    result = CliRunner().invoke(
        cli,
        ["ofsted-return", "--authority", STOKE, "--year", "2025-26", "--output", str(output)],
    )

    assert result.exit_code == 0, result.output
    assert "withdrawn_aw2" in result.output
    sheet = openpyxl.load_workbook(output).active
    assert ("withdrawn_aw2", 1) in {(r[1], r[3]) for r in sheet.iter_rows(values_only=True)}


def test_the_command_refuses_a_year_it_has_no_collection_for(authorities, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)

    result = CliRunner().invoke(cli, ["ofsted-return", "--authority", STOKE, "--year", "2019-20"])

    assert result.exit_code == 2
    assert "no Ofsted collection for '2019-20'" in result.output


def test_a_year_under_way_is_built_to_today_and_one_not_begun_is_refused(
    authorities, applicant
) -> None:
    with authorities.read_session() as session:
        under_way = ofsted_return(session, STOKE, "2025-26", date(2025, 8, 1))
        with pytest.raises(InvalidValueError) as refused:
            ofsted_return(session, STOKE, "2025-26", date(2025, 3, 1))

    figures = {f.key: f.value for s in under_way.sections for f in s.figures}
    assert under_way.complete is False
    # Applied on 1 June, closed on 1 September: in progress on 1 August.
    assert (figures["applications_in_progress"], figures["applications_withdrawn"]) == (1, 0)
    assert refused.value.field == "year"
