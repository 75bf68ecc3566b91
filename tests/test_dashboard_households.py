"""The household register on the dashboard, through Litestar's test client on SQLite and
PostgreSQL: the list with its places, one household's page, recording a child placed and
ending a placement, dated changes (on hold, back, places, deregistered) and places not
available with the forms (errors by their fields, nothing stored), and who may see them.
The forms call the JSON API's service functions, so its rules and audit apply."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from api.dashboard.tables import long_date
from tests.conftest import COVENTRY, STOKE, bearer
from tests.test_dashboard import sign_in
from tests.test_dashboard_enquiries import _date, _signed_in, _summary_links
from tracker.core.audit import AuditEntry
from tracker.enquiries.timeliness import london_today
from tracker.households.tables import HouseholdVersion, Placement, Unavailability

TODAY = london_today()
LIST = "/dashboard/households"
APPROVED = date(2024, 2, 1)
# A household of 2 approved places as the list shows it, empty and with one child placed.
EMPTY = {"approved": 2, "filled": 0, "vacant": 2, "unavailable": 0}
ONE_PLACED = {"approved": 2, "filled": 1, "vacant": 1, "unavailable": 0}


def _household(client, secret: str, code: str = STOKE, places: int = 2, ref: str = "H-1") -> int:
    added = {"reference": ref, "care_type": "in_house", "approved_places": places}
    response = client.post(
        f"/api/v1/authorities/{code}/households",
        json=added | {"approved_on": APPROVED.isoformat()},
        headers=bearer(secret),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _places(html: str, household_id: int) -> dict[str, int]:
    """The list's approved, filled, vacant and unavailable places of one household."""
    row = re.search(rf'data-household="{household_id}">(.*?)</tr>', html, re.S)
    assert row is not None
    return {k: int(v) for k, v in re.findall(r'data-column="(\w+)">(\d+)<', row.group(1))}


def _place(client, csrf: str, household_id: int, child_ref: str, start: date):
    return client.post(
        f"{LIST}/{household_id}/placements",
        data={"csrf_token": csrf, "child_ref": child_ref, **_date("start_on", start)},
        follow_redirects=False,
    )


def _placements(database) -> list[Placement]:
    with database.read_session() as session:
        return list(session.scalars(select(Placement)))


def test_recording_a_child_placed_fills_a_place_on_the_list(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["manager_stoke"])
    listed = client.get(LIST)
    assert listed.status_code == 200 and "H-1" in listed.text
    assert _places(listed.text, household_id) == EMPTY
    page = client.get(f"{LIST}/{household_id}")
    assert page.status_code == 200 and "Record a child placed" in page.text
    assert f'name="start_on-day" type="text" value="{TODAY.day}"' in page.text  # today

    placed = _place(client, csrf, household_id, "C-100", date(2024, 3, 1))
    assert placed.status_code == 303
    assert placed.headers["location"] == f"{LIST}/{household_id}?done=child-placed"
    shown = client.get(placed.headers["location"])
    assert "Placement recorded" in shown.text and "Child C-100" in shown.text
    assert long_date(date(2024, 3, 1)) in shown.text
    assert _places(client.get(LIST).text, household_id) == ONE_PLACED
    with authorities.read_session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "placement"))
        assert list(actions) == ["create"]


def test_ending_a_placement_frees_its_place(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["manager_stoke"])
    assert _place(client, csrf, household_id, "C-200", date(2024, 3, 1)).status_code == 303
    placement_id = _placements(authorities)[0].id
    ended = client.post(
        f"{LIST}/{household_id}/placements/{placement_id}/end",
        data={"csrf_token": csrf, **_date("end_on", TODAY - timedelta(days=1))},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    assert ended.headers["location"].endswith("?done=placement-ended")
    page = client.get(ended.headers["location"])
    assert "Placement ended" in page.text and "No child is placed with this household" in page.text
    assert 'data-table="ended"' in page.text and "C-200" in page.text
    assert _places(client.get(LIST).text, household_id) == EMPTY
    assert _placements(authorities)[0].end_on == TODAY - timedelta(days=1)


def test_a_bad_start_date_is_an_error_by_its_field_and_stores_nothing(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["manager_stoke"])
    cases = {
        "future": (TODAY + timedelta(days=3), "is in the future"),
        "before approval": (
            date(2023, 12, 1),
            f"on or after the day the household was approved, {long_date(APPROVED)}",
        ),
    }
    for start, words in cases.values():
        refused = _place(client, csrf, household_id, "C-300", start)
        assert refused.status_code == 400
        assert _summary_links(refused.text) == ["start_on-day"]
        assert words in refused.text
        assert 'value="C-300"' in refused.text  # what was typed is kept
    impossible = client.post(
        f"{LIST}/{household_id}/placements",
        data={"csrf_token": csrf, "child_ref": "Ann Smith", **_date("start_on", TODAY)}
        | {"start_on-day": "31", "start_on-month": "2"},
    )
    assert impossible.status_code == 400
    assert _summary_links(impossible.text) == ["child_ref", "start_on-day"]
    assert "must be a real date" in impossible.text
    assert _placements(authorities) == []


def test_more_children_than_approved_places_is_refused_in_words(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"], places=1)
    csrf = _signed_in(client, tokens["manager_stoke"])
    assert _place(client, csrf, household_id, "C-401", date(2024, 3, 1)).status_code == 303
    refused = _place(client, csrf, household_id, "C-402", date(2024, 4, 1))
    assert refused.status_code == 400 and _summary_links(refused.text) == ["child_ref"]
    assert "this would be 2 children in a household approved for 1" in refused.text
    placement_id = _placements(authorities)[0].id
    early = client.post(
        f"{LIST}/{household_id}/placements/{placement_id}/end",
        data={"csrf_token": csrf, **_date("end_on", date(2024, 2, 1))},
    )
    assert early.status_code == 400
    assert _summary_links(early.text) == [f"end-{placement_id}-day"]
    assert "must be after the day the child was placed, 1 Mar 2024" in early.text
    assert len(_placements(authorities)) == 1 and _placements(authorities)[0].end_on is None


def test_the_forms_need_the_csrf_token(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    _signed_in(client, tokens["manager_stoke"])
    forged = _place(client, "forged", household_id, "C-500", date(2024, 3, 1))
    assert forged.status_code == 403
    assert _placements(authorities) == []


def test_recruiters_and_regional_tokens_get_403(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    for who in ("recruiter_stoke", "regional_wm"):
        client.cookies.clear()
        assert sign_in(client, tokens[who]).status_code == 303
        assert client.get(LIST).status_code == 403
        assert client.get(f"{LIST}/{household_id}").status_code == 403
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    assert _place(client, csrf, household_id, "C-600", date(2024, 3, 1)).status_code == 403
    assert _placements(authorities) == []


def test_another_councils_household_is_not_found(client, tokens, authorities):
    theirs = _household(client, tokens["manager_coventry"], code=COVENTRY, ref="COV-1")
    csrf = _signed_in(client, tokens["manager_stoke"])
    assert client.get(f"{LIST}/{theirs}").status_code == 404
    assert _place(client, csrf, theirs, "C-700", date(2024, 3, 1)).status_code == 404
    assert "COV-1" not in client.get(LIST).text
    assert _placements(authorities) == []


def test_the_list_filters_and_sorts_from_the_address(client, tokens):
    _household(client, tokens["manager_stoke"], ref="B-OLD")
    newer = {"reference": "A-NEW", "care_type": "connected", "approved_places": 1}
    client.post(
        f"/api/v1/authorities/{STOKE}/households",
        json=newer | {"approved_on": "2025-01-01"},
        headers=bearer(tokens["manager_stoke"]),
    )
    _signed_in(client, tokens["manager_stoke"])
    newest = client.get(LIST).text
    assert newest.index("A-NEW") < newest.index("B-OLD")
    by_ref = client.get(LIST, params={"sort": "reference", "care_type": "in_house"}).text
    assert "B-OLD" in by_ref and "A-NEW" not in by_ref
    bad = client.get(LIST, params={"status": "lost"})
    assert bad.status_code == 400 and _summary_links(bad.text) == ["status"]


def _change(client, csrf: str, household_id: int, change: str, on: date, **fields: str):
    return client.post(
        f"{LIST}/{household_id}/changes",
        data={"csrf_token": csrf, "change": change, **_date("effective_on", on), **fields},
        follow_redirects=False,
    )


def _mark(client, csrf: str, household_id: int, start: date, **fields: str):
    given = {"places": "1", "reason": "carer_circumstances"} | fields
    return client.post(
        f"{LIST}/{household_id}/unavailability",
        data={"csrf_token": csrf, **given, **_date("from_on", start)},
        follow_redirects=False,
    )


def _status_cell(html: str, household_id: int) -> str:
    row = re.search(rf'data-household="{household_id}">(.*?)</tr>', html, re.S)
    assert row is not None
    return row.group(1)


def _rows(database, table) -> list:
    with database.read_session() as session:
        return list(session.scalars(select(table)))


def test_putting_on_hold_and_back_shows_on_the_page_and_the_list(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["manager_stoke"])
    page = client.get(f"{LIST}/{household_id}").text
    assert 'value="hold"' in page and 'value="back"' not in page
    assert f'name="effective_on-day" type="text" value="{TODAY.day}"' in page  # today
    held = _change(client, csrf, household_id, "hold", TODAY - timedelta(days=10))
    assert held.status_code == 303
    assert held.headers["location"] == f"{LIST}/{household_id}?done=household-on-hold"
    page = client.get(held.headers["location"]).text
    assert "Household put on hold" in page and "In-house fostering, on hold" in page
    assert 'value="back"' in page and 'value="hold"' not in page
    assert "data-on-hold" in page  # the placement form says when a child may be recorded
    assert "none of its places can take a child" in page
    assert "Every approved place can take a child today" not in page
    assert "On hold" in _status_cell(client.get(LIST).text, household_id)
    back = _change(client, csrf, household_id, "back", TODAY)
    assert back.headers["location"].endswith("?done=household-back")
    assert "In-house fostering, active" in client.get(back.headers["location"]).text
    page = client.get(back.headers["location"]).text
    assert "data-on-hold" not in page and "Every approved place can take a child today" in page
    assert "Active" in _status_cell(client.get(LIST).text, household_id)
    with authorities.read_session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "household"))
        assert list(actions).count("change") == 2


def test_a_change_of_approved_places_shows(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["manager_stoke"])
    changed = _change(client, csrf, household_id, "places", TODAY, approved_places="3")
    assert changed.headers["location"].endswith("?done=places-changed")
    assert "0 of 3 approved places filled today" in client.get(changed.headers["location"]).text
    assert _places(client.get(LIST).text, household_id) == EMPTY | {"approved": 3, "vacant": 3}


def test_deregistering_with_a_reason_leaves_the_active_list(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["manager_stoke"])
    no_reason = _change(client, csrf, household_id, "deregister", TODAY)
    assert no_reason.status_code == 400
    assert _summary_links(no_reason.text) == ["deregistration_reason"]
    gone = _change(client, csrf, household_id, "deregister", TODAY, deregistration_reason="retired")
    assert gone.headers["location"].endswith("?done=household-deregistered")
    page = client.get(gone.headers["location"]).text
    assert "Deregistered (the carers retired)" in page and "takes no more changes" in page
    assert "Record a child placed" not in page  # nor any other form that would be refused
    assert "H-1" not in client.get(LIST, params={"status": "active"}).text
    assert "H-1" in client.get(LIST, params={"status": "deregistered"}).text


def test_a_place_not_available_is_not_vacant_until_its_period_ends(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["manager_stoke"])
    marked = _mark(client, csrf, household_id, TODAY - timedelta(days=5))
    assert marked.headers["location"].endswith("?done=places-unavailable")
    page = client.get(marked.headers["location"]).text
    assert "1 place: The carers&#39; circumstances" in page and "End this period" in page
    assert _places(client.get(LIST).text, household_id) == EMPTY | {"vacant": 1, "unavailable": 1}
    period_id = _rows(authorities, Unavailability)[0].id
    ended = client.post(
        f"{LIST}/{household_id}/unavailability/{period_id}/end",
        data={"csrf_token": csrf, **_date("end_on", TODAY)},
        follow_redirects=False,
    )
    assert ended.headers["location"].endswith("?done=places-available")
    assert (
        "Every approved place can take a child today" in client.get(LIST + f"/{household_id}").text
    )
    assert _places(client.get(LIST).text, household_id) == EMPTY


FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


def test_places_marked_not_available_by_a_form_sent_twice_are_marked_once(
    client, tokens, authorities
):
    """Without JavaScript, or Back and "Mark places not available" again (the browser used to
    restore the places and the reason), the same form is sent twice: one period is marked,
    and the second sending says so. The form restores nothing on Back."""
    household_id = _household(client, tokens["manager_stoke"], places=3)
    csrf = _signed_in(client, tokens["manager_stoke"])
    page = client.get(f"{LIST}/{household_id}").text
    form = re.search(r'<form[^>]*/unavailability"[^>]*>', page).group(0)
    assert 'autocomplete="off"' in form
    key = FORM_KEY.search(page).group(1)
    # Shown again with an error, the form keeps its key: the corrected form marks once.
    refused = _mark(client, csrf, household_id, TODAY, reason="", form_key=key)
    assert refused.status_code == 400 and FORM_KEY.search(refused.text).group(1) == key
    first = _mark(client, csrf, household_id, TODAY, form_key=key)
    assert first.headers["location"].endswith("?done=places-unavailable")
    again = _mark(client, csrf, household_id, TODAY, form_key=key)
    assert again.status_code == 303
    assert again.headers["location"].endswith(
        f"/households/{household_id}?done=places-already-unavailable"
    )
    assert "This form was already sent" in client.get(again.headers["location"]).text
    assert len(_rows(authorities, Unavailability)) == 1
    other = FORM_KEY.search(client.get(f"{LIST}/{household_id}").text).group(1)
    assert other != key
    _mark(client, csrf, household_id, TODAY, form_key=other)
    assert len(_rows(authorities, Unavailability)) == 2


def test_a_bad_change_or_period_date_is_an_error_by_its_field_and_stores_nothing(
    client, tokens, authorities
):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["manager_stoke"])
    future = _change(client, csrf, household_id, "hold", TODAY + timedelta(days=2))
    assert future.status_code == 400 and _summary_links(future.text) == ["effective_on-day"]
    assert "The date of the change" in future.text and "is in the future" in future.text
    impossible = client.post(
        f"{LIST}/{household_id}/changes",
        data={"csrf_token": csrf, "change": "places", "approved_places": "13"}
        | _date("effective_on", TODAY)
        | {"effective_on-day": "31", "effective_on-month": "2"},
    )
    assert _summary_links(impossible.text) == ["effective_on-day", "approved_places"]
    assert "must be a real date" in impossible.text
    early = _mark(client, csrf, household_id, date(2023, 1, 1))
    assert early.status_code == 400 and _summary_links(early.text) == ["from_on-day"]
    assert "The start date is before the household" in early.text
    assert len(_rows(authorities, HouseholdVersion)) == 1  # the approval only
    assert _rows(authorities, Unavailability) == []


def test_recruiters_cannot_change_a_household_or_its_places(client, tokens, authorities):
    household_id = _household(client, tokens["manager_stoke"])
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    assert _change(client, csrf, household_id, "hold", TODAY).status_code == 403
    assert _mark(client, csrf, household_id, TODAY).status_code == 403
    assert len(_rows(authorities, HouseholdVersion)) == 1
    assert _rows(authorities, Unavailability) == []
