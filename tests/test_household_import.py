"""Importing and exporting the household register, through the API and the CLI.

Imports are all-or-nothing and idempotent on `reference` (per authority); a row that differs
from the register is a dated change from its `status_from`, so figures as at earlier dates
stay as they were. Exports are the import's columns plus id and places as at a date, audited
without personal data.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from api.cli.base import main as cli
from tests.conftest import COVENTRY, STOKE, bearer
from tracker.core.db import Database
from tracker.households.sheet import EXPORT_HEADER

XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = (
    "reference,care_type,approved_on,approved_places,age_min,age_max,terms,status,status_from,"
    "deregistration_reason,carers_ethnicity,last_review_on"
)
# H-001 active since approval; H-002 approved 15 Jun 2024, on hold from 10 Jan 2025;
# H-003 approved 1 Sep 2022, deregistered (retired) from 31 Dec 2024; H-004 with blank ages
# (0 to 17) and codes written as people write them.
REGISTER_CSV = f"""\
{HEADER}
H-001,in_house,2023-04-01,2,0,10,short_term;emergency,active,,,white_british,2025-03-01
H-002,connected,15/06/2024,1,5,17,long_term,on_hold,2025-01-10,,,
H-003,supported_lodgings,2022-09-01,1,16,21,,deregistered,2024-12-31,retired,black_caribbean,2024-06-01
H-004,In House,2024-02-01,3,,,Short Term,active,,,,
"""
ETHNICITIES = ("white_british", "black_caribbean")


def base(code: str = STOKE) -> str:
    return f"/api/v1/authorities/{code}/households"


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
    return report["rows"], report["created"], report["updated"], report["unchanged"]


def by_ref(client: TestClient, token: str, code: str = STOKE) -> dict[str, dict]:
    response = client.get(f"{base(code)}/?limit=500", headers=bearer(token))
    assert response.status_code == 200, response.text
    return {r["reference"]: r for r in response.json()["items"]}


def as_at(client: TestClient, token: str, household_id: int, day: str) -> dict:
    response = client.get(f"{base()}/{household_id}?as_at={day}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def snapshot(client: TestClient, token: str, code: str = STOKE) -> dict[str, dict]:
    """Every household of the authority as today (version included) with its history."""
    state = {}
    for reference, record in by_ref(client, token, code).items():
        history = client.get(f"{base(code)}/{record['id']}/history", headers=bearer(token))
        assert history.status_code == 200, history.text
        state[reference] = {"record": record, "history": history.json()}
    return state


def export(
    client: TestClient, token: str, fmt: str = "csv", code: str = STOKE, query: str = ""
) -> bytes:
    response = client.get(f"{base(code)}/export?format={fmt}{query}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.content


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def place(client: TestClient, token: str, household_id: int, child_ref: str, start: str) -> None:
    response = client.post(
        f"{base()}/{household_id}/placements",
        json={"child_ref": child_ref, "start_on": start},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def manager(tokens: dict[str, str]) -> str:
    return tokens["manager_stoke"]


@pytest.fixture
def register(client: TestClient, manager: str) -> dict[str, dict]:
    """REGISTER_CSV imported into Stoke-on-Trent: the stored households by reference."""
    imported(client, manager, REGISTER_CSV)
    return by_ref(client, manager)


# --- idempotent imports -------------------------------------------------------------------


def test_import_creates_the_register_and_the_same_file_again_changes_nothing(
    client: TestClient, manager: str
) -> None:
    first = imported(client, manager, REGISTER_CSV)

    assert first == {
        "rows": 4,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "dry_run": False,
        "warnings": [],
    }
    stored = by_ref(client, manager)
    one, two, three, four = (stored[f"H-00{n}"] for n in range(1, 5))
    assert (one["status"], one["approved_places"], one["vacant_places"]) == ("active", 2, 2)
    assert (one["age_min"], one["age_max"], one["terms"]) == (0, 10, ["emergency", "short_term"])
    assert (one["carers_ethnicity"], one["last_review_on"]) == ("white_british", "2025-03-01")
    assert (two["approved_on"], two["status"], two["unavailable_places"]) == (
        "2024-06-15",
        "on_hold",
        1,
    )
    assert (three["status"], three["deregistration_reason"], three["approved_places"]) == (
        "deregistered",
        "retired",
        0,
    )
    assert (four["care_type"], four["age_min"], four["age_max"], four["terms"]) == (
        "in_house",
        0,
        17,
        ["short_term"],
    )
    before = snapshot(client, manager)
    assert [(p["valid_from"], p["valid_to"], p["status"]) for p in before["H-002"]["history"]] == [
        ("2024-06-15", "2025-01-10", "active"),
        ("2025-01-10", None, "on_hold"),
    ]
    assert [(p["valid_from"], p["status"]) for p in before["H-003"]["history"]] == [
        ("2022-09-01", "active"),
        ("2024-12-31", "deregistered"),
    ]
    assert as_at(client, manager, two["id"], "2025-01-09")["status"] == "active"

    second = imported(client, manager, REGISTER_CSV)

    assert second == {
        "rows": 4,
        "created": 0,
        "updated": 0,
        "unchanged": 4,
        "dry_run": False,
        "warnings": [],
    }
    assert snapshot(client, manager) == before


def test_household_on_hold_from_its_approval_has_one_period(
    client: TestClient, manager: str
) -> None:
    imported(client, manager, f"{HEADER}\nH-009,in_house,2024-03-01,2,0,17,,on_hold,,,,\n")

    household = by_ref(client, manager)["H-009"]
    history = client.get(f"{base()}/{household['id']}/history", headers=bearer(manager)).json()

    assert [(p["valid_from"], p["valid_to"], p["status"]) for p in history] == [
        ("2024-03-01", None, "on_hold")
    ]
    assert as_at(client, manager, household["id"], "2024-03-01")["vacant_places"] == 0


def test_changed_rows_apply_dated_changes_from_status_from(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    before = snapshot(client, manager)
    changed = REGISTER_CSV.replace(
        "H-001,in_house,2023-04-01,2,0,10,short_term;emergency,active,,",
        "H-001,in_house,2023-04-01,3,0,10,short_term;emergency,active,01/01/2025,",
    ).replace(
        "H-004,In House,2024-02-01,3,,,Short Term,active,,",
        "H-004,In House,2024-02-01,3,,,Short Term,deregistered,2025-02-01,resigned",
    )

    report = imported(client, manager, changed)

    assert counts(report) == (4, 0, 2, 2)
    one, four = register["H-001"]["id"], register["H-004"]["id"]
    assert as_at(client, manager, one, "2024-12-31")["approved_places"] == 2
    assert as_at(client, manager, one, "2025-01-01")["approved_places"] == 3
    earlier = as_at(client, manager, four, "2025-01-31")
    later = as_at(client, manager, four, "2025-02-01")
    assert (earlier["status"], earlier["approved_places"], earlier["vacant_places"]) == (
        "active",
        3,
        3,
    )
    assert (later["status"], later["deregistration_reason"], later["vacant_places"]) == (
        "deregistered",
        "resigned",
        0,
    )
    after = snapshot(client, manager)
    assert {ref for ref in before if before[ref] != after[ref]} == {"H-001", "H-004"}
    history = after["H-001"]["history"]
    assert history[0] == {**before["H-001"]["history"][0], "valid_to": "2025-01-01"}
    assert [(p["valid_from"], p["approved_places"], p["note"]) for p in history] == [
        ("2023-04-01", 2, "approved"),
        ("2025-01-01", 3, "imported"),
    ]
    assert imported(client, manager, changed)["unchanged"] == 4


def test_changed_undated_details_update_in_place(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    before = snapshot(client, manager)
    changed = REGISTER_CSV.replace("white_british,2025-03-01", "white_irish,2025-09-01")

    report = imported(client, manager, changed)

    assert counts(report) == (4, 0, 1, 3)
    after = snapshot(client, manager)
    assert after["H-001"]["history"] == before["H-001"]["history"]
    record = after["H-001"]["record"]
    assert (record["carers_ethnicity"], record["last_review_on"]) == ("white_irish", "2025-09-01")
    assert record["version"] == before["H-001"]["record"]["version"] + 1


def test_file_without_optional_columns_leaves_them_alone(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    before = snapshot(client, manager)
    narrow = (
        "reference,care_type,approved_on,approved_places\n"
        "H-001,in_house,2023-04-01,2\n"
        "H-003,supported_lodgings,2022-09-01,1\n"
    )

    assert counts(imported(client, manager, narrow)) == (2, 0, 0, 2)
    assert snapshot(client, manager) == before


# --- all or nothing -----------------------------------------------------------------------


def with_bad_row(bad: str) -> str:
    """A file that changes H-001 and adds H-005, with `bad` as row 3 (the header is row 1)."""
    return f"""\
{HEADER}
H-001,in_house,2023-04-01,3,0,10,short_term;emergency,active,2025-01-01,,white_british,2025-03-01
{bad}
H-005,in_house,2025-05-01,1,0,17,,active,,,,
"""


BAD_ROWS = [
    pytest.param("H-006,in_house,2025-02-30,1,0,17,,active,,,,", "approved_on", id="bad-date"),
    pytest.param("H-006,in_house,5th May,1,0,17,,active,,,,", "approved_on", id="unreadable"),
    pytest.param("H-006,in_house,2099-01-01,1,0,17,,active,,,,", "approved_on", id="future"),
    pytest.param("H-006,in_house,1979-12-31,1,0,17,,active,,,,", "approved_on", id="too-early"),
    pytest.param("H-006,residential,2025-01-01,1,0,17,,active,,,,", "care_type", id="care-type"),
    pytest.param(",in_house,2025-01-01,1,0,17,,active,,,,", "reference", id="blank-reference"),
    pytest.param("H 6,in_house,2025-01-01,1,0,17,,active,,,,", "reference", id="bad-reference"),
    pytest.param("H-006,in_house,2025-01-01,,0,17,,active,,,,", "approved_places", id="no-places"),
    pytest.param("H-006,in_house,2025-01-01,13,0,17,,active,,,,", "approved_places", id="13"),
    pytest.param("H-006,in_house,2025-01-01,-1,0,17,,active,,,,", "approved_places", id="neg"),
    pytest.param("H-006,in_house,2025-01-01,two,0,17,,active,,,,", "approved_places", id="two"),
    pytest.param("H-006,in_house,2025-01-01,1,12,8,,active,,,,", "age_min", id="ages-reversed"),
    pytest.param("H-006,in_house,2025-01-01,1,0,26,,active,,,,", "age_max", id="age-over-25"),
    pytest.param("H-006,in_house,2025-01-01,1,0,17,weekends,active,,,,", "terms", id="term"),
    pytest.param("H-006,in_house,2025-01-01,1,0,17,,retired,,,,", "status", id="status"),
    pytest.param(
        "H-006,in_house,2025-01-01,1,0,17,,deregistered,2025-03-01,,,",
        "deregistration_reason",
        id="deregistered-without-reason",
    ),
    pytest.param(
        "H-006,in_house,2025-01-01,1,0,17,,active,,retired,,",
        "deregistration_reason",
        id="reason-while-active",
    ),
    pytest.param(
        "H-006,in_house,2025-01-01,1,0,17,,on_hold,2024-12-01,,,",
        "status_from",
        id="status-from-before-approval",
    ),
    pytest.param(
        "H-006,in_house,2025-01-01,1,0,17,,active,,,martian,", "carers_ethnicity", id="ethnicity"
    ),
    pytest.param(
        "H-006,in_house,2025-01-01,1,0,17,,active,,,,2099-01-01", "last_review_on", id="review"
    ),
    pytest.param(
        "H-001,in_house,2023-04-01,3,0,10,,active,2025-01-01,,,", "reference", id="duplicate"
    ),
    pytest.param(
        "H-002,connected,2024-06-15,2,5,17,long_term,on_hold,2024-12-01,,,",
        "status_from",
        id="change-before-latest-change",
    ),
    pytest.param(
        "H-002,connected,2024-06-15,2,5,17,long_term,on_hold,,,,",
        "status_from",
        id="blank-status-from-is-before-latest-change",
    ),
    pytest.param(
        "H-002,connected,2024-06-20,1,5,17,long_term,on_hold,2025-01-10,,,",
        "approved_on",
        id="approval-date-changed",
    ),
    pytest.param(
        "H-003,supported_lodgings,2022-09-01,1,16,21,,deregistered,2024-12-31,resigned,,",
        "status",
        id="deregistered-household-changed",
    ),
]


@pytest.mark.parametrize(("bad_row", "field"), BAD_ROWS)
def test_file_with_one_bad_row_is_rejected_and_stores_nothing(
    client: TestClient, manager: str, register: dict[str, dict], bad_row: str, field: str
) -> None:
    before = snapshot(client, manager)

    response = import_file(client, manager, with_bad_row(bad_row))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["rule"] == "import_rejected"
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(3, field)], body["errors"]
    assert snapshot(client, manager) == before


def test_same_file_with_a_good_row_imports(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    """The rejection cases fail only because of their bad row."""
    good = with_bad_row("H-006,in_house,2025-01-01,1,0,17,,active,,,,")
    assert counts(imported(client, manager, good)) == (3, 2, 1, 0)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        pytest.param(
            f"{HEADER},colour\nH-001,in_house,2023-04-01,2,0,10,,active,,,,,blue\n",
            "colour",
            id="unknown-column",
        ),
        pytest.param(
            "reference,care_type,approved_on\nH-001,in_house,2023-04-01\n",
            "approved_places",
            id="missing-required-column",
        ),
        pytest.param(
            "reference,care_type,approved_on,approved_places,approved_places\n"
            "H-001,in_house,2023-04-01,2,5\n",
            "approved_places",
            id="repeated-column",
        ),
    ],
)
def test_file_with_a_bad_header_is_rejected_at_row_1(
    client: TestClient, manager: str, register: dict[str, dict], content: str, field: str
) -> None:
    before = snapshot(client, manager)

    response = import_file(client, manager, content)

    assert response.status_code == 422, response.text
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(1, field)]
    assert snapshot(client, manager) == before


def test_errors_in_several_rows_are_all_reported(client: TestClient, manager: str) -> None:
    content = f"""\
{HEADER}
H-001,in_house,2023-04-01,2,0,10,,active,,,,
H-002,in_house,2023-04-01,20,0,10,,active,,,,
H-003,in_house,2023-04-01,2,9,3,,paused,,,,
H-004,in_house,2023-04-01,2,9,3,,active,,,,
"""
    response = import_file(client, manager, content)

    assert response.status_code == 422, response.text
    found = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert found == {(3, "approved_places"), (4, "status"), (5, "age_min")}
    assert by_ref(client, manager) == {}


def test_row_breaking_capacity_rolls_back_the_whole_file(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    one = register["H-001"]["id"]
    place(client, manager, one, "C-101", "2024-05-01")
    place(client, manager, one, "C-102", "2024-06-01")
    before = snapshot(client, manager)
    # Row 2 adds H-005 and row 3 changes H-004: both applied, then row 4 is refused.
    content = f"""\
{HEADER}
H-005,in_house,2025-05-01,1,0,17,,active,,,,
H-004,in_house,2024-02-01,2,0,17,short_term,active,2025-03-01,,,
H-001,in_house,2023-04-01,1,0,10,short_term;emergency,active,2025-01-01,,white_british,2025-03-01
"""

    response = import_file(client, manager, content)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["rule"] == "import_rejected"
    [error] = body["errors"]
    assert (error["row"], error["field"]) == (4, "approved_places")
    assert error["message"].startswith("capacity_exceeded: 2 children are placed")
    assert snapshot(client, manager) == before

    dry = import_file(client, manager, content, query="?dry_run=true")
    assert dry.status_code == 422, dry.text
    deregistering = content.replace(
        "1,0,10,short_term;emergency,active,2025-01-01,",
        "2,0,10,short_term;emergency,deregistered,2025-01-01,resigned",
    )
    response = import_file(client, manager, deregistering)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["row"], error["field"]) == (4, "status")
    assert "capacity_exceeded" in error["message"]
    assert snapshot(client, manager) == before


# --- dry run ------------------------------------------------------------------------------


def test_dry_run_reports_counts_and_stores_nothing(client: TestClient, manager: str) -> None:
    report = imported(client, manager, REGISTER_CSV, query="?dry_run=true")

    assert report == {
        "rows": 4,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "dry_run": True,
        "warnings": [],
    }
    assert by_ref(client, manager) == {}

    imported(client, manager, REGISTER_CSV)
    before = snapshot(client, manager)
    changed = REGISTER_CSV.replace("white_british,2025-03-01", "white_irish,2025-03-01")
    report = imported(client, manager, changed, query="?dry_run=true")
    assert counts(report) == (4, 0, 1, 3)
    assert snapshot(client, manager) == before


# --- export and round trip ----------------------------------------------------------------


def test_csv_export_reimports_unchanged(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    place(client, manager, register["H-001"]["id"], "C-101", "2024-05-01")
    before = snapshot(client, manager)

    content = export(client, manager)

    lines = content.decode().splitlines()
    assert lines[0].split(",") == list(EXPORT_HEADER)
    assert len(lines) == 1 + 4
    rows = {row["reference"]: row for row in csv_rows(content)}
    assert (rows["H-001"]["filled_places"], rows["H-001"]["vacant_places"]) == ("1", "1")
    assert (rows["H-002"]["status_from"], rows["H-002"]["unavailable_places"]) == (
        "2025-01-10",
        "1",
    )
    # A deregistered household keeps the places it was approved for; it offers none.
    assert (rows["H-003"]["approved_places"], rows["H-003"]["vacant_places"]) == ("1", "0")
    again = imported(client, manager, content)
    assert counts(again) == (4, 0, 0, 4)
    # Its figures agree with the register: nothing to warn of.
    assert again["warnings"] == []
    assert snapshot(client, manager) == before


# --- export-only columns: never imported, never silently -----------------------------------

# Eight new households, two places each, the council's file claiming children in six of them.
FILLED_CSV = (
    "reference,care_type,approved_on,approved_places,filled_places,vacant_places\n"
    + "".join(
        f"F-{n},in_house,2024-04-01,2,{1 if n <= 6 else ''},{1 if n <= 6 else 2}\n"
        for n in range(1, 9)
    )
)


def test_filled_places_in_the_file_are_not_imported_and_the_report_says_so(
    client: TestClient, manager: str
) -> None:
    dry = imported(client, manager, FILLED_CSV, query="?dry_run=true")
    report = imported(client, manager, FILLED_CSV)

    assert counts(report) == (8, 8, 0, 0)
    assert dry["warnings"] == report["warnings"]
    # vacant_places 2 (rows 8 and 9) is what the register holds: only the six others differ.
    assert [(w["column"], w["rows"], w["row_count"]) for w in report["warnings"]] == [
        ("filled_places", [2, 3, 4, 5, 6], 6),
        ("vacant_places", [2, 3, 4, 5, 6], 6),
    ]
    filled = report["warnings"][0]["message"]
    assert filled.startswith("filled_places was not imported: 6 rows give a figure")
    assert "(row 2: 1 in the file, 0 in the register)" in filled
    assert f"POST /api/v1/authorities/{STOKE}/households/{{id}}/placements" in filled
    assert {r["filled_places"] for r in by_ref(client, manager).values()} == {0}


def test_an_id_from_another_register_is_not_imported_and_the_report_says_so(
    client: TestClient, manager: str
) -> None:
    sheet = "id,reference,care_type,approved_on,approved_places\n999999,H-9,in_house,2024-04-01,1\n"

    report = imported(client, manager, sheet)

    assert [(w["column"], w["rows"], w["row_count"]) for w in report["warnings"]] == [
        ("id", [2], 1)
    ]
    assert "matched by reference" in report["warnings"][0]["message"]
    assert by_ref(client, manager)["H-9"]["id"] != 999999


def test_export_as_at_an_earlier_date_shows_the_register_then(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    rows = {r["reference"]: r for r in csv_rows(export(client, manager, query="&as_at=2024-07-01"))}

    assert set(rows) == {"H-001", "H-002", "H-003", "H-004"}
    assert (rows["H-002"]["status"], rows["H-002"]["status_from"]) == ("active", "2024-06-15")
    assert (rows["H-003"]["status"], rows["H-003"]["vacant_places"]) == ("active", "1")
    early = csv_rows(export(client, manager, query="&as_at=2023-01-01"))
    assert [r["reference"] for r in early] == ["H-003"]


def test_xlsx_export_reimports_like_the_csv(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    before = snapshot(client, manager)

    content = export(client, manager, "xlsx")

    assert content[:4] == b"PK\x03\x04"
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(EXPORT_HEADER)
    assert len(rows) == 1 + 4
    detected = imported(client, manager, content, media=XLSX_MEDIA)
    named = imported(client, manager, content, media=XLSX_MEDIA, query="?format=xlsx")
    assert counts(detected) == counts(named) == (4, 0, 0, 4)
    assert snapshot(client, manager) == before


def test_xlsx_with_real_date_and_number_cells_imports(client: TestClient, manager: str) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["reference", "care_type", "approved_on", "approved_places", "age_max"])
    sheet.append(["XL-1", "in_house", date(2024, 1, 5), 2, 12])
    buffer = io.BytesIO()
    workbook.save(buffer)

    assert counts(imported(client, manager, buffer.getvalue(), media=XLSX_MEDIA)) == (1, 1, 0, 0)
    record = by_ref(client, manager)["XL-1"]
    assert (record["approved_on"], record["approved_places"], record["age_max"]) == (
        "2024-01-05",
        2,
        12,
    )


def test_imports_and_exports_are_audited_without_carers_ethnicity(
    client: TestClient, manager: str, register: dict[str, dict]
) -> None:
    export(client, manager, "csv")
    export(client, manager, "xlsx", query="&as_at=2024-07-01")

    response = client.get("/api/v1/audit?limit=500", headers=bearer(manager))

    assert response.status_code == 200, response.text
    entries = response.json()
    exports = [e for e in entries if e["action"] == "export"]
    assert sorted((e["detail"]["format"], e["detail"]["rows"]) for e in exports) == [
        ("csv", 4),
        ("xlsx", 4),
    ]
    assert all(e["entity"] == "household" and e["authority_code"] == STOKE for e in exports)
    [entry] = [e for e in entries if e["action"] == "import"]
    assert (entry["entity"], len(entry["detail"]["created"])) == ("household", 4)
    dumped = json.dumps(entries)
    assert not any(value in dumped for value in ETHNICITIES)


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token_name", ["recruiter_stoke", "regional_wm", "regional_ne", "manager_coventry"]
)
def test_only_the_authority_managers_and_admins_may_import_or_export(
    client: TestClient, tokens: dict[str, str], token_name: str
) -> None:
    token = tokens[token_name]
    assert import_file(client, token, REGISTER_CSV).status_code == 403
    assert import_file(client, token, REGISTER_CSV, query="?dry_run=true").status_code == 403
    for fmt in ("csv", "xlsx"):
        response = client.get(f"{base()}/export?format={fmt}", headers=bearer(token))
        assert response.status_code == 403, response.text
    assert by_ref(client, tokens["manager_stoke"]) == {}
    admin = tokens["admin"]
    assert counts(imported(client, admin, REGISTER_CSV)) == (4, 4, 0, 0)
    assert len(csv_rows(export(client, admin))) == 4


def test_same_file_into_another_authority_is_independent(
    client: TestClient, tokens: dict[str, str], register: dict[str, dict]
) -> None:
    before = snapshot(client, tokens["manager_stoke"])
    coventry = tokens["manager_coventry"]

    assert counts(imported(client, coventry, REGISTER_CSV, code=COVENTRY)) == (4, 4, 0, 0)

    assert snapshot(client, tokens["manager_stoke"]) == before
    assert {r["authority_code"] for r in by_ref(client, coventry, COVENTRY).values()} == {COVENTRY}


# --- command line -------------------------------------------------------------------------


def test_cli_import_twice_creates_then_changes_nothing(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    sheet = tmp_path / "households.csv"
    sheet.write_text(REGISTER_CSV, encoding="utf-8")
    runner = CliRunner()
    args = ["import", "households", "--authority", STOKE, str(sheet)]

    dry = runner.invoke(cli, [*args[:-1], "--dry-run", str(sheet)])
    first = runner.invoke(cli, args)
    second = runner.invoke(cli, args)

    assert dry.exit_code == 0, dry.output
    assert "4 rows: 4 created, 0 updated, 0 unchanged (dry run)" in dry.output
    assert first.exit_code == 0, first.output
    assert "4 rows: 4 created, 0 updated, 0 unchanged" in first.output
    assert second.exit_code == 0, second.output
    assert "4 rows: 0 created, 0 updated, 4 unchanged" in second.output


def test_cli_import_prints_the_columns_it_did_not_import(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    sheet = tmp_path / "households.csv"
    sheet.write_text(FILLED_CSV, encoding="utf-8")

    result = CliRunner().invoke(cli, ["import", "households", "--authority", STOKE, str(sheet)])

    assert result.exit_code == 0, result.output
    assert "warning, row 2, 3, 4, 5, 6 and 1 more filled_places: filled_places was not" in (
        " ".join(result.output.split())
    )


def test_cli_exports_and_rejects_a_bad_file(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    runner = CliRunner()
    sheet = tmp_path / "households.csv"
    sheet.write_text(REGISTER_CSV, encoding="utf-8")
    args = ["import", "households", "--authority", STOKE, str(sheet)]
    assert runner.invoke(cli, args).exit_code == 0
    output = tmp_path / "out.xlsx"

    exported = runner.invoke(
        cli,
        [
            "export",
            "households",
            "--authority",
            STOKE,
            "--output",
            str(output),
            "--format",
            "xlsx",
            "--as-at",
            "2024-07-01",
        ],
    )

    assert exported.exit_code == 0, exported.output
    sheet_out = openpyxl.load_workbook(output).active
    assert sheet_out is not None
    rows = list(sheet_out.iter_rows(values_only=True))
    assert [r[1] for r in rows] == ["reference", "H-001", "H-002", "H-003", "H-004"]
    sheet.write_text(with_bad_row("H-006,in_house,2025-01-01,1,0,17,,paused,,,,"))
    rejected = runner.invoke(cli, args)
    assert rejected.exit_code == 2
    assert "row 3 status" in rejected.output
    assert "nothing imported" in rejected.output
