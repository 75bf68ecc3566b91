"""What one enquiry's page shows: its details as a summary list, its timeline (every stage
and note, oldest first), and the forms it offers at its stage: move on, close with a
reason, reopen or move back, edit, and (managers) erase its personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.access import ACCESS
from api.dashboard.enquiry_forms import LABELS, choices, ethnicity_items
from api.dashboard.forms import Form
from api.dashboard.scope import Scope
from api.dashboard.tables import MISSING, label, long_date
from tracker.core.access import Role
from tracker.enquiries.queries import enquiry_history, get_enquiry
from tracker.enquiries.schemas import EnquiryRecord, EventRecord
from tracker.enquiries.stages import (
    LATER_STAGES,
    NEEDS_APPLICATION,
    STAGE_ORDER,
    ClosureReason,
    Stage,
    Status,
    WithdrawalReason,
    closure_reasons,
)
from tracker.enquiries.timeliness import LONDON
from tracker.enquiries.vocabulary import Ethnicity

ACTIONS = {
    "created": "Enquiry logged",
    "imported": "Imported from a spreadsheet",
    "advanced": "Moved on",
    "closed": "Closed",
    "reopened": "Reopened",
    "edited": "Details changed",
    "erased": "Personal data erased",
}
CLOSURE_WORDS = {
    ClosureReason.WITHDRAWN_BY_APPLICANT.value: "Withdrawn by the applicant",
    ClosureReason.WITHDRAWN_BY_SERVICE.value: "Withdrawn by the service (not suitable)",
    ClosureReason.REJECTED_AFTER_PANEL.value: "Rejected after panel",
    ClosureReason.NO_RESPONSE.value: "No response",
    ClosureReason.OTHER_AGENCY.value: "Went to another agency",
    ClosureReason.OTHER.value: "Other reason",
}
# Ofsted's reasons an applicant withdrew (AW1-AW5, AW0), as the return describes them.
WITHDRAWAL_WORDS = {
    WithdrawalReason.AW1.value: "Fostering was not as they expected",
    WithdrawalReason.AW2.value: "The assessment was not as they expected",
    WithdrawalReason.AW3.value: "Their household's circumstances changed (other than money)",
    WithdrawalReason.AW4.value: "They could not continue for financial reasons",
    WithdrawalReason.AW5.value: "They were worried about the risk of allegations",
    WithdrawalReason.AW0.value: "Another reason, or not known",
}
# Stored columns the forms have no field for (a stage's date, the closure), in words.
COLUMN_WORDS = {
    **{s.date_column: f"{label(s.value).lower()} date" for s in LATER_STAGES},
    "closed_on": "date closed",
    "closure_reason": "why it closed",
    "withdrawal_reason": "why the applicant withdrew",
}
ROLE_WORDS = {
    Role.RECRUITER.value: "recruiter",
    Role.MANAGER.value: "manager",
    Role.REGIONAL.value: "regional framework",
    Role.HUB.value: "recruitment hub",
    Role.ADMIN.value: "administrator",
}
CHANGED = "changed: "
"""How the history notes the fields an edit or an import changed ("changed: phone")."""


def field_words(column: str) -> str:
    """An enquiry column as the forms name it ("external_ref" -> "reference")."""
    return LABELS.get(column) or COLUMN_WORDS.get(column) or label(column).lower()


def actor_words(actor: str) -> str:
    """Who made a change, from the history's "role:name#token" ("recruiter:Sam#2" -> "Sam
    (recruiter)"); the service's own changes are "the service"."""
    role, _, rest = actor.partition(":")
    name = rest.rpartition("#")[0] if "#" in rest else rest
    if role not in ROLE_WORDS or not name:
        return actor
    if name == "system":
        return "the service"
    return f"{name} ({ROLE_WORDS[role]})"


def when_recorded(moment: datetime) -> str:
    """A stored time (UTC) as London's clock reads it: "5 Dec 2026 at 17:39"."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(LONDON)
    return f"{long_date(local.date())} at {local:%H:%M}"


def event_note(action: str, note: str | None) -> str | None:
    """The note of a history entry; the fields an edit or import changed in the forms' words."""
    if note and action in ("edited", "imported") and note.startswith(CHANGED):
        names = [field_words(n.strip()) for n in note.removeprefix(CHANGED).split(",")]
        words = ", ".join(names)
        return f"Changed {words}"
    return note


def title(record: EnquiryRecord) -> str:
    """ "Enquiry 123" (and its reference)."""
    ref = f" ({record.external_ref})" if record.external_ref else ""
    return f"Enquiry {record.id}{ref}"


def status_words(record: EnquiryRecord) -> str:
    """Where the enquiry stands, in words."""
    if record.status is Status.CLOSED:
        reason = CLOSURE_WORDS.get(record.closure_reason or "", MISSING)
        return f"Closed at {label(record.stage).lower()}: {reason.lower()}"
    if record.status is Status.APPROVED:
        return "Approved"
    return f"Open: {label(record.stage).lower()}"


def summary_rows(record: EnquiryRecord, edit_href: str | None) -> list[dict[str, Any]]:
    """The details as GOV.UK summary list rows (with a change link when it may be edited)."""
    ethnicity = (
        next(i["text"] for i in ethnicity_items(record.ethnicity.value) if i["selected"])
        if record.ethnicity is not None and record.ethnicity is not Ethnicity.NOT_STATED
        else ("Not stated" if record.ethnicity else MISSING)
    )
    values = [
        ("Name", record.enquirer_name or ("[erased]" if record.erased else MISSING)),
        ("Email address", record.email or MISSING),
        ("Phone number", record.phone or MISSING),
        ("Postcode district", record.postcode_district or MISSING),
        ("Received", long_date(record.received_on)),
        ("How it came in", label(record.channel.value)),
        ("Campaign", record.campaign or MISSING),
        ("Reference", record.external_ref or MISSING),
        (
            "Who would foster",
            label(record.household_type.value) if record.household_type else MISSING,
        ),
        ("Ethnic group", ethnicity),
        ("Kinds of fostering", ", ".join(label(i.value) for i in record.interests) or MISSING),
    ]
    rows = []
    for key, value in values:
        row: dict[str, Any] = {"key": {"text": key}, "value": {"text": value}}
        if edit_href:
            row["actions"] = {
                "items": [{"href": edit_href, "text": "Change", "visuallyHiddenText": key.lower()}]
            }
        rows.append(row)
    return rows


def stage_rows(record: EnquiryRecord) -> list[dict[str, Any]]:
    """Each stage reached with its date, and when the norms fall due."""
    rows = [{"key": {"text": "Enquiry received"}, "value": {"text": long_date(record.received_on)}}]
    for stage in LATER_STAGES:
        on = getattr(record, stage.date_column)
        if on is not None:
            rows.append({"key": {"text": label(stage.value)}, "value": {"text": long_date(on)}})
    if record.closed_on:
        rows.append({"key": {"text": "Closed"}, "value": {"text": long_date(record.closed_on)}})
    if record.status is Status.OPEN and record.stage is Stage.ENQUIRY:
        rows.append(
            {
                "key": {"text": "First contact due"},
                "value": {"text": long_date(record.first_contact_due)},
            }
        )
    if record.status is Status.OPEN and record.approval_due:
        rows.append(
            {"key": {"text": "Approval due"}, "value": {"text": long_date(record.approval_due)}}
        )
    return rows


def timeline(events: list[EventRecord]) -> list[dict[str, Any]]:
    """The history as a timeline, newest first."""
    return [
        {
            "title": ACTIONS.get(e.action, label(e.action))
            + (
                f": {label(e.stage.value).lower()}"
                if e.stage and e.action in ("advanced", "reopened")
                else ""
            ),
            "on": long_date(e.on) if e.on else None,
            "recorded": when_recorded(e.recorded_at),
            "actor": actor_words(e.actor),
            "note": event_note(e.action, e.note),
        }
        for e in reversed(events)
    ]


def history_lines(events: list[EventRecord] | None) -> list[str]:
    """History entries as one line each, in the timeline's words and order of time (the
    changes a stale form is told of)."""
    lines = []
    for t in reversed(timeline(events or [])):
        line = f"{t['actor']}, {t['recorded']}: {t['title']}"
        lines.append(f"{line}: {t['note']}" if t["note"] else line)
    return lines


def next_stages(record: EnquiryRecord) -> list[dict[str, Any]]:
    """The stages an open enquiry can move on to (those needing an application only once it
    has one); none is chosen, so a stage is picked on purpose."""
    if record.status is not Status.OPEN:
        return []
    allowed = [
        s
        for s in STAGE_ORDER[record.stage.rank + 1 :]
        if s not in NEEDS_APPLICATION or record.application_on is not None or s is Stage.APPLICATION
    ]
    return [{"value": s.value, "text": label(s.value)} for s in allowed]


def back_stages(record: EnquiryRecord) -> list[dict[str, Any]]:
    """The stages a closed enquiry can reopen at, or an open or approved one move back to
    (reached ones, as the service's reopening allows)."""
    reached = [s for s in STAGE_ORDER if s is Stage.ENQUIRY or getattr(record, s.date_column)]
    if record.status is not Status.CLOSED:
        reached = [s for s in reached if s.rank < record.stage.rank]
    return [
        {"value": s.value, "text": label(s.value), "checked": s is record.stage}
        for s in reversed(reached)
    ]


def withdrawal_reasons(record: EnquiryRecord, chosen: str | None) -> list[dict[str, Any]]:
    """The radios of why an applicant withdrew, once the enquiry has reached application
    (none before: the enquirer is not an applicant yet); "not recorded" unless chosen."""
    if record.status is not Status.OPEN or record.stage.rank < Stage.APPLICATION.rank:
        return []
    items = [{"value": "", "text": "Not recorded", "checked": not chosen}]
    return items + [
        {"value": code, "text": words, "checked": code == chosen}
        for code, words in WITHDRAWAL_WORDS.items()
    ]


def enquiry_page_context(
    session: Session,
    scope: Scope,
    code: str,
    enquiry_id: int,
    today: date,
    form: Form,
    failed: str | None,
    *,
    list_path: str | None = None,
    back: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """Everything the enquiry page shows; `failed` names the form whose errors `form` holds,
    `list_path` the list to go back to and `back` its filters (carried through the forms)."""
    record = get_enquiry(session, code, enquiry_id, today)
    base = f"/dashboard/enquiries/{enquiry_id}"
    may_erase = scope.caller.role in ACCESS["enquiries.erase"]
    return {
        "record": record,
        "heading": title(record),
        "status": status_words(record),
        "details": summary_rows(record, scope.link(f"{base}/edit")),
        "stages": stage_rows(record),
        "timeline": timeline(enquiry_history(session, code, enquiry_id)),
        "next_stages": next_stages(record),
        "back_stages": back_stages(record),
        "reasons": choices(
            closure_reasons(record.stage),
            form.text("reason") if failed == "close" else None,
            words=CLOSURE_WORDS,
        ),
        "withdrawal_reasons": withdrawal_reasons(
            record, form.text("withdrawal_reason") if failed == "close" else None
        ),
        "form": form,
        "failed": failed,
        "on_parts": form.date_parts("on", today if failed is None else None),
        "today_parts": Form().date_parts("on", today),
        "actions": {
            name: scope.link(f"{base}/{name}")
            for name in ("stage", "close", "reopen", "edit", "erase")
        },
        "may_erase": may_erase and not record.erased,
        "list_path": list_path or scope.link("/dashboard/enquiries"),
        "back": back,
        "labels": LABELS,
        "conflict_since": None,
        "history_lines": history_lines,
        **extra,
    }
