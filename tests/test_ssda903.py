"""SSDA903: importing Header, Episodes and OC3 files of several years, and the figures made
from them (starters, ceased, children in care, Staying Put, time in care), through the API,
the CLI and the service functions, on SQLite and PostgreSQL.

The small example below is two collection years of one council (2021-22 and 2022-23); every
expected figure is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func, select, text

import api.tables  # noqa: F401  (the API's own tables)
from api.app import create_app
from api.cli.base import main as cli
from demo.ssda903 import generate
from tests.conftest import COVENTRY, STOKE, bearer
from tests.ssda903_files import (
    CALLER,
    KEY,
    base,
    import_files,
    read,
    upload,
    uploaded,
)
from tracker.capacity.demand import children_in_care as capacity_children_in_care
from tracker.children import figures
from tracker.children.importer import import_ssda903
from tracker.children.mapping import load_mapping, parse_mapping
from tracker.children.pseudonym import pseudonymise
from tracker.children.tables import (
    CareEpisode,
    CareLeaverRecord,
    ChildRecord,
    ImportRun,
    MonthlyAggregate,
)
from tracker.children.years import year_in_name
from tracker.core.db import Database
from tracker.core.errors import ImportRejectedError
from tracker.core.settings import Settings
from tracker.tables import metadata

DATA_TABLES = ("ssda903_child", "ssda903_episode", "ssda903_care_leaver")

# Eight children. CH1001..CH1008 are the raw CHILD ids; UPNs and postcodes are invented.
#   CH1001 born 15/05/2004: in-house foster (U4 PR1) since 10/01/2019; left care on his 18th
#          birthday 15/05/2022 with REC E17 (stayed put). Open in 2021-22, closed in 2022-23.
#   CH1002 born 02/08/2004: connected (U1) from 01/06/2020, moved to an IFA (U5 PR4) on
#          01/06/2021; left on her 18th birthday 02/08/2022, REC E8, but OC3 2022-23 ACCOM Z1.
#   CH1003 born 20/11/2004: children's home (K2) from 05/09/2021 (aged 16); left at 18,
#          20/11/2022, REC E5: ceased at 18 but not from foster care.
#   CH1004 born 10/07/2021: in-house foster from 20/07/2021 (aged 0), placed for adoption (A5)
#          01/02/2022, adopted 15/12/2022 (E11).
#   CH1005 born 03/03/2013: IFA (U4 PR4) from 12/06/2022 (aged 9), still in care.
#   CH1006 born 25/12/2010: placed with parents (P1) 14/06/2022 (aged 11), went home
#          30/09/2022 (E13).
#   CH1007 born 01/04/2019: connected (U2) from 01/02/2022 (aged 2); a legal status change
#          (RNE L) on 01/05/2022, same carers; still in care.
#   CH1008 born 10/01/2005: other council's foster care (U6 PR2) from 01/09/2020; left on his
#          18th birthday 10/01/2023 with E6, OC3 ACCOM T2: did not stay put.
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
PEOPLE = {
    "CH1001": "CH1001,1,15/05/2004,WBRI,A00000001001B,,\n",
    "CH1002": "CH1002,2,02/08/2004,MWBC,A00000001002B,0,\n",
    "CH1003": "CH1003,2,20/11/2004,WBRI,A00000001003B,0,\n",
    "CH1004": "CH1004,1,10/07/2021,WBRI,A00000001004B,,\n",
    "CH1005": "CH1005,2,03/03/2013,APKN,A00000001005B,,\n",
    "CH1006": "CH1006,1,25/12/2010,WBRI,A00000001006B,,\n",
    "CH1007": "CH1007,2,01/04/2019,BAFR,A00000001007B,,\n",
    "CH1008": "CH1008,1,10/01/2005,WBRI,A00000001008B,,\n",
}
HEADER_2022 = HEADER + "".join(PEOPLE[c] for c in ("CH1001", "CH1002", "CH1003", "CH1004",
                                                   "CH1007", "CH1008"))  # fmt: skip
HEADER_2023 = HEADER + "".join(PEOPLE.values())
COLUMNS = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
# 2021-22: every episode open at some time from 1 April 2021 to 31 March 2022, as known then.
EPISODES_2022 = f"""\
{COLUMNS}
CH1001,10/01/2019,S,C1,N1,U4,PR1,,,,ST4 7,ST6 1,XXXXXXX
CH1002,01/06/2020,S,V2,N1,U1,PR1,01/06/2021,X1,,ST3 5,ST3 6,XXXXXXX
CH1002,01/06/2021,P,V2,N1,U5,PR4,,,CARPL,ST3 5,WS11 4,XXXXXXX
CH1003,05/09/2021,S,V2,N4,K2,PR4,,,,ST1 3,DE13 0,SC123456
CH1004,20/07/2021,S,C2,N1,U4,PR1,01/02/2022,X1,,ST2 8,ST2 9,XXXXXXX
CH1004,01/02/2022,T,E1,N1,A5,PR1,,,CARPL,ST2 8,ST10 2,XXXXXXX
CH1007,01/02/2022,S,C2,N1,U2,PR1,,,,ST6 5,ST6 5,XXXXXXX
CH1008,01/09/2020,S,C1,N1,U6,PR2,,,,ST1 4,CW1 2,XXXXXXX
"""
# 2022-23, with the placing authority of each placement (PL_LA).
EPISODES_2023 = f"""\
{COLUMNS},PL_LA
CH1001,10/01/2019,S,C1,N1,U4,PR1,15/05/2022,E17,,ST4 7,ST6 1,XXXXXXX,E06000021
CH1002,01/06/2021,P,V2,N1,U5,PR4,02/08/2022,E8,CARPL,ST3 5,WS11 4,XXXXXXX,E10000028
CH1003,05/09/2021,S,V2,N4,K2,PR4,20/11/2022,E5,,ST1 3,DE13 0,SC123456,E10000028
CH1004,01/02/2022,T,E1,N1,A5,PR1,15/12/2022,E11,CARPL,ST2 8,ST10 2,XXXXXXX,E06000021
CH1005,12/06/2022,S,V2,N1,U4,PR4,,,,ST4 8,ST4 2,XXXXXXX,E06000021
CH1006,14/06/2022,S,V2,N2,P1,PR0,30/09/2022,E13,,ST1 5,ST1 5,XXXXXXX,E06000021
CH1007,01/02/2022,S,C2,N1,U2,PR1,01/05/2022,X1,,ST6 5,ST6 5,XXXXXXX,E10000028
CH1007,01/05/2022,L,C1,N1,U2,PR1,,,,ST6 5,ST6 5,XXXXXXX,E10000028
CH1008,01/09/2020,S,C1,N1,U6,PR2,10/01/2023,E6,,ST1 4,CW1 2,XXXXXXX,E10000007
"""
OC3_2023 = """\
CHILD,DOB,IN_TOUCH,ACTIV,ACCOM
CH1001,15/05/2004,YES,F2,Z1
CH1002,02/08/2004,YES,G4,Z1
CH1003,20/11/2004,YES,F1,S2
CH1008,10/01/2005,YES,P1,T2
"""
YEAR_2022 = {"header_2021-22.csv": HEADER_2022, "episodes_2021-22.csv": EPISODES_2022}
YEAR_2023 = {
    "header_2022-23.csv": HEADER_2023,
    "episodes_2022-23.csv": EPISODES_2023,
    "oc3_2022-23.csv": OC3_2023,
}
BOTH_YEARS = {**YEAR_2022, **YEAR_2023}
RAW_IDENTIFIERS = (
    [*PEOPLE]
    + [f"A0000000100{n}B" for n in range(1, 9)]
    + ["ST4 7", "ST6 1", "ST3 5", "WS11 4", "DE13 0", "ST2 8", "ST10 2", "CW1 2", "ST4 8"]
    + ["15/05/2004", "2004-05-15", "2021-07-10", "2013-03-03"]
)
ZERO_CATEGORIES = dict.fromkeys(figures.CATEGORY_NAMES, 0)


def stored_rows(database: Database, tables: tuple[str, ...] = DATA_TABLES) -> dict[str, list]:
    """Every row of the tables, as tuples ordered by id."""
    with database.engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}" ORDER BY id'))]
            for t in tables
        }


def row_count(database: Database) -> int:
    tables = (*DATA_TABLES, "ssda903_import", "ssda903_monthly_aggregate")
    return sum(len(rows) for rows in stored_rows(database, tables).values())


def in_care(**counts: int) -> dict[str, int]:
    return {**ZERO_CATEGORIES, **counts}


# --- figures from the example, checked against the hand computation ---------------------------


def test_starters_per_month_by_age_band_and_first_placement(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    report = read(children_client, token, "starters", date_from="2021-04-01", date_to="2023-03-31")
    assert report["source"] == "ssda903"
    months = {m["month"]: m for m in report["months"]}
    assert len(months) == 24
    # RNE S episodes from April 2021: CH1004 Jul 2021 (aged 0, in-house), CH1003 Sep 2021
    # (16, K2), CH1007 Feb 2022 (2, U2), CH1005 and CH1006 Jun 2022 (9, IFA; 11, P1).
    assert {m: v["starters"] for m, v in months.items() if v["starters"]} == {
        "2021-07": 1,
        "2021-09": 1,
        "2022-02": 1,
        "2022-06": 2,
    }
    assert report["starters"] == 5
    assert months["2022-06"]["by_age_band"] == {
        "under_1": 0,
        "1_4": 0,
        "5_9": 1,
        "10_15": 1,
        "16_17": 0,
        "unknown": 0,
    }
    assert months["2022-06"]["by_category"] == in_care(ifa_foster=1, placed_with_parents=1)
    assert report["by_age_band"] == {
        "under_1": 1,
        "1_4": 1,
        "5_9": 1,
        "10_15": 1,
        "16_17": 1,
        "unknown": 0,
    }
    assert report["by_category"] == in_care(
        in_house_foster=1,
        childrens_home=1,
        connected_foster=1,
        ifa_foster=1,
        placed_with_parents=1,
    )
    # CH1002 (Jun 2020) and CH1008 (Sep 2020) started in 2020-21, whose return is not
    # loaded: DfE counts 2020-21 from that year's return, so there is no figure for it.
    earlier = read(children_client, token, "starters", date_from="2020-04-01", date_to="2021-03-31")
    assert earlier["starters"] is None
    assert {m["starters"] for m in earlier["months"]} == {None}


def test_ceased_counts_periods_ending_not_placement_moves(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    report = read(children_client, token, "ceased", date_from="2021-04-01", date_to="2023-03-31")
    months = {m["month"]: m["ceased"] for m in report["months"] if m["ceased"]}
    # X1 endings (CH1002 Jun 2021, CH1004 Feb 2022, CH1007 May 2022) do not count.
    assert months == {
        "2022-05": 1,  # CH1001 E17
        "2022-08": 1,  # CH1002 E8
        "2022-09": 1,  # CH1006 E13
        "2022-11": 1,  # CH1003 E5
        "2022-12": 1,  # CH1004 E11
        "2023-01": 1,  # CH1008 E6
    }
    assert report["ceased"] == 6


def test_children_in_care_by_category_before_and_after_the_later_year(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    before = read(children_client, token, "in-care", as_at="2022-03-31")["figures"]
    # 31/03/2022: CH1001 U4 PR1, CH1002 U5 PR4, CH1003 K2, CH1004 A5, CH1007 U2, CH1008 U6 PR2.
    assert before["children"] == 6
    assert before["by_category"] == in_care(
        in_house_foster=1,
        ifa_foster=1,
        childrens_home=1,
        placed_for_adoption=1,
        connected_foster=1,
        other_council_foster=1,
    )
    after = read(children_client, token, "in-care", as_at="2023-03-31")["figures"]
    # 31/03/2023: only CH1005 (U4 PR4) and CH1007 (U2) are still in care.
    assert after["children"] == 2
    assert after["by_category"] == in_care(ifa_foster=1, connected_foster=1)


def test_children_in_care_month_ends_match_the_as_at_figures(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    series = read(
        children_client, token, "in-care/monthly", date_from="2022-04-01", date_to="2022-06-30"
    )
    assert series["source"] == "ssda903"
    # April: as at 31 March (6). May: CH1001 left on 15/05 (CH1007's L episode on 01/05 keeps
    # her in care): 5. June: CH1005 and CH1006 came in: 7.
    assert [(m["as_at"], m["children"]) for m in series["months"]] == [
        ("2022-04-30", 6),
        ("2022-05-31", 5),
        ("2022-06-30", 7),
    ]
    june = series["months"][-1]["by_category"]
    assert june == in_care(
        ifa_foster=2,
        childrens_home=1,
        placed_for_adoption=1,
        connected_foster=1,
        other_council_foster=1,
        placed_with_parents=1,
    )
    direct = read(children_client, token, "in-care", as_at="2022-06-30")["figures"]
    assert direct["by_category"] == june


def test_staying_put_per_month_and_year_ending_march(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    report = read(
        children_client, token, "staying-put", date_from="2021-04-01", date_to="2023-03-31"
    )
    fields = ("period", "eligible", "stayed", "rate", "judged_on_oc3", "judged_on_rec_e17")
    years = {y["period"]: tuple(y[f] for f in fields) for y in report["years"]}
    # 2022-23: three left foster care on their 18th birthday (CH1001, CH1002, CH1008), each
    # in care for years since 14, so eligible; all three have an OC3 row that year, which
    # decides: CH1001 and CH1002 live with former foster carers (ACCOM Z1), CH1008 does not
    # (T2): 2 / 3. CH1003 left at 18 from a children's home, so is not counted.
    assert years["2022-23"] == ("2022-23", 3, 2, 0.6667, 3, 0)
    assert years["2021-22"] == ("2021-22", 0, 0, None, 0, 0)
    assert report["definition"].startswith("Staying Put as DfE publishes it")
    months = {m["period"]: (m["eligible"], m["stayed"], m["rate"]) for m in report["months"]}
    assert months["2022-05"] == (1, 1, 1.0)
    assert months["2022-08"] == (1, 1, 1.0)
    assert months["2022-11"] == (0, 0, None)
    assert months["2023-01"] == (1, 0, 0.0)


def test_staying_put_without_the_oc3_file_counts_only_e17(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    without_oc3 = {k: v for k, v in BOTH_YEARS.items() if not k.startswith("oc3")}
    uploaded(children_client, token, without_oc3)
    report = read(
        children_client, token, "staying-put", date_from="2022-04-01", date_to="2023-03-31"
    )
    # No OC3 row for any of the three: REC decides, and only CH1001 has E17: 1 / 3.
    (year,) = report["years"]
    assert (year["eligible"], year["stayed"], year["rate"]) == (3, 1, 0.3333)
    assert (year["judged_on_oc3"], year["judged_on_rec_e17"]) == (0, 3)


def test_time_in_care_and_share_placed_within_the_authority(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    late = read(children_client, token, "time-in-care", as_at="2023-03-31")
    # CH1005 since 12/06/2022: 292 days; CH1007 since 01/02/2022: 423 days; median 357.5.
    assert late["children"] == 2
    assert late["by_time_in_care"] == {
        "under_1_year": 1,
        "1_to_2_years": 1,
        "2_to_5_years": 0,
        "5_years_and_over": 0,
    }
    assert late["median_days"] == 357.5
    assert late["start_not_imported"] == 0
    # PL_LA: CH1005 placed in Stoke (E06000021), CH1007 in Staffordshire: 1 of 2.
    assert (late["placed_within_authority"], late["share_within_authority"]) == (1, 0.5)
    early = read(children_client, token, "time-in-care", as_at="2022-03-31")
    # Days in care on 31/03/2022: CH1007 58, CH1003 207, CH1004 254, CH1008 576, CH1002 668,
    # CH1001 1176: median (254 + 576) / 2 = 415.
    assert early["by_time_in_care"] == {
        "under_1_year": 3,
        "1_to_2_years": 2,
        "2_to_5_years": 1,
        "5_years_and_over": 0,
    }
    assert early["median_days"] == 415.0
    # 31/03/2022 is told by the 2021-22 return, which has no PL_LA (the 2022-23 one does).
    assert (early["placed_within_authority"], early["placement_location_known"]) == (None, 0)
    assert "PL_LA" in early["note"]


def test_share_within_authority_is_withheld_without_pl_la(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    uploaded(children_client, token, YEAR_2022)
    report = read(children_client, token, "time-in-care", as_at="2022-03-31")
    assert report["children"] == 6
    assert report["share_within_authority"] is None
    assert report["placed_within_authority"] is None
    assert "PL_LA" in report["note"]


def test_time_in_care_says_when_the_period_began_before_the_imported_years(db_example) -> None:
    # Only 2022-23 imported: CH1002's period began with her U1 episode of 2020 and CH1004's
    # with his in-house placement of July 2021, both in the 2021-22 file only.
    with db_example.read_session() as session:
        report = figures.time_in_care(session, STOKE, date(2022, 6, 30))
    assert report.start_not_imported == 2
    assert report.note is not None and "before the imported years" in report.note


@pytest.fixture
def db_example(authorities: Database) -> Database:
    import_files(authorities, YEAR_2023)
    return authorities


# --- merging years, idempotence ----------------------------------------------------------------


def test_each_return_keeps_its_own_version_of_an_episode_open_across_years(
    authorities: Database,
) -> None:
    report = import_files(authorities, BOTH_YEARS)
    # Each return is kept whole: 8 rows of 2021-22 and 9 of 2022-23.
    assert report.episodes.created == 17
    key = pseudonymise(KEY.encode(), "CH1001")
    with authorities.read_session() as session:
        episodes = session.scalars(
            select(CareEpisode)
            .where(CareEpisode.child_key == key)
            .order_by(CareEpisode.source_year)
        ).all()
    # Open at 31/03/2022 in 2021-22's; ended on the 18th birthday (E17) in 2022-23's.
    assert [(e.source_year, e.dec, e.rec, e.ceased_at_18) for e in episodes] == [
        (2022, None, None, False),
        (2023, date(2022, 5, 15), "E17", True),
    ]
    assert [e.source_row for e in episodes] == [2, 2]


def test_importing_an_earlier_year_after_a_later_one_does_not_overwrite_it(
    authorities: Database,
) -> None:
    import_files(authorities, BOTH_YEARS)
    together = stored_rows(authorities)
    with authorities.engine.begin() as conn:
        for table in (*DATA_TABLES, "ssda903_import"):
            conn.execute(text(f'DELETE FROM "{table}"'))
    import_files(authorities, YEAR_2023)
    later_first = import_files(authorities, YEAR_2022)
    # Two stored 2022-23 episodes learn when their period of care began from the 2021-22
    # return, and are worked out again: CH1002's (P, from 01/06/2021; began 01/06/2020) and
    # CH1004's (T, from 01/02/2022; began 20/07/2021).
    assert (later_first.episodes.created, later_first.episodes_rederived) == (8, 2)
    in_order = stored_rows(authorities)

    def without_ids(rows: dict[str, list]) -> dict[str, set]:
        return {t: {r[1:] for r in v} for t, v in rows.items()}

    assert without_ids(in_order) == without_ids(together)


def test_a_second_import_changes_nothing(authorities: Database) -> None:
    import_files(authorities, BOTH_YEARS)
    first = stored_rows(authorities)
    again = import_files(authorities, BOTH_YEARS)
    for counts in (again.children, again.episodes, again.care_leavers):
        assert (counts.created, counts.updated) == (0, 0)
    assert again.episodes.unchanged == 17
    assert stored_rows(authorities) == first
    # Each import is logged (files and counts, never contents).
    with authorities.read_session() as session:
        assert session.scalar(select(func.count()).select_from(ImportRun)) == 2


def test_dry_run_reports_and_stores_nothing(
    children_client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    report = uploaded(children_client, tokens["manager_stoke"], BOTH_YEARS, query="?dry_run=true")
    assert report["dry_run"] is True
    assert report["episodes"]["created"] == 17
    assert sorted((f["kind"], f["year"]) for f in report["files"]) == [
        ("episodes", 2022),
        ("episodes", 2023),
        ("header", 2022),
        ("header", 2023),
        ("oc3", 2023),
    ]
    assert row_count(authorities) == 0


# --- bad files -----------------------------------------------------------------------------


def _episodes_with(old: str, new: str) -> str:
    assert old in EPISODES_2023
    return EPISODES_2023.replace(old, new)


BAD_FILES = [
    pytest.param(
        {
            "episodes_2022-23.csv": _episodes_with(
                "CH1005,12/06/2022,S,V2,N1,U4", "CH1005,12/06/2022,S,V2,N1,Q9"
            )
        },
        ("episodes_2022-23.csv", 6, "PLACE"),
        id="unknown-place",
    ),
    pytest.param(
        {"episodes_2022-23.csv": _episodes_with("PR0,30/09/2022", "PR0,30/05/2022")},
        ("episodes_2022-23.csv", 7, "DEC"),
        id="dec-before-decom",
    ),
    pytest.param(
        {
            "episodes_2022-23.csv": EPISODES_2023
            + "CH1005,01/07/2022,P,V2,N1,U4,PR1,,,CARPL,ST4 8,ST4 2,XXXXXXX,E06000021\n"
        },
        ("episodes_2022-23.csv", 11, "DECOM"),
        id="overlapping-episodes",
    ),
    pytest.param(
        {"episodes_2022-23.csv": "CHILD,DECOM,RNE,PLACE_PROVIDER,DEC,REC\nCH1,01/01/2023,S,PR1,,"},
        ("episodes_2022-23.csv", 1, "PLACE"),
        id="missing-column",
    ),
    pytest.param(
        {"register_2022-23.csv": "reference,care_type\nH-1,in_house\n"},
        ("register_2022-23.csv", 1, None),
        id="unrecognised-file",
    ),
    pytest.param(
        {"episodes_2022-23.csv": EPISODES_2023 + "CH1009,01/01/2023,S,V2,N1,U1,PR1,,,,,,,,extra\n"},
        ("episodes_2022-23.csv", 11, None),
        id="more-cells-than-columns",
    ),
    pytest.param(
        {"oc3_2022-23.csv": OC3_2023.replace("P1,T2", "P1,T2T2T2")},
        ("oc3_2022-23.csv", 5, "ACCOM"),
        id="overlong-accom",
    ),
    # A year past the calendar's reach once 18 years are added (it gave 500 before).
    pytest.param(
        {"header_2022-23.csv": HEADER_2023.replace("CH1001,1,15/05/2004", "CH1001,1,31/12/9999")},
        ("header_2022-23.csv", 2, "DOB"),
        id="dob-in-9999",
    ),
    pytest.param(
        {"episodes_2022-23.csv": _episodes_with("PR0,30/09/2022", "PR0,30/09/1899")},
        ("episodes_2022-23.csv", 7, "DEC"),
        id="dec-in-1899",
    ),
]


@pytest.mark.parametrize(("bad", "expected"), BAD_FILES)
def test_a_bad_file_is_reported_by_file_row_and_column_and_nothing_is_stored(
    children_client: TestClient,
    tokens: dict[str, str],
    authorities: Database,
    bad: dict[str, str],
    expected: tuple[str, int, str | None],
) -> None:
    files = {**BOTH_YEARS, **bad}
    response = upload(children_client, tokens["manager_stoke"], files)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["rule"] == "import_rejected"
    found = [(e.get("file"), e["row"], e["field"]) for e in body["errors"]]
    assert expected in found, body["errors"]
    assert all(e["message"] for e in body["errors"])
    assert row_count(authorities) == 0


def test_an_upload_without_files_is_refused_plainly(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    url, headers = f"{base()}/ssda903", bearer(tokens["manager_stoke"])
    attempts = [
        children_client.post(url, headers=headers),
        children_client.post(url, headers=headers, content=EPISODES_2023.encode()),
        children_client.post(
            url,
            headers={**headers, "Content-Type": "multipart/form-data; boundary=x"},
            content=b"--x--\r\n",
        ),
        children_client.post(
            url,
            headers=headers,
            data={"note": "2022-23"},
            files=[("files", ("episodes_2022-23.csv", EPISODES_2023.encode(), "text/csv"))],
        ),
        children_client.post(
            url,
            headers=headers,
            files=[
                ("files", ("header_2022-23.csv", HEADER_2023.encode(), "text/csv")),
                ("files", ("episodes_2022-23.csv", EPISODES_2023.encode(), "text/csv")),
                ("oc3", ("oc3_2022-23.csv", OC3_2023.encode(), "text/csv")),
            ],
        ),
    ]
    assert [(r.status_code, r.json()["field"]) for r in attempts] == [(400, "files")] * 5
    named_apart = [
        (kind, (name, content.encode(), "text/csv"))
        for (name, content), kind in zip(
            YEAR_2023.items(), ("header", "episodes", "oc3"), strict=True
        )
    ]
    response = children_client.post(url, headers=headers, files=named_apart)
    assert response.status_code == 200, response.text
    assert len(response.json()["files"]) == 3


def test_an_unnamed_oc3_file_of_a_several_year_import_is_refused(authorities: Database) -> None:
    # The OC3 year decides Staying Put: it must not be guessed when two years come at once.
    files = {**BOTH_YEARS, "care_leavers.csv": OC3_2023}
    del files["oc3_2022-23.csv"]
    with pytest.raises(ImportRejectedError) as caught:
        import_files(authorities, files)
    assert [(e.file, e.row) for e in caught.value.errors] == [("care_leavers.csv", 1)]


def test_a_year_named_in_full_is_read_as_the_year_ending_march() -> None:
    assert year_in_name("episodes_2022-23.csv") == (2023, True)
    assert year_in_name("episodes_2022-2023.csv") == (2023, True)
    assert year_in_name("episodes 2019_20.csv") == (2020, True)
    assert year_in_name("SSDA903_202122_episodes.csv") == (2022, True)
    # A year alone, or a date, is not a span: the file's dates decide (test_ssda903_years).
    assert year_in_name("episodes_2023.csv") == (2023, False)
    assert year_in_name("extract_20230401_episodes.csv") == (2023, False)
    assert year_in_name("episodes.csv") is None


def test_free_text_codes_too_long_to_store_are_warned_and_dropped(authorities: Database) -> None:
    long_reason = _episodes_with("CARPL,ST3 5", "CHANGEOFPLAN,ST3 5")
    report = import_files(authorities, {**BOTH_YEARS, "episodes_2022-23.csv": long_reason})
    assert any(w.column == "REASON_PLACE_CHANGE" for w in report.warnings)
    with authorities.read_session() as session:
        reasons = set(session.scalars(select(CareEpisode.reason_place_change)))
    assert "CHANGEOFPLAN" not in reasons


def test_an_episode_after_a_period_ended_begins_a_new_period(authorities: Database) -> None:
    # CH1006 went home on 30/09/2022 (E13); a later episode recorded with RNE P instead of S
    # still starts a new period of care: time in care counts from it, not from June.
    returned = EPISODES_2023 + "CH1006,01/01/2023,P,V2,N2,U4,PR1,,,CARPL,ST1 5,ST1 5,XXXXXXX,\n"
    import_files(authorities, {**YEAR_2023, "episodes_2022-23.csv": returned})
    key = pseudonymise(KEY.encode(), "CH1006")
    with authorities.read_session() as session:
        latest = session.scalars(
            select(CareEpisode).where(
                CareEpisode.child_key == key, CareEpisode.decom == date(2023, 1, 1)
            )
        ).one()
    assert latest.period_start == date(2023, 1, 1)


# --- pseudonyms, mapping, aggregates, access -----------------------------------------------


def test_raw_identifiers_appear_nowhere_in_the_database(authorities: Database) -> None:
    import_files(authorities, BOTH_YEARS)
    dump = []
    with authorities.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                dump.append(" ".join(str(value) for value in row))
    text_dump = "\n".join(dump)
    assert "ssda903" in text_dump  # the audit entry of the import is there
    for raw in RAW_IDENTIFIERS:
        assert raw not in text_dump, raw
    with authorities.read_session() as session:
        keys = set(session.scalars(select(ChildRecord.child_key)))
    assert keys == {pseudonymise(KEY.encode(), c) for c in PEOPLE}


def test_the_placement_mapping_is_configuration(
    authorities: Database, tokens: dict[str, str], tmp_path: Path
) -> None:
    shipped = (Path(figures.__file__).parent / "placement_categories.toml").read_text()
    # A council that counts children's homes with other residential care.
    custom = shipped.replace('category = "childrens_home"', 'category = "other_residential"')
    path = tmp_path / "mapping.toml"
    path.write_text(custom)
    import_files(authorities, BOTH_YEARS)
    with authorities.read_session() as session:
        shipped_figures = figures.children_in_care(
            session, STOKE, date(2022, 3, 31), load_mapping()
        )
        custom_figures = figures.children_in_care(
            session, STOKE, date(2022, 3, 31), parse_mapping(custom)
        )
    assert shipped_figures.figures.by_category["childrens_home"] == 1
    assert custom_figures.figures.by_category["childrens_home"] == 0
    assert custom_figures.figures.by_category["other_residential"] == 1
    settings = Settings(
        database_url=authorities.url, pseudonym_key=KEY, placement_mapping=str(path)
    )
    with TestClient(create_app(settings, authorities)) as client:
        response = client.get(
            f"{base()}/starters?date_from=2021-09-01&date_to=2021-09-30",
            headers=bearer(tokens["manager_stoke"]),
        )
    assert response.json()["by_category"]["other_residential"] == 1  # CH1003's K2


def test_capacity_children_in_care_comes_from_the_episodes_when_there_are_any(
    authorities: Database,
) -> None:
    import_files(authorities, BOTH_YEARS)
    with authorities.read_session() as session:
        counts = capacity_children_in_care(session, STOKE, date(2023, 3, 31))
    assert {c.category.value: c.children for c in counts if c.children} == {
        "ifa_foster": 1,
        "connected_foster": 1,
    }
    assert {c.source for c in counts} == {"ssda903"}


MONTHLY = [
    {"month": "2022-06", "metric": "starters", "value": 9},
    {"month": "2022-06", "metric": "starters", "breakdown": "under_1", "value": 2},
    {"month": "2022-06", "metric": "starters", "breakdown": "10_15", "value": 4},
    {
        "month": "2022-06",
        "metric": "children_in_care",
        "breakdown": "in_house_foster",
        "value": 120,
    },
    {"month": "2022-06", "metric": "children_in_care", "breakdown": "ifa_foster", "value": 80},
    {"month": "2022-06", "metric": "staying_put_eligible", "value": 4},
    {"month": "2022-06", "metric": "staying_put_stayed", "value": 3},
    {"month": "2022-07", "metric": "ceased", "value": 5},
]


def test_monthly_aggregates_stand_in_for_an_authority_without_episodes(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_coventry"]
    url = f"{base(COVENTRY)}/monthly-figures"
    first = children_client.post(url, json=MONTHLY, headers=bearer(token))
    assert first.status_code == 200, first.text
    assert first.json() == {"created": 8, "updated": 0, "unchanged": 0}
    again = children_client.post(url, json=MONTHLY, headers=bearer(token))
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 8}

    def get(route: str, **params: str) -> dict:
        response = children_client.get(
            f"{base(COVENTRY)}/{route}", params=params, headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        assert response.json()["source"] == "aggregates"
        return response.json()

    starters = get("starters", date_from="2022-06-01", date_to="2022-07-31")
    assert [m["starters"] for m in starters["months"]] == [9, None]  # July: not entered
    assert starters["months"][0]["by_age_band"]["under_1"] == 2
    assert starters["months"][0]["by_age_band"]["1_4"] is None
    assert starters["starters"] == 9
    ceased = get("ceased", date_from="2022-06-01", date_to="2022-07-31")
    assert [m["ceased"] for m in ceased["months"]] == [None, 5]
    # As at 15 July the June figures are the latest: 120 in-house + 80 IFA.
    cic = get("in-care", as_at="2022-07-15")["figures"]
    assert (cic["children"], cic["figures_month"]) == (200, "2022-06")
    assert cic["by_category"]["in_house_foster"] == 120
    assert cic["by_category"]["childrens_home"] is None
    staying = get("staying-put", date_from="2022-04-01", date_to="2023-03-31")
    (year,) = staying["years"]
    assert (year["period"], year["eligible"], year["stayed"], year["rate"]) == (
        "2022-23",
        4,
        3,
        0.75,
    )
    # The council's own counts: nothing was judged on OC3 or REC E17 here.
    assert (year["judged_on_oc3"], year["judged_on_rec_e17"], staying["later"]) == (None, None, [])
    assert get("time-in-care", as_at="2022-07-15")["children"] == 200

    changed = [{**MONTHLY[0], "value": 10}]
    assert children_client.post(url, json=changed, headers=bearer(token)).json() == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
    }


@pytest.mark.parametrize(
    ("figure", "field"),
    [
        ({"month": "2022-06", "metric": "ceased", "breakdown": "under_1", "value": 1}, "breakdown"),
        ({"month": "2099-01", "metric": "ceased", "value": 1}, "month"),
        ({"month": "0000-01", "metric": "starters", "value": 1}, "month"),
        ({"month": "1899-12", "metric": "starters", "value": 1}, "month"),
        ({"month": "2022-06", "metric": "staying_put_stayed", "value": 5}, "value"),
    ],
)
def test_a_wrong_monthly_figure_is_refused_by_its_place_in_the_list(
    children_client: TestClient,
    tokens: dict[str, str],
    authorities: Database,
    figure: dict,
    field: str,
) -> None:
    response = _second_figure(children_client, tokens, figure)
    assert response.status_code == 422, response.text
    assert (2, field) in [(e["row"], e["field"]) for e in response.json()["errors"]]
    with authorities.read_session() as session:
        assert session.scalar(select(func.count()).select_from(MonthlyAggregate)) == 0


def _second_figure(client: TestClient, tokens: dict[str, str], figure: dict) -> Any:
    """Coventry's monthly figures: a right one, then `figure`."""
    figures_sent = [{"month": "2022-06", "metric": "staying_put_eligible", "value": 4}, figure]
    return client.post(
        f"{base(COVENTRY)}/monthly-figures",
        json=figures_sent,
        headers=bearer(tokens["manager_coventry"]),
    )


@pytest.mark.parametrize(
    ("figure", "field"),
    [
        ({"month": "2022-06", "metric": "ceased", "value": 1_000_001}, "value"),
        ({"month": "2022-06", "metric": "ceased", "value": -1}, "value"),
        ({"month": "2022-06", "metric": "leavers", "value": 1}, "metric"),
        ({"month": "2022-06", "metric": "ceased"}, "value"),
        ({"month": "2022-06", "metric": "ceased", "value": 1, "note": "x"}, "note"),
    ],
)
def test_a_monthly_figure_of_the_wrong_shape_is_400_naming_its_row_and_field(
    children_client: TestClient,
    tokens: dict[str, str],
    authorities: Database,
    figure: dict,
    field: str,
) -> None:
    response = _second_figure(children_client, tokens, figure)
    assert response.status_code == 400, response.text
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(2, field)]
    assert response.json()["detail"].startswith(f"row 2 {field}: ")
    with authorities.read_session() as session:
        assert session.scalar(select(func.count()).select_from(MonthlyAggregate)) == 0


def test_an_authority_with_episodes_uses_them_rather_than_its_aggregates(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["manager_stoke"]
    response = children_client.post(
        f"{base()}/monthly-figures",
        json=[{"month": "2022-06", "metric": "starters", "value": 50}],
        headers=bearer(token),
    )
    assert response.status_code == 200
    uploaded(children_client, token, BOTH_YEARS)
    report = read(children_client, token, "starters", date_from="2022-06-01", date_to="2022-06-30")
    assert (report["source"], report["starters"]) == ("ssda903", 2)


def test_regional_tokens_read_aggregates_of_their_own_region_only(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    uploaded(children_client, tokens["manager_stoke"], BOTH_YEARS)
    for route in ("in-care?as_at=2023-03-31", "staying-put?date_from=2022-04-01"):
        url = f"{base()}/{route}"
        assert children_client.get(url, headers=bearer(tokens["regional_wm"])).status_code == 200
        assert children_client.get(url, headers=bearer(tokens["regional_ne"])).status_code == 403
        assert (
            children_client.get(url, headers=bearer(tokens["recruiter_stoke"])).status_code == 403
        )
        assert (
            children_client.get(url, headers=bearer(tokens["manager_coventry"])).status_code == 403
        )
    writes = [
        children_client.post(
            f"{base()}/monthly-figures",
            json=MONTHLY[:1],
            headers=bearer(tokens["regional_wm"]),
        ),
        upload(children_client, tokens["regional_wm"], YEAR_2023),
        upload(children_client, tokens["recruiter_stoke"], YEAR_2023),
    ]
    assert [w.status_code for w in writes] == [403, 403, 403]
    assert upload(children_client, tokens["admin"], YEAR_2023).status_code == 200


CHILD_LEVEL = frozenset(
    {"child_key", "child", "dob", "birth", "birth_month", "upn", "sex", "home_post", "pl_post"}
)


def _property_names(schema: dict[str, Any], schemas: dict[str, Any], seen: set[str]) -> set[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return set()
        seen.add(name)
        return _property_names(schemas[name], schemas, seen)
    names = set()
    for name, sub in (schema.get("properties") or {}).items():
        names |= {name.lower()} | _property_names(sub, schemas, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            names |= _property_names(schema[key], schemas, seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key) or []:
            names |= _property_names(sub, schemas, seen)
    return names


def test_no_children_route_can_return_a_child_level_field(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    spec = children_client.get("/schema/openapi.json").json()
    schemas = spec["components"]["schemas"]
    routes = {p: ops for p, ops in spec["paths"].items() if p.startswith(base("{code}") + "/")}
    assert len(routes) == 10
    names: set[str] = set()
    for operations in routes.values():
        for operation in operations.values():
            for response in operation["responses"].values():
                for media in (response.get("content") or {}).values():
                    names |= _property_names(media["schema"], schemas, set())
    assert {"starters", "eligible", "by_category"} <= names
    assert not names & CHILD_LEVEL

    token = tokens["manager_stoke"]
    uploaded(children_client, token, BOTH_YEARS)
    pseudonyms = {pseudonymise(KEY.encode(), c) for c in PEOPLE}
    for route in (
        "starters",
        "ceased",
        "in-care",
        "in-care/monthly",
        "staying-put",
        "time-in-care",
    ):
        body = children_client.get(
            f"{base()}/{route}?date_from=2019-01-01&as_at=2022-03-31", headers=bearer(token)
        ).text
        assert not re.search(r"[0-9a-f]{64}", body), route
        assert not any(p in body or c in body for p in pseudonyms for c in PEOPLE), route


# --- the command line ----------------------------------------------------------------------


def test_cli_imports_several_years_and_reports_errors_by_file_row_and_column(
    authorities: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", authorities.url)
    monkeypatch.setenv("FOSTERING_PSEUDONYM_KEY", KEY)
    paths = []
    for name, content in BOTH_YEARS.items():
        path = tmp_path / name
        path.write_text(content)
        paths.append(str(path))
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "ssda903", "--authority", STOKE, *paths])
    assert result.exit_code == 0, result.output
    assert "episodes: 17 created, 0 updated, 0 removed, 0 unchanged" in result.output
    assert "oc3_2022-23.csv: oc3, year ending March 2023, 4 rows" in result.output
    with authorities.read_session() as session:
        report = figures.staying_put(
            session, STOKE, date(2022, 4, 1), date(2023, 3, 31), load_mapping()
        )
    assert report.years[0].rate == 0.6667

    bad = tmp_path / "episodes_2023-24.csv"
    bad.write_text(
        EPISODES_2023.replace("CH1005,12/06/2022,S,V2,N1,U4", "CH1005,12/06/2022,S,V2,N1,Q9")
    )
    result = runner.invoke(cli, ["import", "ssda903", "--authority", STOKE, str(bad)])
    assert result.exit_code == 2
    assert "episodes_2023-24.csv row 6 PLACE: unknown PLACE code 'Q9'" in result.output
    assert "nothing imported" in result.output


# --- the synthetic returns ------------------------------------------------------------------


def test_synthetic_returns_have_exactly_the_rows_asked_for_and_are_reproducible() -> None:
    first = generate(seed=7, episode_rows=1_500)
    assert first.episode_rows == 1_500
    counted = sum(
        f.content.decode().count("\r\n") - 1 for f in first.files if f.name.startswith("episodes")
    )
    assert counted == 1_500
    assert generate(seed=7, episode_rows=1_500).files == first.files
    assert generate(seed=8, episode_rows=1_500).files != first.files


def test_synthetic_returns_import_cleanly_and_their_figures_hold_together(
    authorities: Database,
) -> None:
    synthetic = generate(seed=11, first_year=2021, last_year=2023, starters_per_year=120)
    with authorities.writing() as session:
        report = import_ssda903(session, CALLER, STOKE, synthetic.files, KEY.encode())
    assert report.warning_count == 0, report.warnings[:3]
    assert report.replaced == []
    with authorities.writing() as session:
        again = import_ssda903(session, CALLER, STOKE, synthetic.files, KEY.encode())
    assert (again.episodes.created, again.episodes.updated) == (0, 0)
    mapping = load_mapping()
    with authorities.read_session() as session:
        series = figures.children_in_care_monthly(
            session, STOKE, date(2020, 4, 1), date(2023, 3, 31), mapping
        )
        for month in series.months[::5]:
            direct = figures.children_in_care(session, STOKE, month.as_at, mapping)
            assert direct.figures.by_category == month.by_category
        staying = figures.staying_put(session, STOKE, date(2020, 4, 1), date(2023, 3, 31), mapping)
        eligible = sum(y.eligible or 0 for y in staying.years)
        stayed = sum(y.stayed or 0 for y in staying.years)
        leavers = session.scalar(select(func.count()).select_from(CareLeaverRecord))
    assert eligible > 20
    assert 0.4 < stayed / eligible < 0.8
    assert leavers
