"""A capacity read asks one statement what the council has before its figures
(`tracker.capacity.figures._council_facts`): an unknown council is still a 404 naming the
code, and the children's and external provision figures show from the day they are dated,
as the queries it now skips when there are none would show them."""

from datetime import date, timedelta

import pytest

from tests.conftest import STOKE, bearer
from tests.test_bad_input import names
from tracker.capacity.figures import capacity_figures
from tracker.core.errors import NotFoundError

BASE = f"/api/v1/authorities/{STOKE}"
DAY = date(2024, 3, 14)


def test_an_unknown_council_is_not_found_naming_the_code(authorities, client, tokens):
    with authorities.read_session() as session, pytest.raises(NotFoundError) as raised:
        capacity_figures(session, "E06999999", DAY)
    assert raised.value.field == "code"
    response = client.get(
        "/api/v1/authorities/E06999999/capacity?as_at=2024-03-14",
        headers=bearer(tokens["admin"]),
    )
    assert response.status_code == 404 and names(response.json(), "code"), response.text


def test_entered_figures_show_from_their_day_and_none_before(authorities, client, tokens):
    headers = bearer(tokens["manager_stoke"])
    with authorities.read_session() as session:
        empty = capacity_figures(session, STOKE, DAY)
    assert empty.children_in_care == [] and empty.children_in_care_total is None
    assert empty.external_provision == []
    entered = client.post(
        f"{BASE}/children-in-care",
        json={"as_at": DAY.isoformat(), "counts": {"in_house_foster": 40, "connected_foster": 9}},
        headers=headers,
    )
    assert entered.status_code == 201, entered.text
    provision = client.post(
        f"{BASE}/external-provision",
        json={
            "as_at": (DAY + timedelta(days=10)).isoformat(),
            "provision": "ifa_fostering",
            "places": 30,
            "used_by_authority": 12,
        },
        headers=headers,
    )
    assert provision.status_code == 201, provision.text
    with authorities.read_session() as session:
        before = capacity_figures(session, STOKE, DAY - timedelta(days=1))
        on_the_day = capacity_figures(session, STOKE, DAY)
        later = capacity_figures(session, STOKE, DAY + timedelta(days=10))
        reference = capacity_figures(session, STOKE, DAY + timedelta(days=10), prepared=False)
    assert before.children_in_care == [] and before.external_provision == []
    assert on_the_day.children_in_care_total == 49 and on_the_day.external_provision == []
    assert later.children_in_care_total == 49
    assert [(p.provision, p.places, p.used_by_authority) for p in later.external_provision] == [
        ("ifa_fostering", 30, 12)
    ]
    assert later == reference
