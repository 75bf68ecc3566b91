"""Spreadsheet imports take the file as the request body or as the one file part of a
multipart/form-data form (as `curl -F file=@...`, a browser form and the SSDA903 upload send
it): the enquiry import, the household register and capacity returns; anything else in the
form is a 400 naming the file, and nothing is stored."""

from __future__ import annotations

import io

import openpyxl

from tests.conftest import STOKE, bearer
from tests.test_enquiry_import import GOOD_CSV
from tests.test_household_import import REGISTER_CSV
from tests.test_regional import table_6_csv

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries"


def _xlsx(csv_text: str) -> bytes:
    workbook = openpyxl.Workbook()
    for line in csv_text.strip().splitlines():
        workbook.active.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _total(client, token: str) -> int:
    return client.get(ENQUIRIES, headers=bearer(token)).json()["total"]


def test_the_enquiry_import_reads_a_multipart_upload_as_the_file_sent(client, tokens):
    manager = bearer(tokens["manager_stoke"])
    files = {"file": ("enquiries.csv", GOOD_CSV.encode(), "text/csv")}
    dry = client.post(f"{ENQUIRIES}/import?dry_run=true", files=files, headers=manager)
    assert dry.status_code == 200, dry.text
    assert dry.json()["created"] == 4
    imported = client.post(f"{ENQUIRIES}/import", files=files, headers=manager)
    assert imported.status_code == 200, imported.text
    assert _total(client, tokens["manager_stoke"]) == 4
    # The same file as the body changes nothing: it was read the same way.
    again = client.post(
        f"{ENQUIRIES}/import", content=GOOD_CSV, headers=manager | {"Content-Type": "text/csv"}
    )
    assert again.status_code == 200 and again.json()["unchanged"] == 4


def test_an_xlsx_workbook_uploads_as_multipart_too(client, tokens):
    manager = bearer(tokens["manager_stoke"])
    files = {"upload": ("enquiries.xlsx", _xlsx(GOOD_CSV), XLSX)}
    imported = client.post(f"{ENQUIRIES}/import", files=files, headers=manager)
    assert imported.status_code == 200, imported.text
    assert _total(client, tokens["manager_stoke"]) == 4


def test_the_register_and_capacity_returns_upload_as_multipart(client, tokens):
    households = client.post(
        f"/api/v1/authorities/{STOKE}/households/import",
        files={"file": ("register.csv", REGISTER_CSV.encode(), "text/csv")},
        headers=bearer(tokens["manager_stoke"]),
    )
    assert households.status_code == 200, households.text
    assert households.json()["created"] == 4
    returns = client.post(
        "/api/v1/capacity-returns",
        files={"file": ("returns.csv", table_6_csv().encode(), "text/csv")},
        headers=bearer(tokens["admin"]),
    )
    assert returns.status_code == 200, returns.text
    assert returns.json()["created"] == 28


def test_a_form_with_two_files_or_other_fields_is_refused_naming_the_file(client, tokens):
    manager = bearer(tokens["manager_stoke"])
    two = [
        ("file", ("a.csv", GOOD_CSV.encode(), "text/csv")),
        ("file", ("b.csv", GOOD_CSV.encode(), "text/csv")),
    ]
    for kwargs in (
        {"files": two},
        {"files": {"file": ("a.csv", GOOD_CSV.encode(), "text/csv")}, "data": {"note": "x"}},
    ):
        response = client.post(f"{ENQUIRIES}/import", headers=manager, **kwargs)
        assert response.status_code == 400, (kwargs, response.text)
        assert response.json()["field"] == "file"
    assert _total(client, tokens["manager_stoke"]) == 0
