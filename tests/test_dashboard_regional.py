"""The regional sign-in's capacity page: the region's sums say how many councils each adds up."""

from __future__ import annotations

import csv
import io

from tests.conftest import bearer
from tests.test_dashboard import sign_in

RETURN = (
    "authority_code,as_at,care_type,households,approved_places,children_in_care\n"
    "E08000025,2025-03-31,in_house,375,650,\n"
    "E08000025,2025-03-31,all,,,2094\n"
)


def test_each_care_type_of_the_region_says_how_many_councils_it_adds_up(client, tokens):
    household = {
        "reference": "H1",
        "care_type": "connected",
        "approved_places": 2,
        "approved_on": "2024-01-10",
    }
    added = client.post(
        "/api/v1/authorities/E06000021/households",
        json=household,
        headers=bearer(tokens["manager_stoke"]),
    )
    assert added.status_code == 201, added.text
    loaded = client.post(
        "/api/v1/capacity-returns",
        content=RETURN.encode(),
        headers=bearer(tokens["admin"]) | {"Content-Type": "text/csv"},
    )
    assert loaded.status_code == 200, loaded.text
    sign_in(client, tokens["regional_wm"])
    page = client.get("/dashboard/capacity")
    assert page.status_code == 200
    assert "how many councils a row adds up" in page.text
    download = client.get("/dashboard/capacity?download=csv&table=region")
    rows = {r["care_type"]: r for r in csv.DictReader(io.StringIO(download.text.lstrip("\ufeff")))}
    # Birmingham's return gives in-house places only: the connected carers are Stoke's alone.
    assert rows["Connected carers (family and friends)"]["authorities"] == "1"
    assert rows["In-house fostering"]["authorities"] == "2"


def test_the_regional_page_shows_the_region_as_at_the_day_chosen(client, tokens):
    """?as_at= gives the region's figures as at that day, with the chooser set to it; a day
    not yet come is a 400 naming the field."""
    sign_in(client, tokens["regional_wm"])
    page = client.get("/dashboard/capacity?as_at=2024-03-31")
    assert page.status_code == 200
    assert "places on 31 Mar 2024" in page.text and "Each council of" in page.text
    assert '<option value="2024-03-31" selected>' in page.text
    later = client.get("/dashboard/capacity?as_at=2999-01-01")
    assert later.status_code == 400 and "as_at" in later.text
