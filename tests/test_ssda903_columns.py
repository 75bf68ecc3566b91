"""The columns of an SSDA903 upload: a regional pipeline's LA column must name the council the
files are imported for (by its ONS code, old LA number or name), and a column given twice is
refused, as every import of the service refuses it; both answer 422 naming the file, the
row and the column, and store nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from litestar.testing import TestClient

from tests.conftest import COVENTRY, STOKE
from tests.ssda903_files import EPISODE_COLUMNS, csv_text, read, upload

FILE = "SSDA903_Episodes_2022-23.csv"


def episodes(*councils: str, columns: str = EPISODE_COLUMNS + ",LA") -> str:
    """An Episodes file of 2022-23 with one child a row, each row's LA as given."""
    rows = [
        f"CH{900 + number},01/06/2022,S,C2,N1,U4,PR1,,,,,,,{council}"
        for number, council in enumerate(councils)
    ]
    return csv_text(columns, "\n".join(rows))


def errors(response) -> list[tuple[str, int, str]]:
    assert response.status_code == 422, response.text
    return [(e["file"], e["row"], e["field"]) for e in response.json()["errors"]]


@pytest.mark.parametrize("query", ["?dry_run=true", ""])
def test_rows_of_another_council_are_refused_naming_file_row_and_la(
    children_client: TestClient, tokens: dict[str, str], query: str
) -> None:
    """Stoke-on-Trent's rows (LA E06000021) sent to Coventry's import, as a dry run and for
    real: refused at the first such row, saying whose rows they are not; nothing stored."""
    token = tokens["manager_coventry"]
    content = episodes("", "E06000021", "E06000021")

    response = upload(children_client, token, {FILE: content}, code=COVENTRY, query=query)

    assert errors(response) == [(FILE, 3, "LA")]
    message = response.json()["errors"][0]["message"]
    assert "'E06000021'" in message and "Coventry (E08000026, LA number 331)" in message
    assert read(children_client, token, "returns", code=COVENTRY) == []


def test_the_council_may_be_named_by_its_code_la_number_or_name(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    """E06000021, DfE's old LA number 861 and the name however written are all Stoke-on-Trent
    (a blank LA is the council's own row); a neighbour's number in the same file is not."""
    token = tokens["manager_stoke"]
    names = ("E06000021", "e06000021", "861", "Stoke-on-Trent", "STOKE ON TRENT", "")

    accepted = upload(children_client, token, {FILE: episodes(*names)}, query="?dry_run=true")
    mixed = upload(children_client, token, {FILE: episodes(*names, "860")}, code=STOKE)

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["episodes"]["created"] == len(names)
    assert errors(mixed) == [(FILE, len(names) + 2, "LA")]
    assert read(children_client, token, "returns") == []


def _workbook(header: list[str], row: list[str]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(header)
    book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "column"),
    [
        pytest.param(
            FILE,
            episodes("E06000021", columns=EPISODE_COLUMNS + ",PLACE"),
            "PLACE",
            id="csv-place-twice",
        ),
        pytest.param(
            FILE,
            episodes("E06000021", columns=EPISODE_COLUMNS.replace("URN", "la") + ",LA"),
            "LA",
            id="csv-la-and-LA",
        ),
        pytest.param(
            "episodes_2022-23.xlsx",
            _workbook(
                [*EPISODE_COLUMNS.split(","), "PLACE"],
                ["CH900", "01/06/2022", "S", "C2", "N1", "U4", "PR1", *[""] * 6, "K2"],
            ),
            "PLACE",
            id="xlsx-place-twice",
        ),
    ],
)
def test_a_column_given_twice_is_refused_naming_it(
    children_client: TestClient, tokens: dict[str, str], name: str, content: str, column: str
) -> None:
    token = tokens["manager_stoke"]

    response = upload(children_client, token, {name: content})

    assert errors(response) == [(name, 1, column)]
    assert read(children_client, token, "returns") == []


def test_each_file_says_how_its_year_was_decided_even_from_its_name(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    """A year read from a span in the file's name is said too, as the other ways are."""
    token = tokens["manager_stoke"]
    response = upload(children_client, token, {FILE: episodes("")}, query="?dry_run=true")
    assert response.status_code == 200, response.text
    [summary] = response.json()["files"]
    assert summary["note"] == "from the file's name: 2022-23"
