"""Deleting a target or a scenario: a page that asks "are you sure?" with what is deleted,
then the deletion (audited by the service, refused when the record changed since)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from sqlalchemy.orm import Session

from api.access import ACCESS, RoleRefused
from api.dashboard.enquiries import own_scope
from api.dashboard.forms import FormData, checked_form
from api.dashboard.pages import AuthorityCode
from api.dashboard.rendering import done, render
from api.deps import WRITING
from api.params import RecordId
from tracker.core.access import Caller
from tracker.core.errors import NotFoundError
from tracker.scenarios import service as scenarios
from tracker.targets import service as targets


class Deletable(msgspec.Struct, frozen=True, kw_only=True):
    """A kind of record the dashboard deletes: how it is named and described, its role
    table kind, and the service functions that read and delete it."""

    noun: str
    access: str
    banner: str
    gone: str
    describe: Callable[[Session, str, int], tuple[str, str, int]]
    delete: Callable[..., None]


def _target(session: Session, code: str, target_id: int) -> tuple[str, str, int]:
    record = targets.get_target(session, code, target_id)
    return record.name, record.summary, record.version


def _scenario(session: Session, code: str, scenario_id: int) -> tuple[str, str, int]:
    record = scenarios.get_scenario(session, code, scenario_id)
    given = record.inputs
    detail = (
        f"From {given.baseline_children:,} children in care in March {given.baseline_year}, "
        f"over {given.years} years."
    )
    return record.name, detail, record.version


DELETABLE: dict[str, Deletable] = {
    "targets": Deletable(
        noun="target",
        access="targets.write",
        banner="target-deleted",
        gone="target-gone",
        describe=_target,
        delete=targets.delete_target,
    ),
    "scenarios": Deletable(
        noun="scenario",
        access="scenarios.write",
        banner="scenario-deleted",
        gone="scenario-gone",
        describe=_scenario,
        delete=scenarios.delete_scenario,
    ),
}


def _kind(what: str, caller: Caller) -> Deletable:
    found = DELETABLE.get(what)
    if found is None:
        raise NotFoundException(f"there is nothing called {what!r} to delete here")
    if caller.role not in ACCESS[found.access]:
        raise RoleRefused(caller.role, f"the {caller.role} role may not delete {what}")
    return found


class DeletePages(Controller):
    """Are you sure? Then delete."""

    path = "/delete/{what:str}/{record_id:int}"
    include_in_schema = False

    @get("/", opt={"access": "dashboard.home"}, sync_to_thread=True)
    def check(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        what: str,
        record_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """What would be deleted, and the button that deletes it."""
        kind = _kind(what, caller)
        scope = own_scope(session, caller, authority)
        assert scope.authority_code is not None
        name, detail, version = kind.describe(session, scope.authority_code, record_id)
        return render(
            request,
            scope,
            "confirm_delete.html",
            what,
            noun=kind.noun,
            name=name,
            detail=detail,
            version=version,
            action=scope.link(f"/dashboard/delete/{what}/{record_id}"),
            back=scope.link(f"/dashboard/{what}"),
        )

    @post("/", opt={"access": "dashboard.home"}, dependencies=WRITING, sync_to_thread=True)
    def delete(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        what: str,
        record_id: RecordId,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Delete it (audited); sent again once it is gone (no JavaScript to stop a second
        click, or Back), back to the list, which says it was already deleted."""
        kind = _kind(what, caller)
        scope = own_scope(session, caller, authority)
        assert scope.authority_code is not None
        form = checked_form(request, data)
        raw = form.text("version")
        version = int(raw) if raw and raw.isdigit() and len(raw) < 10 else None
        try:
            kind.delete(session, caller, scope.authority_code, record_id, expected_version=version)
        except NotFoundError:
            session.rollback()
            return done(scope, f"/dashboard/{what}", kind.gone)
        session.commit()
        return done(scope, f"/dashboard/{what}", kind.banner)
