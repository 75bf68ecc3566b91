"""What a recruiter found walking through the enquiry pages, on SQLite and PostgreSQL: phone
numbers written with brackets or stored by Excel as numbers, the close form's date and
Ofsted withdrawal reason, moving an approved enquiry back, an unchanged re-import, the import
preview's list of changes, search variants, and the list's and timeline's wording."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
from sqlalchemy import update

from tests.test_dashboard_enquiries import (
    NEW,
    TODAY,
    _date,
    _log,
    _rows,
    _signed_in,
    _summary_links,
)
from tracker.core.patterns import PHONE
from tracker.enquiries.tables import Enquiry, EnquiryEvent

UPLOAD = "/dashboard/uploads/enquiries"


def _path(response) -> str:
    return response.headers["location"].split("?")[0]


def _upload(client, csrf: str, name: str, content: bytes):
    kind = "text/csv" if name.endswith(".csv") else "application/octet-stream"
    return client.post(UPLOAD, data={"csrf_token": csrf}, files=[("files", (name, content, kind))])


def _confirm(client, csrf: str, preview_html: str):
    action = re.search(r'action="(/dashboard/uploads/enquiries/\d+)"', preview_html).group(1)
    return client.post(action, data={"csrf_token": csrf}, follow_redirects=False)


def _count(preview_html: str, name: str) -> str:
    return re.search(rf">\s*{name}\s*</dt>\s*<dd[^>]*>\s*([\d,]+)", preview_html).group(1)


def _set(database, enquiry_id: int, **values) -> None:
    with database.writing() as session:
        session.execute(update(Enquiry).where(Enquiry.id == enquiry_id).values(**values))


def _move(client, csrf: str, path: str, version: int, stage: str, **fields):
    return client.post(
        f"{path}/stage",
        data={"csrf_token": csrf, "version": str(version), "stage": stage, **fields},
        follow_redirects=False,
    )


# --- 1. phone numbers ---------------------------------------------------------------------


def test_a_phone_number_may_start_with_a_bracket_and_keeps_its_other_limits():
    for good in ("(01782) 234 567", "01782 (234) 567", "+44 7700 900982", "(01782)234567"):
        assert re.search(PHONE, good), good
    for bad in ("(", "()1782 234567", "(01782\n", "01782 234567\n", "((01782) 234567", "(0178"):
        assert not re.search(PHONE, bad), bad


def test_the_new_enquiry_form_takes_a_phone_number_starting_with_a_bracket(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    response = _log(client, csrf, phone="(01782) 234 567")
    assert response.status_code == 303
    assert _rows(authorities)[0].phone == "(01782) 234 567"


def test_the_import_takes_a_phone_number_starting_with_a_bracket(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    received = TODAY - timedelta(days=2)
    sheet = f"external_ref,received_on,channel,phone\nB-1,{received},phone,(01782) 111222\n"
    preview = _upload(client, csrf, "team.csv", sheet.encode())
    assert preview.status_code == 200, preview.text
    assert _confirm(client, csrf, preview.text).status_code == 303
    assert _rows(authorities)[0].phone == "(01782) 111222"


def test_an_excel_phone_stored_as_a_number_gets_its_0_back_with_a_warning(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    workbook = openpyxl.Workbook()
    workbook.active.append(["external_ref", "received_on", "channel", "phone"])
    workbook.active.append(["X-1", (TODAY - timedelta(days=2)).isoformat(), "phone", 7700900302])
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = _upload(client, csrf, "team.xlsx", buffer.getvalue())
    assert preview.status_code == 200, preview.text
    warnings = preview.text.split('data-table="warnings"')[1].split("</table>")[0]
    assert "read with a 0 added in front" in warnings and ">2<" in warnings
    assert "7700900302" not in warnings  # the row is named, never the number
    assert _confirm(client, csrf, preview.text).status_code == 303
    assert _rows(authorities)[0].phone == "07700900302"


# --- 2. the close form ------------------------------------------------------------------


def test_the_close_form_records_the_day_and_why_the_applicant_withdrew(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _path(_log(client, csrf))
    before = client.get(path).text
    assert 'name="on-day"' in before.split('id="close"')[1]  # the date, from the start
    assert 'name="withdrawal_reason"' not in before  # not an applicant yet
    applied = _date("on", TODAY - timedelta(days=2))
    assert _move(client, csrf, path, 1, "application", **applied).status_code == 303
    page = client.get(path).text
    close = page.split('id="close"')[1].split("</form>")[0]
    assert f'id="close-on-day" name="on-day" type="text" value="{TODAY.day}"' in close
    for words in ("Fostering was not as they expected", "Another reason, or not known"):
        assert words in close
    assert not re.search(r">\s*AW\d", close)  # Ofsted's codes are not shown
    closed_on = TODAY - timedelta(days=1)
    done = client.post(
        f"{path}/close",
        data={
            "csrf_token": csrf,
            "version": "2",
            "reason": "withdrawn_by_applicant",
            "withdrawal_reason": "AW2",
            **_date("on", closed_on),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    row = _rows(authorities)[0]
    assert (row.closed_on, row.closure_reason, row.withdrawal_reason) == (
        closed_on,
        "withdrawn_by_applicant",
        "AW2",
    )


def test_the_close_forms_date_and_withdrawal_reason_are_checked(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _path(_log(client, csrf))
    assert _move(client, csrf, path, 1, "application").status_code == 303
    future = client.post(
        f"{path}/close",
        data={
            "csrf_token": csrf,
            "version": "2",
            "reason": "no_response",
            **_date("on", TODAY + timedelta(days=1)),
        },
    )
    assert future.status_code == 400 and _summary_links(future.text) == ["close-on-day"]
    assert "is in the future" in future.text
    impossible = client.post(
        f"{path}/close",
        data={"csrf_token": csrf, "version": "2", "reason": "no_response", "on-day": "31"},
    )
    assert impossible.status_code == 400 and "must include a month and year" in impossible.text
    not_theirs = client.post(
        f"{path}/close",
        data={
            "csrf_token": csrf,
            "version": "2",
            "reason": "withdrawn_by_service",
            "withdrawal_reason": "AW1",
        },
    )
    assert not_theirs.status_code == 400
    assert _summary_links(not_theirs.text) == ["withdrawal_reason"]
    assert "AW1" not in not_theirs.text.split("error-summary")[1].split("</ul>")[0]
    assert _rows(authorities)[0].closed_on is None


# --- 3. moving back, and no stage chosen for the user --------------------------------------


def test_an_approved_enquiry_can_be_moved_back(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _path(_log(client, csrf))
    for version, stage in enumerate(("application", "panel", "approved"), start=1):
        assert _move(client, csrf, path, version, stage).status_code == 303
    page = client.get(path).text
    assert "Move back to an earlier stage" in page
    back = page.split('id="reopen"')[1].split("</form>")[0]
    assert 'value="panel"' in back and 'value="approved"' not in back
    moved = client.post(
        f"{path}/reopen",
        data={"csrf_token": csrf, "version": "4", "stage": "panel"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    row = _rows(authorities)[0]
    assert (row.stage, row.approved_on) == ("panel", None)


def test_moving_on_without_a_stage_is_an_error_on_the_stage(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _path(_log(client, csrf))
    move = client.get(path).text.split('id="move"')[1].split("</form>")[0]
    assert "checked" not in move
    response = client.post(f"{path}/stage", data={"csrf_token": csrf, "version": "1"})
    assert response.status_code == 400 and _summary_links(response.text) == ["stage-stage"]
    assert "Select the stage" in response.text
    assert _rows(authorities)[0].stage == "enquiry"


# --- 4 and 5. re-importing an export; what the preview lists ------------------------------


def test_reimporting_an_export_of_approved_enquiries_changes_nothing(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _path(_log(client, csrf, external_ref="A-1", interests=["emergency", "short_breaks"]))
    for version, stage in enumerate(("application", "panel", "approved"), start=1):
        assert _move(client, csrf, path, version, stage).status_code == 303
    enquiry_id = _rows(authorities)[0].id
    # Stored in another order than sorted, as older rows and the demo data may hold them.
    _set(authorities, enquiry_id, interests=["short_breaks", "emergency"])
    exported = client.get("/dashboard/enquiries/export?status=approved&format=csv")
    assert exported.status_code == 200
    preview = _upload(client, csrf, "approved.csv", exported.content)
    assert preview.status_code == 200, preview.text
    assert (_count(preview.text, "Changed"), _count(preview.text, "Unchanged")) == ("0", "1")
    assert 'data-table="changed"' not in preview.text
    assert _confirm(client, csrf, preview.text).status_code == 303
    assert _rows(authorities)[0].version == 4  # not touched
    assert "Changed kinds of fostering" not in client.get(path).text


def test_the_import_preview_lists_the_enquiries_it_changes_and_their_fields(
    client, tokens, authorities
):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    for number, ref in enumerate(("C-1", "C-2")):
        _log(client, csrf, external_ref=ref, enquirer_name="Ann", phone=f"01782 10000{number}")
    exported = client.get("/dashboard/enquiries/export?format=csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    for row in rows:
        if row["external_ref"] == "C-2":
            row.update(enquirer_name="Ann Smith", phone="01782 200000", household_type="couple")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    preview = _upload(client, csrf, "team.csv", buffer.getvalue().encode())
    assert preview.status_code == 200, preview.text
    changed = preview.text.split('data-table="changed"')[1].split("</table>")[0]
    c2 = next(r for r in _rows(authorities) if r.external_ref == "C-2")
    assert f"{c2.id} (C-2)" in changed and "C-1" not in changed
    assert "Name, phone number, household" in changed and "enquirer_name" not in changed
    confirmed = _confirm(client, csrf, preview.text)
    timeline = client.get(f"/dashboard/enquiries/{c2.id}").text
    assert confirmed.status_code == 303 and "Changed name, household, phone number" in timeline


# --- 6. search ----------------------------------------------------------------------------


def test_search_finds_curly_apostrophes_and_a_plus_44_phone_number(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    _log(client, csrf, enquirer_name="Sam O'Brien", phone="01782 234567")
    _log(client, csrf, enquirer_name="Kit O\u2019Neill", phone="+44 7700 900982")
    _log(client, csrf, enquirer_name="Someone Else", phone="01632 960000")
    for term, name in (
        ("O\u2019Brien", "Sam O&#39;Brien"),
        ("o\u2018brien", "Sam O&#39;Brien"),
        ("o'neill", "Kit O\u2019Neill"),
        ("+441782234567", "Sam O&#39;Brien"),
        ("+44 (0)1782 234567", "Sam O&#39;Brien"),
        ("07700 900982", "Kit O\u2019Neill"),
    ):
        page = client.get("/dashboard/enquiries", params={"q": term}).text
        assert "1 enquiry" in page and name in page, term


def test_a_search_too_long_is_an_error_and_lists_nothing(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    _log(client, csrf, enquirer_name="Ann")
    page = client.get("/dashboard/enquiries", params={"q": "a" * 101}).text
    assert "Enter 100 characters or fewer to search for" in page
    assert "0 enquiries" in page and "Ann" not in page.split('id="results"')[1]


# --- 7. the list's and the enquiry page's wording ----------------------------------------


def test_an_enquirys_back_link_returns_to_the_list_as_it_was_filtered(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _path(_log(client, csrf, enquirer_name="Ann Lee"))
    listing = client.get("/dashboard/enquiries?q=ann&status=open").text
    link = re.search(rf'href="({path}\?back=[^"]+)"', listing).group(1).replace("&amp;", "&")
    page = client.get(link).text
    assert 'href="/dashboard/enquiries?q=ann&amp;status=open" class="govuk-back-link"' in page
    # Carried through a form and its redirect.
    back = re.search(r'name="back" value="([^"]+)"', page).group(1).replace("&amp;", "&")
    moved = _move(client, csrf, path, 1, "first_contact", back=back)
    assert "back=" in moved.headers["location"]
    again = client.get(moved.headers["location"]).text
    assert 'href="/dashboard/enquiries?q=ann&amp;status=open" class="govuk-back-link"' in again
    # Only the list's own filters are read: never another site or page.
    for sent in ("//evil.example/x", "https://evil.example/", "next=/dashboard/settings"):
        page = client.get(path, params={"back": sent}).text
        assert 'href="/dashboard/enquiries" class="govuk-back-link"' in page, sent


def test_the_status_column_shows_the_status_and_an_overdue_tag_apart(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    _log(client, csrf, enquirer_name="Late", **_date("received_on", TODAY - timedelta(days=20)))
    row = client.get("/dashboard/enquiries").text.split('data-table="enquiries"')[1]
    assert re.search(r"Open\s*<strong class=\"govuk-tag govuk-tag--red\">Overdue</strong>", row)


def test_the_timeline_names_who_in_words_and_one_date_format(client, tokens, authorities):
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _path(_log(client, csrf))
    enquiry_id = _rows(authorities)[0].id
    with authorities.writing() as session:
        session.execute(
            update(EnquiryEvent)
            .where(EnquiryEvent.enquiry_id == enquiry_id)
            .values(recorded_at=datetime(2026, 7, 5, 16, 39, tzinfo=UTC))
        )
    timeline = client.get(path).text.split('id="timeline"')[1]
    received = TODAY - timedelta(days=3)
    # 16:39 UTC is 17:39 in London in July (British Summer Time).
    assert f"{received.day} {received:%b %Y}; recorded 5 Jul 2026 at 17:39" in timeline
    assert "by recruiter_stoke (recruiter)" in timeline and "recruiter:" not in timeline


def test_ethnic_groups_read_as_the_ons_names_them(client, tokens):
    _signed_in(client, tokens["recruiter_stoke"])
    form = client.get(NEW).text
    for words in (
        "White: English, Welsh, Scottish, Northern Irish or British",
        "Asian or Asian British: Indian",
        "Other ethnic group: Any other ethnic group",
    ):
        assert words in form
    assert "White: british" not in form and "Other ethnic group: any" not in form
