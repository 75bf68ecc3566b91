"""What the Ofsted return needs recorded: an applicant's withdrawal reason on a closure (AW0-AW5)
and each household's carers (number, age bands, disability), through the API and the
spreadsheet imports, on SQLite and PostgreSQL. Old requests and files keep working."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from tests.conftest import STOKE, bearer
from tracker.enquiries.stages import ClosureReason, WithdrawalReason, withdrawal_code
from tracker.enquiries.timeliness import london_today

TODAY = london_today()
ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries"
HOUSEHOLDS = f"/api/v1/authorities/{STOKE}/households"


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


@pytest.fixture
def recruiter(tokens: dict[str, str]) -> dict[str, str]:
    return bearer(tokens["recruiter_stoke"])


@pytest.fixture
def manager(tokens: dict[str, str]) -> dict[str, str]:
    return bearer(tokens["manager_stoke"])


def applicant(client, headers, stage: str = "application") -> int:
    """An enquiry received 300 days ago that reached `stage` (application 200 days ago)."""
    body = {"received_on": days_ago(300), "channel": "phone"}
    enquiry = client.post(ENQUIRIES, json=body, headers=headers).json()
    path = ["first_contact", "initial_visit", "application", "stage_1", "stage_2", "panel"]
    for step, ago in zip(
        path[: path.index(stage) + 1], (290, 250, 200, 150, 100, 50), strict=False
    ):
        moved = client.post(
            f"{ENQUIRIES}/{enquiry['id']}/stage",
            json={"stage": step, "on": days_ago(ago)},
            headers=headers,
        )
        assert moved.status_code == 200, moved.text
    return enquiry["id"]


def close(client, headers, enquiry_id: int, **body):
    return client.post(f"{ENQUIRIES}/{enquiry_id}/close", json=body, headers=headers)


# --- withdrawal reasons ----------------------------------------------------------------------


def test_unrecorded_applicant_closures_count_as_aw0_and_service_ones_not_at_all() -> None:
    assert withdrawal_code(ClosureReason.WITHDRAWN_BY_APPLICANT, None) is WithdrawalReason.AW0
    assert withdrawal_code(ClosureReason.NO_RESPONSE, WithdrawalReason.AW4) is WithdrawalReason.AW4
    assert withdrawal_code(ClosureReason.OTHER_AGENCY, None) is WithdrawalReason.AW0
    assert withdrawal_code(ClosureReason.WITHDRAWN_BY_SERVICE, None) is None
    assert withdrawal_code(ClosureReason.REJECTED_AFTER_PANEL, None) is None


def test_an_applicant_withdrawal_keeps_its_reason_until_reopened(client, recruiter) -> None:
    enquiry_id = applicant(client, recruiter, "stage_1")

    closed = close(
        client, recruiter, enquiry_id, reason="withdrawn_by_applicant", withdrawal_reason="AW3"
    )

    assert closed.status_code == 200, closed.text
    assert closed.json()["withdrawal_reason"] == "AW3"
    history = client.get(f"{ENQUIRIES}/{enquiry_id}/history", headers=recruiter).json()
    assert history[-1]["action"] == "closed"
    reopened = client.post(f"{ENQUIRIES}/{enquiry_id}/reopen", json={}, headers=recruiter)
    assert reopened.json()["withdrawal_reason"] is None
    plain = close(client, recruiter, enquiry_id, reason="no_response")
    assert plain.status_code == 200 and plain.json()["withdrawal_reason"] is None


@pytest.mark.parametrize(
    ("stage", "body", "rule"),
    [
        (
            "initial_visit",
            {"reason": "withdrawn_by_applicant", "withdrawal_reason": "AW1"},
            "withdrawal_reason_needs_application",
        ),
        (
            "stage_2",
            {"reason": "withdrawn_by_service", "withdrawal_reason": "AW5"},
            "withdrawal_reason_applicant_only",
        ),
    ],
    ids=["before-application", "service-closure"],
)
def test_a_withdrawal_reason_that_does_not_fit_is_refused_and_changes_nothing(
    client, recruiter, stage, body, rule
) -> None:
    enquiry_id = applicant(client, recruiter, stage)

    refused = close(client, recruiter, enquiry_id, **body)

    assert refused.status_code == 409, refused.text
    assert (refused.json()["rule"], refused.json()["field"]) == (rule, "withdrawal_reason")
    stored = client.get(f"{ENQUIRIES}/{enquiry_id}", headers=recruiter).json()
    assert stored["status"] == "open" and stored["withdrawal_reason"] is None


def test_an_unknown_withdrawal_code_is_a_4xx_naming_the_field(client, recruiter) -> None:
    enquiry_id = applicant(client, recruiter)

    refused = close(client, recruiter, enquiry_id, reason="other", withdrawal_reason="AW9")

    assert refused.status_code == 400, refused.text
    assert "withdrawal_reason" in refused.text


ENQUIRY_HEADER = (
    "external_ref,received_on,channel,first_contact_on,application_on,closed_on,"
    "closure_reason,withdrawal_reason"
)


def import_enquiries(client, headers, rows: list[str]):
    body = "\n".join([ENQUIRY_HEADER, *rows]) + "\n"
    return client.post(
        f"{ENQUIRIES}/import", content=body.encode(), headers=headers | {"content-type": "text/csv"}
    )


def test_the_enquiry_import_takes_withdrawal_reasons_and_the_export_gives_them(
    client, manager
) -> None:
    received, applied, closed = days_ago(300), days_ago(200), days_ago(100)
    rows = [
        f"R-1,{received},phone,{received},{applied},{closed},withdrawn_by_applicant,aw2",
        f"R-2,{received},phone,{received},{applied},{closed},withdrawn_by_applicant,",
    ]

    first = import_enquiries(client, manager, rows)
    again = import_enquiries(client, manager, rows)

    assert first.status_code == 200, first.text
    assert (first.json()["created"], again.json()["unchanged"]) == (2, 2)
    exported = client.get(f"{ENQUIRIES}/export?format=csv", headers=manager).text
    by_ref = {row["external_ref"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert (by_ref["R-1"]["withdrawal_reason"], by_ref["R-2"]["withdrawal_reason"]) == ("AW2", "")


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("R-3,{r},phone,{r},{a},,,AW1", "withdrawal_reason"),
        ("R-3,{r},phone,{r},,{c},withdrawn_by_applicant,AW1", "withdrawal_reason"),
        ("R-3,{r},phone,{r},{a},{c},withdrawn_by_service,AW1", "withdrawal_reason"),
        ("R-3,{r},phone,{r},{a},{c},other,AW7", "withdrawal_reason"),
    ],
    ids=["no-closure", "no-application", "service-closure", "unknown-code"],
)
def test_an_import_row_with_a_misplaced_withdrawal_reason_is_refused_whole(
    client, manager, row, column
) -> None:
    good = f"R-4,{days_ago(300)},phone,,,,,"
    bad = row.format(r=days_ago(300), a=days_ago(200), c=days_ago(100))

    refused = import_enquiries(client, manager, [good, bad])

    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert (error["row"], error["field"]) == (3, column)
    assert client.get(ENQUIRIES, headers=manager).json()["total"] == 0


def test_a_file_without_the_column_that_reopens_a_closure_drops_its_reason(client, manager) -> None:
    received, applied = days_ago(300), days_ago(200)
    import_enquiries(
        client, manager, [f"R-5,{received},phone,{received},{applied},{days_ago(9)},other,AW4"]
    )
    header = (
        "external_ref,received_on,channel,first_contact_on,application_on,closed_on,closure_reason"
    )
    body = f"{header}\nR-5,{received},phone,{received},{applied},,\n"

    reopened = client.post(
        f"{ENQUIRIES}/import", content=body.encode(), headers=manager | {"content-type": "text/csv"}
    )

    assert reopened.status_code == 200, reopened.text
    [stored] = client.get(ENQUIRIES, headers=manager).json()["items"]
    assert (stored["status"], stored["withdrawal_reason"]) == ("open", None)


# --- carers of a household -------------------------------------------------------------------


def add_household(client, headers, **fields):
    body = {"reference": "H1", "care_type": "in_house", "approved_places": 2}
    body |= {"approved_on": "2024-01-10", **fields}
    return client.post(HOUSEHOLDS, json=body, headers=headers)


def test_a_household_records_its_carers_and_changes_them_in_place(client, manager) -> None:
    created = add_household(
        client, manager, carers=2, carers_age_bands=["45_49", "50_54"], carers_disabled=0
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert (record["carers"], record["carers_age_bands"], record["carers_disabled"]) == (
        2,
        ["45_49", "50_54"],
        0,
    )

    changed = client.patch(
        f"{HOUSEHOLDS}/{record['id']}",
        json={"carers_disabled": 1},
        headers=manager | {"If-Match": created.headers["etag"]},
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["carers"], changed.json()["carers_disabled"]) == (2, 1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"carers_age_bands": ["40_44"]}, "carers"),
        ({"carers": 1, "carers_age_bands": ["40_44", "45_49"]}, "carers_age_bands"),
        ({"carers": 1, "carers_disabled": 2}, "carers_disabled"),
    ],
    ids=["bands-without-carers", "more-bands-than-carers", "more-disabled-than-carers"],
)
def test_carers_details_that_do_not_add_up_are_refused(client, manager, fields, field) -> None:
    refused = add_household(client, manager, **fields)

    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field
    assert client.get(HOUSEHOLDS, headers=manager).json()["total"] == 0


def test_the_register_import_reads_carers_and_the_export_writes_them(client, manager) -> None:
    body = (
        "reference,care_type,approved_on,approved_places,carers,carers_age_bands,carers_disabled\n"
        "H-1,in_house,2024-01-10,2,2,45-49;45_49,1\n"
        "H-2,connected,2024-02-01,1,,,\n"
    )

    first = client.post(
        f"{HOUSEHOLDS}/import",
        content=body.encode(),
        headers=manager | {"content-type": "text/csv"},
    )
    again = client.post(
        f"{HOUSEHOLDS}/import",
        content=body.encode(),
        headers=manager | {"content-type": "text/csv"},
    )

    assert first.status_code == 200, first.text
    assert (first.json()["created"], again.json()["unchanged"]) == (2, 2)
    exported = client.get(f"{HOUSEHOLDS}/export?format=csv", headers=manager).text
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert [rows["H-1"][c] for c in ("carers", "carers_age_bands", "carers_disabled")] == [
        "2",
        "45_49;45_49",
        "1",
    ]
    assert rows["H-2"]["carers"] == ""


def test_a_register_row_with_more_age_bands_than_carers_is_refused(client, manager) -> None:
    body = "reference,care_type,approved_on,approved_places,carers,carers_age_bands\n"
    body += "H-1,in_house,2024-01-10,2,1,40_44;50_54\n"

    refused = client.post(
        f"{HOUSEHOLDS}/import",
        content=body.encode(),
        headers=manager | {"content-type": "text/csv"},
    )

    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert (error["row"], error["field"]) == (2, "carers_age_bands")
