"""Property-based testing of the whole OpenAPI spec with Schemathesis (OWASP API8, API4).

Every operation gets a few generated requests, valid ones and invalid ones, as an admin and
as a manager of Stoke-on-Trent: none may answer 5xx, and every response must match the
schema the spec declares for its status (errors included: problem+json). Examples are few
and derandomized so the run is repeatable and takes seconds; path parameters name objects
that exist (the generator would otherwise only ever reach "no such authority").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security_world import SCOPES, World, build_world
from tracker.core.db import Database

EXAMPLES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 2}
PROBLEM = "application/problem+json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Each valid request is sent as both (the manager's own authority is in every path); invalid
# ones, which fail before the caller matters, as the admin only.
CALLERS = {
    GenerationMode.POSITIVE: ("admin", "manager_stoke"),
    GenerationMode.NEGATIVE: ("admin",),
}


@pytest.fixture
def world(authorities: Database) -> Iterator[World]:
    with build_world(authorities) as built:
        yield built


def _path_parameters(path: str, ids: dict[str, int]) -> dict[str, Any]:
    names = SCOPES["own"]
    fixed: dict[str, Any] = {}
    for name in re.findall(r"{([^}]+)}", path):
        if name in names:
            fixed[name] = names[name]
        elif name in ids:
            fixed[name] = ids[name]
    return fixed


def _fuzz(operation: Any, mode: GenerationMode, world: World, statuses: list[int]) -> None:
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters=_path_parameters(operation.path, world.ids["own"])
    )

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        for caller in CALLERS[mode]:
            response = case.call(headers=world.headers[caller])
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

    run()


def _summary(exc: BaseException) -> str:
    """The failed checks' titles and details, without Hypothesis's reproduction noise."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(sorted({_summary(e) for e in exc.exceptions}))
    return " ".join(str(exc).split())[:400]


def test_every_operation_survives_generated_requests(world):
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", world.app)
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in EXAMPLES:
            try:
                _fuzz(operation, mode, world, statuses)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup
                failures.append(f"{operation.label} ({mode.value}): {_summary(exc)}")
    assert failures == [], "\n\n".join(failures)
    assert operations > 40
    # The generated requests reach the handlers, not only the checks in front of them.
    assert sum(200 <= s < 300 for s in statuses) > operations


def test_every_error_response_is_documented_as_problem_json(client):
    spec = client.get("/schema/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]
    wrong = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            needed = {"400", "500"} | ({"401", "403", "429"} if path != "/health" else set())
            if missing := needed - set(responses):
                wrong.append(f"{method.upper()} {path}: no {sorted(missing)}")
            for status, response in responses.items():
                if status >= "400" and list(response.get("content", {})) != [PROBLEM]:
                    wrong.append(f"{method.upper()} {path} {status}: {list(response['content'])}")
    assert wrong == []


def test_a_missing_field_is_named(client, tokens):
    response = client.post(
        "/api/v1/authorities/E06000021/enquiries",
        json={"channel": "phone"},
        headers={"Authorization": f"Bearer {tokens['recruiter_stoke']}"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert [e["field"] for e in response.json()["errors"]] == ["received_on"]
