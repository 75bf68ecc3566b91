"""The Ofsted return and benchmarking pages of the dashboard, over the demo's Stoke-on-Trent
(two years to today, on SQLite and PostgreSQL): who sees them, each figure's link to its
records, the downloads, and the 2025-26 return agreeing with the funnel page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import openpyxl
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.dashboard import funnel
from api.dashboard.scope import resolve_scope
from demo.generate import generate_demo
from tests.conftest import STOKE, _empty
from tests.test_dashboard import sign_in
from tracker.core.access import Caller, Role
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today
from tracker.ofsted.service import ofsted_return

TODAY = london_today()
LINK = re.compile(r'href="(/dashboard/ofsted-return/2025-26/records\?field=([a-z0-9_]+))"')


@pytest.fixture(scope="module")
def demo(migrated: Database) -> Iterator[dict[str, Any]]:
    """The demo's Stoke-on-Trent over the two years to today, with its tokens."""
    with migrated.writing() as session:
        summary = generate_demo(session, today=TODAY, authorities=[STOKE], years=2)
    tokens: dict[str, str] = {}
    for role, _, secret in summary.tokens:
        tokens.setdefault(role.value, secret)
    yield {"database": migrated, "tokens": tokens}
    _empty(migrated)


@pytest.fixture(scope="module")
def app_client(demo: dict[str, Any]) -> Iterator[TestClient]:
    settings = Settings(database_url=demo["database"].url, scheduler_enabled=False)
    with TestClient(create_app(settings, demo["database"])) as client:
        yield client


@pytest.fixture
def web(app_client: TestClient, demo: dict[str, Any]) -> TestClient:
    """Signed in as the demo's Stoke-on-Trent manager."""
    app_client.cookies.clear()
    sign_in(app_client, demo["tokens"]["manager"])
    return app_client


def _built(demo: dict[str, Any]) -> Any:
    with demo["database"].read_session() as session:
        return ofsted_return(session, STOKE, "2025-26", TODAY)


@pytest.mark.skipif(date(2026, 3, 31) >= TODAY, reason="2025-26 has not ended yet")
def test_the_2025_26_return_agrees_with_the_funnel_page(demo: dict[str, Any], web) -> None:
    """The funnel page's monthly table (last year's columns are 2025-26 while the year under
    way is 2026-27) and its approvals table give the return's recruitment figures."""
    figures = {f.key: f.value for s in _built(demo).sections for f in s.figures}
    assert web.get("/dashboard/funnel").status_code == 200
    manager = Caller(token_id=None, name="manager", role=Role.MANAGER, authority_code=STOKE)
    with demo["database"].read_session() as session:
        page = funnel.build(session, resolve_scope(session, manager, None), TODAY)
    tables = page.tables()
    monthly = tables["monthly"]
    columns = monthly.keys
    last = {
        name: sum(row[columns.index(f"{name}_last_year")] or 0 for row in monthly.rows)
        for name in ("enquiries", "applications", "approvals")
    }
    [approvals] = [r for r in tables["approvals"].rows if r[0] == "2025-26"]

    assert (last["enquiries"], last["applications"], last["approvals"]) == (
        figures["initial_enquiries"],
        figures["applications_received"],
        figures["applications_approved"],
    )
    assert approvals[1] == figures["applications_approved"]
    assert figures["initial_enquiries"] > 0 and figures["applications_approved"] > 0


def test_the_return_page_links_each_count_to_its_records(demo: dict[str, Any], web) -> None:
    page = web.get("/dashboard/ofsted-return?year=2025-26")

    assert page.status_code == 200
    assert "Ofsted return" in page.text and "Checks before submitting" in page.text
    links = {field: href.replace("&amp;", "&") for href, field in LINK.findall(page.text)}
    counted = {
        f.key for s in _built(demo).sections for f in s.figures if f.records is not None and f.value
    }
    assert set(links) == counted
    records = web.get(links["approved_households"])
    assert records.status_code == 200
    assert records.text.count("DEMO-H-") == next(
        f.value for s in _built(demo).sections for f in s.figures if f.key == "approved_households"
    )


def test_the_return_downloads_as_the_api_s_file(demo: dict[str, Any], web) -> None:
    base = "/dashboard/ofsted-return?year=2025-26&table=return&download="
    as_xlsx = web.get(base + "xlsx")
    as_csv = web.get(base + "csv")

    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    figures = {f.key: f.value for s in _built(demo).sections for f in s.figures}
    assert [c for c in next(sheet.iter_rows(values_only=True))] == rows[0]
    assert {r[1]: r[3] for r in sheet.iter_rows(min_row=5, values_only=True)} == figures
    assert [r[1] for r in rows[4:]] == list(figures)


def test_the_benchmarks_page_shows_the_comparators(web) -> None:
    page = web.get("/dashboard/benchmarks?year=2025-26")

    assert page.status_code == 200
    for text in ("England (council services)", "West Midlands", "Statistical neighbours",
                 "Walsall", "Staying Put at 18", "2018-19", "2023-24"):  # fmt: skip
        assert text in page.text


@pytest.mark.parametrize("role", ["recruiter", "regional"])
def test_other_roles_do_not_see_the_pages(app_client, demo: dict[str, Any], role: str) -> None:
    app_client.cookies.clear()
    sign_in(app_client, demo["tokens"][role])

    home = app_client.get("/dashboard", follow_redirects=True)
    assert "Ofsted return" not in home.text and "How we compare" not in home.text
    for path in ("/dashboard/ofsted-return", "/dashboard/benchmarks"):
        assert app_client.get(path).status_code == 403


def test_a_manager_sees_both_pages_in_the_navigation(web) -> None:
    home = web.get("/dashboard")

    assert 'href="/dashboard/ofsted-return"' in home.text
    assert 'href="/dashboard/benchmarks"' in home.text


def test_the_return_s_checks_are_named_in_words_not_codes(web) -> None:
    page = web.get("/dashboard/ofsted-return")

    assert page.status_code == 200
    assert "Carers&#39; characteristics not recorded" in page.text
    assert "Total approved households: " in page.text
    shown = re.sub(r"<[^>]+>", " ", page.text)  # the words on the page, not its ids or links
    assert "carers_characteristics_missing" not in shown
    assert not re.search(r"approved_(households|carers) \d", shown)


@pytest.mark.skipif(date(2026, 3, 31) >= TODAY, reason="2025-26 has not ended yet")
def test_the_benchmarks_say_the_service_and_published_years_differ(web) -> None:
    page = web.get("/dashboard/benchmarks?year=2025-26")
    shares = web.get("/dashboard/benchmarks?year=2025-26&download=csv&table=shares")

    assert "Not the same year: the service&#39;s figures are for 2025-26" in page.text
    assert "the service in 2025-26, published figures of 2018-19" in page.text
    years = {r["published_year"] for r in csv.DictReader(io.StringIO(shares.text))}
    assert "2018-19 (not 2025-26)" in years
