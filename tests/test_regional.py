"""The regional capacity API: returns loaded from other councils next to the council's own
register, cheap to poll, aggregates only.

Seed Table 6 (the Stoke strategy's West Midlands comparison, March 2022) is the worked
example: households exclude connected carers, capacity is the most children the in-house
households may take, and the share of demand is capacity / children in care.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text as sql

from api.access import AGGREGATE
from tests.conftest import STOKE, bearer
from tests.security_world import TARGET
from tracker.capacity.regional import COLUMNS
from tracker.core.access import SYSTEM, Role, issue_token
from tracker.core.db import Database
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import HouseholdCareType
from tracker.households.schemas import NewHousehold
from tracker.households.service import approve_household

AS_AT = "2022-03-31"
WEST_MIDLANDS = "/api/v1/regions/West%20Midlands/capacity"
RETURNS = "/api/v1/capacity-returns"

# (ONS code, name, households, capacity, children in care, share of demand as printed)
TABLE_6 = (
    ("E08000025", "Birmingham", 375, 650, 2094, 31),
    ("E08000026", "Coventry", 200, 385, 723, 53),
    ("E08000027", "Dudley", 115, 235, 585, 40),
    ("E06000019", "Herefordshire", 110, 215, 378, 57),
    ("E08000028", "Sandwell", 100, 175, 837, 21),
    ("E06000051", "Shropshire", 75, 145, 609, 24),
    ("E08000029", "Solihull", 60, 100, 528, 19),
    ("E10000028", "Staffordshire", 270, 515, 1303, 40),
    ("E06000021", "Stoke-on-Trent", 190, 345, 1022, 34),
    ("E06000020", "Telford and Wrekin", 125, 250, 423, 59),
    ("E08000030", "Walsall", 115, 210, 661, 32),
    ("E10000031", "Warwickshire", 165, 340, 822, 41),
    ("E08000031", "Wolverhampton", 180, 255, 521, 49),
    ("E10000034", "Worcestershire", 125, 235, 890, 26),
)
# Hand-checked sums of the table's columns.
HOUSEHOLDS, CAPACITY, CHILDREN = 2205, 4055, 11396
HEADER = (
    "authority_code,authority_name,region,as_at,care_type,households,approved_places,"
    "children_in_care"
)


def table_6_csv(table: tuple[tuple[Any, ...], ...] = TABLE_6) -> str:
    lines = [HEADER]
    for code, name, households, places, children, _ in table:
        lines.append(f"{code},{name},West Midlands,{AS_AT},in_house,{households},{places},")
        lines.append(f"{code},{name},West Midlands,{AS_AT},all,,,{children}")
    return "\n".join(lines) + "\n"


def load(client: TestClient, tokens: dict[str, str], text: str) -> Any:
    return client.post(
        RETURNS,
        content=text.encode(),
        headers=bearer(tokens["admin"]) | {"Content-Type": "text/csv"},
    )


def view(client: TestClient, secret: str, path: str = WEST_MIDLANDS, **params: str) -> Any:
    return client.get(path, params={"as_at": AS_AT, **params}, headers=bearer(secret))


def row(authority: dict[str, Any], care_type: str) -> dict[str, Any]:
    return next(r for r in authority["rows"] if r["care_type"] == care_type)


def approve(db: Database, reference: str, **fields: Any) -> int:
    values = {
        "care_type": HouseholdCareType.IN_HOUSE,
        "approved_places": 2,
        "approved_on": date(2022, 1, 10),
    } | fields
    with db.writing() as session:
        record = approve_household(
            session, SYSTEM, STOKE, NewHousehold(reference=reference, **values), date(2022, 12, 31)
        )
    return record.id


def test_table_6_loaded_reproduces_every_councils_share_of_demand(client, tokens):
    report = load(client, tokens, table_6_csv())
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 28
    assert len(report.json()["authorities_created"]) == 12  # Stoke and Coventry were there

    body = view(client, tokens["regional_wm"]).json()
    by_code = {a["code"]: a for a in body["authorities"]}
    assert len(by_code) == 14
    for code, _, households, places, children, share in TABLE_6:
        authority = by_code[code]
        assert authority["source"] == "return"
        assert authority["as_at"] == AS_AT
        assert row(authority, "in_house")["households"] == households
        assert row(authority, "in_house")["approved_places"] == places
        assert authority["children_in_care"] == children
        assert round(authority["capacity_share_of_demand"] * 100) == share, code


def test_the_region_rolls_up_sums_and_recomputes_the_share(client, tokens):
    load(client, tokens, table_6_csv())
    rollup = view(client, tokens["regional_wm"]).json()["rollup"]
    in_house = row(rollup, "in_house")
    assert (in_house["households"], in_house["approved_places"]) == (HOUSEHOLDS, CAPACITY)
    assert in_house["authorities"] == 14
    assert rollup["children_in_care"] == CHILDREN
    # 4055 / 11396 = 0.35583: the sum's ratio, not the mean of the 14 shares (0.3757).
    assert rollup["capacity_share_of_demand"] == round(CAPACITY / CHILDREN, 4) == 0.3558
    assert rollup["authorities_in_share"] == 14
    assert rollup["authorities_by_source"] == {"register": 0, "return": 14, "none": 0}


def test_a_council_without_figures_is_listed_as_none(client, tokens):
    body = view(client, tokens["regional_wm"]).json()
    assert {a["name"]: a["source"] for a in body["authorities"]} == {
        "Coventry": "none",
        "Stoke-on-Trent": "none",
    }
    assert body["rollup"]["authorities_by_source"] == {"register": 0, "return": 0, "none": 2}
    assert body["rollup"]["capacity_share_of_demand"] is None


def test_a_region_matches_ignoring_case(client, tokens):
    load(client, tokens, table_6_csv())
    body = view(client, tokens["regional_wm"], "/api/v1/regions/west%20MIDLANDS/capacity").json()
    assert body["region"] == "West Midlands"
    assert len(body["authorities"]) == 14


def test_a_region_is_named_by_its_ons_code_too(client, tokens, authorities):
    load(client, tokens, table_6_csv())
    by_name = view(client, tokens["regional_wm"])
    by_code = view(client, tokens["regional_wm"], "/api/v1/regions/E12000005/capacity")
    assert by_code.status_code == 200, by_code.text
    assert by_code.json() == by_name.json()
    assert view(
        client, tokens["regional_ne"], "/api/v1/regions/E12000005/capacity"
    ).status_code == (403)
    with authorities.writing() as session:
        issued = issue_token(session, role=Role.REGIONAL, name="hub", region="e12000005")
    assert issued.record.region == "West Midlands"


def test_a_regional_token_of_another_region_is_refused(client, tokens):
    load(client, tokens, table_6_csv())
    assert view(client, tokens["regional_ne"]).status_code == 403
    assert view(client, tokens["manager_stockton"]).status_code == 403
    assert view(client, tokens["admin"]).status_code == 200


def test_a_manager_sees_only_their_own_council_and_no_rollup(client, tokens):
    load(client, tokens, table_6_csv())
    body = view(client, tokens["manager_stoke"]).json()
    assert [a["code"] for a in body["authorities"]] == [STOKE]
    assert body["rollup"] is None


def test_a_recruiter_cannot_read_the_regional_view(client, tokens):
    assert view(client, tokens["recruiter_stoke"]).status_code == 403


def test_an_unknown_region_is_404_naming_region(client, tokens):
    response = view(client, tokens["admin"], "/api/v1/regions/Atlantis/capacity")
    assert response.status_code == 404
    assert response.json()["field"] == "region"


def test_only_an_admin_loads_returns(client, tokens):
    for role in ("regional_wm", "manager_stoke"):
        response = client.post(
            RETURNS, content=table_6_csv().encode(), headers=bearer(tokens[role])
        )
        assert response.status_code == 403


def test_loading_the_same_file_twice_changes_nothing(client, tokens):
    load(client, tokens, table_6_csv())
    first = view(client, tokens["regional_wm"])
    again = load(client, tokens, table_6_csv()).json()
    assert (again["created"], again["updated"], again["removed"]) == (0, 0, 0)
    assert again["unchanged"] == 28
    assert again["authorities_created"] == []
    assert view(client, tokens["regional_wm"]).content == first.content


def test_a_corrected_return_replaces_the_stored_one(client, tokens):
    load(client, tokens, table_6_csv())
    corrected = f"{HEADER}\nE08000025,Birmingham,West Midlands,{AS_AT},in_house,380,660,\n"
    report = load(client, tokens, corrected).json()
    assert (report["updated"], report["removed"], report["created"]) == (1, 1, 0)
    birmingham = next(
        a for a in view(client, tokens["admin"]).json()["authorities"] if a["name"] == "Birmingham"
    )
    assert row(birmingham, "in_house")["approved_places"] == 660
    assert birmingham["children_in_care"] is None


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (f"E08000027,Dudley,West Midlands,{AS_AT},in_house,115,lots,", "approved_places"),
        (f"E08000027,Dudley,West Midlands,{AS_AT},in_house,115,-5,", "approved_places"),
        (f"E08000027,Dudley,West Midlands,{AS_AT},in_house,115,,", "approved_places"),
        (f"E06999999,Nowhere,West Midlands,{AS_AT},in_house,115,235,", "authority_code"),
        ("E08000027,Dudley,West Midlands,2999-03-31,in_house,115,235,", "as_at"),
        (f"E08000027,Dudley,West Midlands,{AS_AT},foster,115,235,", "care_type"),
        (f"E08000027,Dudley,West Midlands,{AS_AT},in_house,115,235,585", "children_in_care"),
        (f"E08000026,Coventry,West Midlands,{AS_AT},in_house,200,385,", "care_type"),
    ],
)
def test_a_file_with_one_bad_row_stores_nothing(client, tokens, line, field):
    lines = table_6_csv().splitlines()
    dudley = next(
        i for i, text in enumerate(lines) if text.startswith("E08000027") and "in_house" in text
    )
    lines[dudley] = line
    response = load(client, tokens, "\n".join(lines) + "\n")
    assert response.status_code == 422
    # The header is row 1: Dudley's in_house line is row dudley + 1.
    assert {"row": dudley + 1, "field": field} in [
        {"row": e["row"], "field": e["field"]} for e in response.json()["errors"]
    ]
    listed = client.get("/api/v1/authorities", headers=bearer(tokens["admin"])).json()
    assert len(listed) == 3
    body = view(client, tokens["admin"]).json()
    assert {a["source"] for a in body["authorities"]} == {"none"}


def test_a_column_given_twice_is_refused_naming_it_and_stores_nothing(client, tokens):
    lines = table_6_csv().splitlines()
    lines[0] += ",households"
    lines[1:] = [line + ",999" for line in lines[1:]]
    response = load(client, tokens, "\n".join(lines) + "\n")
    assert response.status_code == 422, response.text
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(1, "households")]
    body = view(client, tokens["admin"]).json()
    assert {a["source"] for a in body["authorities"]} == {"none"}


def test_an_unreadable_file_is_refused_not_a_server_error(client, tokens):
    huge = "x" * 200_000
    text = f"{HEADER}\nE08000027,{huge},West Midlands,{AS_AT},in_house,115,235,\n"
    response = load(client, tokens, text)
    assert response.status_code == 422
    assert response.json()["errors"][0]["row"] == 2  # the row holding the oversized cell


@pytest.mark.parametrize("media", ["application/json", "text/csv"])
def test_a_json_body_is_refused_saying_so_and_stores_nothing(client, tokens, media):
    load(client, tokens, table_6_csv())
    before = view(client, tokens["regional_wm"]).content
    body = '[{"authority_code": "E08000025", "as_at": "2022-03-31", "care_type": "all"}]'
    response = client.post(
        RETURNS, content=body.encode(), headers=bearer(tokens["admin"]) | {"Content-Type": media}
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["row"] == 1 and "JSON" in error["message"], error
    assert view(client, tokens["regional_wm"]).content == before


def test_more_places_in_use_than_approved_is_a_warning(client, tokens):
    text = (
        "authority_code,as_at,care_type,households,approved_places,filled_places,"
        "vacant_places,unavailable_places\n"
        f"{STOKE},{AS_AT},in_house,10,20,15,5,3\n"
    )
    report = load(client, tokens, text).json()
    assert report["created"] == 1
    assert [(w["row"], w["field"]) for w in report["warnings"]] == [(2, "approved_places")]
    stoke = view(client, tokens["manager_stoke"]).json()["authorities"][0]
    assert row(stoke, "in_house")["occupancy"] == round(15 / (20 - 3), 4) == 0.8824


def test_an_all_row_less_than_its_care_types_is_a_warning(client, tokens):
    text = (
        "authority_code,as_at,care_type,households,approved_places,vacant_places\n"
        f"E08000027,{AS_AT},in_house,100,200,10\n"
        f"E08000027,{AS_AT},connected,50,60,3\n"
        f"E08000027,{AS_AT},all,40,260,\n"
    )
    report = load(client, tokens, text).json()
    assert report["created"] == 3
    assert [(w["row"], w["field"]) for w in report["warnings"]] == [(4, "households")]
    assert "150" in report["warnings"][0]["message"]


def test_a_name_or_region_not_the_codes_is_a_warning_and_the_code_decides(client, tokens):
    table = table_6_csv()
    assert load(client, tokens, table).json()["warnings"] == []  # names as people write them
    mixed = table.replace("E08000026,Coventry,West Midlands", "E08000026,Birmingham,North East")
    report = load(client, tokens, mixed).json()
    row = table.splitlines().index(next(x for x in table.splitlines() if "Coventry" in x)) + 1
    assert [(w["row"], w["field"]) for w in report["warnings"]] == [
        (row, "authority_name"),
        (row, "region"),
    ]
    assert "(Coventry)" in report["warnings"][0]["message"]
    coventry = [
        a
        for a in view(client, tokens["regional_wm"]).json()["authorities"]
        if a["code"] == "E08000026"
    ]
    assert coventry[0]["name"] == "Coventry" and coventry[0]["region"] == "West Midlands"


def test_polling_with_the_etag_gets_304_until_something_changes(client, tokens):
    load(client, tokens, table_6_csv())
    first = view(client, tokens["regional_wm"])
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["last-modified"].endswith("GMT")

    unchanged = client.get(
        WEST_MIDLANDS,
        params={"as_at": AS_AT},
        headers=bearer(tokens["regional_wm"]) | {"If-None-Match": etag},
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag

    load(client, tokens, f"{HEADER}\nE08000025,Birmingham,West Midlands,{AS_AT},all,,,2100\n")
    changed = client.get(
        WEST_MIDLANDS,
        params={"as_at": AS_AT},
        headers=bearer(tokens["regional_wm"]) | {"If-None-Match": etag},
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def _times_back_to_a_known_instant(authorities) -> str:
    """Every stored time the view's Last-Modified reads set to 1 April 2022; that header."""
    with authorities.engine.begin() as conn:
        for table, column in (
            ("authority", "created_at"),
            ("capacity_return", "loaded_at"),
            ("audit_entry", "at"),
        ):
            conn.execute(sql(f"UPDATE {table} SET {column} = :t"), {"t": datetime(2022, 4, 1)})
    return "Fri, 01 Apr 2022 00:00:00 GMT"


def test_last_modified_moves_only_with_writes_that_touch_capacity(client, tokens, authorities):
    load(client, tokens, table_6_csv())
    known = _times_back_to_a_known_instant(authorities)
    assert view(client, tokens["regional_wm"]).headers["last-modified"] == known
    manager = bearer(tokens["manager_stoke"])
    base = f"/api/v1/authorities/{STOKE}"
    enquiry = {"received_on": "2022-03-01", "channel": "phone"}
    assert client.post(f"{base}/enquiries", json=enquiry, headers=manager).status_code == 201
    assert client.get(f"{base}/households/export", headers=manager).status_code == 200
    assert client.post(f"{base}/targets", json=TARGET, headers=manager).status_code == 201
    assert view(client, tokens["regional_wm"]).headers["last-modified"] == known
    household = {
        "reference": "LM-1",
        "care_type": "in_house",
        "approved_places": 2,
        "approved_on": "2022-01-10",
    }
    assert client.post(f"{base}/households", json=household, headers=manager).status_code == 201
    assert view(client, tokens["regional_wm"]).headers["last-modified"] != known


def test_loading_the_same_file_again_leaves_last_modified(client, tokens, authorities):
    load(client, tokens, table_6_csv())
    known = _times_back_to_a_known_instant(authorities)
    assert view(client, tokens["regional_wm"]).headers["last-modified"] == known
    assert load(client, tokens, table_6_csv()).json()["unchanged"] == 28
    # Nothing changed: a poller sending If-Modified-Since is not sent the view again.
    assert view(client, tokens["regional_wm"]).headers["last-modified"] == known
    since = bearer(tokens["regional_wm"]) | {"If-Modified-Since": known}
    assert client.get(WEST_MIDLANDS, params={"as_at": AS_AT}, headers=since).status_code == 304
    load(client, tokens, f"{HEADER}\nE08000025,Birmingham,West Midlands,{AS_AT},all,,,2100\n")
    assert view(client, tokens["regional_wm"]).headers["last-modified"] != known


def test_last_modified_is_never_later_than_now(client, tokens, authorities):
    load(client, tokens, table_6_csv())
    with authorities.engine.begin() as conn:  # a record stamped ahead of the clock
        conn.execute(sql("UPDATE capacity_return SET loaded_at = :t"), {"t": datetime(2099, 1, 1)})
    response = view(client, tokens["regional_wm"])
    modified = parsedate_to_datetime(response.headers["last-modified"])
    assert modified <= datetime.now(UTC)


def test_if_modified_since_counts_only_without_an_etag(client, tokens):
    load(client, tokens, table_6_csv())
    modified = view(client, tokens["regional_wm"]).headers["last-modified"]
    headers = bearer(tokens["regional_wm"])
    since = {"If-Modified-Since": modified}
    params = {"as_at": AS_AT}
    assert client.get(WEST_MIDLANDS, params=params, headers=headers | since).status_code == 304
    older = {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}
    assert client.get(WEST_MIDLANDS, params=params, headers=headers | older).status_code == 200
    stale_tag = since | {"If-None-Match": '"0000"'}
    assert client.get(WEST_MIDLANDS, params=params, headers=headers | stale_tag).status_code == 200


def test_the_csv_export_loads_back_as_the_same_returns(client, tokens):
    load(client, tokens, table_6_csv())
    exported = view(client, tokens["regional_wm"], format="csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        'filename="capacity-west-midlands-2022-03-31.csv"'
        in exported.headers["content-disposition"]
    )
    assert exported.text.splitlines()[0] == ",".join(COLUMNS)
    # 28 rows of returns, then the region's roll-up (in_house and all), as the JSON has it.
    assert len(exported.text.splitlines()) == 1 + 28 + 2
    rollup = [r for r in csv.DictReader(io.StringIO(exported.text)) if r["source"] == "region"]
    assert [(r["authority_code"], r["authority_name"], r["care_type"]) for r in rollup] == [
        ("E12000005", "West Midlands", "in_house"),
        ("E12000005", "West Midlands", "all"),
    ]
    assert (rollup[0]["households"], rollup[0]["approved_places"]) == (
        str(HOUSEHOLDS),
        str(CAPACITY),
    )
    assert (rollup[1]["children_in_care"], rollup[1]["capacity_share_of_demand"]) == (
        str(CHILDREN),
        "0.3558",
    )

    report = load(client, tokens, exported.text).json()
    assert (report["created"], report["updated"], report["removed"]) == (0, 0, 0)
    assert report["unchanged"] == 28 and report["rows"] == 28


def test_a_council_with_its_own_register_is_served_from_it(client, tokens, authorities):
    approve(authorities, "SOT-1")
    approve(authorities, "SOT-2", care_type=HouseholdCareType.CONNECTED, approved_places=1)
    report = load(client, tokens, table_6_csv()).json()
    assert any(w["field"] == "authority_code" and STOKE in w["message"] for w in report["warnings"])

    body = view(client, tokens["regional_wm"]).json()
    sources = {a["code"]: a["source"] for a in body["authorities"]}
    assert sources.pop(STOKE) == "register"
    assert set(sources.values()) == {"return"}
    stoke = next(a for a in body["authorities"] if a["code"] == STOKE)
    assert (row(stoke, "in_house")["households"], row(stoke, "in_house")["approved_places"]) == (
        1,
        2,
    )
    assert row(stoke, "all")["approved_places"] == 3
    assert [b["age_band"] for b in stoke["vacancies_by_age_band"]] == [
        "under_1",
        "1_4",
        "5_9",
        "10_15",
        "16_17",
    ]
    assert body["rollup"]["authorities_by_source"] == {"register": 1, "return": 13, "none": 0}
    # Stoke's register has no children-in-care figure, so the share covers the other 13:
    # (4055 - 345) / (11396 - 1022) = 3710 / 10374.
    assert body["rollup"]["authorities_in_share"] == 13
    assert body["rollup"]["capacity_share_of_demand"] == round(3710 / 10374, 4) == 0.3576
    assert body["rollup"]["children_in_care"] == 10374


def test_a_figure_some_councils_leave_out_is_not_summed(client, tokens, authorities):
    approve(authorities, "SOT-1")
    load(client, tokens, table_6_csv())
    rollup = view(client, tokens["regional_wm"]).json()["rollup"]
    in_house = row(rollup, "in_house")
    # Stoke's register gives 1 household of 2 places instead of Table 6's 190 and 345.
    assert (in_house["households"], in_house["approved_places"]) == (2205 - 190 + 1, 4055 - 345 + 2)
    # Only Stoke gives filled places: a region figure of 0 would be false.
    assert (in_house["filled_places"], in_house["occupancy"]) == (None, None)
    assert row(rollup, "connected") == {
        "care_type": "connected",
        "authorities": 1,
        "households": 0,
        "approved_places": 0,
        "filled_places": 0,
        "vacant_places": 0,
        "unavailable_places": 0,
        "occupancy": None,
    }


def test_a_return_before_the_register_began_still_serves_that_date(client, tokens, authorities):
    load(client, tokens, table_6_csv())
    approve(authorities, "SOT-1", approved_on=date(2022, 6, 1))
    stoke = view(client, tokens["manager_stoke"]).json()["authorities"][0]
    assert stoke["source"] == "return"


def test_carers_ethnicity_counts_below_five_are_withheld(client, tokens, authorities):
    for n in range(6):
        approve(authorities, f"W-{n}", carers_ethnicity=Ethnicity.WHITE_BRITISH)
    for n in range(2):
        approve(authorities, f"B-{n}", carers_ethnicity=Ethnicity.BLACK_AFRICAN)
    stoke = view(client, tokens["regional_wm"]).json()["authorities"]
    groups = {
        g["group"]: g for g in next(a for a in stoke if a["code"] == STOKE)["carers_ethnicity"]
    }
    # black (2) is withheld, so white (6) is withheld too: the total would give black away
    assert groups["white"] == {"group": "white", "households": None, "suppressed": True}
    assert groups["black"] == {"group": "black", "households": None, "suppressed": True}
    assert groups["asian"] == {"group": "asian", "households": 0, "suppressed": False}


def test_a_regional_token_reads_no_household_placement_or_enquiry(client, tokens, authorities):
    household = approve(authorities, "SOT-1")
    base = f"/api/v1/authorities/{STOKE}"
    paths = [
        f"{base}/households",
        f"{base}/households/{household}",
        f"{base}/households/{household}/placements",
        f"{base}/enquiries",
    ]
    for path in paths:
        assert client.get(path, headers=bearer(tokens["manager_stoke"])).status_code == 200, path
        assert client.get(path, headers=bearer(tokens["regional_wm"])).status_code == 403, path


PERSONAL = frozenset(
    {
        "enquirer_name",
        "email",
        "phone",
        "postcode",
        "postcode_district",
        "date_of_birth",
        "dob",
        "child_ref",
        "child",
        "name_of_carer",
        "ethnicity",
    }
)


def _properties(
    schema: dict[str, Any], schemas: dict[str, Any], seen: set[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Every (property name, property schema) reachable from a schema, through $ref."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _properties(schemas[name], schemas, seen)
    found = []
    for name, sub in (schema.get("properties") or {}).items():
        found.append((name, sub))
        found += _properties(sub, schemas, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _properties(schema[key], schemas, seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key) or []:
            found += _properties(sub, schemas, seen)
    return found


def test_no_aggregate_response_can_carry_personal_data(client):
    spec = client.get("/schema/openapi.json").json()
    schemas = spec["components"]["schemas"]
    checked, leaks, ethnicity_items = [], [], []
    for route in client.app.routes:
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("access") not in AGGREGATE:
                continue
            for method in handler.http_methods:
                operation = spec["paths"][path][method.lower()]
                checked.append((method, path))
                for response in operation["responses"].values():
                    for media in (response.get("content") or {}).values():
                        for name, sub in _properties(media["schema"], schemas, set()):
                            if name in PERSONAL:
                                leaks.append((method, path, name))
                            if name == "carers_ethnicity":
                                ethnicity_items.append(sub)
    assert ("GET", "/api/v1/regions/{region}/capacity") in checked
    assert ("GET", "/api/v1/authorities/{code}/capacity/carers-ethnicity") in checked
    assert ("GET", "/api/v1/authorities/{code}/funnel") in checked
    assert leaks == []
    assert ethnicity_items
    for items in ethnicity_items:
        fields = {name for name, _ in _properties(items["items"], schemas, set())}
        assert fields == {"group", "households", "suppressed"}
