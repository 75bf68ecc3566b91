"""Uploads that would cost the server memory and CPU out of proportion: huge headers, long
lines, xlsx zip bombs, sheets past their limits, bodies past 20 MB. Each is refused with a
4xx naming the limit and the field, and the errors an import reports are capped."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from api.cli.base import main as cli
from tests.conftest import STOKE, bearer
from tests.live_server import ThreadServer
from tests.ssda903_files import children_client, upload
from tests.test_dashboard_enquiries import _signed_in
from tests.test_dashboard_manage import _preview
from tracker.children.files import SourceFile, read_tables
from tracker.core.cancellation import AbandonedError, watching
from tracker.core.db import Database
from tracker.core.errors import MAX_REPORTED_ERRORS, ImportRejectedError, RowError
from tracker.core.upload_limits import MAX_COLUMNS, MAX_LINE_CHARS

__all__ = ["children_client"]
ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries/import"
HOUSEHOLDS = f"/api/v1/authorities/{STOKE}/households/import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GOOD_ROW = "BIG-1,2024-01-05,phone\n"


def post(client: TestClient, token: str, body: bytes, route: str = ENQUIRIES, **kw: Any) -> Any:
    media = XLSX if body[:2] == b"PK" else "text/csv"
    return client.post(
        f"{route}?dry_run=true", content=body, headers={**bearer(token), "Content-Type": media}
    )


def enquiry_count(client: TestClient, token: str) -> int:
    response = client.get(f"/api/v1/authorities/{STOKE}/enquiries", headers=bearer(token))
    assert response.status_code == 200
    return len(response.json()["items"])


def test_a_header_of_thousands_of_unknown_columns_is_refused_at_once(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """8 MB of one-letter columns listed every column as an error (a 212 MB answer)."""
    header = "external_ref,received_on,channel," + ",".join(["x"] * 40_000)

    response = post(client, tokens["recruiter_stoke"], (header + "\n" + GOOD_ROW).encode())

    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["rule"], body["field"]) == ("too_many_columns", "header")
    assert f"at most {MAX_COLUMNS}" in body["detail"]
    assert len(response.content) < 2_000


def test_errors_past_the_first_hundred_are_counted_not_listed(
    client: TestClient, tokens: dict[str, str]
) -> None:
    header = "external_ref,received_on,channel," + ",".join(f"extra{i}" for i in range(150))

    response = post(client, tokens["recruiter_stoke"], (header + "\n" + GOOD_ROW).encode())

    assert response.status_code == 422, response.text
    body = response.json()
    assert len(body["errors"]) == MAX_REPORTED_ERRORS
    assert (body["error_count"], body["errors_left_out"]) == (150, 50)
    assert body["detail"].startswith("150 error(s) (the first 100 listed)")


def test_a_column_name_longer_than_the_limit_is_refused_naming_it(
    client: TestClient, tokens: dict[str, str]
) -> None:
    header = "external_ref,received_on,channel,campaign" + "n" * 5_000

    response = post(client, tokens["recruiter_stoke"], (header + "\n" + GOOD_ROW).encode())

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["rule"] == "column_name_too_long"
    assert body["field"].startswith("campaignnnn")


def test_the_household_register_has_the_same_limits(
    client: TestClient, tokens: dict[str, str]
) -> None:
    header = "reference," + ",".join(["x"] * (MAX_COLUMNS + 1))

    response = post(client, tokens["manager_stoke"], (header + "\n").encode(), HOUSEHOLDS)

    assert response.status_code == 422, response.text
    assert response.json()["rule"] == "too_many_columns"


def _workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_sheet_xml(content: bytes, edit: Any) -> bytes:
    """The workbook with its first sheet's XML changed by `edit` (text to text)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            target.writestr(entry.filename, data, compresslevel=9)
    return out.getvalue()


ROWS = [["external_ref", "received_on", "channel"], ["XL-1", "2024-01-05", "phone"]]


def test_an_xlsx_zip_bomb_is_refused_before_it_is_read(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """50 MB of XML packed into some 50 KB: refused from the archive's directory."""
    bomb = _with_sheet_xml(
        _workbook(ROWS), lambda xml: xml.replace("<sheetData>", "<sheetData>" + " " * 50_000_000)
    )
    assert len(bomb) < 200_000

    response = post(client, tokens["recruiter_stoke"], bomb)

    assert response.status_code == 413, response.text
    body = response.json()
    assert (body["rule"], body["field"]) == ("compression_ratio", "file")
    assert "zip bomb" in body["detail"]


def test_an_xlsx_cell_far_beyond_the_columns_read_is_refused(
    client: TestClient, tokens: dict[str, str]
) -> None:
    far = '<c r="XFD2" t="inlineStr"><is><t>far</t></is></c></row>'
    sheet = _with_sheet_xml(_workbook(ROWS), lambda xml: xml.replace("</row>", far, 2))

    response = post(client, tokens["recruiter_stoke"], sheet)

    assert response.status_code == 422, response.text
    assert response.json()["rule"] == "too_many_columns"


def test_an_xlsx_row_far_beyond_the_rows_read_is_refused(
    client: TestClient, tokens: dict[str, str]
) -> None:
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = _with_sheet_xml(
        _workbook(ROWS), lambda xml: xml.replace("</sheetData>", far + "</sheetData>")
    )

    response = post(client, tokens["recruiter_stoke"], sheet)

    assert response.status_code == 413, response.text
    assert response.json()["rule"] == "too_many_rows"


def test_an_xlsx_cell_of_endless_text_is_refused(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """Excel keeps a cell to 32,767 characters; one of 60,000 is refused as the XML is read."""
    endless = f'<row r="3"><c r="A3" t="inlineStr"><is><t>{"ab" * 30_000}</t></is></c></row>'
    long_text = _with_sheet_xml(
        _workbook(ROWS), lambda xml: xml.replace("</sheetData>", endless + "</sheetData>")
    )

    response = post(client, tokens["recruiter_stoke"], long_text)

    assert response.status_code == 413, response.text
    assert response.json()["rule"] == "text_too_long"


def test_an_xlsx_whose_header_follows_a_blank_row_imports(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["recruiter_stoke"]
    content = _workbook([["", ""], *ROWS])

    response = client.post(
        ENQUIRIES, content=content, headers={**bearer(token), "Content-Type": XLSX}
    )

    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    assert enquiry_count(client, token) == 1


def test_an_ssda903_upload_past_20_mb_is_a_413_naming_the_limit(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    big = b"CHILD,DECOM,RNE\n" + b"C1,01/04/2022,S\n" * 1_400_000

    response = upload(children_client, tokens["manager_stoke"], {"episodes_2022-23.csv": big})

    assert response.status_code == 413, response.text
    body = response.json()
    assert (body["rule"], body["limit"]) == ("body_too_large", 20_000_000)
    assert "20,000,000 bytes" in body["detail"]


def test_an_ssda903_file_of_one_endless_line_is_refused_naming_the_file(
    children_client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    endless = b"CHILD,DECOM,RNE," + b"x" * (MAX_LINE_CHARS + 10)

    response = upload(children_client, tokens["manager_stoke"], {"episodes_2022-23.csv": endless})

    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert (error["file"], error["row"]) == ("episodes_2022-23.csv", 1)
    assert f"longer than {MAX_LINE_CHARS:,} characters" in error["message"]


def test_import_rejected_keeps_the_first_hundred_errors_and_counts_them_all() -> None:
    errors = [RowError(n, "x", "bad") for n in range(2, 5_002)]

    rejected = ImportRejectedError(errors)

    assert (len(rejected.errors), rejected.total, rejected.left_out) == (100, 5_000, 4_900)


def test_the_cli_prints_the_capped_errors_and_their_count(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    path = tmp_path / "enquiries.csv"
    header = "external_ref,received_on,channel," + ",".join(f"extra{i}" for i in range(150))
    path.write_text(header + "\n" + GOOD_ROW)

    result = CliRunner().invoke(
        cli, ["import", "enquiries", "--authority", STOKE, "--dry-run", str(path)]
    )

    assert result.exit_code == 2, result.output
    assert result.output.count("unknown column") == MAX_REPORTED_ERRORS
    assert "150 error(s) (the first 100 listed): nothing imported" in result.output


@pytest.fixture
def server(tokens: dict[str, str], db: Database) -> Any:
    with ThreadServer(db.url) as running:
        yield running


def _big_workbook(rows: int) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["external_ref", "received_on", "channel", "campaign", "enquirer_name"])
    for n in range(rows):
        sheet.append([f"R-{n}", "2024-01-05", "phone", f"Campaign {n % 7}", f"Name {n}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_reading_an_upload_stops_when_the_client_disconnects(
    server: Any, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A client that sends a large workbook and leaves: the server stops reading it."""
    caplog.set_level(logging.INFO, logger="fostering.api")
    body = _big_workbook(30_000)
    head = (
        f"POST {ENQUIRIES}?dry_run=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {tokens['recruiter_stoke']}\r\n"
        f"Content-Type: {XLSX}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head.encode() + body)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "stopped reading the upload" not in caplog.text:
        time.sleep(0.1)
    assert "stopped reading the upload, the client disconnected" in caplog.text


def test_the_dashboard_preview_lists_the_first_hundred_errors_and_counts_the_rest(
    client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    header = "external_ref,received_on,channel," + ",".join(f"extra{i}" for i in range(150))

    rejected = _preview(client, csrf, "enquiries", {"team.csv": header + "\n" + GOOD_ROW})

    assert rejected.status_code == 400
    assert "The file has 150 errors: nothing was imported" in rejected.text
    assert "The first 100 are listed below; 50 more were left out." in rejected.text
    assert rejected.text.count("unknown column") == MAX_REPORTED_ERRORS


def test_the_dashboard_preview_refuses_a_huge_header_naming_the_limit(
    client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    header = "external_ref,received_on,channel," + ",".join(["x"] * 40_000)

    refused = _preview(client, csrf, "enquiries", {"team.csv": header + "\n" + GOOD_ROW})

    assert refused.status_code == 400
    assert f"at most {MAX_COLUMNS} are read" in refused.text
    assert len(refused.content) < 100_000


def test_an_ssda903_read_stops_when_asked_and_is_not_taken_for_a_bad_file() -> None:
    """A stopped read is raised as such, not reported as an error in the file."""
    columns = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST"
    body = f"{columns},PL_POST,URN\n" + "C1,01/04/2022,S,V2,N1,U4,PR4,,,,ST4 8,ST4 2,X\n" * 3_000
    stop = threading.Event()
    stop.set()

    with watching(stop), pytest.raises(AbandonedError):
        read_tables(SourceFile("episodes_2022-23.csv", body.encode()))
