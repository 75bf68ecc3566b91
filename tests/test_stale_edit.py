"""A stale edit form never undoes a colleague's change: the form carries the values it was
opened with, so when someone else saved in between, the form comes back holding their
version with only this editor's own changes on top, and lists only the fields both changed.
Forms are sent as a browser sends them: every input the page holds, as the page holds it."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from tests.conftest import STOKE, bearer
from tests.test_dashboard_enquiries import _log, _rows, _signed_in


class _BrowserForm(HTMLParser):
    """The fields a browser would send from the page's form posting to `action`: inputs
    (checked boxes and radios only), selected options and text areas."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, list[tuple[str, str]]()
        self._select: str | None = None
        self._area: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action", "").endswith(self.action)
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._area = a.get("name")
            self.fields.append((self._area or "", ""))

    def handle_data(self, data: str) -> None:
        if self._area:
            self.fields[-1] = (self._area, self.fields[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._area = None


def _form(html: str, action: str) -> dict[str, Any]:
    parser = _BrowserForm(action)
    parser.feed(html)
    sent: dict[str, Any] = {}
    for name, value in parser.fields:
        held = sent.get(name)
        if held is None:
            sent[name] = value
        else:
            sent[name] = [*held, value] if isinstance(held, list) else [held, value]
    return sent


def _colleague_changes(client, tokens, enquiry_id: str, version: int, **fields: str) -> None:
    response = client.patch(
        f"/api/v1/authorities/{STOKE}/enquiries/{enquiry_id}",
        json=fields,
        headers=bearer(tokens["manager_stoke"]) | {"If-Match": f'"{version}"'},
    )
    assert response.status_code == 200, response.text


def _opened(client, tokens, **fields: str) -> tuple[str, str, dict[str, Any]]:
    csrf = _signed_in(client, tokens["recruiter_stoke"])
    path = _log(client, csrf, **fields).headers["location"].split("?")[0]
    return path, path.rsplit("/", 1)[1], _form(client.get(f"{path}/edit").text, "/edit")


def test_a_field_the_editor_left_alone_keeps_the_colleagues_change(client, tokens, authorities):
    path, enquiry_id, form = _opened(
        client, tokens, enquirer_name="Cy", phone="07700 900123", external_ref="R-1"
    )
    assert form["version"] == "1" and form["phone"] == "07700 900123"
    _colleague_changes(client, tokens, enquiry_id, 1, phone="07700 900777", external_ref="R-2")

    stale = client.post(f"{path}/edit", data=form | {"enquirer_name": "Cy Young"})
    assert stale.status_code == 409
    assert "Where you both changed a field" not in stale.text  # no field did
    again = _form(stale.text, "/edit")
    assert (again["version"], again["enquirer_name"]) == ("2", "Cy Young")
    assert (again["phone"], again["external_ref"]) == ("07700 900777", "R-2")
    row = _rows(authorities)[0]
    assert (row.enquirer_name, row.phone) == ("Cy", "07700 900777")  # nothing saved yet

    saved = client.post(f"{path}/edit", data=again, follow_redirects=False)
    assert saved.status_code == 303
    row = _rows(authorities)[0]
    assert (row.enquirer_name, row.phone, row.external_ref) == ("Cy Young", "07700 900777", "R-2")


def test_a_field_both_changed_is_listed_and_the_editors_value_offered(client, tokens, authorities):
    path, enquiry_id, form = _opened(client, tokens, enquirer_name="Di", email="di@example.org")
    _colleague_changes(client, tokens, enquiry_id, 1, email="di@theirs.example")

    stale = client.post(f"{path}/edit", data=form | {"email": "di@mine.example"})
    assert stale.status_code == 409
    table = stale.text.split("Where you both changed a field", 1)[1].split("</table>", 1)[0]
    assert "di@mine.example" in table and "di@theirs.example" in table
    assert "Name" not in table  # left alone by both
    again = _form(stale.text, "/edit")
    assert again["email"] == "di@mine.example"
    assert client.post(f"{path}/edit", data=again, follow_redirects=False).status_code == 303
    assert _rows(authorities)[0].email == "di@mine.example"


def test_a_form_refused_for_its_own_errors_keeps_the_values_it_was_opened_with(
    client, tokens, authorities
):
    path, enquiry_id, form = _opened(client, tokens, enquirer_name="Ed", phone="07700 900123")
    refused = client.post(f"{path}/edit", data=form | {"email": "not an email"})
    assert refused.status_code == 400
    again = _form(refused.text, "/edit")
    assert again["base.phone"] == "07700 900123" and again["email"] == "not an email"
    _colleague_changes(client, tokens, enquiry_id, 1, phone="07700 900777")
    stale = client.post(f"{path}/edit", data=again | {"email": "ed@example.org"})
    assert stale.status_code == 409
    assert _form(stale.text, "/edit")["phone"] == "07700 900777"
