"""The managers' dashboard through Litestar's test client, on SQLite and PostgreSQL: sign-in
and sessions, CSRF, who sees which page, downloads, security headers, and no personal data.

One small demo (Stoke-on-Trent and Telford and Wrekin, two years, two scenarios, two forecast runs)
is built per backend for the whole module; tests that change state make their own tokens.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import msgspec
import openpyxl
import pytest
from dateutil.relativedelta import relativedelta
from litestar.testing import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.dashboard.layout import this_and_last_year
from api.dashboard.sessions import (
    SESSION_LIFETIME,
    WebSession,
    caller_for_session,
    purge_expired,
    revoke,
    start_session,
)
from api.dashboard.tables import change, display, label, percent
from api.dashboard.targets import STATUS_WORDS
from demo.generate import generate_demo
from demo.plans import appendix1_inputs, demo_targets, stoke_planning_inputs
from forecast.types import ForecastOptions
from jobs.forecast_refresh import refresh_forecasts
from tests.conftest import STOKE, _empty, bearer
from tracker.capacity.register import place_counts
from tracker.core.access import SYSTEM, Role, issue_token
from tracker.core.db import Database
from tracker.core.errors import InvalidValueError
from tracker.core.settings import Settings
from tracker.core.table_export import CellFormat, csv_bytes, safe_text, xlsx_bytes
from tracker.enquiries.funnel import funnel_report
from tracker.enquiries.queries import list_enquiries
from tracker.enquiries.schemas import EnquiryFilter, Overdue
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import london_today
from tracker.scenarios.service import (
    compare_scenarios,
    create_scenario,
    delete_scenario,
    list_scenarios,
)
from tracker.targets.service import create_target, list_targets
from tracker.targets.trajectories import trajectories

TELFORD = "E06000020"  # Telford and Wrekin: a small West Midlands council, quick to fill
PAGES = (
    "",
    "/enquiries",
    "/funnel",
    "/capacity",
    "/targets",
    "/forecasts",
    "/scenarios",
    "/settings",
    "/ofsted-return",
    "/benchmarks",
    "/handovers",
    "/hub",
    "/households",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DOWNLOAD = re.compile(r'href="([^"]*download=csv[^"]*)"')


@dataclass(frozen=True)
class Demo:
    database: Database
    tokens: dict[str, str]
    today: date


def fill_demo(database: Database, today: date, *, ssda903: bool = False) -> dict[str, str]:
    """A small demo for the dashboard: Stoke-on-Trent and Telford and Wrekin over two years,
    scenarios and targets for Stoke-on-Trent (the demo's own when it saves them), and two
    forecast runs of Stoke-on-Trent, one four months old so it can be compared with actuals.
    Returns a token secret per role (Stoke-on-Trent's), plus "manager_telford"."""
    key = b"dashboard-tests-pseudonym-key-32" if ssda903 else None
    with database.writing() as session:
        summary = generate_demo(
            session, today=today, authorities=[STOKE, TELFORD], years=2, ssda903_key=key
        )
        tokens: dict[str, str] = {}
        for role, _, secret in summary.tokens:  # the first of each role is Stoke-on-Trent's
            tokens.setdefault(role.value, secret)
        tokens["manager_telford"] = issue_token(
            session, role=Role.MANAGER, name="manager telford", authority_code=TELFORD
        ).secret
        if len(list_scenarios(session, STOKE)) < 2:
            for inputs in (appendix1_inputs(-2.0), stoke_planning_inputs()):
                create_scenario(session, SYSTEM, STOKE, inputs)
    options = ForecastOptions(horizon=6, origins=1, paths=50, models=("seasonal_naive", "drift"))
    settings = Settings(database_url=database.url)
    for months_ago in (4, 0):
        outcomes = refresh_forecasts(
            database, STOKE, "cli", "test", settings=settings, options=options,
            executor="serial", today=today - relativedelta(months=months_ago),
        )  # fmt: skip
        assert outcomes[0].error is None
    with database.writing() as session:
        if not list_targets(session, STOKE):
            for new in demo_targets(STOKE):
                try:
                    create_target(session, SYSTEM, STOKE, new, today=today)
                except InvalidValueError:
                    continue  # a target whose baseline the two years of data do not reach
    return tokens


@pytest.fixture(scope="module")
def demo(migrated: Database) -> Iterator[Demo]:
    """The dashboard demo (`fill_demo`) on each backend, for the whole module."""
    today = london_today()
    tokens = fill_demo(migrated, today)
    yield Demo(database=migrated, tokens=tokens, today=today)
    _empty(migrated)


@pytest.fixture(scope="module")
def app_client(demo: Demo) -> Iterator[TestClient]:
    settings = Settings(database_url=demo.database.url, scheduler_enabled=False)
    with TestClient(create_app(settings, demo.database)) as client:
        yield client


@pytest.fixture
def web(app_client: TestClient) -> TestClient:
    """The test client with no cookies from an earlier test."""
    app_client.cookies.clear()
    return app_client


VISITORS = ("manager", "admin", "recruiter", "regional")


@pytest.fixture(scope="module")
def visits(demo: Demo, app_client: TestClient) -> dict[tuple[str, str], Any]:
    """Every page as each role gets it, fetched once for the module (some pages work out every
    target's forecast, which takes a while): (role, page) -> response."""
    responses = {}
    for role in VISITORS:
        app_client.cookies.clear()
        sign_in(app_client, demo.tokens[role])
        # The admin looks at the other council (managers see Stoke-on-Trent).
        query = f"?authority={TELFORD}" if role == "admin" else ""
        for page in PAGES:
            responses[role, page] = app_client.get(
                f"/dashboard{page}{query}", follow_redirects=False
            )
    app_client.cookies.clear()
    return responses


def sign_in(client: TestClient, secret: str, next_path: str = "/dashboard") -> Any:
    """Sign in through the form, as a browser does."""
    form = client.get("/dashboard/sign-in")
    token = CSRF.search(form.text)
    assert token is not None
    return client.post(
        "/dashboard/sign-in",
        data={"token": secret, "csrf_token": token.group(1), "next": next_path},
        follow_redirects=False,
    )


def _set_cookies(response: Any) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}


def _sessions(database: Database) -> list[WebSession]:
    with database.read_session() as session:
        return list(session.scalars(select(WebSession)))


# --- signing in and out ----------------------------------------------------------------------


def test_pages_send_a_browser_without_a_session_to_sign_in(web):
    response = web.get("/dashboard/funnel?authority=x", follow_redirects=False)
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == "/dashboard/sign-in?next=%2Fdashboard%2Ffunnel%3Fauthority%3Dx"
    )


def test_signing_in_sets_a_strict_http_only_session_cookie_whose_secret_is_not_stored(web, demo):
    before = {s.id for s in _sessions(demo.database)}
    response = sign_in(web, demo.tokens["manager"], "/dashboard/capacity")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/capacity"
    cookie = _set_cookies(response)["fostering_session"]
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path=/dashboard", "samesite=strict", "max-age=28800"} <= attributes
    assert "secure" not in attributes  # plain http here: see the https test
    secret = cookie.split(";")[0].split("=", 1)[1]
    new = [s for s in _sessions(demo.database) if s.id not in before]
    assert len(new) == 1
    assert new[0].digest == hashlib.sha256(secret.encode()).hexdigest() != secret
    stored = new[0]
    assert stored.expires_at - stored.created_at == SESSION_LIFETIME
    page = web.get("/dashboard/capacity")
    assert page.status_code == 200
    assert "Stoke-on-Trent" in page.text


def test_the_session_cookie_is_secure_over_https(demo, app_client):
    with TestClient(app_client.app, base_url="https://testserver.local") as client:
        cookie = _set_cookies(sign_in(client, demo.tokens["manager"]))["fostering_session"]
    assert "secure" in {a.strip().lower() for a in cookie.split(";")[1:]}


def test_an_unknown_token_is_refused_and_starts_no_session(web, demo):
    before = len(_sessions(demo.database))
    response = sign_in(web, "fost_not-a-real-token")
    assert response.status_code == 401
    assert "not recognised" in response.text
    assert "fostering_session" not in _set_cookies(response)
    assert len(_sessions(demo.database)) == before
    assert web.get("/dashboard/funnel", follow_redirects=False).status_code == 303


def test_repeated_wrong_tokens_are_refused_for_a_while_but_a_valid_one_signs_in(demo):
    settings = Settings(
        database_url=demo.database.url, scheduler_enabled=False, auth_failures_per_minute=3
    )
    with TestClient(create_app(settings, demo.database)) as client:
        for _ in range(3):
            assert sign_in(client, "fost_wrong").status_code == 401
        refused = sign_in(client, "fost_wrong-again")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "Too many attempts" in refused.text
        assert "fostering_session" not in _set_cookies(refused)
        # A colleague behind the same address, with a valid token, is not locked out.
        assert sign_in(client, demo.tokens["manager"]).status_code == 303


def test_a_revoked_token_cannot_sign_in_and_its_open_sessions_stop_at_once(web, demo):
    with demo.database.writing() as session:
        issued = issue_token(session, role=Role.MANAGER, name="leaver", authority_code=STOKE)
    assert sign_in(web, issued.secret).status_code == 303
    assert web.get("/dashboard/funnel").status_code == 200
    with demo.database.writing() as session:
        revoke(session, SYSTEM, issued.record.id)
    with demo.database.read_session() as session:
        left = session.scalar(
            select(func.count())
            .select_from(WebSession)
            .where(WebSession.token_id == issued.record.id)
        )
    assert left == 0  # revoking ends the token's dashboard sessions
    response = web.get("/dashboard/funnel", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard/sign-in")
    web.cookies.clear()
    assert sign_in(web, issued.secret).status_code == 401


def test_sign_in_without_the_form_token_is_refused(web, demo):
    web.get("/dashboard/sign-in")
    response = web.post(
        "/dashboard/sign-in",
        data={"token": demo.tokens["manager"], "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "fostering_session" not in _set_cookies(response)
    web.cookies.clear()
    response = web.post(
        "/dashboard/sign-in", data={"token": demo.tokens["manager"]}, follow_redirects=False
    )
    assert response.status_code == 403


def test_a_form_the_browser_marks_cross_site_is_refused(web, demo):
    form = web.get("/dashboard/sign-in")
    token = CSRF.search(form.text).group(1)
    response = web.post(
        "/dashboard/sign-in",
        data={"token": demo.tokens["manager"], "csrf_token": token},
        headers={"sec-fetch-site": "cross-site"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_sign_out_needs_the_session_form_token_and_then_ends_the_session(web, demo):
    sign_in(web, demo.tokens["manager"])
    page = web.get("/dashboard/funnel")
    token = CSRF.search(page.text).group(1)
    refused = web.post("/dashboard/sign-out", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert refused.status_code == 403
    assert web.get("/dashboard/funnel").status_code == 200
    count = len(_sessions(demo.database))
    response = web.post("/dashboard/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/sign-in?signed_out=1"
    assert "max-age=0" in _set_cookies(response)["fostering_session"].lower()
    assert len(_sessions(demo.database)) == count - 1
    web.cookies.clear()
    assert web.get("/dashboard/sign-in?signed_out=1").status_code == 200


def test_an_ended_session_cookie_no_longer_opens_pages(web, demo):
    sign_in(web, demo.tokens["manager"])
    secret = web.cookies.get("fostering_session")
    token = CSRF.search(web.get("/dashboard/funnel").text).group(1)
    web.post("/dashboard/sign-out", data={"csrf_token": token})
    web.cookies.clear()
    response = web.get(
        "/dashboard/funnel",
        headers={"cookie": f"fostering_session={secret}"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_the_session_cookie_never_authorises_the_json_api(web, demo):
    sign_in(web, demo.tokens["manager"])
    secret = web.cookies.get("fostering_session")
    cookie = {"cookie": f"fostering_session={secret}"}
    assert web.get(f"/api/v1/authorities/{STOKE}/funnel", headers=cookie).status_code == 401
    created = web.post(
        f"/api/v1/authorities/{STOKE}/enquiries",
        json={"received_on": demo.today.isoformat(), "channel": "phone"},
        headers=cookie,
    )
    assert created.status_code == 401
    # The same token as a bearer token does reach the API.
    ok = web.get(f"/api/v1/authorities/{STOKE}/funnel", headers=bearer(demo.tokens["manager"]))
    assert ok.status_code == 200


def test_sessions_expire_and_expired_ones_are_purged(demo):
    with demo.database.writing() as session:
        issued = issue_token(session, role=Role.MANAGER, name="expiry", authority_code=STOKE)
        started = start_session(session, issued.secret)
        assert started is not None
        later = started.expires_at + timedelta(seconds=1)
        assert caller_for_session(session, started.secret) is not None
        assert caller_for_session(session, started.secret, now=later) is None
        assert purge_expired(session, now=later) >= 1
        assert caller_for_session(session, started.secret) is None


def test_sign_in_only_goes_on_to_a_dashboard_page(web, demo):
    for target in ("https://evil.example/", "//evil.example", "/api/v1/tokens", "/dashboardx"):
        web.cookies.clear()
        response = sign_in(web, demo.tokens["manager"], target)
        assert response.headers["location"] == "/dashboard", target


# --- who sees what ---------------------------------------------------------------------------

# role -> page -> status (303: sent on to its first page)
VISIBLE = {
    "manager": dict.fromkeys(PAGES, 200) | {"/hub": 403},
    "admin": dict.fromkeys(PAGES, 200),
    "recruiter": {"": 303, "/enquiries": 200, "/funnel": 200}
    | dict.fromkeys(PAGES[3:], 403)
    | {"/handovers": 200},
    "regional": {"": 303, "/enquiries": 403, "/funnel": 403, "/capacity": 200}
    | dict.fromkeys(PAGES[4:], 403),
}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_opens_exactly_its_pages(visits, role):
    outcomes = {page: visits[role, page].status_code for page in PAGES}
    assert outcomes == VISIBLE[role]
    first = next(page for page in PAGES if VISIBLE[role][page] == 200)
    nav = re.findall(
        r'<ul class="govuk-service-navigation__list".*?</ul>', visits[role, first].text, re.S
    )[0]
    linked = set(re.findall(r'href="/dashboard([a-z/-]*)', nav))
    opened = {page for page, status in VISIBLE[role].items() if status == 200}
    # This world has no recruitment hub: Handovers opens (saying so) but is not offered.
    assert linked == opened - {"/handovers"}
    assert "belongs to no regional recruitment hub" in visits[role, "/handovers"].text or (
        "/handovers" not in opened
    )


def test_recruiters_land_on_the_enquiries_and_regional_tokens_on_capacity(web, demo):
    sign_in(web, demo.tokens["recruiter"])
    landing = web.get("/dashboard", follow_redirects=False).headers["location"]
    assert landing == "/dashboard/enquiries"
    web.cookies.clear()
    sign_in(web, demo.tokens["regional"])
    assert (
        web.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/capacity"
    )


def test_a_forbidden_page_is_an_html_page_with_the_security_headers(web, demo):
    sign_in(web, demo.tokens["regional"])
    response = web.get("/dashboard/funnel")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Not available to you" in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_regional_capacity_lists_the_councils_of_the_region_only(web, demo):
    sign_in(web, demo.tokens["regional"])
    page = web.get("/dashboard/capacity").text
    assert "Stoke-on-Trent" in page and "Telford and Wrekin" in page
    assert "Regional capacity" in page
    rows = web.get("/dashboard/capacity?download=csv&table=councils").text.splitlines()
    assert rows[0].lstrip("\ufeff").startswith("authority_name,authority_code,source")
    assert sorted(r.split(",")[1] for r in rows[1:]) == sorted([STOKE, TELFORD])


def test_managers_see_only_their_authority_and_admins_choose(web, demo):
    sign_in(web, demo.tokens["manager"])
    assert web.get(f"/dashboard/funnel?authority={TELFORD}").status_code == 403
    web.cookies.clear()
    sign_in(web, demo.tokens["admin"])
    default = web.get("/dashboard/funnel").text
    assert "Stoke-on-Trent: enquiries received" in default  # the first by name
    chosen = web.get(f"/dashboard/funnel?authority={TELFORD}").text
    assert "Telford and Wrekin: enquiries received" in chosen
    assert f'href="/dashboard/capacity?authority={TELFORD}"' in chosen
    assert web.get("/dashboard/funnel?authority=E99999999").status_code == 404


def test_a_bearer_token_also_opens_the_pages(web, demo):
    response = web.get("/dashboard/funnel", headers=bearer(demo.tokens["manager"]))
    assert response.status_code == 200


# --- figures on the pages --------------------------------------------------------------------


def test_the_funnel_page_shows_this_year_against_last_and_the_overdue_list(web, demo):
    this, last = this_and_last_year(demo.today)
    with demo.database.read_session() as session:
        now = funnel_report(session, STOKE, this.start, this.end, demo.today)
        before = funnel_report(session, STOKE, last.start, last.end, demo.today)
        overdue = list_enquiries(
            session, STOKE, EnquiryFilter(overdue=Overdue.FIRST_CONTACT), demo.today,
            limit=500, offset=0,
        )  # fmt: skip
    sign_in(web, demo.tokens["manager"])
    rows = web.get("/dashboard/funnel?download=csv&table=stages").text.splitlines()
    assert rows[1] == f"Enquiry,{now.overall.enquiries},{before.overall.enquiries},,"
    approved = rows[-1].split(",")
    assert approved[:3] == [
        "Approved",
        str(now.overall.stages[-1].reached),
        str(before.overall.stages[-1].reached),
    ]
    listed = web.get("/dashboard/funnel?download=csv&table=overdue").text.splitlines()
    assert [int(r.split(",")[0]) for r in listed[1:]] == [e.id for e in overdue.items]
    assert overdue.total > 0  # the demo leaves some uncontacted
    html = web.get("/dashboard/funnel").text
    assert f'<p class="tile-value">{overdue.total}</p>' in html


def test_the_capacity_page_shows_occupancy_by_care_type(web, demo):
    with demo.database.read_session() as session:
        total, by_type = place_counts(session, STOKE, demo.today)
    sign_in(web, demo.tokens["manager"])
    html = web.get("/dashboard/capacity").text
    assert f'<p class="tile-value">{percent(total.occupancy)}</p>' in html
    rows = web.get("/dashboard/capacity?download=csv&table=care-types").text.splitlines()
    last = rows[-1].split(",")
    assert last[0] == "All care types"
    assert [int(v) for v in last[1:6]] == [
        total.households,
        total.approved_places,
        total.filled_places,
        total.vacant_places,
        total.unavailable_places,
    ]
    assert len(rows) == 1 + len(by_type) + 1


def test_the_forecasts_page_compares_the_older_run_with_actuals(web, demo):
    sign_in(web, demo.tokens["manager"])
    html = web.get("/dashboard/forecasts").text
    assert 'id="chart-forecast"' in html
    rows = web.get(
        f"/dashboard/forecasts?series={STOKE}/enquiries/total&download=csv&table=accuracy"
    ).text.splitlines()
    assert rows[0].lstrip("\ufeff").startswith("run_id,run_created_at,cutoff,model")
    assert len(rows) == 2  # only the run from four months ago has actuals since
    months = int(rows[1].split(",")[4])
    assert 1 <= months <= 4


def test_the_scenarios_page_has_each_scenario_and_the_comparison(web, demo):
    with demo.database.read_session() as session:
        saved = list_scenarios(session, STOKE)
        compared = compare_scenarios(session, STOKE, [s.id for s in saved][-6:])
    sign_in(web, demo.tokens["manager"])
    html = web.get("/dashboard/scenarios").text
    for scenario in saved:
        assert f'id="scenario-{scenario.id}"' in html
    body = web.get("/dashboard/scenarios?download=csv&table=comparison").content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["year", "scenario", "total_children"]
    expected = [
        [f"March {year.year}", scenario.name, str(cell.total_children)]
        for year in compared.years
        for scenario, cell in zip(compared.scenarios, year.scenarios, strict=True)
        if cell is not None
    ]
    assert [r[:3] for r in rows[1:]] == expected
    assert ["March 2023", "Appendix 1: -2% a year", "1109"] in expected


def test_the_targets_page_shows_each_target_with_status_chance_and_chart(visits, demo):
    with demo.database.read_session() as session:
        found = trajectories(session, STOKE, today=demo.today)
    assert len(found) >= 2
    html = visits["manager", "/targets"].text
    for t in found:
        section = html[html.index(f'id="target-{t.target.id}"') :]
        assert t.target.name in section[:400]
        assert STATUS_WORDS[t.status.value] in section[:800]
        assert f'id="chart-target-{t.target.id}"' in section
        if t.probability is not None:
            assert f'<p class="tile-value">{percent(t.probability)}</p>' in section
    overview = visits["manager", ""].text
    on_track = sum(t.status.value in ("on_track", "met") for t in found)
    assert f"{on_track} of {len(found)} on track" in overview


def test_text_from_users_is_escaped_in_pages_and_quoted_in_csv(web, demo):
    name = '=HYPERLINK("x")<img src=x onerror=alert(1)></script>'
    hostile = msgspec.structs.replace(appendix1_inputs(1.0), name=name)
    with demo.database.writing() as session:
        saved = create_scenario(session, SYSTEM, STOKE, hostile)
    try:
        sign_in(web, demo.tokens["manager"])
        html = web.get("/dashboard/scenarios").text
        assert "<img src=x" not in html and '</script>"' not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html  # in the tables, escaped
        # In the chart data: escaped for Plotly (which reads tags), then JSON-escaped.
        assert "\\u0026lt;img src=x" in html
        body = web.get("/dashboard/scenarios?download=csv&table=comparison").content
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert "'" + name in {row[1] for row in rows}
    finally:
        with demo.database.writing() as session:
            delete_scenario(session, SYSTEM, STOKE, saved.id)


# --- downloads -------------------------------------------------------------------------------


def test_every_table_of_every_page_downloads_as_csv_and_excel(web, demo, visits):
    sign_in(web, demo.tokens["manager"])
    checked = 0
    for page in PAGES:
        for link in DOWNLOAD.findall(visits["manager", page].text):
            link = link.replace("&amp;", "&")
            csv_response = web.get(link)
            assert csv_response.status_code == 200, link
            assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
            assert csv_response.headers["content-disposition"].startswith("attachment;")
            lines = csv_response.content.decode("utf-8-sig").splitlines()
            xlsx_response = web.get(link.replace("download=csv", "download=xlsx"))
            assert xlsx_response.headers["content-type"] == XLSX
            sheet = openpyxl.load_workbook(io.BytesIO(xlsx_response.content)).active
            header = [c.value for c in next(sheet.iter_rows(max_row=1))]
            assert ",".join(header) == lines[0], link
            assert sheet.max_row == len(lines), link
            checked += 1
    assert checked >= 20


def test_an_unknown_table_or_format_is_a_clear_html_error(web, demo):
    sign_in(web, demo.tokens["manager"])
    missing = web.get("/dashboard/funnel?download=csv&table=nope")
    assert missing.status_code == 404
    assert "stages" in missing.text  # names the tables there are
    bad = web.get("/dashboard/funnel?download=pdf&table=stages")
    assert bad.status_code == 400
    assert "download" in bad.text


def test_figures_read_the_way_people_write_them():
    assert display(1234) == "1,234"
    assert display(None) == "\u2013"
    assert display(0.853, CellFormat.SHARE) == "85%"
    assert display(0.0512, CellFormat.SHARE) == "5.1%"
    assert display(33.0, CellFormat.DECIMAL) == "33"
    assert display(22.25, CellFormat.DECIMAL) == "22.25"
    assert display(19.5, CellFormat.INTEGER) == "20"
    assert display(-1500.4, CellFormat.MONEY) == "-\u00a31,500"
    assert display(date(2026, 3, 1), CellFormat.MONTH) == "Mar 2026"
    assert display(date(2026, 3, 5)) == "5 Mar 2026"
    assert change(112, 100) == "12% more" and change(97, 100) == "3% fewer"
    assert change(5, 0) == "up from none" and change(100, 100) == "the same"
    assert label("stage_1") == "Stage 1 checks" and label("withdrawn_by_applicant") == (
        "Withdrawn by applicant"
    )


def test_csv_cells_that_would_run_as_formulas_are_quoted():
    rows = [['=HYPERLINK("x")', 1], ["+1", -2], ["@SUM(A1)", 3], ["-x", None], ["a-b", 0.5]]
    body = csv_bytes(["name", "count"], rows)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig").splitlines() == [
        "name,count",
        '"\'=HYPERLINK(""x"")",1',
        "'+1,-2",
        "'@SUM(A1),3",
        "'-x,",
        "a-b,0.5",
    ]
    assert safe_text("plain") == "plain"


def test_excel_cells_keep_their_types_and_text_is_never_a_formula():
    body = xlsx_bytes(
        ["month", "name", "share", "count"],
        [[date(2026, 3, 1), "=1+2", 0.25, 7], [date(2026, 4, 1), None, None, 8]],
        formats=[CellFormat.MONTH, CellFormat.TEXT, CellFormat.SHARE, CellFormat.INTEGER],
    )
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    month, name, share, count = sheet[2]
    assert month.value.date() == date(2026, 3, 1) and month.number_format == "mmm yyyy"
    assert name.value == "=1+2" and name.data_type == "s"
    assert share.value == 0.25 and share.number_format == "0.0%"
    assert count.value == 7
    assert sheet["B3"].value is None


# --- headers and personal data ---------------------------------------------------------------


def _assert_security_headers(response: Any) -> None:
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_every_dashboard_response_carries_the_security_headers(web, visits):
    sign_in_page = web.get("/dashboard/sign-in")
    _assert_security_headers(sign_in_page)
    assert sign_in_page.headers["cache-control"] == "no-store"
    redirect = web.get("/dashboard/capacity", follow_redirects=False)
    _assert_security_headers(redirect)
    for response in visits.values():  # pages, 403 pages and redirects, for every role
        _assert_security_headers(response)
        assert response.headers["cache-control"] == "no-store"
        # No inline script: every script either loads a file of the service or is JSON data,
        # and no element has an event-handler attribute.
        for tag in re.findall(r"<script[^>]*>", response.text):
            assert 'src="/dashboard/' in tag or 'type="application/json"' in tag, tag
        assert re.search(r"<[a-z]+[^>]*\son[a-z]+=", response.text) is None
    script = web.get("/dashboard/static/dashboard.js")
    assert script.status_code == 200
    _assert_security_headers(script)
    plotly = web.get("/dashboard/vendor/plotly.min.js")
    assert plotly.status_code == 200
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert "max-age=86400" in plotly.headers["cache-control"]
    assert plotly.content.startswith(b"/**\n* plotly.js v")


def test_cors_stays_closed_to_other_origins(web, demo):
    sign_in(web, demo.tokens["manager"])
    origin = {"origin": "https://evil.example"}
    page = web.get("/dashboard/funnel", headers=origin)
    assert "access-control-allow-origin" not in page.headers
    preflight = web.options(
        "/dashboard/sign-out",
        headers=origin | {"access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_no_page_but_the_enquiry_pages_carries_an_enquirers_personal_data(demo, visits):
    with demo.database.read_session() as session:
        people = session.execute(select(Enquiry.enquirer_name, Enquiry.email, Enquiry.phone)).all()
    personal = {v for row in people for v in row if v}
    assert len(personal) > 100
    # Downloads hold the same tables as the pages (the download test checks that). The
    # enquiry pages are the recruitment team's own work, for the roles that hold the data.
    text = "\n".join(r.text for (_, page), r in visits.items() if page != "/enquiries")
    enquiry_list = visits["recruiter", "/enquiries"].text
    assert any(p in enquiry_list for p in personal)
    assert "DEMO-E06000021-" in text  # the overdue list names enquiries by reference only
    assert sorted(p for p in personal if p in text) == []


def test_the_capacity_page_names_the_day_its_care_type_chart_is_as_at(web, demo):
    """Figures as at a past day are not called today's."""
    sign_in(web, demo.tokens["manager"], "/dashboard/capacity")
    assert "Places by care type today" in web.get("/dashboard/capacity").text
    day = london_today() - timedelta(days=400)
    page = web.get(f"/dashboard/capacity?as_at={day.isoformat()}").text
    assert f"Places by care type on {day.day} {day:%b %Y}" in page
    assert "Places by care type today" not in page


WRITING_FORMS = (
    "/dashboard/enquiries/new",
    "/dashboard/targets/new",
    "/dashboard/scenarios/new",
    "/dashboard/settings",
    "/dashboard/uploads/enquiries",
    "/dashboard/uploads/households",
    "/dashboard/uploads/ssda903",
)


def test_every_form_that_writes_ignores_a_second_click(web, demo):
    """A form that saves something asks GOV.UK Frontend's button to ignore a second click
    within a second (an impatient double click on a slow network sent two forms)."""
    sign_in(web, demo.tokens["manager"])
    pages = [*WRITING_FORMS]
    listed = web.get("/dashboard/households").text
    pages.append(re.search(r'href="(/dashboard/households/\d+)', listed).group(1))
    enquiries = web.get("/dashboard/enquiries").text
    pages.append(re.search(r'href="(/dashboard/enquiries/\d+)', enquiries).group(1))
    for path in pages:
        page = web.get(path)
        assert page.status_code == 200, path
        for form in re.findall(r'<form method="post".*?</form>', page.text, re.S):
            if "/sign-out" in form:
                continue
            buttons = re.findall(r"<button[^>]*>", form)
            assert buttons, (path, form[:120])
            for button in buttons:
                assert 'data-prevent-double-click="true"' in button, (path, button)
