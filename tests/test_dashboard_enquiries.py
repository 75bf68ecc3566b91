"""The recruitment team's screens through Litestar's test client, on SQLite and PostgreSQL:
logging an enquiry with the form (errors next to their fields, the duplicate warning), its
page's stage moves, closing and reopening, a stale edit told what changed, erasure after a
confirmation, the list's search, filters and pages, and its downloads. Every POST carries
the session's CSRF token; the same rules and audit as the JSON API apply."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import delete, select

from api.dashboard.forms import plain
from api.dashboard.sessions import WebSession
from api.dashboard.tables import long_date
from tests.conftest import COVENTRY, STOKE, bearer
from tests.test_dashboard import CSRF, sign_in
from tracker.core.audit import AuditEntry
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.enquiries.timeliness import london_today

TODAY = london_today()
NEW = "/dashboard/enquiries/new"


def _signed_in(client, secret: str) -> str:
    """Sign in through the form; the CSRF token the session's forms carry."""
    client.cookies.clear()
    assert sign_in(client, secret).status_code == 303
    found = CSRF.search(client.get(NEW).text)
    assert found is not None
    return found.group(1)


def _date(name: str, day) -> dict[str, str]:
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def _log(client, csrf: str, **fields: str):
    form = {
        "csrf_token": csrf,
        "channel": "phone",
        **_date("received_on", TODAY - timedelta(days=3)),
    }
    form.update(fields)
    return client.post(NEW, data=form, follow_redirects=False)


def _rows(database):
    with database.read_session() as session:
        return list(session.scalars(select(Enquiry).order_by(Enquiry.id)))


def _summary_links(html: str) -> list[str]:
    """The error summary's links, in order."""
    block = re.search(r'class="govuk-error-summary".*?</div>\s*</div>', html, re.S)
    return re.findall(r'href="#([^"]+)"', block.group(0)) if block else []


def test_a_recruiter_logs_an_enquiry_with_the_form(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    response = _log(
        client,
        csrf,
        enquirer_name="Ada Lovelace",
        email="ada@example.org",
        phone="01782 234567",
        postcode_district="st4",
        interests=["short_breaks", "emergency"],
        campaign="Foster Care Fortnight",
        external_ref="WEB-1",
        note="Rang after the fair",
    )
    assert response.status_code == 303
    [row] = _rows(authorities)
    assert response.headers["location"] == f"/dashboard/enquiries/{row.id}?done=logged"
    assert (row.enquirer_name, row.postcode_district, row.interests) == (
        "Ada Lovelace",
        "ST4",
        ["emergency", "short_breaks"],
    )
    assert row.received_on == TODAY - timedelta(days=3) and row.authority_code == STOKE
    page = client.get(response.headers["location"])
    assert "Enquiry logged" in page.text and "Rang after the fair" in page.text
    with authorities.read_session() as session:
        logged, shown = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "enquiry").order_by(AuditEntry.id)
        ).all()
    assert logged.action == "create" and logged.actor.startswith("recruiter:")
    # Opening its page afterwards is a read of the enquirer's record, audited too.
    assert (shown.action, shown.entity_id, shown.detail) == ("read", str(row.id), {"view": "page"})


def test_the_new_enquiry_form_defaults_to_today(client, tokens):
    _signed_in(client, tokens["recruiter_stoke"])
    page = client.get(NEW).text
    assert f'name="received_on-day" type="text" value="{TODAY.day}"' in page
    assert f'name="received_on-year" type="text" value="{TODAY.year}"' in page


def test_errors_are_shown_next_to_their_fields_and_nothing_is_stored(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    future = TODAY + timedelta(days=2)
    response = client.post(
        NEW,
        data={
            "csrf_token": csrf,
            "email": "ada@",
            "phone": "call me",
            **_date("received_on", future),
        },
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert _summary_links(response.text) == ["channel", "email", "phone"]
    assert 'id="email-error"' in response.text and "like name@example.com" in response.text
    assert "Select how the enquiry came in" in response.text
    assert 'value="ada@"' in response.text  # what was typed stays in the form
    assert _rows(authorities) == []
    # The date in the future is the domain's rule, shown on its field once the rest is right.
    refused = _log(client, csrf, **_date("received_on", future))
    assert refused.status_code == 400
    assert _summary_links(refused.text) == ["received_on-day"]
    assert "in the future" in refused.text and _rows(authorities) == []


@pytest.mark.parametrize("day", ["31", "2147483648", "99999999999999999999999"])
def test_an_impossible_date_names_the_field(client, tokens, authorities, day):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    response = _log(
        client,
        csrf,
        **{"received_on-day": day, "received_on-month": "2", "received_on-year": "2026"},
    )
    assert response.status_code == 400
    assert "must be a real date" in response.text and _rows(authorities) == []


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, tokens, authorities):
    _signed_in(client, tokens["recruiter_stoke"])
    for token in ("", "forged"):
        response = client.post(
            NEW, data={"csrf_token": token, "channel": "phone", **_date("received_on", TODAY)}
        )
        assert response.status_code == 403
    assert _rows(authorities) == []


def test_the_same_email_or_phone_of_an_open_enquiry_asks_before_logging(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    assert _log(client, csrf, email="sam@example.org", external_ref="A").status_code == 303
    again = _log(client, csrf, email="SAM@example.org", enquirer_name="Sam Again")
    assert again.status_code == 200
    assert "An open enquiry already has" in again.text and "same email address" in again.text
    assert 'name="duplicate_seen" value="yes"' in again.text and len(_rows(authorities)) == 1
    confirmed = _log(
        client, csrf, email="SAM@example.org", enquirer_name="Sam Again", duplicate_seen="yes"
    )
    assert confirmed.status_code == 303 and len(_rows(authorities)) == 2


def test_an_enquiry_moves_on_closes_and_reopens_from_its_page(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _log(client, csrf, enquirer_name="Bo").headers["location"].split("?")[0]
    page = client.get(path).text
    move = page.split('id="move"')[1].split("</form>")[0]
    assert 'value="first_contact"' in move and "checked" not in move  # none chosen for the user
    assert 'value="stage_1"' not in page  # stages after application wait for one
    moved = client.post(
        f"{path}/stage",
        data={"csrf_token": csrf, "version": "1", "stage": "first_contact"},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"{path}?done=moved"
    # The funnel's rules answer on the form: panel needs an application first.
    refused = client.post(
        f"{path}/stage", data={"csrf_token": csrf, "version": "2", "stage": "panel"}
    )
    assert refused.status_code == 400 and "needs an application first" in refused.text
    closed = client.post(
        f"{path}/close",
        data={"csrf_token": csrf, "version": "2", "reason": "no_response", "note": "Three calls"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    reopened = client.post(
        f"{path}/reopen",
        data={"csrf_token": csrf, "version": "3", "stage": "enquiry"},
        follow_redirects=False,
    )
    assert reopened.status_code == 303
    [row] = _rows(authorities)
    assert (row.stage, row.closed_on, row.first_contact_on) == ("enquiry", None, None)
    timeline = client.get(path).text
    for entry in ("Enquiry logged", "Moved on: first contact", "Closed", "Three calls", "Reopened"):
        assert entry in timeline


def test_rejected_after_panel_is_offered_only_at_the_panel_stage(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _log(client, csrf).headers["location"].split("?")[0]
    assert 'value="rejected_after_panel"' not in client.get(path).text
    assert 'value="no_response"' in client.get(path).text
    # Sent anyway, it is refused on the reason in plain words, and nothing is stored.
    refused = client.post(
        f"{path}/close",
        data={"csrf_token": csrf, "version": "1", "reason": "rejected_after_panel"},
    )
    assert refused.status_code == 400 and _summary_links(refused.text) == ["reason"]
    assert "only for an enquiry at the panel stage" in refused.text
    assert _rows(authorities)[0].closed_on is None
    for version, stage in enumerate(("application", "panel"), start=1):
        moved = client.post(
            f"{path}/stage",
            data={"csrf_token": csrf, "version": str(version), "stage": stage},
            follow_redirects=False,
        )
        assert moved.status_code == 303
    assert 'value="rejected_after_panel"' in client.get(path).text


def test_a_refused_stage_date_is_told_in_the_pages_words(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _log(client, csrf).headers["location"].split("?")[0]
    received, early = TODAY - timedelta(days=3), TODAY - timedelta(days=5)
    refused = client.post(
        f"{path}/stage",
        data={"csrf_token": csrf, "version": "1", "stage": "initial_visit", **_date("on", early)},
    )
    assert refused.status_code == 400 and _summary_links(refused.text) == ["on-day"]
    assert f"Date {long_date(early)} is before the enquiry date {long_date(received)}" in (
        refused.text
    )
    assert early.isoformat() not in refused.text
    assert _rows(authorities)[0].initial_visit_on is None


def test_the_domains_codes_and_days_read_as_words():
    assert plain("date 2026-12-01 is before the initial_visit date 2026-12-03") == (
        "Date 1 Dec 2026 is before the initial visit date 3 Dec 2026"
    )
    assert plain("no such day 2026-02-31") == "No such day 2026-02-31"


def test_a_closure_without_a_reason_is_an_error_on_the_reason(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _log(client, csrf).headers["location"].split("?")[0]
    response = client.post(f"{path}/close", data={"csrf_token": csrf, "version": "1"})
    assert response.status_code == 400 and _summary_links(response.text) == ["reason"]
    assert _rows(authorities)[0].closed_on is None


def test_a_stale_edit_saves_nothing_and_says_what_someone_else_changed(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = (
        _log(client, csrf, enquirer_name="Cy", email="cy@example.org")
        .headers["location"]
        .split("?")[0]
    )
    enquiry_id = path.rsplit("/", 1)[1]
    form = client.get(f"{path}/edit").text
    assert 'name="version" value="1"' in form
    # Meanwhile a colleague changes the email through the API.
    api = client.patch(
        f"/api/v1/authorities/{STOKE}/enquiries/{enquiry_id}",
        json={"email": "cy@theirs.example"},
        headers=bearer(tokens["manager_stoke"]) | {"If-Match": '"1"'},
    )
    assert api.status_code == 200
    mine = {
        "csrf_token": csrf,
        "version": "1",
        "channel": "phone",
        "enquirer_name": "Cy Young",
        "email": "cy@mine.example",
        **_date("received_on", TODAY - timedelta(days=3)),
    }
    stale = client.post(f"{path}/edit", data=mine)
    assert stale.status_code == 409
    assert "Someone else changed this enquiry" in stale.text
    # What they changed, from the history, in the timeline's words.
    assert "manager_stoke (manager), " in stale.text
    assert "Details changed: Changed email address" in stale.text
    assert "cy@mine.example" in stale.text and "cy@theirs.example" in stale.text
    assert 'name="version" value="2"' in stale.text  # saving again means over their version
    assert _rows(authorities)[0].email == "cy@theirs.example"
    saved = client.post(f"{path}/edit", data=mine | {"version": "2"}, follow_redirects=False)
    assert saved.status_code == 303
    assert (_rows(authorities)[0].email, _rows(authorities)[0].enquirer_name) == (
        "cy@mine.example",
        "Cy Young",
    )


def test_erasure_is_for_managers_after_a_confirmation(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = (
        _log(client, csrf, enquirer_name="Di", email="di@example.org", note="Di's note")
        .headers["location"]
        .split("?")[0]
    )
    assert "Erase this enquirer" not in client.get(path).text
    assert client.get(f"{path}/erase").status_code == 403
    assert client.post(f"{path}/erase", data={"csrf_token": csrf}).status_code == 403
    manager_csrf = _signed_in(client, tokens["manager_stoke"])
    check = client.get(f"{path}/erase")
    assert check.status_code == 200 and "You cannot undo this" in check.text
    assert _rows(authorities)[0].enquirer_name == "Di"  # asking changes nothing
    erased = client.post(f"{path}/erase", data={"csrf_token": manager_csrf}, follow_redirects=False)
    assert erased.status_code == 303
    [row] = _rows(authorities)
    assert (row.enquirer_name, row.email, row.erased_at is not None) == (None, None, True)
    with authorities.read_session() as session:
        notes = session.scalars(
            select(EnquiryEvent.note).where(EnquiryEvent.note.is_not(None))
        ).all()
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "erase")
        ).all()
    assert "Di's note" not in notes and audited == ["erase"]
    assert "Di" not in client.get(path).text.split("<main", 1)[1].split("Timeline")[0].replace(
        "Details", ""
    )


def test_the_erasure_page_says_the_campaign_goes_too(client, tokens, authorities):
    """The campaign is free text ("referred by ...") and erasure blanks it: the page asking
    for the manager's confirmation may not say it stays."""
    csrf = _signed_in(client, tokens["manager_stoke"])
    path = _log(client, csrf, campaign="referred by Di").headers["location"].split("?")[0]
    check = client.get(f"{path}/erase")
    assert check.status_code == 200
    listed = check.text.split("This removes, for good", 1)[1].split("</ul>", 1)[0]
    assert "the campaign" in listed
    assert "campaign stay" not in check.text
    assert "its breakdown by campaign no longer counts this enquiry" in check.text


def test_another_authoritys_enquiry_is_not_found(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_coventry"])
    path = _log(client, csrf).headers["location"].split("?")[0]
    _signed_in(client, tokens["recruiter_stoke"])
    assert client.get(path).status_code == 404


def test_the_list_searches_filters_sorts_and_pages_from_its_address(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    for i in range(30):
        _log(
            client,
            csrf,
            enquirer_name=f"Person {i:02d}",
            phone=f"01782 {100000 + i}",
            **_date("received_on", TODAY - timedelta(days=i)),
        )
    first = client.get("/dashboard/enquiries").text
    assert "30 enquiries, showing 1 to 25" in first
    assert 'aria-label="Pages of enquiries"' in first and "page=2" in first
    second = client.get("/dashboard/enquiries?page=2").text
    assert "showing 26 to 30" in second and "Person 29" in second and "Person 00" not in second
    found = client.get("/dashboard/enquiries?q=01782100007").text
    assert "1 enquiry" in found and "Person 07" in found
    by_name = client.get("/dashboard/enquiries?sort=name&q=Person+0").text
    assert by_name.index("Person 00") < by_name.index("Person 09")
    bad = client.get("/dashboard/enquiries?stage=nowhere&q=Person+01")
    assert bad.status_code == 200 and "Select a stage from the list" in bad.text
    assert "1 enquiry" in bad.text  # the good filter still applies
    overdue = (
        client.get("/dashboard/enquiries").text.split('id="work-tray"')[1].split("</section>")[0]
    )
    assert "Person 29" in overdue and "days" in overdue


@pytest.mark.parametrize("page", ["85899346", "99999999999999999999999"])
def test_a_page_number_past_the_last_possible_is_told_not_a_failure(
    client, tokens, authorities, page
):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    _log(client, csrf, enquirer_name="Only One")
    response = client.get(f"/dashboard/enquiries?page={page}")
    assert response.status_code == 200
    assert "The page number must be a whole number from 1 to 85,899,345" in response.text
    assert "Only One" in response.text  # the first page, as for any filter that is wrong


def test_the_list_downloads_every_match_as_csv_and_excel_and_is_audited(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    for name in ("Ann", "Bea", "Ann-Marie"):
        _log(client, csrf, enquirer_name=name)
    page = client.get("/dashboard/enquiries?q=ann").text
    link = (
        re.search(r'href="([^"]*export[^"]*format=csv[^"]*)"', page).group(1).replace("&amp;", "&")
    )
    response = client.get(link)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # so Excel reads it as UTF-8
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and "Bea" not in response.text
    xlsx = client.get(link.replace("format=csv", "format=xlsx"))
    assert xlsx.content[:2] == b"PK"
    with authorities.read_session() as session:
        exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
    assert len(exports) == 2 and all(e.detail["filters"]["search"] is True for e in exports)


def test_regional_and_other_authorities_cannot_reach_the_enquiry_pages(client, tokens):
    _signed_in(client, tokens["manager_stoke"])
    assert client.get(f"/dashboard/enquiries?authority={COVENTRY}").status_code == 403
    client.cookies.clear()
    sign_in(client, tokens["regional_wm"])
    for path in ("/dashboard/enquiries", NEW, "/dashboard/uploads/enquiries"):
        assert client.get(path).status_code == 403, path


def test_one_line_fields_refuse_control_characters_and_a_blank_one_is_empty(
    client, tokens, authorities
):
    """The forms take the API's rule for a name, campaign and reference: a tab or line break
    is an error on its field (nothing stored, on logging or editing); a value of zero-width
    spaces only is an empty field, stored as no value."""
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    refused = _log(client, csrf, enquirer_name="Dana\tOkafor", campaign="Spring")
    assert refused.status_code == 400
    assert _summary_links(refused.text) == ["enquirer_name"]
    assert "on one line without tabs" in refused.text and _rows(authorities) == []

    logged = _log(client, csrf, enquirer_name="Dana Okafor", campaign="\u200b\u200b")
    assert logged.status_code == 303
    [row] = _rows(authorities)
    assert (row.enquirer_name, row.campaign, row.version) == ("Dana Okafor", None, 1)

    edit = {
        "csrf_token": csrf,
        "version": "1",
        "channel": "phone",
        "enquirer_name": "Dana Okafor",
        "campaign": "Spring\r2024",
        **_date("received_on", TODAY - timedelta(days=3)),
    }
    path = logged.headers["location"].split("?")[0]
    changed = client.post(f"{path}/edit", data=edit)
    assert changed.status_code == 400
    assert _summary_links(changed.text) == ["campaign"]
    [row] = _rows(authorities)
    assert (row.campaign, row.version) == (None, 1)


def test_a_form_sent_after_the_session_ended_says_so_and_signs_in_back_to_its_page(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _log(client, csrf, enquirer_name="Bo").headers["location"].split("?")[0]
    with authorities.writing() as session:  # the 8 hours are up
        session.execute(delete(WebSession))
    sent = {
        NEW: NEW,  # the form has a page of its own
        f"{path}/stage": path,  # a form of the enquiry's page
        f"{path}/edit": f"{path}/edit",
    }
    for action, page in sent.items():
        response = client.post(
            action, data={"csrf_token": csrf, "stage": "first_contact"}, follow_redirects=False
        )
        assert response.status_code == 303
        location = response.headers["location"]
        assert location == "/dashboard/sign-in?" + urlencode({"next": page, "unsaved": "1"})
    assert len(_rows(authorities)) == 1
    shown = client.get(location).text
    assert "what you last entered was not saved" in shown
    assert f'name="next" value="{path}/edit"' in shown
    assert sign_in(client, tokens["recruiter_stoke"], f"{path}/edit").headers["location"] == (
        f"{path}/edit"
    )
    assert "was not saved" not in client.get("/dashboard/sign-in?next=/dashboard").text


def test_a_form_sent_twice_is_not_blamed_on_someone_else(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _log(client, csrf, enquirer_name="Di").headers["location"].split("?")[0]
    move = {"csrf_token": csrf, "version": "1", "stage": "first_contact"}
    assert client.post(f"{path}/stage", data=move, follow_redirects=False).status_code == 303
    again = client.post(f"{path}/stage", data=move)  # a second click, without script
    assert again.status_code == 409
    assert "You had already changed this enquiry" in again.text
    assert "Someone else" not in again.text
    with authorities.read_session() as session:
        moves = session.scalars(select(EnquiryEvent).where(EnquiryEvent.action == "advanced"))
        assert len(list(moves)) == 1
    edit = {
        "csrf_token": csrf,
        "version": "2",
        "channel": "phone",
        "enquirer_name": "Di Prince",
        **_date("received_on", TODAY - timedelta(days=3)),
    }
    assert client.post(f"{path}/edit", data=edit, follow_redirects=False).status_code == 303
    edited_again = client.post(f"{path}/edit", data=edit)
    assert edited_again.status_code == 409
    assert "You had already changed this enquiry" in edited_again.text
    assert "Someone else" not in edited_again.text


FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


def test_a_new_enquiry_form_sent_again_logs_one_enquiry(client, tokens, authorities):
    """Without JavaScript, or Back and "Log enquiry" again (the browser having cleared the
    name and contacts), the same form is sent twice: it logs one enquiry, and the second
    sending leads to it."""
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    key = FORM_KEY.search(client.get(NEW).text).group(1)
    before = len(_rows(authorities))
    # Shown again with an error, the form keeps its key: the corrected form logs once.
    refused = _log(client, csrf, form_key=key, channel="")
    assert refused.status_code == 400 and FORM_KEY.search(refused.text).group(1) == key
    first = _log(client, csrf, form_key=key, enquirer_name="Ann Key", email="ann@example.org")
    assert first.status_code == 303 and first.headers["location"].endswith("?done=logged")
    again = _log(client, csrf, form_key=key)  # the name and email cleared by the browser
    assert again.status_code == 303
    assert again.headers["location"].split("?")[0] == first.headers["location"].split("?")[0]
    assert again.headers["location"].endswith("?done=already-logged")
    assert "This form was already sent" in client.get(again.headers["location"]).text
    rows = _rows(authorities)
    assert len(rows) == before + 1 and rows[-1].enquirer_name == "Ann Key"
    # A new form has a new key, and logs a new enquiry.
    other = FORM_KEY.search(client.get(NEW).text).group(1)
    assert other != key
    assert _log(client, csrf, form_key=other).headers["location"].endswith("?done=logged")
    assert len(_rows(authorities)) == before + 2
