# The spreadsheets below keep one CSV row per line, as the team sees them.
# ruff: noqa: E501
"""Importing and exporting the recruitment team's enquiry spreadsheet, through the API and CLI.

Imports are all-or-nothing and idempotent on `external_ref` (per authority); exports carry
the import's columns plus id, stage and status, and are audited without personal data.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from api.app import create_app
from api.cli.base import main as cli
from tests.conftest import COVENTRY, STOKE, bearer
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.files import COLUMNS

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Four enquiries as the team keeps them: one at stage 1, one closed after no response,
# one just logged, one approved (stage_2_on and panel_on are not in this sheet).
GOOD_CSV = """\
external_ref,received_on,channel,campaign,enquirer_name,email,phone,postcode_district,household_type,ethnicity,interests,first_contact_on,initial_visit_on,application_on,stage_1_on,approved_on,closed_on,closure_reason
SOT-001,2024-01-05,web_form,Spring 2024,Siân Jones,sian@example.org,01782 123456,st4,couple,white_british,short_breaks;emergency,2024-01-08,2024-01-20,2024-02-10,2024-03-01,,,
SOT-002,10/01/2024,Phone,,Bob Smith,,,,single,,,2024-01-11,,,,,2024-02-01,no_response
SOT-003,2024-02-14,event,Spring 2024,Ann Lee,ann@example.org,,ST1,,,mainstream_long_term,,,,,,,
SOT-004,2023-03-01,referral,,Cara Diaz,cara@example.org,07700 900123,ST6,single,mixed_other,parent_and_child,2023-03-02,2023-03-20,2023-05-01,2023-06-01,2023-12-01,,
"""
PERSONAL = (
    "Siân Jones",
    "sian@example.org",
    "01782 123456",
    "Bob Smith",
    "Ann Lee",
    "ann@example.org",
    "Cara Diaz",
    "cara@example.org",
    "07700 900123",
)

# A narrower sheet for the rejection cases: two enquiries already stored...
REJ_HEADER = (
    "external_ref,received_on,channel,first_contact_on,application_on,approved_on,"
    "closed_on,closure_reason"
)
BASELINE_CSV = f"""\
{REJ_HEADER}
SOT-101,2024-01-05,web_form,2024-01-08,,,,
SOT-103,2024-02-14,event,,,,,
"""


def with_bad_row(bad: str) -> str:
    """...then a file updating both, adding one, with `bad` as row 3 (the header is row 1)."""
    return f"""\
{REJ_HEADER}
SOT-101,2024-01-05,web_form,2024-01-09,,,,
{bad}
SOT-103,2024-02-14,event,,,,2024-03-01,no_response
SOT-104,2024-03-01,phone,,,,,
"""


@pytest.fixture(scope="module")
def app_client(migrated: Database) -> Iterator[TestClient]:
    """One application per backend for this module (building one per test is slow). Its
    per-token request limits are off: each test's tokens reuse the ids of the last test's."""
    settings = Settings(
        database_url=migrated.url, requests_per_minute=0, expensive_requests_per_minute=0
    )
    with TestClient(create_app(settings, migrated)) as test_client:
        yield test_client


@pytest.fixture
def client(app_client: TestClient, authorities: Database) -> TestClient:
    """The shared application over this test's authorities (emptied after the test)."""
    return app_client


def base(code: str = STOKE) -> str:
    return f"/api/v1/authorities/{code}/enquiries"


def import_file(
    client: TestClient,
    token: str,
    content: str | bytes,
    code: str = STOKE,
    query: str = "",
    media: str = "text/csv",
) -> Any:
    body = content.encode() if isinstance(content, str) else content
    return client.post(
        f"{base(code)}/import{query}",
        content=body,
        headers={**bearer(token), "Content-Type": media},
    )


def imported(client: TestClient, token: str, content: str | bytes, **kwargs: Any) -> dict:
    """Import and return the report, failing on anything but 200."""
    response = import_file(client, token, content, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def counts(report: dict) -> tuple[int, int, int, int]:
    """(rows, created, updated, unchanged) of an import report."""
    return report["rows"], report["created"], report["updated"], report["unchanged"]


def records(client: TestClient, token: str, code: str = STOKE) -> list[dict]:
    response = client.get(f"{base(code)}/?limit=500", headers=bearer(token))
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda r: r["id"])


def by_ref(client: TestClient, token: str, code: str = STOKE) -> dict[str, dict]:
    return {r["external_ref"]: r for r in records(client, token, code)}


def snapshot(client: TestClient, token: str, code: str = STOKE) -> dict[int, dict]:
    """Every stored enquiry of the authority with its history (versions included)."""
    state = {}
    for record in records(client, token, code):
        history = client.get(f"{base(code)}/{record['id']}/history", headers=bearer(token))
        assert history.status_code == 200, history.text
        state[record["id"]] = {"record": record, "history": history.json()}
    return state


def export(client: TestClient, token: str, fmt: str = "csv", code: str = STOKE) -> bytes:
    response = client.get(f"{base(code)}/export?format={fmt}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.content


# --- idempotent imports -------------------------------------------------------------------


def test_valid_csv_creates_every_row_and_reimporting_it_changes_nothing(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]

    first = imported(client, token, GOOD_CSV)
    assert first == {
        "rows": 4,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "dry_run": False,
        "erased_fields_ignored": 0,
        "changed": [],
        "warnings": [],
    }
    stored = by_ref(client, token)
    assert set(stored) == {"SOT-001", "SOT-002", "SOT-003", "SOT-004"}
    one, two, four = stored["SOT-001"], stored["SOT-002"], stored["SOT-004"]
    assert (one["stage"], one["status"], one["version"]) == ("stage_1", "open", 1)
    assert one["postcode_district"] == "ST4"
    assert one["interests"] == ["emergency", "short_breaks"]
    assert one["enquirer_name"] == "Siân Jones"
    assert (two["received_on"], two["channel"]) == ("2024-01-10", "phone")
    assert two["status"] == "closed"
    assert (two["closure_reason"], two["closed_on"]) == ("no_response", "2024-02-01")
    assert (four["stage"], four["status"]) == ("approved", "approved")
    before = snapshot(client, token)

    second = imported(client, token, GOOD_CSV)

    assert second == {
        "rows": 4,
        "created": 0,
        "updated": 0,
        "unchanged": 4,
        "dry_run": False,
        "erased_fields_ignored": 0,
        "changed": [],
        "warnings": [],
    }
    assert snapshot(client, token) == before


def test_changed_cell_on_reimport_updates_only_that_enquiry(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, GOOD_CSV)
    before = snapshot(client, token)
    changed_csv = GOOD_CSV.replace("Ann Lee,", "Ann Leigh,")
    assert changed_csv != GOOD_CSV

    report = imported(client, token, changed_csv)

    assert counts(report) == (4, 0, 1, 3)
    after = snapshot(client, token)
    changed = [i for i in before if before[i] != after[i]]
    assert len(changed) == 1
    old, new = before[changed[0]], after[changed[0]]
    assert new["record"]["external_ref"] == "SOT-003"
    assert new["record"]["enquirer_name"] == "Ann Leigh"
    assert new["record"]["version"] == old["record"]["version"] + 1
    assert new["history"][: len(old["history"])] == old["history"]
    assert [(e["action"], e["note"]) for e in new["history"][len(old["history"]) :]] == [
        ("imported", "changed: enquirer_name")
    ]


# --- all or nothing -----------------------------------------------------------------------

BAD_ROWS = [
    pytest.param("SOT-102,2024-02-30,phone,,,,,", 3, "received_on", id="bad-date"),
    pytest.param("SOT-102,2024-01-06,carrier_pigeon,,,,,", 3, "channel", id="unknown-channel"),
    pytest.param(
        "SOT-102,2024-01-06,phone,2024-01-02,,,,",
        3,
        "first_contact_on",
        id="stage-date-before-received-on",
    ),
    pytest.param(
        "SOT-102,2023-01-06,phone,2023-01-09,,2023-09-01,,",
        3,
        "approved_on",
        id="approval-without-application",
    ),
    pytest.param(
        "SOT-102,2024-01-06,phone,,,,2024-02-01,",
        3,
        "closure_reason",
        id="closed-on-without-reason",
    ),
    pytest.param("SOT-101,2024-01-06,phone,,,,,", 3, "external_ref", id="duplicate-external-ref"),
]


@pytest.mark.parametrize(("bad_row", "row", "field"), BAD_ROWS)
def test_file_with_one_bad_row_is_rejected_and_stores_nothing(
    client: TestClient, tokens: dict[str, str], bad_row: str, row: int, field: str
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, BASELINE_CSV)
    before = snapshot(client, token)

    response = import_file(client, token, with_bad_row(bad_row))

    assert response.status_code == 422, response.text
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["rule"] == "import_rejected"
    assert {"row": row, "field": field} in [
        {"row": e["row"], "field": e["field"]} for e in body["errors"]
    ], body["errors"]
    assert all(e["row"] == row for e in body["errors"]), "only the bad row is at fault"
    assert snapshot(client, token) == before  # neither the updates nor the new row happened


HEADER_PROBLEMS = [
    pytest.param(
        f"{REJ_HEADER},colour\n"
        "SOT-101,2024-01-05,web_form,2024-01-09,,,,,blue\n"
        "SOT-104,2024-03-01,phone,,,,,,green\n",
        "colour",
        id="unknown-column",
    ),
    pytest.param(
        "external_ref,received_on,first_contact_on\n"
        "SOT-101,2024-01-05,2024-01-09\n"
        "SOT-104,2024-03-01,\n",
        "channel",
        id="missing-required-column",
    ),
    pytest.param(
        "external_ref,received_on,channel,channel\nSOT-101,2024-01-05,web_form,phone\n",
        "channel",
        id="repeated-column",
    ),
]


@pytest.mark.parametrize(("content", "field"), HEADER_PROBLEMS)
def test_file_with_a_bad_header_is_rejected_at_row_1_and_stores_nothing(
    client: TestClient, tokens: dict[str, str], content: str, field: str
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, BASELINE_CSV)
    before = snapshot(client, token)

    response = import_file(client, token, content)

    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert {"row": 1, "field": field} in [{"row": e["row"], "field": e["field"]} for e in errors]
    assert snapshot(client, token) == before


def test_rejected_file_into_an_empty_authority_stores_nothing(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    response = import_file(client, token, with_bad_row("SOT-102,2024-01-06,fax,,,,,"))
    assert response.status_code == 422, response.text
    assert records(client, token) == []


def test_same_file_without_the_bad_row_imports(client: TestClient, tokens: dict[str, str]) -> None:
    """The rejection cases fail only because of their bad row."""
    token = tokens["recruiter_stoke"]
    imported(client, token, BASELINE_CSV)
    good = with_bad_row("SOT-102,2024-01-06,phone,,,,,")
    report = imported(client, token, good)
    assert counts(report) == (4, 2, 2, 0)
    assert by_ref(client, token)["SOT-103"]["status"] == "closed"


def test_every_bad_row_is_reported_with_its_row_number_and_field(
    client: TestClient, tokens: dict[str, str]
) -> None:
    content = f"""\
{REJ_HEADER}
SOT-101,2024-01-05,web_form,2024-01-09,,,,
SOT-102,2024-01-06,fax,,,,,
SOT-103,2024-02-14,event,,,,2024-03-01,
SOT-104,31/02/2024,phone,,,,,
SOT-105,5th Jan 2024,phone,,,,,
SOT-106,2099-01-01,phone,,,,,
SOT-107,1999-12-31,phone,,,,,
SOT-108,2024-01-06,,,,,,
,2024-01-06,phone,,,,,
SOT-110,2024-01-06,phone,,,,,withdrawn_by_applicant
SOT-111,2024-01-06,phone,2024-01-10,,,2024-01-08,no_response
SOT-112,2024-01-06,phone,,,,2024-02-01,rejected_after_panel
SOT-113,2024-01-06,phone,,,,2024-02-01,got_bored
SOT-114,2024-01-06,phone,2024-01-07,2024-01-05,,,
SOT-115,2024-01-06,phone,,,,,
"""
    token = tokens["recruiter_stoke"]

    response = import_file(client, token, content)

    assert response.status_code == 422, response.text
    found = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert found == {
        (3, "channel"),  # unknown channel
        (4, "closure_reason"),  # closed_on without a reason
        (5, "received_on"),  # 31 February
        (6, "received_on"),  # not a date format
        (7, "received_on"),  # in the future
        (8, "received_on"),  # before 2000
        (9, "channel"),  # required, blank
        (10, "external_ref"),  # required, blank
        (11, "closed_on"),  # a reason without closed_on
        (12, "closed_on"),  # closed before the stage reached
        (13, "closure_reason"),  # rejected after panel without a panel
        (14, "closure_reason"),  # unknown reason
        (15, "application_on"),  # application before first contact
    }
    assert records(client, token) == []


# --- dry run ------------------------------------------------------------------------------


def test_dry_run_reports_counts_and_stores_nothing(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]

    report = imported(client, token, GOOD_CSV, query="?dry_run=true")

    assert counts(report) == (4, 4, 0, 0)
    assert report["dry_run"] is True
    assert records(client, token) == []

    imported(client, token, GOOD_CSV)
    before = snapshot(client, token)
    changed = GOOD_CSV.replace("Bob Smith", "Robert Smith").replace("Ann Lee,", "Ann Leigh,")
    report = imported(client, token, changed, query="?dry_run=true")
    assert counts(report) == (4, 0, 2, 2)
    assert report["dry_run"] is True
    assert snapshot(client, token) == before

    rejected = import_file(
        client, token, with_bad_row("X,2024-01-06,fax,,,,,"), query="?dry_run=true"
    )
    assert rejected.status_code == 422, rejected.text
    assert snapshot(client, token) == before


# --- export and round trip ----------------------------------------------------------------


def test_csv_export_reimports_into_the_same_authority_unchanged(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, GOOD_CSV)
    before = snapshot(client, token)

    content = export(client, token, "csv")
    report = imported(client, token, content)

    assert counts(report) == (4, 0, 0, 4)
    assert snapshot(client, token) == before


def test_xlsx_export_reimports_like_the_csv(client: TestClient, tokens: dict[str, str]) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, GOOD_CSV)
    before = snapshot(client, token)

    content = export(client, token, "xlsx")
    assert content[:4] == b"PK\x03\x04"
    detected = imported(client, token, content, media=XLSX_MEDIA)
    named = imported(client, token, content, media=XLSX_MEDIA, query="?format=xlsx")

    for report in (detected, named):
        assert counts(report) == (4, 0, 0, 4)
    assert snapshot(client, token) == before


def test_export_header_is_the_import_columns_plus_id_stage_status(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, GOOD_CSV)
    expected = {*COLUMNS, "id", "stage", "status"}

    csv_response = client.get(f"{base()}/export?format=csv", headers=bearer(token))
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    csv_header = csv_response.text.splitlines()[0].split(",")
    assert len(csv_header) == len(expected)
    assert set(csv_header) == expected
    assert len(csv_response.text.splitlines()) == 1 + 4

    sheet = openpyxl.load_workbook(io.BytesIO(export(client, token, "xlsx"))).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == csv_header
    assert len(rows) == 1 + 4


def test_exports_are_audited_without_personal_data(
    client: TestClient, tokens: dict[str, str]
) -> None:
    imported(client, tokens["recruiter_stoke"], GOOD_CSV)
    export(client, tokens["recruiter_stoke"], "csv")
    export(client, tokens["recruiter_stoke"], "xlsx")

    response = client.get("/api/v1/audit", headers=bearer(tokens["manager_stoke"]))

    assert response.status_code == 200, response.text
    entries = response.json()
    exports = [e for e in entries if e["action"] == "export"]
    assert sorted(e["detail"]["format"] for e in exports) == ["csv", "xlsx"]
    assert all(e["entity"] == "enquiry" and e["authority_code"] == STOKE for e in exports)
    assert all(e["detail"]["rows"] == 4 for e in exports)
    assert all("recruiter_stoke" in e["actor"] for e in exports)
    assert any(e["action"] == "import" for e in entries)
    dumped = json.dumps(entries, ensure_ascii=False) + response.text
    for value in PERSONAL:
        assert value not in dumped


# --- scope --------------------------------------------------------------------------------


def test_same_file_into_another_authority_is_independent(
    client: TestClient, tokens: dict[str, str]
) -> None:
    stoke, coventry = tokens["recruiter_stoke"], tokens["recruiter_coventry"]
    imported(client, stoke, GOOD_CSV)
    stoke_before = snapshot(client, stoke)

    first = imported(client, coventry, GOOD_CSV, code=COVENTRY)
    assert (first["created"], first["updated"], first["unchanged"]) == (4, 0, 0)
    changed = imported(client, coventry, GOOD_CSV.replace("Ann Lee,", "Ann Leigh,"), code=COVENTRY)
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 3)

    assert snapshot(client, stoke) == stoke_before
    coventry_records = by_ref(client, coventry, COVENTRY)
    assert set(coventry_records) == {"SOT-001", "SOT-002", "SOT-003", "SOT-004"}
    assert {r["authority_code"] for r in coventry_records.values()} == {COVENTRY}
    stoke_ids = {r["record"]["id"] for r in stoke_before.values()}
    assert stoke_ids.isdisjoint(r["id"] for r in coventry_records.values())
    assert by_ref(client, stoke)["SOT-003"]["enquirer_name"] == "Ann Lee"


def test_erased_enquiry_does_not_get_personal_data_back_from_an_old_sheet(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, GOOD_CSV)
    target = by_ref(client, token)["SOT-001"]
    erased = client.delete(
        f"{base()}/{target['id']}/personal-data", headers=bearer(tokens["manager_stoke"])
    )
    assert erased.status_code == 200, erased.text
    before = snapshot(client, token)

    report = imported(client, token, GOOD_CSV)

    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 4)
    # name, email, phone, postcode, ethnicity, and the campaign (free text, erased too)
    assert report["erased_fields_ignored"] == 6
    assert snapshot(client, token) == before

    changed = GOOD_CSV.replace("Spring 2024,Siân", "Summer 2024,Siân").replace(
        ",couple,", ",single,"
    )
    report = imported(client, token, changed)
    assert (report["updated"], report["unchanged"]) == (1, 3)
    record = by_ref(client, token)["SOT-001"]
    assert record["household_type"] == "single"
    assert record["campaign"] is None
    assert record["erased"] is True
    for field in ("enquirer_name", "email", "phone", "postcode_district", "ethnicity"):
        assert record[field] is None
    history = client.get(f"{base()}/{record['id']}/history", headers=bearer(token)).json()
    dumped = json.dumps(history, ensure_ascii=False)
    assert "Siân" not in dumped and "sian@example.org" not in dumped


@pytest.mark.parametrize(
    "token_name", ["regional_wm", "regional_ne", "recruiter_coventry", "manager_coventry"]
)
def test_regional_and_other_authority_tokens_may_not_import_or_export(
    client: TestClient, tokens: dict[str, str], token_name: str
) -> None:
    token, code = tokens[token_name], STOKE
    assert import_file(client, token, GOOD_CSV, code=code).status_code == 403
    assert import_file(client, token, GOOD_CSV, code=code, query="?dry_run=true").status_code == 403
    for fmt in ("csv", "xlsx"):
        response = client.get(f"{base(code)}/export?format={fmt}", headers=bearer(token))
        assert response.status_code == 403, response.text
        assert "Siân" not in response.text
    assert records(client, tokens["recruiter_stoke"], code) == []


# --- command line -------------------------------------------------------------------------


def test_cli_import_twice_creates_then_changes_nothing(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    sheet = tmp_path / "enquiries.csv"
    sheet.write_text(GOOD_CSV, encoding="utf-8")
    runner = CliRunner()
    args = ["import", "enquiries", "--authority", STOKE, str(sheet)]

    first = runner.invoke(cli, args)
    second = runner.invoke(cli, args)

    assert first.exit_code == 0, first.output
    assert "4 rows: 4 created, 0 updated, 0 unchanged" in first.output
    assert second.exit_code == 0, second.output
    assert "4 rows: 0 created, 0 updated, 4 unchanged" in second.output


def test_cli_rejects_a_bad_file_naming_row_and_field(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    sheet = tmp_path / "enquiries.csv"
    sheet.write_text(with_bad_row("SOT-102,2024-01-06,fax,,,,,"), encoding="utf-8")

    result = CliRunner().invoke(cli, ["import", "enquiries", "--authority", STOKE, str(sheet)])

    assert result.exit_code == 2
    assert "row 3 channel" in result.output
    assert "nothing imported" in result.output
    dry = CliRunner().invoke(
        cli, ["import", "enquiries", "--authority", STOKE, "--dry-run", str(sheet)]
    )
    assert dry.exit_code == 2


# --- bugs found (now fixed) ---------------------------------------------------------------------------


def test_export_of_api_logged_interests_reimports_unchanged(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    created = client.post(
        f"{base()}/",
        json={
            "received_on": "2024-03-01",
            "channel": "phone",
            "external_ref": "API-1",
            "interests": ["short_breaks", "emergency"],
        },
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    before = snapshot(client, token)

    report = imported(client, token, export(client, token))

    assert (report["updated"], report["unchanged"]) == (0, 1)
    assert snapshot(client, token) == before


def test_export_of_enquiries_logged_without_reference_reimports_unchanged(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, GOOD_CSV)
    created = client.post(
        f"{base()}/", json={"received_on": "2024-03-01", "channel": "phone"}, headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    before = snapshot(client, token)

    response = import_file(client, token, export(client, token))

    assert response.status_code == 200, response.text
    assert (response.json()["updated"], response.json()["unchanged"]) == (0, 5)
    assert snapshot(client, token) == before


def test_export_after_reopening_to_an_earlier_stage_reimports_unchanged(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, "external_ref,received_on,channel\nRO-1,2024-03-01,phone\n")
    enquiry = by_ref(client, token)["RO-1"]
    url = f"{base()}/{enquiry['id']}"
    moved = client.post(
        f"{url}/stage", json={"stage": "application", "on": "2024-03-05"}, headers=bearer(token)
    )
    assert moved.status_code == 200, moved.text
    back = client.post(f"{url}/reopen", json={"stage": "initial_visit"}, headers=bearer(token))
    assert back.status_code in (200, 409, 422), back.text

    response = import_file(client, token, export(client, token))

    assert response.status_code == 200, response.text
    assert response.json()["unchanged"] == 1


def test_xlsx_with_real_date_cells_imports(client: TestClient, tokens: dict[str, str]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["external_ref", "received_on", "channel", "first_contact_on"])
    sheet.append(["XL-1", date(2024, 1, 5), "phone", date(2024, 1, 8)])
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = imported(client, tokens["recruiter_stoke"], buffer.getvalue(), media=XLSX_MEDIA)

    assert report["created"] == 1
    record = by_ref(client, tokens["recruiter_stoke"])["XL-1"]
    assert (record["received_on"], record["first_contact_on"]) == ("2024-01-05", "2024-01-08")


def test_oversized_csv_cell_is_rejected_naming_the_row(
    client: TestClient, tokens: dict[str, str]
) -> None:
    content = "external_ref,received_on,channel,campaign\nBIG-1,2024-01-05,phone," + "x" * 200_000

    response = import_file(client, tokens["recruiter_stoke"], content + "\n")

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["row"] == 2


def test_nul_character_in_a_cell_is_rejected_naming_row_and_field(
    client: TestClient, tokens: dict[str, str]
) -> None:
    content = "external_ref,received_on,channel,enquirer_name\nNUL-1,2024-01-05,phone,A\x00B\n"

    response = import_file(client, tokens["recruiter_stoke"], content)

    assert response.status_code == 422, response.text
    assert {"row": 2, "field": "enquirer_name"} in [
        {"row": e["row"], "field": e["field"]} for e in response.json()["errors"]
    ]


def test_file_without_optional_columns_leaves_them_alone(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    imported(client, token, GOOD_CSV)
    before = snapshot(client, token)
    narrow = (
        "external_ref,received_on,channel\nSOT-001,2024-01-05,web_form\nSOT-002,2024-01-10,phone\n"
    )

    report = imported(client, token, narrow)

    assert (report["updated"], report["unchanged"]) == (0, 2)
    assert snapshot(client, token) == before


def test_row_numbers_count_blank_lines_as_the_spreadsheet_does(
    client: TestClient, tokens: dict[str, str]
) -> None:
    content = "external_ref,received_on,channel\nR-1,2024-01-05,phone\n\nR-3,2024-01-06,fax\n"

    response = import_file(client, tokens["recruiter_stoke"], content)

    assert response.status_code == 422, response.text
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(4, "channel")]


def test_spaces_around_header_names_are_accepted(
    client: TestClient, tokens: dict[str, str]
) -> None:
    content = "external_ref, received_on, channel\nSP-1, 2024-01-05, phone\n"

    report = imported(client, tokens["recruiter_stoke"], content)

    assert counts(report) == (1, 1, 0, 0)


def test_control_characters_in_one_line_cells_are_refused_naming_row_and_column(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """A tab, a carriage return (in a quoted cell, so row 3 spans two lines of the file but
    is one row of the spreadsheet), an escape character, and a line break in a stored
    enquiry's changed name: each named by row and column, nothing stored."""
    token = tokens["recruiter_stoke"]
    header = "external_ref,received_on,channel,enquirer_name,campaign\n"
    imported(client, token, header + "CC-0,2024-01-04,phone,Bo Li,\n")
    before = snapshot(client, token)
    content = header + (
        "CC-1,2024-01-05,phone,Dana\tOkafor,Spring\n"
        'CC-2,2024-01-06,phone,Ann Lee,"Spring\r2024"\n'
        "CC-3\x1b,2024-01-07,phone,,\n"
        'CC-0,2024-01-04,phone,"Bo\nLi",\n'
    )

    response = import_file(client, token, content)

    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "enquirer_name"),
        (3, "campaign"),
        (4, "external_ref"),
        (5, "enquirer_name"),
    ]
    assert "a tab" in errors[0]["message"] and "a carriage return" in errors[1]["message"]
    assert snapshot(client, token) == before


def test_a_blank_or_zero_width_cell_is_an_empty_cell(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """Only zero-width spaces, or only wide spaces, in an optional one-line column is an empty
    cell: stored as no value, as an empty cell is."""
    token = tokens["recruiter_stoke"]
    content = (
        "external_ref,received_on,channel,enquirer_name,campaign\n"
        "ZW-1,2024-01-05,phone,\u200b\u200b,\u00a0\u3000\u200d\n"
    )

    assert counts(imported(client, token, content)) == (1, 1, 0, 0)

    stored = by_ref(client, token)["ZW-1"]
    assert (stored["enquirer_name"], stored["campaign"]) == (None, None)
