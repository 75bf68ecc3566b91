"""The enquiry forms: what each field is called and says when it is wrong, and the
submitted form read into the same structs the JSON API takes (`NewEnquiry`,
`EnquiryChanges`, `StageMove`, `Closure`, `Reopening`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from api.dashboard.forms import Form
from api.dashboard.tables import label
from tracker.enquiries.schemas import (
    Closure,
    EnquiryChanges,
    EnquiryRecord,
    NewEnquiry,
    Reopening,
    StageMove,
)
from tracker.enquiries.stages import ClosureReason
from tracker.enquiries.vocabulary import ETHNICITY_WORDS, Ethnicity

DETAIL_FIELDS = (
    "enquirer_name",
    "email",
    "phone",
    "postcode_district",
    "household_type",
    "ethnicity",
    "campaign",
    "external_ref",
)
LABELS: dict[str, str] = {
    "received_on": "date received",
    "channel": "how the enquiry came in",
    "enquirer_name": "name",
    "email": "email address",
    "phone": "phone number",
    "postcode_district": "postcode district",
    "household_type": "household",
    "ethnicity": "ethnic group",
    "interests": "kinds of fostering",
    "campaign": "campaign",
    "external_ref": "reference",
    "note": "note",
    "stage": "stage",
    "on": "date",
    "reason": "reason",
}
MESSAGES: dict[str, str] = {
    "received_on": "Enter the date the enquiry was received",
    "channel": "Select how the enquiry came in",
    "enquirer_name": "Enter a name of 200 characters or fewer, on one line without tabs",
    "email": "Enter an email address in the correct format, like name@example.com",
    "phone": "Enter a phone number, like 01782 234567 or +44 7700 900982",
    "postcode_district": "Enter the first part of the postcode only, like ST4",
    "household_type": "Select who would foster",
    "ethnicity": "Select an ethnic group from the list",
    "interests": "Select kinds of fostering from the list",
    "campaign": "Enter a campaign of 80 characters or fewer, on one line without tabs",
    "external_ref": "Enter a reference of 64 characters or fewer, on one line without tabs",
    "note": "Enter a note of 2,000 characters or fewer",
    "stage": "Select the stage",
    "reason": "Select why the enquiry closed",
    "withdrawal_reason": "Select why the applicant withdrew from the list",
}
APPLICANT_WITHDREW = ClosureReason.WITHDRAWN_BY_APPLICANT.value
WITHDRAWAL_ONLY = (
    "Select why the applicant withdrew only when the enquiry closed because the applicant "
    "withdrew, or choose not recorded"
)
ETHNIC_GROUPS = {
    "white": "White",
    "mixed": "Mixed or multiple ethnic groups",
    "asian": "Asian or Asian British",
    "black": "Black, Black British, Caribbean or African",
    "other": "Other ethnic group",
}


def choices(
    codes: Iterable[Any], chosen: Any = None, *, words: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Radio or checkbox items for a vocabulary (`chosen`: a value or a list of values)."""
    picked = {str(c) for c in chosen} if isinstance(chosen, list) else {str(chosen)}
    words = words or {}
    return [
        {"value": c.value, "text": words.get(c.value) or label(c.value), "checked": c in picked}
        for c in codes
    ]


def ethnicity_items(chosen: str | None) -> list[dict[str, Any]]:
    """The select's options: ONS 2021 groups, "not given" first."""
    items = [{"value": "", "text": "Not given", "selected": not chosen}]
    for code in Ethnicity:
        group = code.value.partition("_")[0]
        detail = ETHNICITY_WORDS[code]
        text = detail if code is Ethnicity.NOT_STATED else f"{ETHNIC_GROUPS[group]}: {detail}"
        items.append({"value": code.value, "text": text, "selected": code.value == chosen})
    return items


def _details(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in DETAIL_FIELDS:
        values[name] = form.text(name)
    values["interests"] = form.values("interests")
    return values


def new_enquiry(form: Form, today: date) -> NewEnquiry | None:
    """A new enquiry from the form (None when the form has errors, each on its field)."""
    values = {k: v for k, v in _details(form).items() if v not in (None, [])}
    received = form.date("received_on", LABELS["received_on"], required=True)
    if received is not None:
        values["received_on"] = received
    if form.text("channel"):
        values["channel"] = form.text("channel")
    if form.text("note"):
        values["note"] = form.text("note")
    return form.check(NewEnquiry, values, MESSAGES)


def changes(form: Form) -> EnquiryChanges | None:
    """An edit from the form: every field of the form, empty ones cleared."""
    values = _details(form)
    received = form.date("received_on", LABELS["received_on"], required=True)
    if received is not None:
        values["received_on"] = received
    values["channel"] = form.text("channel")
    if values["channel"] is None:
        form.errors.add("channel", MESSAGES["channel"])
    return form.check(EnquiryChanges, values, MESSAGES)


def stage_move(form: Form) -> StageMove | None:
    """A move forward: the stage, the day it was reached (default today), a note."""
    values: dict[str, Any] = {"stage": form.text("stage"), "note": form.text("note")}
    values["on"] = form.date("on", "date the stage was reached")
    return form.check(StageMove, {k: v for k, v in values.items() if v is not None}, MESSAGES)


def closure(form: Form) -> Closure | None:
    """A closure: the reason, the day (default today), a note, and why an applicant withdrew
    (only with the applicant's own withdrawal)."""
    values: dict[str, Any] = {"reason": form.text("reason"), "note": form.text("note")}
    values["on"] = form.date("on", "date the enquiry closed")
    values["withdrawal_reason"] = form.text("withdrawal_reason")
    if values["withdrawal_reason"] and values["reason"] not in (None, APPLICANT_WITHDREW):
        form.errors.add("withdrawal_reason", WITHDRAWAL_ONLY)
    return form.check(Closure, {k: v for k, v in values.items() if v is not None}, MESSAGES)


def reopening(form: Form) -> Reopening | None:
    """Reopening, or moving back: the stage (default the current one), a note."""
    values = {"stage": form.text("stage"), "note": form.text("note")}
    return form.check(Reopening, {k: v for k, v in values.items() if v is not None}, MESSAGES)


def shown_values(form: Form, record: EnquiryRecord | None, today: date) -> dict[str, Any]:
    """What the enquiry form shows: what was sent, else the stored enquiry, else defaults
    (received today)."""
    if form.data:
        shown = {name: form.text(name) or "" for name in (*DETAIL_FIELDS, "channel", "note")}
        shown["interests"] = form.values("interests")
        shown["received_on"] = form.date_parts("received_on", None)
        return shown
    if record is None:
        shown = dict.fromkeys((*DETAIL_FIELDS, "channel", "note"), "")
        shown["interests"] = []
        shown["received_on"] = form.date_parts("received_on", today)
        return shown
    shown = {name: _text(getattr(record, name)) for name in (*DETAIL_FIELDS, "channel")}
    shown["note"] = ""
    shown["interests"] = [i.value for i in record.interests]
    shown["received_on"] = form.date_parts("received_on", record.received_on)
    return shown


BASE = "base."
"""Prefix of the edit form's hidden copies of the values it was opened with: a conflict's
three-way merge (tracker/enquiries/conflicts.py) tells the fields the editor changed from
those the editor left alone."""


def base_inputs(shown: dict[str, Any]) -> list[tuple[str, str]]:
    """The hidden inputs (name, value) that carry `shown` (shown_values' form) as the base."""
    inputs = [(BASE + name, shown[name]) for name in (*DETAIL_FIELDS, "channel")]
    inputs += [(BASE + "interests", value) for value in shown["interests"]]
    inputs += [(f"{BASE}received_on-{p}", v) for p, v in shown["received_on"].items()]
    return inputs


def _base_form(form: Form) -> Form | None:
    sent = {k.removeprefix(BASE): v for k, v in form.data.items() if k.startswith(BASE)}
    return Form(sent) if sent else None


def base_of(form: Form) -> EnquiryChanges | None:
    """The values the edit form was opened with, from its hidden inputs (None when they are
    missing or do not read as an enquiry's details: the merge then keeps every edit)."""
    base = _base_form(form)
    return changes(base) if base is not None and base.text("channel") else None


def base_shown(form: Form, today: date) -> dict[str, Any] | None:
    """The hidden base inputs as sent, to send again with a form shown once more."""
    base = _base_form(form)
    return shown_values(base, None, today) if base is not None else None


def merged_form(form: Form, merged: EnquiryChanges) -> Form:
    """The submitted form with the merge's values in place of the editor's (the note and
    the form's own fields kept)."""
    data = dict(form.data)
    for name in (*DETAIL_FIELDS, "channel"):
        data[name] = _text(getattr(merged, name))
    data["interests"] = [_text(i) for i in merged.interests or []]
    day = merged.received_on
    if isinstance(day, date):
        data.update({f"received_on-{p}": str(getattr(day, p)) for p in ("day", "month", "year")})
    return Form(data)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def shown_value(value: Any) -> str:
    """A field's value as the conflict table shows it."""
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(label(_text(v)) for v in value)
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return label(_text(value)) if hasattr(value, "value") else str(value)
