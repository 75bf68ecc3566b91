"""Benchmarking against the published figures: the shipped files are what the build script
makes of shared/data (suppression kept as published, each figure's source named), and the
comparisons are worked out the same way for the council and for the published areas.

Hand-checked against shared/data (Ofsted 2018-19 LA sheet, DfE releases):
  Stoke-on-Trent 2018-19: 100 enquiries, 25 applications, 5 approved, 50 households approved,
  40 deregistered, 420 approved places, 335 filled, 40 not available; 57,901 children aged
  0-17; 603 children in foster placements. So enquiry to application 25 / 100 = 25%,
  application to approval 5 / 25 = 20%, approvals 50 / 57,901 x 10,000 = 8.6, deregistrations
  6.9, net change 10 / 57,901 x 10,000 = 1.7, occupancy 335 / (420 - 40) = 88.16%, in-house
  share 335 / 603 = 55.56%. Staying Put 2023-24: 16 / 29 = 55.17%.
  England (council services: the nine regions summed), 2018-19: 35,960 enquiries, 4,390
  applications (12.21%); 29,325 households (shared/data README); occupancy 35,825 / (53,595 -
  7,800) = 78.23%; approvals 5,685 / 11,755,593 x 10,000 = 4.8; in-house share 35,825 /
  56,160 (DfE England) = 63.79%.
  West Midlands 2018-19 occupancy: 4,495 / (5,865 - 540) = 84.41%.
  Coventry's neighbours, Staying Put 2020-21: Derby 13/16, Southampton 12/23, Peterborough c,
  Bolton c, Wolverhampton 15/28, Hillingdon 6/14, Rochdale 18/27, Walsall 14/20, Luton 20/21,
  Stoke-on-Trent c/7: seven figures, median Rochdale's 66.67%.
"""

from __future__ import annotations

import importlib
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import COVENTRY, STOKE, bearer
from tracker.benchmarks.measures import BENCHMARKS, evaluate
from tracker.benchmarks.published import ENGLAND, as_number, load_published

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
SHIPPED = ROOT / "tracker" / "benchmarks"
BIRMINGHAM = "E08000025"


def _build_module():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module("build_benchmarks")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} (the source files) is not here")
def test_the_build_script_makes_exactly_the_shipped_files(tmp_path: Path) -> None:
    _build_module().build(DATA, tmp_path)

    for name in ("areas.csv", "published.csv", "sources.csv", "neighbours.csv"):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name


def test_suppressed_and_missing_figures_are_kept_as_published() -> None:
    published = load_published()

    assert published.cell(STOKE, 2021, "staying_put_stayed") == "c"
    assert published.cell(STOKE, 2018, "staying_put_eligible") == "x"
    assert published.cell(BIRMINGHAM, 2019, "enquiries") == ".."
    assert published.cell(STOKE, 2019, "enquiries") == "100"
    assert published.cell(STOKE, 2018, "applications") is None  # 2017-18 has no such column
    assert [as_number(v) for v in ("c", "x", "..", None, "100")] == [None, None, None, None, 100]


def test_every_published_figure_names_its_source() -> None:
    published = load_published()
    named = {(s.measure, s.year) for s in published.sources}
    given = {(measure, year) for (_, year), cells in published.cells.items() for measure in cells}

    assert given == named
    [source] = [s for s in published.sources if (s.measure, s.year) == ("enquiries", 2019)]
    assert (source.publisher, source.sha256) == ("Ofsted", "e9ba0ff846c5cca7")
    assert source.item.startswith("row 98")


def test_stoke_on_trent_s_ten_neighbours_closest_first() -> None:
    names = [load_published().areas[n.code].name for n in load_published().neighbours[STOKE]]

    assert names == [
        "Walsall", "Rochdale", "Wolverhampton", "Doncaster", "North East Lincolnshire",
        "Kingston upon Hull, City of", "Sandwell", "Tameside", "Derby", "Rotherham",
    ]  # fmt: skip


def _by_key(body: dict) -> dict[str, dict]:
    return {c["key"]: c for c in body["comparisons"]}


def _value(comparator: dict | None) -> float | None:
    return None if comparator is None else comparator["figure"]["value"]


def test_the_published_comparators_of_2018_19(client, tokens) -> None:
    response = client.get(
        f"/api/v1/authorities/{STOKE}/benchmarks?year=2018-19", headers=bearer(tokens["admin"])
    )

    assert response.status_code == 200, response.text
    c = _by_key(response.json())
    stoke = {k: _value(v["council_published"]) for k, v in c.items()}
    assert stoke == {
        "enquiry_to_application": 0.25,
        "application_to_approval": 0.2,
        "approvals_per_10k": 8.6,
        "deregistrations_per_10k": 6.9,
        "net_change_per_10k": 1.7,
        "occupancy": 0.8816,
        "in_house_share_of_foster": 0.5556,
        "staying_put_18": 0.5714,  # 2018-19: 8 / 14
    }
    england = c["enquiry_to_application"]["england"]
    assert (england["code"], _value(england)) == (ENGLAND, 0.1221)
    assert england["figure"]["parts"] == {"applications": "4390", "enquiries": "35960"}
    assert _value(c["occupancy"]["england"]) == 0.7823
    assert _value(c["approvals_per_10k"]["england"]) == 4.8
    assert _value(c["in_house_share_of_foster"]["england"]) == 0.6379
    assert (c["occupancy"]["region"]["name"], _value(c["occupancy"]["region"])) == (
        "West Midlands",
        0.8441,
    )


def test_a_suppressed_neighbour_shows_c_and_the_median_leaves_it_out(client, tokens) -> None:
    response = client.get(
        f"/api/v1/authorities/{COVENTRY}/benchmarks?year=2020-21",
        headers=bearer(tokens["manager_coventry"]),
    )

    staying = _by_key(response.json())["staying_put_18"]
    neighbours = {n["name"]: n["figure"] for n in staying["neighbours"]}
    assert staying["published_year"] == 2021
    assert (neighbours["Stoke-on-Trent"]["value"], neighbours["Stoke-on-Trent"]["marker"]) == (
        None,
        "c",
    )
    assert staying["neighbours_median"]["value"] == 0.6667
    assert staying["neighbours_median"]["parts"] == {
        "neighbours_with_a_figure": "7",
        "neighbours": "10",
    }


def test_the_council_is_counted_as_the_published_figures_are(client, tokens) -> None:
    """Stoke-on-Trent in 2025-26 from its records: 4 enquiries received in the year, 2 of them
    applied in it (one approved in it, one still open), and one more applied in 2024-25 and
    approved in 2025-26; 3 households approved (2 fostering: in-house and connected; 1
    supported lodgings, left out), 1 deregistered; on 31 March 2026 the 2 fostering households
    hold 3 approved places, 2 filled, 1 not available; children in care entered by hand: 3
    in-house, 1 connected and 4 with an agency in foster care. DfE's 2024-25 population
    (62,520) stands in for 2025-26.

    Enquiry to application 2 / 4 = 50%; application to approval (received and approved in the
    year) 1 / 2 = 50%; approvals 2 / 62,520 x 10,000 = 0.3; deregistrations 1 / 62,520 x
    10,000 = 0.2; net change 0.2; occupancy 2 / (3 - 1) = 100%; in-house share 2 / 8 = 25%;
    Staying Put: no SSDA903 return, nothing entered: not known."""
    manager = bearer(tokens["manager_stoke"])
    base = f"/api/v1/authorities/{STOKE}"
    ids = []
    for received in ("2025-04-10", "2025-05-10", "2025-06-10", "2025-07-10", "2024-05-01"):
        body = {"received_on": received, "channel": "phone"}
        ids.append(client.post(f"{base}/enquiries", json=body, headers=manager).json()["id"])
    moves = [
        (ids[0], "application", "2025-05-01"),
        (ids[0], "approved", "2025-12-01"),
        (ids[1], "application", "2025-06-01"),
        (ids[4], "application", "2025-01-10"),
        (ids[4], "approved", "2025-09-01"),
    ]
    for enquiry_id, stage, on in moves:
        moved = client.post(
            f"{base}/enquiries/{enquiry_id}/stage", json={"stage": stage, "on": on}, headers=manager
        )
        assert moved.status_code == 200, moved.text
    homes = [
        ("H1", "in_house", 2, "2025-12-01"),
        ("H2", "connected", 1, "2025-09-01"),
        ("H3", "supported_lodgings", 1, "2025-06-01"),
        ("H4", "in_house", 1, "2020-01-01"),
    ]
    h = [
        client.post(
            f"{base}/households",
            json={"reference": r, "care_type": t, "approved_places": n, "approved_on": on},
            headers=manager,
        ).json()["id"]
        for r, t, n, on in homes
    ]
    change = {
        "effective_on": "2025-10-01",
        "status": "deregistered",
        "deregistration_reason": "retired",
    }
    left = client.post(f"{base}/households/{h[3]}/changes", json=change, headers=manager)
    assert left.status_code == 200, left.text
    for household, child in ((h[0], "C-001"), (h[1], "C-002")):
        placed = client.post(
            f"{base}/households/{household}/placements",
            json={"child_ref": child, "start_on": "2026-01-05"},
            headers=manager,
        )
        assert placed.status_code == 201, placed.text
    unavailable = {"places": 1, "reason": "carer_circumstances", "start_on": "2026-02-01"}
    client.post(f"{base}/households/{h[0]}/unavailability", json=unavailable, headers=manager)
    entry = {
        "as_at": "2026-03-31",
        "counts": {"in_house_foster": 3, "connected_foster": 1, "ifa_foster": 4},
    }
    assert client.post(f"{base}/children-in-care", json=entry, headers=manager).status_code == 201

    response = client.get(f"{base}/benchmarks?year=2025-26", headers=manager)

    assert response.status_code == 200, response.text
    body = response.json()
    council = {k: v["council"] for k, v in _by_key(body).items()}
    assert {k: v["value"] for k, v in council.items()} == {
        "enquiry_to_application": 0.5,
        "application_to_approval": 0.5,
        "approvals_per_10k": 0.3,
        "deregistrations_per_10k": 0.2,
        "net_change_per_10k": 0.2,
        "occupancy": 1.0,
        "in_house_share_of_foster": 0.25,
        "staying_put_18": None,
    }
    assert council["staying_put_18"]["marker"] == "not recorded"
    assert council["approvals_per_10k"]["parts"]["population_0_17"] == "62520"
    assert any("2024-25 figures, the latest, for 2025-26" in n for n in body["notes"])


@pytest.mark.parametrize("token_name", ["regional_wm", "manager_stoke", "admin"])
def test_aggregates_open_to_the_authority_its_region_and_admins(client, tokens, token_name) -> None:
    response = client.get(
        f"/api/v1/authorities/{STOKE}/benchmarks", headers=bearer(tokens[token_name])
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("token_name", ["regional_ne", "recruiter_stoke", "manager_coventry"])
def test_others_may_not_read_an_authority_s_benchmarks(client, tokens, token_name) -> None:
    response = client.get(
        f"/api/v1/authorities/{STOKE}/benchmarks", headers=bearer(tokens[token_name])
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("year", "status"), [("2026-27", 422), ("2025-27", 422), ("2025", 422), ("9999-00", 422)]
)
def test_a_year_not_ended_or_not_a_year_is_a_4xx_naming_it(client, tokens, year, status) -> None:
    response = client.get(
        f"/api/v1/authorities/{STOKE}/benchmarks?year={year}", headers=bearer(tokens["admin"])
    )

    assert response.status_code == status, response.text
    assert "year" in response.text


def test_a_benchmark_with_a_zero_denominator_has_no_value_and_no_marker() -> None:
    share = next(b for b in BENCHMARKS if b.key == "enquiry_to_application")

    figure = evaluate(share, 2026, {"applications": "0", "enquiries": "0"})

    assert (figure.value, figure.marker) == (None, None)
    assert date(2026, 3, 31).year == figure.year
