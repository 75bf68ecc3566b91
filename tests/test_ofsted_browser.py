"""The Ofsted return and benchmarking pages in a real headless browser (Debian's chromium,
driven by Playwright), over a server on a loopback port with the demo's Stoke-on-Trent (two
years to today): the manager opens the 2025-26 return, follows a figure to its records,
downloads the return as Excel (read back with openpyxl) and opens the benchmarking page.
Screenshots go to build/screenshots/. Skipped without /usr/bin/chromium, except under CI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import openpyxl
import pytest

from demo.generate import generate_demo
from tests import test_dashboard_browser as dashboard_browser
from tests.live_server import ThreadServer
from tests.test_dashboard_browser import CHROMIUM, SCREENSHOTS, Site, _unavailable
from tracker.core import schema
from tracker.core.db import Database
from tracker.enquiries.timeliness import london_today
from tracker.ofsted.service import ofsted_return

STOKE = "E06000021"
# The browser and its tab, as the dashboard's browser tests make them (over this `site`).
browser = dashboard_browser.browser
tab = dashboard_browser.tab


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The service on a loopback port over the demo's Stoke-on-Trent in a SQLite file."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    url = f"sqlite:///{tmp_path_factory.mktemp('ofsted') / 'demo.db'}"
    database = Database(url)
    schema.upgrade(database)
    today = london_today()
    with database.writing() as session:
        summary = generate_demo(session, today=today, authorities=[STOKE], years=2)
    database.dispose()
    tokens: dict[str, str] = {}
    for role, _, secret in summary.tokens:
        tokens.setdefault(role.value, secret)
    with ThreadServer(url) as server:
        yield Site(server.url, server.database, tokens, today)


@pytest.mark.skipif(london_today() <= date(2026, 3, 31), reason="2025-26 has not ended yet")
def test_a_manager_checks_downloads_and_compares_the_2025_26_return(tab, site) -> None:
    with site.database.read_session() as session:
        built = ofsted_return(session, STOKE, "2025-26", site.today)
    figures = {f.key: f.value for s in built.sections for f in s.figures}

    tab.sign_in("manager", then="/dashboard/ofsted-return")
    assert tab.page.locator("#chooser-year").input_value() == "2025-26"
    table = tab.page.locator("table[data-table='return']")
    assert table.locator("tbody tr").count() == 3 + len(figures)
    link = table.locator("a", has_text=str(figures["approved_households"])).first
    assert "field=approved_households" in (link.get_attribute("href") or "")
    tab.screenshot("ofsted-return")

    with tab.page.expect_navigation():
        link.click()
    records = tab.page.locator("table[data-table='records'] tbody tr")
    assert records.count() == figures["approved_households"]
    tab.screenshot("ofsted-return-records")

    tab.open("/dashboard/ofsted-return?year=2025-26")
    with tab.page.expect_download() as caught:
        tab.page.click("#table-return a.download[data-format='xlsx']")
    download = caught.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = SCREENSHOTS / "ofsted-return-stoke-2025-26.xlsx"  # kept to look at
    download.save_as(str(saved))
    rows = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    assert rows[0] == ("section", "field", "label", "value")
    assert {r[1]: r[3] for r in rows[4:]} == figures

    tab.open("/dashboard/benchmarks?year=2025-26")
    shares = tab.page.locator("table[data-table='shares'] tbody tr")
    assert shares.count() == 5
    assert "Staying Put at 18" in shares.last.inner_text()
    tab.screenshot("benchmarks")
