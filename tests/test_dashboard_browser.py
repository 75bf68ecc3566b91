"""The dashboard in a real headless browser (Debian's chromium, driven by Playwright).

A real server runs on a loopback port over a SQLite file filled with the dashboard demo
(`tests.test_dashboard.fill_demo`, with SSDA903 figures so the Staying Put target draws).
The browser signs in through the form, opens every page, checks the page's key figures and
that every chart drew, downloads a table as CSV and as Excel, and saves a full-page
screenshot of each page to build/screenshots/. No request may leave the machine and no
console error may appear. Without /usr/bin/chromium the module is skipped, except under CI,
where that fails.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import uvicorn

from api.app import create_app
from api.dashboard.layout import this_and_last_year
from api.dashboard.tables import display, percent
from api.dashboard.targets import STATUS_WORDS
from tests.test_dashboard import TELFORD, fill_demo
from tracker.capacity.register import place_counts
from tracker.core import schema
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.funnel import funnel_report
from tracker.enquiries.timeliness import london_today
from tracker.scenarios.service import list_scenarios
from tracker.targets.trajectories import trajectories

STOKE = "E06000021"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = bool(os.environ.get("CI"))
CHART_TIMEOUT_MS = 20_000


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"the browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@dataclass
class Site:
    """The running server, its data and what the browser saw leave the machine."""

    base: str
    database: Database
    tokens: dict[str, str]
    today: date
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The service on a loopback port over a demo SQLite database."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    path = tmp_path_factory.mktemp("browser") / "dashboard.db"
    database = Database(f"sqlite:///{path}")
    schema.upgrade(database)
    today = london_today()
    tokens = fill_demo(database, today, ssda903=True)
    settings = Settings(database_url=database.url, scheduler_enabled=False)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, database), log_level="warning", lifespan="on")
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{sock.getsockname()[1]}", database, tokens, today)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    database.dispose()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield launched
        launched.close()


class Tab:
    """A browser context and page that record console errors and keep every request local."""

    def __init__(self, browser: Any, site: Site) -> None:
        self.site = site
        self.errors: list[str] = []
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        self.context.route("**/*", self._only_local)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _only_local(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.site.base + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.site.outside.append(url)
            route.abort()

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning") and "favicon" not in message.text:
            self.errors.append(f"{message.type}: {message.text}")

    def open(self, path: str) -> Any:
        response = self.page.goto(self.site.base + path)
        self.page.wait_for_load_state("load")
        return response

    def sign_in(self, role: str, then: str = "/dashboard") -> None:
        self.open(f"/dashboard/sign-in?next={then}")
        self.page.fill("#token", self.site.tokens[role])
        self.page.click("form[action='/dashboard/sign-in'] button[type=submit]")
        self.page.wait_for_load_state("load")

    def charts_drawn(self) -> int:
        """Wait for every chart of the page; each must have Plotly's SVG with traces in it."""
        charts = self.page.locator("[data-figure]")
        count = charts.count()
        if count:
            self.page.wait_for_selector("body[data-charts-drawn]", timeout=CHART_TIMEOUT_MS)
        for i in range(count):
            chart = charts.nth(i)
            assert chart.get_attribute("data-drawn") == "true"
            assert chart.locator(".main-svg").count() >= 1
            assert chart.locator(".main-svg .trace").count() > 0, chart.get_attribute("id")
        return count

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.errors == []
        assert self.site.outside == []


@pytest.fixture
def tab(browser: Any, site: Site) -> Iterator[Tab]:
    opened = Tab(browser, site)
    yield opened
    opened.close()


def _tile_values(tab: Tab) -> list[str]:
    return [v.strip() for v in tab.page.locator(".tile-value").all_inner_texts()]


def test_a_manager_signs_in_sees_every_page_downloads_and_signs_out(tab, site):
    tab.sign_in("manager")
    assert tab.page.url == site.base + "/dashboard"
    this, _ = this_and_last_year(site.today)
    with site.database.read_session() as session:
        now = funnel_report(session, STOKE, this.start, this.end, site.today)
        total, _ = place_counts(session, STOKE, site.today)
        scenarios = list_scenarios(session, STOKE)
        targets = trajectories(session, STOKE, today=site.today)
    assert targets and scenarios

    tab.screenshot("overview")
    assert display(now.overall.enquiries) in _tile_values(tab)
    assert percent(total.occupancy) in _tile_values(tab)

    tab.open("/dashboard/funnel")
    assert tab.charts_drawn() == 2
    assert display(now.overall.enquiries) in _tile_values(tab)
    stages = tab.page.locator("table[data-table='stages'] tbody tr")
    assert stages.count() == len(now.overall.stages)
    assert stages.first.locator("td").first.inner_text() == display(now.overall.enquiries)
    tab.screenshot("funnel")

    tab.open("/dashboard/capacity")
    assert tab.charts_drawn() == 3
    assert percent(total.occupancy) in _tile_values(tab)
    last_row = tab.page.locator("table[data-table='care-types'] tbody tr").last
    assert last_row.locator("td").nth(1).inner_text() == display(total.approved_places)
    tab.screenshot("capacity")
    _download_care_types(tab)

    tab.open("/dashboard/targets")
    assert tab.charts_drawn() == len(targets)
    for t in targets:
        heading = tab.page.locator(f"#target-{t.target.id} h2")
        assert t.target.name in heading.inner_text()
        assert STATUS_WORDS[t.status.value] in heading.locator(".badge").inner_text()
    tab.screenshot("targets")

    tab.open("/dashboard/forecasts")
    assert tab.charts_drawn() == 1
    assert tab.page.locator("#chooser-series").input_value() == f"{STOKE}/enquiries/total"
    assert tab.page.locator("table[data-table='accuracy'] tbody tr").count() == 1
    tab.screenshot("forecasts")
    # Choosing another series redraws the page for it (the chooser submits itself).
    with tab.page.expect_navigation():
        tab.page.select_option("#chooser-series", f"{STOKE}/approvals/total")
    assert "series=" in tab.page.url
    assert tab.charts_drawn() == 1
    assert "Approvals" in tab.page.locator(".chart-title").first.inner_text()

    tab.open("/dashboard/scenarios")
    assert tab.charts_drawn() == 2
    for scenario in scenarios:
        assert scenario.name in tab.page.locator(f"#scenario-{scenario.id} h2").inner_text()
    tab.screenshot("scenarios")

    # Signing out ends the session: the pages send the browser back to sign in.
    tab.page.click("form.sign-out button")
    tab.page.wait_for_load_state("load")
    assert "You have signed out." in tab.page.locator(".notice").inner_text()
    tab.open("/dashboard/funnel")
    assert tab.page.url.startswith(site.base + "/dashboard/sign-in?next=")


def test_an_admin_chooses_the_authority(tab, site):
    tab.sign_in("admin", then="/dashboard/funnel")
    with tab.page.expect_navigation():
        tab.page.select_option("#authority", TELFORD)
    assert f"authority={TELFORD}" in tab.page.url
    assert tab.page.locator(".intro").inner_text().startswith("Telford and Wrekin")
    assert tab.charts_drawn() == 2
    nav = tab.page.locator("nav.nav a").first.get_attribute("href")
    assert nav == f"/dashboard?authority={TELFORD}"


def test_a_regional_sign_in_reaches_the_regional_capacity_only(tab, site):
    tab.sign_in("regional")
    assert tab.page.url == site.base + "/dashboard/capacity"
    assert tab.page.locator("nav.nav a").all_inner_texts() == ["Capacity"]
    assert tab.charts_drawn() == 1
    councils = tab.page.locator("table[data-table='councils'] tbody th").all_inner_texts()
    assert sorted(councils) == ["Stoke-on-Trent", "Telford and Wrekin"]
    tab.screenshot("capacity-regional")
    for path in ("/dashboard/funnel", "/dashboard/targets", "/dashboard/scenarios"):
        response = tab.page.goto(site.base + path)
        assert response.status == 403
        assert tab.page.locator("h1").inner_text() == "Not available to you"
    # The 403 pages are expected failures, not console errors of the dashboard.
    tab.errors = [e for e in tab.errors if "403" not in e]


def _download_care_types(tab: Tab) -> None:
    """Download the capacity page's care-type table as CSV and as Excel, by clicking."""
    block = tab.page.locator("#table-care-types")
    with tab.page.expect_download() as csv_download:
        block.locator("a[data-format='csv']").click()
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["care_type", "households", "approved_places"]
    assert rows[-1][0] == "All care types"
    assert csv_download.value.suggested_filename.endswith(".csv")
    with tab.page.expect_download() as xlsx_download:
        block.locator("a[data-format='xlsx']").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    workbook = Path(xlsx_download.value.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    assert [c.value for c in sheet[1]][:3] == ["care_type", "households", "approved_places"]
    assert sheet.cell(row=sheet.max_row, column=1).value == "All care types"
    assert [str(c.value) for c in sheet[sheet.max_row]][1:6] == rows[-1][1:6]


def test_html_in_a_scenario_name_shows_as_written_in_the_chart_legends(tab, site):
    """A scenario named with markup: the comparison charts' legends show the text as typed,
    with no link or other element made from it."""
    import httpx
    import msgspec

    from demo.plans import appendix1_inputs

    name = '<a href="https://evil.example/">Click me</a> & <b>bold</b>'
    inputs = msgspec.to_builtins(appendix1_inputs(-2.0)) | {"name": name}
    api = f"{site.base}/api/v1/authorities/{STOKE}/scenarios"
    manager = {"Authorization": f"Bearer {site.tokens['manager']}"}
    created = httpx.post(api, json=inputs, headers=manager, timeout=30)
    assert created.status_code == 201, created.text
    try:
        tab.sign_in("manager", then="/dashboard/scenarios")
        assert tab.charts_drawn() >= 2
        legends = tab.page.locator("#chart-compare-children .legend, #chart-compare-cost .legend")
        assert legends.count() == 2
        assert legends.locator("a").count() == 0
        assert legends.locator("tspan[style*='bold']").count() == 0
        texts = tab.page.locator("#chart-compare-children .legend text").all_text_contents()
        assert name in texts
        tab.screenshot("scenarios-markup-in-names")
    finally:
        httpx.delete(f"{api}/{created.json()['id']}", headers=manager, timeout=30)


def test_the_api_docs_render_the_openapi_31_spec_from_local_files(tab, site):
    """The docs page draws every operation of the spec (OpenAPI 3.1, which Swagger UI 4
    could not render) with scripts and styles the service serves itself."""
    tab.open("/schema/")
    tab.page.wait_for_selector(".opblock", timeout=CHART_TIMEOUT_MS)
    body = tab.page.locator("body").inner_text()
    assert "Unable to render this definition" not in body
    assert "Fostering recruitment and capacity tracker" in body
    assert "OAS 3.1" in body
    assert tab.page.locator(".opblock").count() > 40
    tab.screenshot("api-docs")
