"""Uploads with a preview and a confirmation, and the managers' forms (targets of every kind,
scenarios, settings), through Litestar's test client on SQLite and PostgreSQL; and the small
pieces the pages read by (axis titles, ids, work-back rates)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.dashboard import uploads
from api.dashboard.charts import wrap_title
from api.dashboard.forms import Form
from api.dashboard.tables import display, long_date
from api.dashboard.targets import rate_words
from tests.conftest import STOKE
from tests.test_dashboard import sign_in
from tests.test_dashboard_enquiries import _date, _signed_in, _summary_links
from tests.test_household_import import FILLED_CSV, REGISTER_CSV
from tests.test_ssda903 import YEAR_2022
from tracker.children.tables import CareEpisode
from tracker.core.access import ApiToken
from tracker.core.audit import AuditEntry
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import NotFoundError
from tracker.core.table_export import CellFormat
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import london_today
from tracker.households.tables import Household
from tracker.scenarios.service import get_scenario, list_scenarios
from tracker.targets.tables import Target
from tracker.targets.workback import RateUsed

TODAY = london_today()
BAD = (
    "external_ref,received_on,channel,enquirer_name\n"
    "R-1,2026-01-05,phone,Ann\n"
    "R-2,2026-02-30,fax,Bob\n"
    "R-3,2026-01-07,web_form,Cy\n"
)
FIXED = BAD.replace("2026-02-30,fax", "2026-02-03,email")


def _preview(client, csrf: str, kind: str, files: dict[str, str], **fields: str):
    parts = [("files", (name, text.encode(), "text/csv")) for name, text in files.items()]
    return client.post(
        f"/dashboard/uploads/{kind}", data={"csrf_token": csrf, **fields}, files=parts
    )


def _confirm_path(html: str) -> str:
    return re.search(r'action="(/dashboard/uploads/[a-z0-9]+/\d+)"', html).group(1)


def _count(database, table) -> int:
    with database.read_session() as session:
        return len(session.scalars(select(table)).all())


def test_a_spreadsheet_with_a_bad_row_is_shown_by_row_and_column_then_fixed(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    rejected = _preview(client, csrf, "enquiries", {"team.csv": BAD})
    assert rejected.status_code == 400
    assert "The file has 2 errors: nothing was imported" in rejected.text
    errors = re.findall(r"<td class=\"govuk-table__cell[^\"]*\">([^<]*)</td>", rejected.text)
    assert errors[:6] == ["3", "received_on", errors[2], "3", "channel", errors[5]]
    assert _count(authorities, Enquiry) == 0
    preview = _preview(client, csrf, "enquiries", {"team.csv": FIXED})
    assert preview.status_code == 200 and "Check what the import will do" in preview.text
    counts = dict(
        re.findall(
            r'__key">\s*(\w+)\s*</dt>\s*<dd class="govuk-summary-list__value">\s*([\d,]+)',
            preview.text,
        )
    )
    assert counts == {"Rows": "3", "New": "3", "Changed": "0", "Unchanged": "0"}
    assert _count(authorities, Enquiry) == 0  # a preview stores nothing
    confirm = _confirm_path(preview.text)
    done = client.post(confirm, data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].endswith("new=3&changed=0&unchanged=0&done=imported")
    assert _count(authorities, Enquiry) == 3
    # The same upload cannot be imported twice, nor by another sign-in.
    assert client.post(confirm, data={"csrf_token": csrf}).status_code == 404
    again = _preview(client, csrf, "enquiries", {"team.csv": FIXED})
    assert "Unchanged" in again.text and ">3<" not in again.text.split("Unchanged")[0][-200:]
    other = _signed_in(client, tokens["manager_stoke"])
    assert client.post(_confirm_path(again.text), data={"csrf_token": other}).status_code == 404


def test_an_upload_needs_a_file_and_its_csrf_token(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    empty = client.post(
        "/dashboard/uploads/enquiries",
        data={"csrf_token": csrf},
        files=[("files", ("", b"", "application/octet-stream"))],
    )
    assert empty.status_code == 400 and _summary_links(empty.text) == ["files"]
    forged = _preview(client, "forged", "enquiries", {"team.csv": FIXED})
    assert forged.status_code == 403
    binary = _preview(client, csrf, "enquiries", {"team.xls": "\x00\x01 not a sheet"})
    assert binary.status_code == 400 and "nothing was imported" in binary.text
    assert _count(authorities, Enquiry) == 0


def test_recruiters_cannot_upload_the_register_or_ssda903(client, tokens):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    for kind in ("households", "ssda903"):
        assert client.get(f"/dashboard/uploads/{kind}").status_code == 403
        assert _preview(client, csrf, kind, {"x.csv": "a\n"}).status_code == 403
    assert client.get("/dashboard/uploads/nothing").status_code == 404


def test_a_manager_uploads_the_register_and_ssda903_with_a_preview(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    register = _preview(client, csrf, "households", {"register.csv": REGISTER_CSV})
    assert register.status_code == 200 and _count(authorities, Household) == 0
    client.post(_confirm_path(register.text), data={"csrf_token": csrf})
    assert _count(authorities, Household) == 4
    files = _preview(client, csrf, "ssda903", YEAR_2022)
    assert files.status_code == 200, files.text[:2000]
    assert "episodes_2021-22.csv" in files.text and "2021-22" in files.text
    assert _count(authorities, CareEpisode) == 0
    done = client.post(_confirm_path(files.text), data={"csrf_token": csrf}, follow_redirects=False)
    assert done.headers["location"].startswith("/dashboard/capacity?")
    assert _count(authorities, CareEpisode) > 0
    # Sending the same year changed is refused unless the manager ticks "replace".
    changed = {
        k: v.replace("CH1007,01/02/2022,S,C2,N1,U2", "CH1007,01/02/2022,S,C2,N1,U3")
        for k, v in YEAR_2022.items()
    }
    refused = _preview(client, csrf, "ssda903", changed)
    assert refused.status_code == 400 and "replace" in refused.text, refused.text[-3000:]
    allowed = _preview(client, csrf, "ssda903", changed, replace="yes")
    assert allowed.status_code == 200 and "replace the stored return" in allowed.text


def test_an_import_confirmed_twice_says_it_was_already_imported(client, tokens, authorities):
    """Without JavaScript, "Import" clicked twice sends the confirmation twice: the second is
    refused in words that say the first may have imported it, in a sentence's capitals."""
    csrf = _signed_in(client, tokens["manager_stoke"])
    register = _preview(client, csrf, "households", {"register.csv": REGISTER_CSV})
    client.post(_confirm_path(register.text), data={"csrf_token": csrf})
    again = client.post(_confirm_path(register.text), data={"csrf_token": csrf})
    assert again.status_code == 404 and _count(authorities, Household) == 4
    assert "That upload was already imported, or has expired (after an hour)" in again.text


def test_the_register_preview_warns_that_filled_places_are_not_imported(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["manager_stoke"])
    form = client.get("/dashboard/uploads/households")
    assert "Filled, vacant and unavailable places are not read from the file" in form.text
    preview = _preview(client, csrf, "households", {"register.csv": FILLED_CSV})
    assert preview.status_code == 200, preview.text[-2000:]
    assert "2 warnings (they do not stop the import)" in preview.text
    assert "2, 3, 4, 5, 6 and 1 more" in preview.text
    assert "filled_places was not imported: 6 rows give a figure" in preview.text
    assert "/households/{id}/placements" in preview.text
    client.post(_confirm_path(preview.text), data={"csrf_token": csrf})
    assert _count(authorities, Household) == 8


def test_pending_uploads_expire_after_an_hour(authorities, tokens):
    with authorities.writing() as session:
        token_id = session.scalars(select(ApiToken.id)).first()
        kept = uploads.keep(
            session, token_id, STOKE, "enquiries", [uploads.UploadedFile("a.csv", b"x")], {}
        )
        later = utcnow() + uploads.UPLOAD_LIFETIME + timedelta(seconds=1)
        with pytest.raises(NotFoundError):
            uploads.take(session, kept, token_id, STOKE, "enquiries", now=later)
        found = uploads.take(session, kept, token_id, STOKE, "enquiries")
        assert found.files == [uploads.UploadedFile("a.csv", b"x")]


# --- targets -----------------------------------------------------------------------------------


def _target(csrf: str, kind: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": "Raise Staying Put",
        "metric": "staying_put_rate",
        "direction": "at_least",
        "kind": kind,
        **{f"{kind}-{k}": v for k, v in fields.items()},
    }


def _targets(database) -> list[Target]:
    with database.read_session() as session:
        return list(session.scalars(select(Target).order_by(Target.id)))


def test_a_percentage_target_is_entered_as_a_percentage(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    form = _target(
        csrf,
        "level_by_date",
        target_value="62",
        baseline_value="40%",
        **_date("level_by_date-baseline_date", TODAY.replace(day=1) - timedelta(days=400)),
        **_date("level_by_date-target_date", TODAY.replace(year=TODAY.year + 2)),
    )
    form = {k.replace("level_by_date-level_by_date-", "level_by_date-"): v for k, v in form.items()}
    response = client.post("/dashboard/targets/new", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:3000]
    [target] = _targets(authorities)
    assert (target.kind, target.target_value, target.baseline_value) == ("level_by_date", 62, 40)


def test_a_target_missing_its_kinds_field_is_an_error_on_that_input(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    response = client.post("/dashboard/targets/new", data=_target(csrf, "band", lower="80"))
    assert response.status_code == 400
    assert _summary_links(response.text)[0].startswith("band-")
    wrong = client.post("/dashboard/targets/new", data=_target(csrf, "floor", lower="a lot"))
    assert wrong.status_code == 400 and _summary_links(wrong.text) == ["floor-lower"]
    assert _targets(authorities) == []


def test_a_target_refused_by_its_rules_is_told_in_the_pages_words(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    later = TODAY + timedelta(days=40)
    form = _target(csrf, "level_by_date", target_value="62", baseline_value="40")
    form |= _date("level_by_date-baseline_date", later)
    form |= _date("level_by_date-target_date", TODAY.replace(year=TODAY.year + 2))
    response = client.post("/dashboard/targets/new", data=form)
    assert response.status_code == 400
    assert _summary_links(response.text) == ["level_by_date-baseline_date-day"]
    assert f"Baseline date {long_date(later)} is in the future" in response.text
    assert later.isoformat() not in response.text
    assert _targets(authorities) == []


def test_a_level_by_date_left_empty_marks_every_missing_field_at_once(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    response = client.post("/dashboard/targets/new", data=_target(csrf, "level_by_date"))
    assert response.status_code == 400
    assert _summary_links(response.text) == [
        "level_by_date-target_value",
        "level_by_date-target_date-day",
    ]
    assert _error_texts(response.text) == [
        "Error: Enter the target",
        "Error: Enter the date it is due by",
    ]
    assert "kind level by date" not in response.text and "is needed" not in response.text
    form = client.get("/dashboard/targets/new").text
    level = form.split('id="conditional-kind-2"')[1].split("</fieldset>")[0]
    growth = form.split('id="conditional-kind"')[1].split('id="conditional-kind-2"')[0]
    assert "Baseline date (optional)" in level and "Baseline date (optional)" not in growth
    assert _targets(authorities) == []


def test_a_floor_or_band_refused_by_its_levels_says_so_with_the_forms_labels(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["manager_stoke"])
    occupancy = {"metric": "inhouse_occupancy"}
    floor = client.post(
        "/dashboard/targets/new",
        data=_target(csrf, "floor", lower="85", upper="95") | occupancy,
    )
    assert floor.status_code == 400 and _summary_links(floor.text) == ["floor-upper"]
    assert _error_texts(floor.text) == [
        "Error: Leave the highest level empty: a target to stay at or above a level takes "
        "the lowest level only"
    ]
    band = client.post(
        "/dashboard/targets/new", data=_target(csrf, "band", lower="90", upper="80") | occupancy
    )
    assert band.status_code == 400 and _summary_links(band.text) == ["band-upper"]
    assert _error_texts(band.text) == ["Error: The highest level must be above the lowest level"]
    assert _targets(authorities) == []


def test_a_growth_target_with_a_falling_rate_is_refused(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    fields = dict(
        annual_rate="-5",
        baseline_value="150",
        **_date("baseline_date", TODAY.replace(day=1) - timedelta(days=400)),
        **_date("target_date", TODAY.replace(year=TODAY.year + 2)),
    )
    data = _target(csrf, "compound_growth", **fields) | {
        "metric": "inhouse_households",
        "name": "Grow CIC",
    }
    refused = client.post("/dashboard/targets/new", data=data)
    assert refused.status_code == 400
    assert _summary_links(refused.text) == ["compound_growth-annual_rate"]
    assert "must be 0% or more for a target of at least the figure (growth)" in refused.text
    assert _targets(authorities) == []
    fall = data | {"direction": "at_most", "name": "Fewer, 5% a year"}
    assert client.post("/dashboard/targets/new", data=fall, follow_redirects=False).status_code == (
        303
    )


def test_a_count_target_takes_whole_numbers_and_a_percentage_keeps_decimals(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["manager_stoke"])
    start, end = TODAY.replace(day=1), TODAY.replace(day=1, year=TODAY.year + 3)
    count = _target(
        csrf,
        "annual_count",
        target_value="2.5",
        **_date("start_date", start),
        **_date("target_date", end),
    ) | {"metric": "approvals", "name": "At least 2.5 households a year"}
    refused = client.post("/dashboard/targets/new", data=count)
    assert refused.status_code == 400
    assert _summary_links(refused.text) == ["annual_count-target_value"]
    assert _error_texts(refused.text) == ["Error: Enter the target as a whole number, like 30"]
    assert _targets(authorities) == []
    band = _target(csrf, "band", lower="80.5", upper="95.5") | {"metric": "inhouse_occupancy"}
    saved = client.post("/dashboard/targets/new", data=band, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    assert [(t.lower, t.upper) for t in _targets(authorities)] == [(80.5, 95.5)]


def test_every_kind_of_target_can_be_set_changed_and_deleted(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    start, end = TODAY.replace(day=1), TODAY.replace(day=1, year=TODAY.year + 3)
    forms = {
        "floor": dict(lower="85"),
        "band": dict(lower="80", upper="95", **_date("target_date", end)),
        "annual_count": dict(
            target_value="30", **_date("start_date", start), **_date("target_date", end)
        ),
    }
    for kind, fields in forms.items():
        metric = "approvals" if kind == "annual_count" else "inhouse_occupancy"
        data = _target(csrf, kind, **fields) | {"metric": metric, "name": f"A {kind}"}
        response = client.post("/dashboard/targets/new", data=data, follow_redirects=False)
        assert response.status_code == 303, (kind, response.text[:2000])
    stored = _targets(authorities)
    assert [t.kind for t in stored] == ["floor", "band", "annual_count"]
    band = stored[1]
    edit = client.get(f"/dashboard/targets/{band.id}/edit").text
    assert 'name="band-lower" type="text" value="80"' in edit or 'value="80"' in edit
    changed = _target(csrf, "band", lower="82", upper="95", **_date("target_date", end))
    changed |= {"metric": "inhouse_occupancy", "name": "A band", "version": str(band.version)}
    assert (
        client.post(
            f"/dashboard/targets/{band.id}/edit", data=changed, follow_redirects=False
        ).status_code
        == 303
    )
    assert _targets(authorities)[1].lower == 82
    stale = client.post(f"/dashboard/targets/{band.id}/edit", data=changed | {"band-lower": "70"})
    assert stale.status_code == 409 and "Someone else changed this" in stale.text
    assert _targets(authorities)[1].lower == 82
    confirm = client.get(f"/dashboard/delete/targets/{band.id}")
    assert "Are you sure you want to delete this target?" in confirm.text
    version = re.search(r'name="version" value="(\d+)"', confirm.text).group(1)
    client.post(
        f"/dashboard/delete/targets/{band.id}", data={"csrf_token": csrf, "version": version}
    )
    assert [t.kind for t in _targets(authorities)] == ["floor", "annual_count"]
    with authorities.read_session() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "target")
        ).all()
    assert sorted(actions) == ["create", "create", "create", "delete", "update"]


# --- scenarios and settings --------------------------------------------------------------------


def _scenario(csrf: str, name: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": name,
        "baseline_year": "2023",
        "baseline_children": "1109",
        "inhouse_foster_baseline": "211",
        "connected_baseline": "205",
        "years": "5",
        "path": "percent",
        "change_percent": "-2",
        "mix-foster": "70",
        "mix-childrens_homes": "10",
        "mix-supported_accommodation": "5",
        "inhouse_growth_percent": "2",
        "weeks_per_year": "52",
        **extra,
    }


def test_a_scenario_is_saved_with_a_path_and_shares_in_percent(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    bad = client.post(
        "/dashboard/scenarios/new", data=_scenario(csrf, "", path="steps", changes="-75, lots")
    )
    assert bad.status_code == 400 and _summary_links(bad.text) == ["name", "changes"]
    good = _scenario(
        csrf,
        "Stoke -150 then -2%",
        path="steps",
        changes="-75, -75, -2%",
        inhouse_home_additions="2024: 10, 2025: 4",
    )
    assert (
        client.post("/dashboard/scenarios/new", data=good, follow_redirects=False).status_code
        == 303
    )
    with authorities.read_session() as session:
        [saved] = list_scenarios(session, STOKE)
        inputs = get_scenario(session, STOKE, saved.id).inputs
    assert [(c.kind.value, c.value) for c in inputs.changes] == [
        ("absolute", -75),
        ("absolute", -75),
        ("percent", -2),
    ]
    assert inputs.care_mix.foster == pytest.approx(0.70)
    assert inputs.inhouse_home_additions == {"2024": 10, "2025": 4}


def test_seven_scenarios_compare_six_and_say_which_is_left_out(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    for i in range(7):
        data = _scenario(csrf, f"Scenario {i + 1}", change_percent=str(i - 3))
        assert (
            client.post("/dashboard/scenarios/new", data=data, follow_redirects=False).status_code
            == 303
        )
    page = client.get("/dashboard/scenarios").text
    assert "Comparing 6 of 7 saved scenarios" in page and "not shown: Scenario 1" in page
    ids = [s.id for s in list_scenarios_of(authorities)]
    chosen = client.get(f"/dashboard/scenarios?compare={ids[0]}&compare={ids[6]}").text
    comparison = chosen.split('id="comparison"')[1].split("</section>")[0]
    assert "Scenario 1" in comparison and "Scenario 7" in comparison
    assert "Scenario 4" in comparison.split("not shown:")[1]


def _ticked(html: str) -> list[str]:
    """The values of the comparison's ticked checkboxes."""
    return re.findall(r'name="compare" type="checkbox" value="(\d+)" checked', html)


def test_comparing_seven_scenarios_or_one_is_an_error_keeping_the_ticks(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["manager_stoke"])
    for i in range(7):
        data = _scenario(csrf, f"Scenario {i + 1}", change_percent=str(i - 3))
        client.post("/dashboard/scenarios/new", data=data, follow_redirects=False)
    ids = [str(s.id) for s in list_scenarios_of(authorities)]
    seven = client.get("/dashboard/scenarios?" + "&".join(f"compare={i}" for i in ids)).text
    assert _summary_links(seven) == ["compare"] and "<title>Error: Scenarios" in seven
    assert "Choose 2 to 6 scenarios to compare; you chose 7" in seven
    assert "govuk-error-message" in seven.split('id="comparison"')[1]
    assert _ticked(seven) == ids
    assert "chart-compare-children" not in seven  # no comparison of a choice it refused
    one = client.get(f"/dashboard/scenarios?compare={ids[2]}").text
    assert "Choose 2 to 6 scenarios to compare; you chose 1" in one
    assert _ticked(one) == [ids[2]]
    gone = client.get(f"/dashboard/scenarios?compare={ids[0]}&compare=99999").text
    assert "Choose 2 to 6 of the saved scenarios to compare" in gone
    untouched = client.get("/dashboard/scenarios").text
    assert _summary_links(untouched) == [] and _ticked(untouched) == ids[-6:]


def _refused_scenario(client, csrf: str, **fields: str):
    response = client.post("/dashboard/scenarios/new", data=_scenario(csrf, "Bad", **fields))
    assert response.status_code == 400, response.text[:2000]
    return response


def _error_texts(html: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", m).split())
        for m in re.findall(r'class="govuk-error-message">(.*?)</p>', html, re.S)
    ]


def test_a_scenario_whose_parts_come_to_more_than_its_children_is_refused(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["manager_stoke"])
    alone = _refused_scenario(
        client, csrf, baseline_children="100", inhouse_foster_baseline="270", connected_baseline="0"
    )
    assert _summary_links(alone.text) == ["inhouse_foster_baseline"]
    assert (
        "Children with in-house foster carers at the baseline (270) cannot be more than the "
        "children in care at the baseline (100)"
    ) in alone.text
    both = _refused_scenario(
        client,
        csrf,
        baseline_children="300",
        inhouse_foster_baseline="200",
        connected_baseline="150",
    )
    assert _summary_links(both.text) == ["inhouse_foster_baseline", "connected_baseline"]
    assert "come to 350, more than the 300 children in care at the baseline" in both.text
    connected = _refused_scenario(
        client,
        csrf,
        baseline_children="100",
        inhouse_foster_baseline="20",
        connected_baseline="179",
    )
    assert _summary_links(connected.text) == ["connected_baseline"]
    assert "Children with connected carers at the baseline (179) cannot be more than" in (
        connected.text
    )
    assert "Connected baseline" not in connected.text
    assert list_scenarios_of(authorities) == []


def test_a_scenarios_baseline_year_is_from_2015_to_this_year(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    for year in ("1990", "2014", str(TODAY.year + 1), "2100"):
        refused = _refused_scenario(client, csrf, baseline_year=year)
        assert _summary_links(refused.text) == ["baseline_year"]
        assert f"The baseline year must be between 2015 and {TODAY.year}" in refused.text
    assert list_scenarios_of(authorities) == []
    for year in ("2015", str(TODAY.year)):
        data = _scenario(csrf, f"From {year}", baseline_year=year)
        saved = client.post("/dashboard/scenarios/new", data=data, follow_redirects=False)
        assert saved.status_code == 303, saved.text[:2000]


def test_scenario_messages_speak_in_percent_and_pounds_not_field_names(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    mix = _refused_scenario(
        client,
        csrf,
        **{"mix-foster": "80", "mix-childrens_homes": "30", "mix-supported_accommodation": "10"},
    )
    assert _summary_links(mix.text) == ["mix-foster"]
    assert _error_texts(mix.text) == [
        "Error: The care mix shares add up to 120%; they must add up to at most 100%"
    ]
    cost = _refused_scenario(client, csrf, **{"cost-ifa_foster": "-5"})
    assert _summary_links(cost.text) == ["cost-ifa_foster"]
    assert _error_texts(cost.text) == [
        "Error: The weekly cost of independent fostering agency places must be between £0 "
        "and £1,000,000"
    ]
    share = _refused_scenario(client, csrf, **{"mix-foster": "120"})
    assert _error_texts(share.text) == [
        "Error: The share in foster care must be between 0% and 100%"
    ]
    for page in (mix.text, cost.text, share.text):
        assert "1e+06" not in page and "ifa" not in " ".join(_error_texts(page))
    assert list_scenarios_of(authorities) == []


def list_scenarios_of(database):
    with database.read_session() as session:
        return list_scenarios(session, STOKE)


def test_the_approvals_target_is_a_setting(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    for value in ("thirty", "20000"):
        response = client.post(
            "/dashboard/settings", data={"csrf_token": csrf, "annual_approvals_target": value}
        )
        assert response.status_code == 400 and _summary_links(response.text) == [
            "annual_approvals_target"
        ]
    saved = client.post(
        "/dashboard/settings",
        data={"csrf_token": csrf, "annual_approvals_target": "30"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with authorities.read_session() as session:
        assert get_authority(session, STOKE).annual_approvals_target == 30
    client.cookies.clear()
    sign_in(client, tokens["recruiter_stoke"])
    assert client.get("/dashboard/settings").status_code == 403
    assert client.get("/dashboard/targets/new").status_code == 403


def test_an_approvals_target_of_0_is_refused_on_the_form_and_the_api(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    zero = client.post(
        "/dashboard/settings", data={"csrf_token": csrf, "annual_approvals_target": "0"}
    )
    assert zero.status_code == 400 and _summary_links(zero.text) == ["annual_approvals_target"]
    assert "Enter a target from 1 to 10,000 households a year" in zero.text
    api = client.patch(
        f"/api/v1/authorities/{STOKE}",
        json={"annual_approvals_target": 0},
        headers={"Authorization": f"Bearer {tokens['manager_stoke']}"},
    )
    assert api.status_code == 422 and api.json()["field"] == "annual_approvals_target"
    with authorities.read_session() as session:
        assert get_authority(session, STOKE).annual_approvals_target is None
    one = client.post(
        "/dashboard/settings",
        data={"csrf_token": csrf, "annual_approvals_target": "1"},
        follow_redirects=False,
    )
    assert one.status_code == 303


def test_pickers_refuse_a_year_or_day_not_yet_come(client, tokens, authorities):
    _signed_in(client, tokens["manager_stoke"])
    assert client.get(f"/dashboard/funnel?year={TODAY.year + 1}").status_code == 400
    later = (TODAY + timedelta(days=1)).isoformat()
    assert client.get(f"/dashboard/capacity?as_at={later}").status_code == 400
    past = client.get(f"/dashboard/funnel?year={TODAY.year - 3}")
    name = f"{TODAY.year - 3}-{(TODAY.year - 2) % 100:02d}"
    assert past.status_code == 200 and f"Enquiries {name}</p>" in past.text
    assert f"{name} to date" not in past.text and "month under way" not in past.text
    assert f"Approvals {name}" in past.text and "First contacts overdue today" in past.text
    march = f"{TODAY.year - 1}-03-31"
    capacity = client.get(f"/dashboard/capacity?as_at={march}")
    assert capacity.status_code == 200 and f"31 Mar {TODAY.year - 1}" in capacity.text


def test_the_root_address_leads_to_the_dashboard(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/dashboard"


# --- how pages read --------------------------------------------------------------------------


def test_long_axis_titles_are_wrapped_to_fit():
    title = "children cared for by in-house foster carers (children in in-house foster care)"
    lines = wrap_title(title, 32).split("<br>")
    assert max(len(line) for line in lines) <= 32 and " ".join(lines) == title
    assert wrap_title("Enquiries", 32) == "Enquiries"


def test_ids_read_without_thousands_separators():
    assert display(10747, CellFormat.IDENTIFIER) == "10747"
    assert display(10747, CellFormat.INTEGER) == "10,747"


def test_children_per_household_reads_as_a_number_not_a_percentage():
    per_household = RateUsed(
        name="children_per_household", value=1.25, source="authority", basis=""
    )
    share = RateUsed(name="enquiry_to_application", value=0.12, source="authority", basis="")
    assert rate_words(per_household) == "1.25 children per household"
    assert rate_words(share) == "12%"


def test_deleting_asks_first_and_follows_the_role_table(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    data = _scenario(csrf, "To delete")
    client.post("/dashboard/scenarios/new", data=data, follow_redirects=False)
    [saved] = list_scenarios_of(authorities)
    path = f"/dashboard/delete/scenarios/{saved.id}"
    assert "Are you sure you want to delete this scenario?" in client.get(path).text
    assert client.get("/dashboard/delete/households/1").status_code == 404
    recruiter = _signed_in(client, tokens["recruiter_stoke"])
    assert client.get(path).status_code == 403
    assert client.post(path, data={"csrf_token": recruiter, "version": "1"}).status_code == 403
    assert (
        client.post("/dashboard/enquiries/1/explode", data={"csrf_token": recruiter}).status_code
        == 404
    )
    assert len(list_scenarios_of(authorities)) == 1
    manager = _signed_in(client, tokens["manager_stoke"])
    deleted = client.post(
        path, data={"csrf_token": manager, "version": str(saved.version)}, follow_redirects=False
    )
    assert deleted.headers["location"] == "/dashboard/scenarios?done=scenario-deleted"
    assert list_scenarios_of(authorities) == []


def test_a_deletion_sent_twice_says_it_was_already_deleted(client, tokens, authorities):
    """Without JavaScript, "Delete" clicked twice sends the form twice; the browser shows the
    second answer, which said "Not found: no target 1 in authority E06000021" though the
    first had deleted it. It now leads to the list, saying it was already deleted."""
    csrf = _signed_in(client, tokens["manager_stoke"])
    client.post("/dashboard/targets/new", data=_target(csrf, "floor", lower="85"))
    client.post("/dashboard/scenarios/new", data=_scenario(csrf, "Deleted twice"))
    [target], [scenario] = _targets(authorities), list_scenarios_of(authorities)
    for what, record in (("targets", target), ("scenarios", scenario)):
        form = {"csrf_token": csrf, "version": str(record.version)}
        path = f"/dashboard/delete/{what}/{record.id}"
        client.post(path, data=form, follow_redirects=False)
        again = client.post(path, data=form, follow_redirects=False)
        noun = what[:-1]
        assert again.headers["location"] == f"/dashboard/{what}?done={noun}-gone"
        page = client.get(again.headers["location"]).text
        assert f"That {noun} was not there to delete: it was already deleted" in page
    assert _targets(authorities) == [] and list_scenarios_of(authorities) == []


@pytest.mark.parametrize("typed", ["1e309", "-1e309", "inf", "nan", "NaN"])
def test_a_number_that_is_not_finite_is_an_error_naming_the_field(typed):
    form = Form({"target_value": typed})
    assert form.number("target_value", "target") is None
    assert "target_value" in form.errors


FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


def test_a_new_target_form_sent_again_sets_one_target(client, tokens, authorities):
    """Without JavaScript, or Back and "Save the target" again, the same form is sent twice:
    it sets one target, and the second sending says so. The form restores nothing on Back."""
    csrf = _signed_in(client, tokens["manager_stoke"])
    page = client.get("/dashboard/targets/new").text
    assert 'autocomplete="off"' in page
    key = FORM_KEY.search(page).group(1)
    # Shown again with an error, the form keeps its key: the corrected form saves once.
    refused = client.post(
        "/dashboard/targets/new", data={**_target(csrf, "floor"), "form_key": key}
    )
    assert refused.status_code == 400 and FORM_KEY.search(refused.text).group(1) == key
    form = {**_target(csrf, "floor", lower="85"), "form_key": key}
    first = client.post("/dashboard/targets/new", data=form, follow_redirects=False)
    assert first.headers["location"].endswith("?done=target-saved")
    again = client.post("/dashboard/targets/new", data=form, follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].endswith("/dashboard/targets?done=target-already-saved")
    assert "This form was already sent" in client.get(again.headers["location"]).text
    assert len(_targets(authorities)) == 1
    other = FORM_KEY.search(client.get("/dashboard/targets/new").text).group(1)
    assert other != key
    client.post("/dashboard/targets/new", data={**form, "form_key": other})
    assert len(_targets(authorities)) == 2
    edit = client.get(f"/dashboard/targets/{_targets(authorities)[0].id}/edit").text
    assert FORM_KEY.search(edit) is None  # a change is guarded by the target's version


def test_a_new_scenario_form_sent_again_saves_one_scenario(client, tokens, authorities):
    """The scenario form, sent twice (no JavaScript, or Back and save again), saves one."""
    csrf = _signed_in(client, tokens["manager_stoke"])
    page = client.get("/dashboard/scenarios/new").text
    assert 'autocomplete="off"' in page
    key = FORM_KEY.search(page).group(1)
    form = {**_scenario(csrf, "Sent twice"), "form_key": key}
    first = client.post("/dashboard/scenarios/new", data=form, follow_redirects=False)
    assert first.headers["location"].endswith("?done=scenario-saved")
    again = client.post("/dashboard/scenarios/new", data=form, follow_redirects=False)
    assert again.headers["location"].endswith("/dashboard/scenarios?done=scenario-already-saved")
    assert [s.name for s in list_scenarios_of(authorities)] == ["Sent twice"]
    saved = list_scenarios_of(authorities)[0].id
    assert FORM_KEY.search(client.get(f"/dashboard/scenarios/{saved}/edit").text) is None
