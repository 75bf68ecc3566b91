"""What the register pages show: the list's filters read from the address, one household's
details, placements and places not available, and its forms (record a child placed, end a
placement, change the household, mark places not available, end such a period) read into
the structs the JSON API takes, with the domain's refusals in words."""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Annotated, Any

import msgspec
from sqlalchemy.orm import Session

from api.dashboard.capacity import age_band_label
from api.dashboard.enquiry_forms import ethnicity_items
from api.dashboard.enquiry_list import LAST_PAGE
from api.dashboard.forms import Form, plain
from api.dashboard.tables import MISSING, label, long_date
from tracker.core.errors import DomainError
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import (
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
    UnavailableReason,
)
from tracker.households.placements import list_placements
from tracker.households.queries import covers, get_household
from tracker.households.schemas import (
    ChildRef,
    HouseholdChange,
    HouseholdRecord,
    NewPlacement,
    NewUnavailability,
    PlacementEnd,
)
from tracker.households.unavailability import list_unavailability

LIST = "/dashboard/households"
PER_PAGE = 25
FILTER_FIELDS = ("care_type", "status", "sort")
CHILD_REF_WORDS = (
    "The child's reference must be 3 to 40 letters, digits and dashes"
    " (a pseudonymous reference, never a name)"
)


DEREGISTRATION_WORDS = {
    DeregistrationReason.RESIGNED: "The carers resigned",
    DeregistrationReason.RETIRED: "The carers retired",
    DeregistrationReason.MOVED_AGENCY: "The carers moved to another fostering service",
    DeregistrationReason.STANDARDS_CONCERN: "Concerns about standards of care",
    DeregistrationReason.OTHER: "Another reason",
}
UNAVAILABLE_WORDS = {
    UnavailableReason.CARER_CIRCUMSTANCES: "The carers' circumstances",
    UnavailableReason.MATCHED_PENDING: "Matched with a child who has not moved in yet",
    UnavailableReason.UNDER_INVESTIGATION: "Under investigation",
    UnavailableReason.HOUSEHOLD_ON_HOLD: "The household is on hold",
    UnavailableReason.OTHER: "Another reason",
}


class HouseholdChangeKind(enum.StrEnum):
    """What the "change this household" form changes (one thing at a time)."""

    HOLD = "hold"
    BACK = "back"
    PLACES = "places"
    DEREGISTER = "deregister"


# The changes that make sense from each status (a deregistered household takes none).
CHANGES_FROM: dict[HouseholdStatus, tuple[HouseholdChangeKind, ...]] = {
    HouseholdStatus.ACTIVE: (
        HouseholdChangeKind.HOLD,
        HouseholdChangeKind.PLACES,
        HouseholdChangeKind.DEREGISTER,
    ),
    HouseholdStatus.ON_HOLD: (
        HouseholdChangeKind.BACK,
        HouseholdChangeKind.PLACES,
        HouseholdChangeKind.DEREGISTER,
    ),
    HouseholdStatus.DEREGISTERED: (),
}
CHANGE_WORDS = {
    HouseholdChangeKind.HOLD: "Put it on hold",
    HouseholdChangeKind.BACK: "Take it off hold: it is back to fostering",
    HouseholdChangeKind.PLACES: "Change its approved places",
    HouseholdChangeKind.DEREGISTER: "Deregister it",
}
# The banner each change ends with (`api.dashboard.rendering.BANNERS`).
CHANGE_DONE = {
    HouseholdChangeKind.HOLD: "household-on-hold",
    HouseholdChangeKind.BACK: "household-back",
    HouseholdChangeKind.PLACES: "places-changed",
    HouseholdChangeKind.DEREGISTER: "household-deregistered",
}
PLACES_WORDS = "Approved places must be a whole number from 0 to 12"
UNAVAILABLE_PLACES_WORDS = "The number of places must be a whole number from 1 to 12"


class RegisterSort(enum.StrEnum):
    """The orders the register list offers."""

    NEWEST = "newest"
    REFERENCE = "reference"


SORT_WORDS = {RegisterSort.NEWEST: "Latest approved first", RegisterSort.REFERENCE: "Reference"}


class RegisterQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The list's filters as the address gives them."""

    care_type: HouseholdCareType | None = None
    status: HouseholdStatus | None = None
    sort: RegisterSort = RegisterSort.NEWEST
    page: Annotated[int, msgspec.Meta(ge=1, le=LAST_PAGE)] = 1


QUERY_MESSAGES = {
    "care_type": "Select a care type from the list",
    "status": "Select a status from the list",
    "sort": "Select an order from the list",
    "page": f"The page number must be a whole number from 1 to {LAST_PAGE:,}",
}
OPTION_SETS: dict[str, tuple[type[enum.StrEnum], dict[Any, str]]] = {
    "care_type": (HouseholdCareType, {}),
    "status": (HouseholdStatus, {}),
    "sort": (RegisterSort, SORT_WORDS),
}


def path(household_id: int, action: str = "") -> str:
    """The page of one household (or one of its forms)."""
    return f"{LIST}/{household_id}" + (f"/{action}" if action else "")


def read_query(params: dict[str, str]) -> tuple[Form, RegisterQuery, dict[str, str]]:
    """The filters of the address (a bad one is an error on its field and is left out), and
    those worth keeping in the pages' links."""
    form = Form(params)
    values = {name: form.text(name) for name in (*FILTER_FIELDS, "page")}
    values = {name: value for name, value in values.items() if value is not None}
    query = form.check(RegisterQuery, values, QUERY_MESSAGES)
    if query is None:
        good = {name: value for name, value in values.items() if name not in form.errors}
        query = msgspec.convert(good, RegisterQuery, strict=False)
    kept = {
        name: v for name in FILTER_FIELDS if (v := values.get(name)) and name not in form.errors
    }
    return form, query, kept


def options(name: str, selected: Any) -> list[dict[str, Any]]:
    """A filter's select options, the chosen one selected."""
    codes, words = OPTION_SETS[name]
    return [
        {"value": c.value, "text": words.get(c) or label(c.value), "selected": c == selected}
        for c in codes
    ]


def _ethnicity_words(code: Ethnicity | None) -> str:
    if code is None:
        return MISSING
    if code is Ethnicity.NOT_STATED:
        return "Not stated"
    return next(i["text"] for i in ethnicity_items(code.value) if i["selected"])


def detail_rows(record: HouseholdRecord) -> list[dict[str, Any]]:
    """The household's details as GOV.UK summary list rows."""
    status = label(record.status.value)
    if record.deregistration_reason is not None:
        status += f" ({DEREGISTRATION_WORDS[record.deregistration_reason].lower()})"
    values = [
        ("Reference", record.reference),
        ("Care type", label(record.care_type.value)),
        ("Status", status),
        ("Approved on", long_date(record.approved_on)),
        ("Approved places", str(record.approved_places)),
        ("Children placed", str(record.filled_places)),
        ("Vacant places", str(record.vacant_places)),
        ("Places not available", str(record.unavailable_places)),
        ("Ages", f"{record.age_min} to {record.age_max}"),
        ("Terms of approval", ", ".join(label(t.value) for t in record.terms) or MISSING),
        ("Last annual review", long_date(record.last_review_on)),
        ("Carers", str(record.carers) if record.carers is not None else MISSING),
        (
            "Carers' age bands",
            ", ".join(age_band_label(b.value) for b in record.carers_age_bands) or MISSING,
        ),
        (
            "Carers with a disability",
            str(record.carers_disabled) if record.carers_disabled is not None else MISSING,
        ),
        ("Carers' ethnic group", _ethnicity_words(record.carers_ethnicity)),
    ]
    return [{"key": {"text": k}, "value": {"text": v}} for k, v in values]


def new_placement(form: Form, today: date) -> NewPlacement | None:
    """The "record a child placed" form as the API's `NewPlacement` (None: errors recorded)."""
    child_ref = form.text("child_ref")
    if child_ref is None:
        form.errors.add("child_ref", "Enter the child's reference")
    else:
        try:
            msgspec.convert(child_ref, ChildRef)
        except msgspec.ValidationError:
            form.errors.add("child_ref", CHILD_REF_WORDS)
    start_on = form.date("start_on", "start date", required=True)
    values = {"child_ref": child_ref, "start_on": start_on}
    return form.check(
        NewPlacement,
        {k: v for k, v in values.items() if v is not None},
        {"child_ref": CHILD_REF_WORDS},
    )


def placement_end(form: Form) -> PlacementEnd | None:
    """The "end this placement" form as the API's `PlacementEnd` (None: errors recorded)."""
    end_on = form.date("end_on", "end date", required=True)
    return None if end_on is None else PlacementEnd(end_on=end_on)


def _fits(struct: type[msgspec.Struct], name: str, value: str | None) -> bool:
    """Whether a field's text is a value the API's struct takes for `name`."""
    kind = next(f.type for f in msgspec.structs.fields(struct) if f.name == name)
    try:
        msgspec.convert(value, kind, strict=False)
    except msgspec.ValidationError:
        return False
    return value is not None


def household_change(
    form: Form, record: HouseholdRecord
) -> tuple[HouseholdChangeKind, HouseholdChange] | None:
    """The "change this household" form as the API's `HouseholdChange`, and which change it
    is (None: errors recorded). Only the field of the chosen change is read, so the form
    works with every field shown (without JavaScript)."""
    effective_on = form.date("effective_on", "date of the change", required=True)
    chosen = form.text("change")
    kind = next((k for k in CHANGES_FROM[record.status] if k.value == chosen), None)
    values: dict[str, Any] = {"effective_on": effective_on}
    if kind is None:
        form.errors.add("change", "Select what changes")
    elif kind is HouseholdChangeKind.HOLD:
        values["status"] = HouseholdStatus.ON_HOLD
    elif kind is HouseholdChangeKind.BACK:
        values["status"] = HouseholdStatus.ACTIVE
    elif kind is HouseholdChangeKind.PLACES:
        values["approved_places"] = form.text("approved_places")
        if not _fits(HouseholdChange, "approved_places", values["approved_places"]):
            form.errors.add("approved_places", PLACES_WORDS)
    else:
        values["status"] = HouseholdStatus.DEREGISTERED
        values["deregistration_reason"] = form.text("deregistration_reason")
        if not _fits(HouseholdChange, "deregistration_reason", values["deregistration_reason"]):
            form.errors.add("deregistration_reason", "Select why the household was deregistered")
    if form.errors or kind is None:
        return None
    return kind, msgspec.convert(values, HouseholdChange, strict=False)


def new_unavailability(form: Form) -> NewUnavailability | None:
    """The "mark places not available" form as the API's `NewUnavailability` (None: errors
    recorded)."""
    values = {"places": form.text("places"), "reason": form.text("reason")}
    if not _fits(NewUnavailability, "places", values["places"]):
        form.errors.add("places", UNAVAILABLE_PLACES_WORDS)
    if not _fits(NewUnavailability, "reason", values["reason"]):
        form.errors.add("reason", "Select why the places are not available")
    values["start_on"] = form.date("from_on", "start date", required=True)
    values["end_on"] = form.date("until_on", "end date")
    if form.errors:
        return None
    return msgspec.convert(values, NewUnavailability, strict=False)


def unavailability_end(form: Form) -> PlacementEnd | None:
    """The "end this period" form as the API's `PlacementEnd` (None: errors recorded)."""
    end_on = form.date("end_on", "end date", required=True)
    return None if end_on is None else PlacementEnd(end_on=end_on)


def refused_in_words(
    form: Form, error: DomainError, fields: dict[str, str], words: dict[str, str], fallback: str
) -> None:
    """A refusal of the domain on the form's field (`fields`: the API's field to the form's),
    its field codes in `words`."""
    codes = re.compile(r"\b(" + "|".join(words) + r")\b")
    message = codes.sub(lambda m: words[m.group(0)], error.message)
    message = plain(re.sub(r"\bhousehold \d+\b", "the household", message))
    form.errors.add(fields.get(error.field or "", fallback), message)


CHANGE_FIELDS = {
    "effective_on": "effective_on",
    "approved_places": "approved_places",
    "deregistration_reason": "deregistration_reason",
}
CHANGE_FIELD_WORDS = {"effective_on": "the date of the change"}
MARK_FIELDS = {"start_on": "from_on", "end_on": "until_on", "places": "places"}
MARK_FIELD_WORDS = {"start_on": "the start date", "end_on": "the end date"}
END_FIELD_WORDS = {"start_on": "the start date of the period", "end_on": "the end date"}

FIELD_WORDS = {"start_on": "the start date", "end_on": "the end date"}
FIELD_CODES = re.compile(r"\b(" + "|".join(FIELD_WORDS) + r")\b")


def refusal(
    form: Form,
    error: DomainError,
    record: HouseholdRecord,
    fallback: str,
    placed_on: date | None = None,
) -> None:
    """A refusal of the domain on the form's field, in plain words (`placed_on`: the start
    of the placement being ended)."""
    field = error.field if error.field in ("child_ref", "start_on", "end_on") else fallback
    start = form.date("start_on", "start date") if fallback == "child_ref" else None
    if error.rule == "household_not_active" and start and start < record.approved_on:
        words = (
            "The start date must be on or after the day the household was approved,"
            f" {long_date(record.approved_on)}"
        )
    elif placed_on is not None and error.field == "end_on" and "after start_on" in error.message:
        words = f"The end date must be after the day the child was placed, {long_date(placed_on)}"
    else:
        message = FIELD_CODES.sub(lambda m: FIELD_WORDS[m.group(0)], error.message)
        words = plain(re.sub(r"\bhousehold \d+\b", "the household", message))
    form.errors.add(field, words)


def page_context(
    session: Session,
    code: str,
    household_id: int,
    today: date,
    form: Form,
    failed: str | None,
    failed_placement: int | None = None,
    failed_period: int | None = None,
) -> dict[str, Any]:
    """Everything the household page shows; `failed` names the form whose errors `form`
    holds ("place", "end" of `failed_placement`, "change", "unavailable", or "available"
    of `failed_period`)."""
    record = get_household(session, code, household_id, today)
    placements = list_placements(session, code, household_id)
    running = [p for p in placements if covers(p.start_on, p.end_on, today)]
    ended = [p for p in placements if p.end_on is not None and p.end_on <= today]
    today_parts = Form().date_parts("start_on", today)
    shown = form if failed in ("change", "unavailable") else Form()
    end_anchor = (
        f"end-{failed_placement}-day" if failed == "end" else f"period-{failed_period}-end-day"
    )
    return {
        "record": record,
        "heading": f"Household {record.reference}",
        "details": detail_rows(record),
        "running": running,
        "ended": sorted(ended, key=lambda p: (p.end_on, p.id), reverse=True),
        "form": form,
        "failed": failed,
        "failed_placement": failed_placement,
        "start_parts": form.date_parts("start_on", today) if failed == "place" else today_parts,
        "end_parts": form.date_parts("end_on", today) if failed == "end" else today_parts,
        "today_parts": today_parts,
        "long_date": long_date,
        "periods": list_unavailability(session, code, household_id, today),
        "failed_period": failed_period,
        "period_end_parts": form.date_parts("end_on", today) if failed == "available" else None,
        "changes": [
            {"value": k.value, "text": CHANGE_WORDS[k], "checked": shown.text("change") == k}
            for k in CHANGES_FROM[record.status]
        ],
        "effective_parts": shown.date_parts("effective_on", today),
        "approved_places_shown": shown.text("approved_places") or "",
        "deregistration_reasons": _reason_items(
            DEREGISTRATION_WORDS, shown.text("deregistration_reason")
        ),
        "unavailable_reasons": _reason_items(UNAVAILABLE_WORDS, shown.text("reason")),
        "unavailable_words": UNAVAILABLE_WORDS,
        "places_shown": shown.text("places") or "",
        "from_parts": shown.date_parts("from_on", today),
        "until_parts": shown.date_parts("until_on", None),
        "anchors": {
            "start_on": "start_on-day",
            "end_on": end_anchor,
            "effective_on": "effective_on-day",
            "from_on": "from_on-day",
            "until_on": "until_on-day",
        },
    }


def _reason_items(words: dict[Any, str], chosen: str | None) -> list[dict[str, Any]]:
    """A reason's radio items, in the domain's order, the chosen one checked."""
    return [
        {"value": code.value, "text": text, "checked": code.value == chosen}
        for code, text in words.items()
    ]
