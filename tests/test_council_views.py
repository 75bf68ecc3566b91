"""A council's capacity figures kept between its changes: served kept while nothing is
written, computed afresh after any audited write (households, placements, unavailability,
children's figures), and never older than their age limit."""

import time

from sqlalchemy import event

from tests.conftest import COVENTRY, STOKE, bearer
from tests.test_dashboard import sign_in
from tests.test_national import households  # noqa: F401 (a fixture)
from tracker.core.view_cache import ViewCache
from tracker.enquiries.timeliness import london_today

BASE = f"/api/v1/authorities/{STOKE}"


def _statements(db) -> list[str]:
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_councils_figures_are_kept_until_its_next_change(
    authorities,
    client,
    tokens,
    households,  # noqa: F811
):
    manager = bearer(tokens["manager_stoke"])
    seen = _statements(authorities)

    def figures() -> dict:
        response = client.get(f"{BASE}/capacity", headers=manager)
        assert response.status_code == 200, response.text
        return response.json()

    first = figures()
    computed = len(seen)
    seen.clear()
    assert figures() == first
    assert len(seen) < computed  # kept: the marker, not the register's queries
    assert first["total"]["approved_places"] == 5

    added = {"reference": "H3", "care_type": "in_house", "approved_places": 4}
    added |= {"approved_on": "2024-02-01"}
    household = client.post(f"{BASE}/households", json=added, headers=manager)
    assert household.status_code == 201, household.text
    assert figures()["total"]["approved_places"] == 9

    placed = client.post(
        f"{BASE}/households/{household.json()['id']}/placements",
        json={"child_ref": "C-KEPT-1", "start_on": "2024-03-01"},
        headers=manager,
    )
    assert placed.status_code == 201, placed.text
    assert figures()["total"]["filled_places"] == 1

    held = {"places": 1, "reason": "carer_circumstances", "start_on": "2024-04-01"}
    marked = client.post(
        f"{BASE}/households/{household.json()['id']}/unavailability", json=held, headers=manager
    )
    assert marked.status_code == 201, marked.text
    assert figures()["total"]["unavailable_places"] == 1

    entry = {"as_at": "2024-03-31", "counts": {"in_house_foster": 3, "ifa_foster": 4}}
    entered = client.post(f"{BASE}/children-in-care", json=entry, headers=manager)
    assert entered.status_code == 201, entered.text
    assert figures()["children_in_care_total"] == 7


def test_the_capacity_page_shows_a_write_at_once(client, tokens, households):  # noqa: F811
    manager = tokens["manager_stoke"]
    assert sign_in(client, manager).status_code in (302, 303)
    table = "/dashboard/capacity?download=csv&table=care-types"
    before = client.get(table).text
    assert client.get(table).text == before
    added = {"reference": "H9", "care_type": "in_house", "approved_places": 1}
    added |= {"approved_on": "2024-02-01"}
    created = client.post(f"{BASE}/households", json=added, headers=bearer(manager))
    assert created.status_code == 201, created.text
    after = client.get(table).text
    assert after != before
    row = next(r for r in after.splitlines() if "In-house" in r or "in_house" in r)
    assert row.split(",")[1] == "3"  # households: H1, H2 and H9
    client.cookies.clear()


def test_a_view_older_than_its_age_limit_is_computed_again():
    views = ViewCache(max_age_s=0.05)
    assert views.get_or_compute("k", lambda: 1) == 1
    assert views.get_or_compute("k", lambda: 2) == 1
    time.sleep(0.06)
    assert views.get_or_compute("k", lambda: 3) == 3


def test_a_councils_revision_moves_once_per_committed_change_and_not_on_rollback(authorities):
    from tracker.core.access import SYSTEM
    from tracker.core.audit import record
    from tracker.core.revisions import revision

    with authorities.read_session() as session:
        before = revision(session, STOKE)
    with authorities.writing() as session:
        record(session, SYSTEM, "update", "household", 1, authority_code=STOKE)
        record(session, SYSTEM, "update", "placement", 2, authority_code=STOKE)
        record(session, SYSTEM, "export", "capacity", authority_code=STOKE)  # a read
    with authorities.read_session() as session:
        assert revision(session, STOKE) == before + 1
    try:
        with authorities.writing() as session:
            record(session, SYSTEM, "update", "household", 1, authority_code=STOKE)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with authorities.writing() as session:
        record(session, SYSTEM, "export", "capacity", authority_code=STOKE)
    with authorities.read_session() as session:
        assert revision(session, STOKE) == before + 1


def test_a_councils_funnel_is_kept_until_an_enquiry_is_written(authorities, client, tokens):
    recruiter = bearer(tokens["recruiter_stoke"])
    seen = _statements(authorities)

    def enquiries(path: str = "/funnel") -> dict:
        response = client.get(f"{BASE}{path}", headers=recruiter)
        assert response.status_code == 200, response.text
        return response.json()

    first, monthly = enquiries(), enquiries("/funnel/monthly")
    computed = len(seen)
    seen.clear()
    assert (enquiries(), enquiries("/funnel/monthly")) == (first, monthly)
    assert len(seen) < computed
    body = {"received_on": first["date_to"], "channel": "phone", "interests": ["undecided"]}
    body["enquirer_name"] = "Kept View"
    created = client.post(f"{BASE}/enquiries", json=body, headers=recruiter)
    assert created.status_code == 201, created.text
    assert enquiries()["overall"]["enquiries"] == first["overall"]["enquiries"] + 1
    assert sum(p["enquiries"] for p in enquiries("/funnel/monthly")["points"]) == 1 + sum(
        p["enquiries"] for p in monthly["points"]
    )


def test_the_funnel_page_and_overview_show_a_new_enquiry_at_once(client, tokens):
    manager = tokens["manager_stoke"]
    assert sign_in(client, manager).status_code in (302, 303)
    stages = "/dashboard/funnel?download=csv&table=stages"
    summary = "/dashboard?download=csv&table=summary"
    before = client.get(stages).text, client.get(summary).text
    assert (client.get(stages).text, client.get(summary).text) == before
    body = {"channel": "phone", "interests": ["undecided"], "enquirer_name": "Kept Page"}
    body["received_on"] = london_today().isoformat()
    created = client.post(f"{BASE}/enquiries", json=body, headers=bearer(manager))
    assert created.status_code == 201, created.text
    after = client.get(stages).text, client.get(summary).text
    assert after[0] != before[0] and after[1] != before[1]
    client.cookies.clear()


def test_a_councils_childrens_figures_are_kept_until_they_are_entered_again(
    authorities, client, tokens
):
    manager = bearer(tokens["manager_coventry"])
    base = f"/api/v1/authorities/{COVENTRY}/children"
    seen = _statements(authorities)

    def enter(value: int) -> None:
        figure = {"month": "2022-06", "metric": "starters", "value": value}
        entered = client.post(f"{base}/monthly-figures", json=[figure], headers=manager)
        assert entered.status_code == 200, entered.text

    def starters() -> list:
        params = {"date_from": "2022-06-01", "date_to": "2022-07-31"}
        response = client.get(f"{base}/starters", params=params, headers=manager)
        assert response.status_code == 200, response.text
        return [m["starters"] for m in response.json()["months"]]

    enter(9)
    seen.clear()
    assert starters() == [9, None]
    computed = len(seen)
    seen.clear()
    assert starters() == [9, None]
    assert len(seen) < computed  # kept: the revision, not the figures' queries
    enter(11)
    assert starters() == [11, None]


def test_a_first_read_finds_the_councils_revision_in_its_own_first_statement(
    authorities,
    client,
    tokens,
    households,  # noqa: F811
):
    """A read of a new day or period, of which no view is kept at any revision, finds the
    council's revision in its first statement (no query of the revision's own); a kept view
    costs that query alone; after a change the same day's read asks the revision first and
    shows the change at once; a day never asked for is computed with the new revision."""
    manager = bearer(tokens["manager_stoke"])
    seen = _statements(authorities)

    def read(path: str) -> dict:
        seen.clear()
        response = client.get(f"{BASE}/{path}", headers=manager)
        assert response.status_code == 200, response.text
        seen[:] = [s for s in seen if s != "BEGIN"]  # SQLite's
        return response.json()

    def revision_query(statement: str) -> bool:
        return statement.startswith("SELECT council_revision.revision")

    for path in ("capacity?as_at=2024-06-03", "funnel?date_from=2023-06-04&date_to=2024-06-03"):
        first = read(path)
        assert seen and not any(map(revision_query, seen))
        assert "council_revision" in seen[0]
        assert read(path) == first
        assert len(seen) == 1 and revision_query(seen[0])

    added = {"reference": "H4", "care_type": "in_house", "approved_places": 3}
    added |= {"approved_on": "2024-02-01"}
    household = client.post(f"{BASE}/households", json=added, headers=manager)
    assert household.status_code == 201, household.text
    assert read("capacity?as_at=2024-06-03")["total"]["approved_places"] == 8
    assert revision_query(seen[0]) and len(seen) > 1
    assert read("capacity?as_at=2024-06-04")["total"]["approved_places"] == 8
    assert not any(map(revision_query, seen))
    assert read("capacity?as_at=2024-06-04")["total"]["approved_places"] == 8
    assert len(seen) == 1
