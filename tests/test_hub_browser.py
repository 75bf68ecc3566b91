"""A hub officer and a council recruiter in a real headless browser (Debian's chromium,
driven by Playwright), over a server on a loopback port with the demo's West Midlands hub
over Stoke-on-Trent and Coventry: the officer logs an enquiry for Stoke-on-Trent, records
its stages to application and offers it; a Stoke recruiter accepts it. Screenshots (each
checked by axe-core) go to build/screenshots/. Skipped without /usr/bin/chromium, except
under CI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from demo.generate import generate_demo
from tests import test_dashboard_browser as dashboard_browser
from tests.live_server import ThreadServer
from tests.test_dashboard_browser import CHROMIUM, Site, _unavailable
from tracker.core import schema
from tracker.core.db import Database
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import london_today
from tracker.hubs.tables import HubEnquiry

STOKE, COVENTRY = "E06000021", "E08000026"
KEY = "hub-browser-key"
browser = dashboard_browser.browser
tab = dashboard_browser.tab


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The service over the demo's Stoke-on-Trent and Coventry and their hub."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    url = f"sqlite:///{tmp_path_factory.mktemp('hub') / 'demo.db'}"
    database = Database(url)
    schema.upgrade(database)
    today = london_today()
    with database.writing() as session:
        summary = generate_demo(
            session,
            today=today,
            authorities=[STOKE, COVENTRY],
            years=1,
            ssda903_key=KEY.encode(),
            hub="West Midlands",
        )
    database.dispose()
    tokens: dict[str, str] = {}
    for role, _, secret in summary.tokens:
        tokens.setdefault(role.value, secret)
    with ThreadServer(url, pseudonym_key=KEY) as server:
        yield Site(server.url, server.database, tokens, today)


def test_a_hub_officer_hands_an_enquiry_to_stoke_and_a_recruiter_accepts_it(tab, site) -> None:
    page = tab.page
    tab.sign_in("hub")
    assert page.url.startswith(site.base + "/dashboard/hub")
    assert page.locator("h1").inner_text().endswith("West Midlands")
    tab.screenshot("hub")

    page.select_option("#authority_code", STOKE)
    page.fill("#enquirer_name", "Browser Walk")
    page.fill("#email", "browser.walk@example.org")
    with page.expect_navigation():
        page.click("form[data-form='hub-log'] button[type=submit]")
    assert "Enquiry logged and routed" in page.locator(".govuk-notification-banner").inner_text()
    row = page.locator("table[data-table='hub-enquiries'] tr", has_text="Browser Walk")
    assert "Stoke-on-Trent" in row.inner_text()
    for stage in ("first contact", "initial visit", "application"):
        with page.expect_navigation():
            row.locator("button[data-action='stage']").click()
        assert stage in row.inner_text()
    with page.expect_navigation():
        row.locator("button[data-action='offer']").click()
    assert "Enquiry offered" in page.locator(".govuk-notification-banner").inner_text()
    assert "offered" in row.locator("[data-handover]").inner_text()
    tab.screenshot("hub-offered")

    with site.database.read_session() as session:
        enquiry = session.scalars(
            select(Enquiry).where(Enquiry.enquirer_name == "Browser Walk")
        ).one()
    tab.context.clear_cookies()
    tab.sign_in("recruiter", then="/dashboard/handovers")
    offer = page.locator(f"table[data-table='handovers'] tr[data-enquiry='{enquiry.id}']")
    assert "Browser Walk" in offer.inner_text()
    tab.screenshot("handovers")
    with page.expect_navigation():
        offer.locator("button[data-action='accept']").click()
    assert "Handover accepted" in page.locator(".govuk-notification-banner").inner_text()
    assert offer.locator("[data-handover]").inner_text().startswith("accepted")
    with site.database.read_session() as session:
        link = session.get(HubEnquiry, enquiry.id)
        assert link is not None and link.status == "accepted"
        assert session.get(Enquiry, enquiry.id).authority_code == STOKE  # type: ignore[union-attr]
