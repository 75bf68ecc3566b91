"""SSDA903 returns year by year, and the files councils send.

Each return speaks for its year: a later return that drops a child or corrects a start date
loads, is warned about, and does not revise the earlier year; a year's return can be
replaced or withdrawn (API and CLI, audited). Dates are checked against the collection
year; a child twice in a year's Header with two dates of birth is an error naming both
rows. xlsx files, CR-only CSVs, one multi-year file with a YEAR column and Social Finance's
file names are read; a file that cannot be read is a 422 (CLI: a line) naming it.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import text

from api.cli import main as cli
from tests.conftest import STOKE, bearer
from tests.ssda903_files import (
    EPISODE_COLUMNS,
    HEADER_COLUMNS,
    KEY,
    base,
    csv_text,
    import_files,
    read,
    upload,
    uploaded,
)
from tests.test_ssda903 import (
    BOTH_YEARS,
    EPISODES_2022,
    EPISODES_2023,
    HEADER_2022,
    HEADER_2023,
    OC3_2023,
)
from tracker.core import schema
from tracker.core.audit import list_entries
from tracker.core.authorities import NewAuthority, add_authority
from tracker.core.db import Database
from tracker.core.errors import ImportRejectedError

DATA = ("ssda903_child", "ssda903_episode", "ssda903_care_leaver")


def stored(database: Database, *left_out: str) -> dict[str, set[frozenset]]:
    """Every row of the SSDA903 tables as (column, value) pairs, without its id or the
    columns `left_out`."""
    with database.engine.connect() as conn:
        return {
            t: {
                frozenset((k, v) for k, v in r._mapping.items() if k not in ("id", *left_out))
                for r in conn.execute(text(f'SELECT * FROM "{t}"'))
            }
            for t in DATA
        }


def clear(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in (*DATA, "ssda903_import"):
            conn.execute(text(f'DELETE FROM "{table}"'))


# --- each return speaks for its year --------------------------------------------------------

DROPPED_2023 = csv_text(
    EPISODE_COLUMNS,
    """
    D1,01/06/2021,S,C2,N1,U4,PR1,,,,,,
    D2,10/10/2022,S,V2,N1,U5,PR4,,,,,,
    D3,01/01/2023,S,C2,N1,K2,PR4,,,,,,
    """,
)
DROPPED_2024 = csv_text(
    EPISODE_COLUMNS,
    """
    D1,01/06/2021,S,C2,N1,U4,PR1,30/09/2023,E13,,,,
    D3,05/01/2023,S,C2,N1,K2,PR4,,,,,,
    D4,01/05/2023,S,V2,N1,U4,PR1,,,,,,
    """,
)
DROPPING = {"episodes_2022-23.csv": DROPPED_2023, "episodes_2023-24.csv": DROPPED_2024}


def test_a_later_return_that_drops_a_child_or_moves_a_start_loads_and_says_so(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    """2022-23 ends with D1, D2 and D3 in care. The 2023-24 return carries D1 (who went home
    in September) and D3, but with her start corrected from 01/01/2023 to 05/01/2023, and
    does not carry D2 at all; D4 is new.

    It loads (the corrected start is no overlap: each return stands alone), with two
    warnings naming the rows of the 2022-23 file: row 3 (D2, not in the later return) and
    row 4 (D3, a changed start date). Each return speaks for its year, as DfE's figures do:
    31/03/2023: D1, D2, D3 = 3; 31/03/2024: D3 and D4 = 2 (D2 not counted, and no ceasing
    counted for her); ceased 2023-24: D1 = 1; starters 2022-23: D2 (October) and D3
    (January, as 2022-23 returned it) = 2; starters 2023-24: D4 = 1.
    """
    token = tokens["manager_stoke"]
    report = uploaded(children_client, token, DROPPING)
    warned = {(w["file"], w["row"]): w["message"] for w in report["warnings"]}
    assert set(warned) == {("episodes_2022-23.csv", 3), ("episodes_2022-23.csv", 4)}
    assert "the child is not in it" in warned[("episodes_2022-23.csv", 3)]
    assert "05/01/2023 instead" in warned[("episodes_2022-23.csv", 4)]

    def in_care(as_at: str) -> int:
        return read(children_client, token, "in-care", as_at=as_at)["figures"]["children"]

    assert (in_care("2023-03-31"), in_care("2024-03-31")) == (3, 2)
    ceased = read(children_client, token, "ceased", date_from="2023-04-01", date_to="2024-03-31")
    assert ceased["ceased"] == 1
    starters = {
        year: read(children_client, token, "starters", date_from=start, date_to=end)["starters"]
        for year, start, end in (
            ("2022-23", "2022-04-01", "2023-03-31"),
            ("2023-24", "2023-04-01", "2024-03-31"),
        )
    }
    assert starters == {"2022-23": 2, "2023-24": 1}
    returns = read(children_client, token, "returns")
    assert [
        (r["year"], r["episodes"], r["in_care_at_end"], r["not_carried_forward"]) for r in returns
    ] == [("2022-23", 3, 3, 2), ("2023-24", 3, 2, None)]


def test_the_dropped_episode_is_warned_about_when_the_later_return_comes_alone(
    authorities: Database,
) -> None:
    """With 2022-23 stored, importing 2023-24 alone warns about the stored rows: the file is
    named as the stored return and the row as it was in its file (3 and 4)."""
    import_files(authorities, {"episodes_2022-23.csv": DROPPED_2023})
    report = import_files(authorities, {"episodes_2023-24.csv": DROPPED_2024})
    assert {(w.file, w.row) for w in report.warnings} == {
        ("stored 2022-23 Episodes return", 3),
        ("stored 2022-23 Episodes return", 4),
    }


# --- replacing and withdrawing a year's return -----------------------------------------------

CORRECTED_2023 = EPISODES_2023.replace(
    "CH1005,12/06/2022,S,V2,N1,U4,PR4", "CH1005,19/06/2022,S,V2,N1,U4,PR4"
)


def test_a_changed_return_is_refused_unless_it_replaces_the_year(
    children_client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    """The 2022-23 return is stored; a corrected one moves CH1005's start from 12/06/2022
    to 19/06/2022 (one episode new, one no longer there). Sent plainly it is refused (422,
    naming the file) and nothing changes; with replace=true it replaces the year: 1 episode
    created, 1 removed, the other 8 unchanged, starters of June 2022 still 2 (CH1005 and
    CH1006), and the audit log has the replacement."""
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    before = stored(authorities)
    refused = upload(children_client, token, {"episodes_2022-23.csv": CORRECTED_2023})
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["file"] == "episodes_2022-23.csv"
    assert "2022-23 Episodes return is already stored" in error["message"]
    assert "1 new, 0 changed, 1 no longer in it" in error["message"]
    assert stored(authorities) == before

    report = uploaded(
        children_client, token, {"episodes_2022-23.csv": CORRECTED_2023}, query="?replace=true"
    )
    assert report["replaced"] == ["2022-23"]
    counts = report["episodes"]
    assert (counts["created"], counts["removed"], counts["unchanged"]) == (1, 1, 8)
    assert report["episodes_rederived"] == 0
    june = read(children_client, token, "starters", date_from="2022-06-01", date_to="2022-06-30")
    assert june["starters"] == 2
    with authorities.read_session() as session:
        actions = [e.action for e in list_entries(session, authority_code=STOKE, entity="ssda903")]
    assert actions[0] == "replace"


def test_a_year_is_withdrawn_through_the_api_and_audited(
    children_client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    """Withdrawing 2022-23 removes its 9 episodes and 4 OC3 rows, and the children no
    return mentions any more: CH1005 and CH1006 (only in 2022-23) = 2. 2022-23 then has no
    figures (starters null), 2021-22 keeps its own, and CH1002's 2021-22 episodes are
    untouched. A second withdrawal is 404; a year not written 2022-23 is 422 naming it."""
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    url = f"{base()}/ssda903/2022-23"
    response = children_client.delete(url, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "year": "2022-23",
        "episodes": 9,
        "care_leavers": 4,
        "children": 2,
        "episodes_rederived": 0,
    }
    starters = read(
        children_client, token, "starters", date_from="2022-04-01", date_to="2023-03-31"
    )
    assert starters["starters"] is None
    in_care = read(children_client, token, "in-care", as_at="2022-03-31")["figures"]
    assert (in_care["children"], in_care["return_year"]) == (6, "2021-22")
    assert [r["year"] for r in read(children_client, token, "returns")] == ["2021-22"]
    with authorities.read_session() as session:
        (entry,) = list_entries(session, authority_code=STOKE, entity="ssda903")[:1]
    assert (entry.action, entry.entity_id) == ("withdraw", "2023")
    again = children_client.delete(url, headers=bearer(token))
    assert (again.status_code, again.json()["field"]) == (404, "year")
    wrong = children_client.delete(f"{base()}/ssda903/2023", headers=bearer(token))
    assert (wrong.status_code, wrong.json()["field"]) == (422, "year")
    regional = children_client.delete(
        f"{base()}/ssda903/2021-22", headers=bearer(tokens["regional_wm"])
    )
    assert regional.status_code == 403


@pytest.mark.parametrize("year", ["0000-01", "9999-00", "1899-00", "2100-01", "2023-25", "abc"])
def test_a_year_outside_the_calendar_is_422_naming_it_and_withdraws_nothing(
    children_client: TestClient, tokens: dict[str, str], year: str
) -> None:
    """0000-01 would be the year ending March 1 and 9999-00 the year ending March 10000:
    refused as a year not written 2022-23 is, naming `year`, the returns left alone."""
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    response = children_client.delete(f"{base()}/ssda903/{year}", headers=bearer(token))
    assert (response.status_code, response.json()["field"]) == (422, "year"), response.text
    assert [r["year"] for r in read(children_client, token, "returns")] == ["2021-22", "2022-23"]


def test_withdrawing_an_earlier_year_works_out_later_periods_again(authorities: Database) -> None:
    """CH1002's and CH1004's 2022-23 episodes know their periods of care began in 2021-22's
    return (01/06/2020 and 20/07/2021). Withdrawing 2021-22 leaves them starting with their
    first 2022-23 episode: 2 episodes worked out again."""
    import_files(authorities, BOTH_YEARS)
    from tracker.children.withdrawal import withdraw_return
    from tracker.core.access import SYSTEM

    with authorities.writing() as session:
        result = withdraw_return(session, SYSTEM, STOKE, 2022)
    assert (result.episodes, result.episodes_rederived) == (8, 2)


def test_the_cli_replaces_lists_and_withdraws_returns(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through `fostering`: a changed file needs --replace; `ssda903 returns` lists
    2021-22 (8 episodes) and 2022-23 (9); `ssda903 withdraw` removes 2021-22."""
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    monkeypatch.setenv("FOSTERING_PSEUDONYM_KEY", KEY)
    runner = CliRunner()
    paths = []
    for name, content in BOTH_YEARS.items():
        (tmp_path / name).write_text(content)
        paths.append(str(tmp_path / name))
    assert runner.invoke(cli, ["import", "ssda903", "--authority", STOKE, *paths]).exit_code == 0
    corrected = tmp_path / "corrected" / "episodes_2022-23.csv"
    corrected.parent.mkdir()
    corrected.write_text(CORRECTED_2023)
    plain = runner.invoke(cli, ["import", "ssda903", "--authority", STOKE, str(corrected)])
    assert plain.exit_code == 2 and "is already stored" in plain.output
    replaced = runner.invoke(
        cli, ["import", "ssda903", "--authority", STOKE, "--replace", str(corrected)]
    )
    assert replaced.exit_code == 0, replaced.output
    assert "returns replaced: 2022-23" in replaced.output
    listed = runner.invoke(cli, ["ssda903", "returns", "--authority", STOKE])
    assert re.search(r"2021-22\s*│\s*8\b", listed.output), listed.output
    assert re.search(r"2022-23\s*│\s*9\b", listed.output), listed.output
    gone = runner.invoke(cli, ["ssda903", "withdraw", "--authority", STOKE, "2021-22"])
    assert gone.exit_code == 0 and "2021-22 withdrawn: 8 episodes" in gone.output
    missing = runner.invoke(cli, ["ssda903", "withdraw", "--authority", STOKE, "2021-22"])
    assert missing.exit_code == 2 and "no 2021-22 return is stored" in missing.output


# --- rows checked against their year and each other -----------------------------------------


def test_dates_outside_the_collection_year_are_warned_about(authorities: Database) -> None:
    """In the 2022-23 return (1 April 2022 to 31 March 2023): a DECOM of 02/04/2023 (row 2),
    a DEC of 15/04/2023 (row 3) and a DEC of 20/03/2022 (row 4, ended before the year began)
    are each a warning naming row and column; a Header DOB of 05/05/2023 too."""
    files = {
        "episodes_2022-23.csv": csv_text(
            EPISODE_COLUMNS,
            """
            Y1,02/04/2023,S,C2,N1,U4,PR1,,,,,,
            Y2,01/01/2023,S,C2,N1,U4,PR1,15/04/2023,E13,,,,
            Y3,01/01/2022,S,C2,N1,U4,PR1,20/03/2022,E13,,,,
            """,
        ),
        "header_2022-23.csv": csv_text(HEADER_COLUMNS, "Y4,1,05/05/2023,WBRI,,,"),
    }
    report = import_files(authorities, files)
    found = {(w.file, w.row, w.column): w.message for w in report.warnings}
    assert set(found) == {
        ("episodes_2022-23.csv", 2, "DECOM"),
        ("episodes_2022-23.csv", 3, "DEC"),
        ("episodes_2022-23.csv", 4, "DEC"),
        ("header_2022-23.csv", 2, "DOB"),
    }
    assert found[("episodes_2022-23.csv", 2, "DECOM")] == (
        "DECOM 02/04/2023 is after the collection year 2022-23 ends (31/03/2023)"
    )
    assert "before the collection year 2022-23 begins" in found[("episodes_2022-23.csv", 4, "DEC")]


def test_a_child_twice_in_a_header_with_two_dates_of_birth_is_an_error_naming_both_rows(
    children_client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    """CH1001 is in rows 2 and 10 of the 2022-23 Header, born 15/05/2004 and 16/05/2004:
    a 422 naming row 10 and, in its message, row 2; nothing stored. The same child twice
    with the same date of birth is only a warning."""
    twice = HEADER_2023 + "CH1001,1,16/05/2004,WBRI,,,\n"
    response = upload(children_client, tokens["manager_stoke"], {"header_2022-23.csv": twice})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["file"], error["row"], error["field"]) == ("header_2022-23.csv", 10, "DOB")
    assert "row 2" in error["message"] and "16/05/2004" in error["message"]
    assert stored(authorities)["ssda903_child"] == set()
    same = HEADER_2023 + "CH1001,1,15/05/2004,WBRI,,,\n"
    report = import_files(authorities, {"header_2022-23.csv": same})
    assert [(w.row, w.column) for w in report.warnings] == [(10, "CHILD")]


# --- the files councils send ------------------------------------------------------------------


def workbook(sheets: dict[str, str]) -> bytes:
    """An xlsx workbook of CSV texts, one sheet each, with dates as date cells and numbers
    as numbers, as a spreadsheet program would save them."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, content in sheets.items():
        sheet = book.create_sheet(name)
        for line in content.splitlines():
            cells: list[object] = []
            for cell in line.split(","):
                if re.fullmatch(r"\d\d/\d\d/\d{4}", cell):
                    cells.append(datetime.strptime(cell, "%d/%m/%Y"))
                elif cell.isdigit() and not cell.startswith("0"):
                    cells.append(int(cell))
                else:
                    cells.append(cell or None)
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def numbered(content: str) -> str:
    """The example with numeric CHILD ids (1001 for CH1001), as xlsx files often hold."""
    return re.sub(r"\bCH(\d{4})\b", r"\1", content)


def test_xlsx_files_import_as_their_csv_would(authorities: Database) -> None:
    """Each 2022-23 file saved as a one-sheet workbook, and the three as sheets of one
    workbook, store exactly the rows the CSV files do (dates read from date cells, CHILD
    1001 not 1001.0)."""
    csv_files = {name: numbered(content) for name, content in BOTH_YEARS.items()}
    import_files(authorities, csv_files)
    expected = stored(authorities)
    clear(authorities)
    xlsx_files = {
        name.replace(".csv", ".xlsx"): workbook({"Sheet1": content})
        for name, content in csv_files.items()
    }
    report = import_files(authorities, xlsx_files)
    assert stored(authorities) == expected
    assert {f.kind for f in report.files} == {"header", "episodes", "oc3"}
    clear(authorities)
    one_book = {
        "ssda903_2022-23.xlsx": workbook(
            {
                "Header": numbered(HEADER_2023),
                "Episodes": numbered(EPISODES_2023),
                "OC3": numbered(OC3_2023),
                "Notes": "prepared by,the data team\n",
            }
        ),
        **{k: v for k, v in csv_files.items() if "2021-22" in k},
    }
    report = import_files(authorities, one_book)
    assert {f.name for f in report.files if f.year == 2023} == {
        "ssda903_2022-23.xlsx [Header]",
        "ssda903_2022-23.xlsx [Episodes]",
        "ssda903_2022-23.xlsx [OC3]",
    }
    assert stored(authorities) == expected


def test_a_csv_with_carriage_return_line_ends_is_read(authorities: Database) -> None:
    """Old Mac Excel saves CSV with CR alone between lines: the same rows are stored."""
    import_files(authorities, BOTH_YEARS)
    expected = stored(authorities)
    clear(authorities)
    import_files(authorities, {k: v.replace("\n", "\r") for k, v in BOTH_YEARS.items()})
    assert stored(authorities) == expected


XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)  # an Excel 97-2003 file's start
UNREADABLE = [
    pytest.param(
        "episodes_2022-23.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ".xls", id="xls"
    ),
    pytest.param(
        "episodes_2022-23.xlsx", b"PK\x03\x04 not really a workbook", "xlsx", id="broken-xlsx"
    ),
    pytest.param("episodes_2022-23.csv", b"%PDF-1.4\n\x00\x01\x00", "NUL character", id="binary"),
    pytest.param("episodes_2022-23.csv", b"", "empty", id="empty"),
    pytest.param(
        "episodes_2022-23.csv",
        EPISODES_2023.encode() * 40 + b"CH9,01/01/2023,S\x00",
        "cannot be read as CSV at line",
        id="nul-deep-in-a-csv",
    ),
]


@pytest.mark.parametrize(("name", "content", "said"), UNREADABLE)
def test_a_file_that_cannot_be_read_is_a_422_naming_it(
    children_client: TestClient,
    tokens: dict[str, str],
    authorities: Database,
    name: str,
    content: bytes,
    said: str,
) -> None:
    """Never a 500: one error naming the file (and what is wrong), nothing stored."""
    response = upload(children_client, tokens["manager_stoke"], {name: content})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors and all(e["file"] == name for e in errors)
    assert any(said in e["message"] for e in errors), errors
    assert stored(authorities) == {t: set() for t in DATA}


def test_the_cli_names_an_unreadable_file_in_a_line(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An .xls workbook given to `fostering import ssda903`: a line naming the file and what
    to do, exit status 2, no traceback."""
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    monkeypatch.setenv("FOSTERING_PSEUDONYM_KEY", KEY)
    path = tmp_path / "episodes_2022-23.xls"
    path.write_bytes(XLS)
    result = CliRunner().invoke(cli, ["import", "ssda903", "--authority", STOKE, str(path)])
    assert result.exit_code == 2
    assert "episodes_2022-23.xls row 1 : an Excel 97-2003 (.xls) workbook" in result.output
    assert "Traceback" not in result.output


def test_a_utf16_csv_is_read(authorities: Database) -> None:
    """Excel's "Unicode text" CSV is UTF-16 with a BOM: the same rows as the UTF-8 file."""
    import_files(authorities, {"episodes_2022-23.csv": "\ufeff" + EPISODES_2023})
    expected = stored(authorities)
    clear(authorities)
    import_files(authorities, {"episodes_2022-23.csv": EPISODES_2023.encode("utf-16")})
    assert stored(authorities) == expected


def with_year_column(content: str, year: int, iso: bool = True) -> list[str]:
    """Rows of a per-year file with LA and YEAR columns added, dates written ISO as the
    regional pipelines write them."""
    lines = content.strip().splitlines()[1:]
    out = []
    for line in lines:
        if iso:
            line = re.sub(r"(\d\d)/(\d\d)/(\d{4})", r"\3-\2-\1", line)
        out.append(f"{line},Stoke-on-Trent,{year}")
    return out


def test_one_multi_year_file_with_a_year_column_is_read(authorities: Database) -> None:
    """The two years' Episodes in one file with LA and YEAR columns (2022 and 2023, each the
    year ending March), and the Headers likewise: the same rows as the per-year files."""
    import_files(authorities, BOTH_YEARS)
    # The rows are numbered in the one file, and its episodes have no PL_LA column.
    expected = stored(authorities, "source_row", "pl_la")
    clear(authorities)

    columns = EPISODE_COLUMNS + ",LA,YEAR"
    plain_2023 = "\n".join(
        line.rsplit(",", 1)[0] for line in EPISODES_2023.strip().splitlines()
    )  # the multi-year file has one set of columns: 2022-23's PL_LA left out
    episodes = [columns]
    episodes += with_year_column(EPISODES_2022, 2022) + with_year_column(plain_2023, 2023)
    headers = [HEADER_COLUMNS + ",LA,YEAR"]
    headers += with_year_column(HEADER_2022, 2022) + with_year_column(HEADER_2023, 2023)
    report = import_files(
        authorities,
        {
            "SSDA903_Episodes.csv": "\n".join(episodes) + "\n",
            "SSDA903_Header.csv": "\n".join(headers) + "\n",
            "oc3_2022-23.csv": OC3_2023,
        },
    )
    files = {f.name: f for f in report.files}
    assert files["SSDA903_Episodes.csv"].years == [2022, 2023]
    assert "YEAR column" in (files["SSDA903_Episodes.csv"].note or "")
    assert stored(authorities, "source_row", "pl_la") == expected


def test_a_file_of_several_authorities_is_refused(authorities: Database) -> None:
    """A regional pipeline's file holding Stoke-on-Trent's and Staffordshire's rows (LA
    column) is refused, naming the file and the column: one authority's rows at a time."""
    lines = [EPISODE_COLUMNS + ",LA,YEAR"]
    lines += with_year_column(EPISODES_2022, 2022)
    lines.append(lines[-1].replace("Stoke-on-Trent", "Staffordshire"))
    with pytest.raises(ImportRejectedError) as caught:
        import_files(authorities, {"SSDA903_Episodes.csv": "\n".join(lines) + "\n"})
    assert [(e.file, e.field) for e in caught.value.errors] == [("SSDA903_Episodes.csv", "LA")]


def test_a_year_written_alone_is_read_from_the_dates_and_said(authorities: Database) -> None:
    """A year alone is read two ways: DfE names 2021-22 "2022" (the March it ends in),
    Social Finance's tools "2021" (the April it begins in). 2021-episodes.csv holds dates to
    01/02/2022, after 31 March 2021: taken as 2021-22. 2023-episodes.csv holds none after
    31 March 2023: taken as 2022-23, the year ending March 2023. The Header and OC3 files
    named with the same years follow them. The same rows are stored as from the files named
    2021-22 and 2022-23, and each file's note says which year was taken and why."""
    import_files(authorities, BOTH_YEARS)
    expected = stored(authorities)
    clear(authorities)
    renamed = {
        "2021-episodes.csv": EPISODES_2022,
        "2021-header.csv": HEADER_2022,
        "2023-episodes.csv": EPISODES_2023,
        "2023-header.csv": HEADER_2023,
        "2023-oc3.csv": OC3_2023,
    }
    report = import_files(authorities, renamed)
    assert stored(authorities) == expected
    notes = {f.name: (f.year, f.note or "") for f in report.files}
    assert notes["2021-episodes.csv"][0] == 2022
    assert "taken as 2021-22, as Social Finance's tools name it" in notes["2021-episodes.csv"][1]
    assert notes["2021-header.csv"][0] == 2022
    assert notes["2023-episodes.csv"][0] == 2023
    assert "2022-23, the year ending March 2023 as DfE names it" in notes["2023-episodes.csv"][1]
    assert notes["2023-oc3.csv"][0] == 2023


def test_a_header_or_oc3_named_with_a_year_alone_needs_its_episodes(authorities: Database) -> None:
    """2022-oc3.csv alone cannot be told 2021-22 (DfE) from 2022-23 (Social Finance): it is
    refused with a message giving both readings."""
    with pytest.raises(ImportRejectedError) as caught:
        import_files(authorities, {"2022-oc3.csv": OC3_2023})
    (error,) = caught.value.errors
    assert error.file == "2022-oc3.csv"
    assert "DfE reads as 2021-22 and Social Finance's tools as 2022-23" in error.message


def test_the_migration_rebuilds_each_return_from_the_merged_rows(tmp_path: Path) -> None:
    """Before migration 0007 an episode open across years was one row, as the latest return
    carrying it gave it: the example's 17 rows were 11. Upgrading copies each into every
    earlier year it was open in, its end blanked when it ended after that year: the same
    rows as importing the two years' files today, but for the file row (not kept before) and
    the values only the later file gave (the merged row kept the later return's)."""
    fresh = Database(f"sqlite:///{tmp_path}/fresh.db")
    old = Database(f"sqlite:///{tmp_path}/old.db")
    schema.upgrade(fresh)
    schema.upgrade(old, "0006")
    for database in (fresh, old):
        with database.writing() as session:
            add_authority(session, NewAuthority(code=STOKE, name="Stoke", region="West Midlands"))
    import_files(fresh, BOTH_YEARS)
    expected = stored(fresh, "source_row")["ssda903_episode"]
    merged: dict[tuple, dict] = {}
    for row in expected:
        values = dict(row)
        key = (values["child_key"], values["decom"])
        if key not in merged or merged[key]["source_year"] < values["source_year"]:
            merged[key] = values
    assert (len(expected), len(merged)) == (17, 11)

    with old.engine.begin() as conn:
        columns = sorted(next(iter(merged.values())))
        conn.execute(
            text(
                f"INSERT INTO ssda903_episode ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + c for c in columns)})"
            ),
            list(merged.values()),
        )
    schema.upgrade(old)
    rebuilt = stored(old, "source_row", "pl_la")["ssda903_episode"]
    assert rebuilt == stored(fresh, "source_row", "pl_la")["ssda903_episode"]
    # The merged rows kept the later return's values: the six 2021-22 copies of episodes
    # 2022-23 carried on have its PL_LA, which the 2021-22 file did not give.
    with old.engine.connect() as conn:
        copied = conn.execute(
            text("SELECT count(*) FROM ssda903_episode WHERE source_year = 2022 AND pl_la <> ''")
        ).scalar()
    assert copied == 6


def test_an_earlier_header_says_which_children_a_later_one_already_describes(
    authorities: Database,
) -> None:
    """The latest Header decides a child's sex and month of birth: after 2023-24's, 2022-23's
    leaves its two children as they are, counts them apart, and adds the one it alone has."""
    later = {
        "header_2023-24.csv": csv_text(
            HEADER_COLUMNS, "Z1,1,01/05/2010,WBRI,,,\nZ2,2,01/06/2011,WBRI,,,"
        )
    }
    assert import_files(authorities, later).children.created == 2
    earlier = {
        "header_2022-23.csv": csv_text(
            HEADER_COLUMNS,
            "Z1,1,01/05/2010,WBRI,,,\nZ2,2,01/06/2011,WBRI,,,\nZ3,1,01/07/2012,WBRI,,,",
        )
    }
    report = import_files(authorities, earlier)
    assert report.children_kept_from_later == 2
    assert (report.children.created, report.children.unchanged) == (1, 0)
