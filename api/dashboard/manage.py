"""Managers' forms: set, change and delete targets (every kind), save, change and delete
scenarios, and the authority's settings. Each calls the service function its JSON route
calls, so the checks and the audit are the same; a change made against an older version
of a target or scenario is refused and the form says so."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect
from sqlalchemy.orm import Session

from api.dashboard import form_keys, scenario_forms, target_forms
from api.dashboard.enquiries import own_scope
from api.dashboard.forms import Form, FormData, checked_form
from api.dashboard.pages import AuthorityCode
from api.dashboard.rendering import done, render
from api.dashboard.scope import Scope
from api.dashboard.tables import long_date
from api.deps import WRITING
from api.params import MaybeRecordId, RecordId
from tracker.children.mapping import load_mapping
from tracker.core.access import Caller
from tracker.core.authorities import AuthorityChanges, get_authority
from tracker.core.authority_settings import change_settings
from tracker.core.errors import DomainError, VersionMismatchError
from tracker.core.settings import Settings
from tracker.scenarios import service as scenarios
from tracker.scenarios.from_actuals import scenario_inputs_from_actuals
from tracker.scenarios.schemas import EARLIEST_BASELINE_YEAR
from tracker.targets import service as targets
from tracker.targets.kinds import FIELDS, Direction, Kind

WHOLE = "Enter the target as a whole number, like 30, or leave it empty"
RANGE = "Enter a target from 1 to 10,000 households a year, or leave it empty for none"
TARGETS, SCENARIOS = "/dashboard/targets", "/dashboard/scenarios"
NEW_TARGET, NEW_SCENARIO = f"{TARGETS}/new", f"{SCENARIOS}/new"
STALE = (
    "Someone else changed this since you opened the form: nothing was saved. The form now "
    "shows the saved version; make your change again."
)


def _version(form: Form) -> int | None:
    raw = form.text("version")
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else None


class TargetForms(Controller):
    """Setting, changing and deleting targets."""

    path = "/targets"
    include_in_schema = False

    @get("/new", opt={"access": "targets.write"}, sync_to_thread=True)
    def new_target(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """The target form, empty."""
        scope = own_scope(session, caller, authority)
        return _target_page(request, scope, Form(), None, today)

    @get("/{target_id:int}/edit", opt={"access": "targets.write"}, sync_to_thread=True)
    def edit_target(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        target_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """The target form holding the stored target."""
        scope = own_scope(session, caller, authority)
        record = targets.get_target(session, _code(scope), target_id)
        return _target_page(request, scope, Form(), record, today)

    @post("/new", opt={"access": "targets.write"}, dependencies=WRITING, sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Set the target."""
        return self._save_target(request, session, caller, today, settings, data, authority, None)

    @post(
        "/{target_id:int}/edit",
        opt={"access": "targets.write"},
        dependencies=WRITING,
        sync_to_thread=True,
    )
    def replace(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        data: FormData,
        target_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Replace the target (refused when it changed since the form was opened)."""
        return self._save_target(
            request, session, caller, today, settings, data, authority, target_id
        )

    def _save_target(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        data: FormData,
        authority: AuthorityCode = None,
        target_id: MaybeRecordId = None,
    ) -> Response[Any]:
        """Set the target, or replace it (refused when it changed since the form was opened)."""
        scope = own_scope(session, caller, authority)
        code = _code(scope)
        form = checked_form(request, data)
        record = targets.get_target(session, code, target_id) if target_id else None
        kind, new = target_forms.read_target(form)
        if new is None or kind is None:
            return _target_page(request, scope, form, record, today, status_code=400)
        mapping = load_mapping(settings.placement_mapping)
        claimed = None
        if target_id is None:
            claimed = form_keys.claim_sent(
                session, caller, scope, form, "target-already-saved", NEW_TARGET
            )
            if isinstance(claimed, Redirect):  # this form was sent before and saved a target
                return claimed
        try:
            if target_id is None:
                targets.create_target(session, caller, code, new, today=today, mapping=mapping)
                form_keys.complete(session, claimed, TARGETS)
            else:
                targets.update_target(
                    session,
                    caller,
                    code,
                    target_id,
                    new,
                    today=today,
                    expected_version=_version(form),
                    mapping=mapping,
                )
        except VersionMismatchError:
            session.rollback()
            fresh = targets.get_target(session, code, target_id or 0)
            return _target_page(request, scope, Form(), fresh, today, stale=True, status_code=409)
        except DomainError as refused:
            session.rollback()
            target_forms.refused(form, kind, refused, new.direction.value)
            return _target_page(request, scope, form, record, today, status_code=400)
        session.commit()
        return done(scope, TARGETS, "target-saved")


class ScenarioForms(Controller):
    """Saving, changing and deleting scenarios."""

    path = "/scenarios"
    include_in_schema = False

    @get("/new", opt={"access": "scenarios.write"}, sync_to_thread=True)
    def new_scenario(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """The scenario form, started from the authority's own figures."""
        return self._scenario_form(request, session, caller, today, settings, authority, None)

    @get(
        "/{scenario_id:int}/edit",
        opt={"access": "scenarios.write"},
        sync_to_thread=True,
    )
    def edit_scenario(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        scenario_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """The scenario form holding the saved scenario."""
        return self._scenario_form(
            request, session, caller, today, settings, authority, scenario_id
        )

    def _scenario_form(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        authority: AuthorityCode = None,
        scenario_id: MaybeRecordId = None,
    ) -> Response[Any]:
        """The scenario form: a saved scenario, or a new one started from the authority's
        children in care at the latest 31 March (when its figures are loaded)."""
        scope = own_scope(session, caller, authority)
        code = _code(scope)
        if scenario_id is not None:
            inputs = scenarios.get_scenario(session, code, scenario_id).inputs
            version: int | None = scenarios.get_scenario(session, code, scenario_id).version
            source = None
        else:
            version = None
            try:
                suggestion = scenario_inputs_from_actuals(
                    session, code, today, load_mapping(settings.placement_mapping)
                )
                inputs = suggestion.inputs
                on = long_date(suggestion.baseline_date)
                source = f"children in care on {on} ({suggestion.source})"
            except DomainError:
                inputs, source = None, None
        return _scenario_page(request, scope, Form(), inputs, scenario_id, version, source)

    @post("/new", opt={"access": "scenarios.write"}, dependencies=WRITING, sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Save a new scenario."""
        return self._save_scenario(request, session, caller, today, data, authority, None)

    @post(
        "/{scenario_id:int}/edit",
        opt={"access": "scenarios.write"},
        dependencies=WRITING,
        sync_to_thread=True,
    )
    def replace(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        data: FormData,
        scenario_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Replace the scenario's inputs (refused when it changed since the form was opened)."""
        return self._save_scenario(request, session, caller, today, data, authority, scenario_id)

    def _save_scenario(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        data: FormData,
        authority: AuthorityCode = None,
        scenario_id: MaybeRecordId = None,
    ) -> Response[Any]:
        """Save the scenario (its projection is checked first, as the API checks it)."""
        scope = own_scope(session, caller, authority)
        code = _code(scope)
        form = checked_form(request, data)
        inputs = scenario_forms.read_scenario(form)
        version = _version(form)
        if inputs is None:
            return _scenario_page(
                request, scope, form, None, scenario_id, version, None, status_code=400
            )
        claimed = None
        if scenario_id is None:
            claimed = form_keys.claim_sent(
                session, caller, scope, form, "scenario-already-saved", NEW_SCENARIO
            )
            if isinstance(claimed, Redirect):  # this form was sent before and saved one
                return claimed
        try:
            if scenario_id is None:
                scenarios.create_scenario(session, caller, code, inputs, today=today)
                form_keys.complete(session, claimed, SCENARIOS)
            else:
                scenarios.update_scenario(
                    session,
                    caller,
                    code,
                    scenario_id,
                    inputs,
                    expected_version=version,
                    today=today,
                )
        except VersionMismatchError:
            session.rollback()
            fresh = scenarios.get_scenario(session, code, scenario_id or 0)
            return _scenario_page(
                request,
                scope,
                Form(),
                fresh.inputs,
                scenario_id,
                fresh.version,
                None,
                stale=True,
                status_code=409,
            )
        except DomainError as refused:
            session.rollback()
            scenario_forms.refused(form, refused)
            return _scenario_page(
                request, scope, form, None, scenario_id, version, None, status_code=400
            )
        session.commit()
        return done(scope, SCENARIOS, "scenario-saved")


class SettingsForm(Controller):
    """The authority's settings."""

    path = "/settings"
    include_in_schema = False

    @get("/", opt={"access": "authorities.settings"}, sync_to_thread=True)
    def settings_form(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """The annual approvals target."""
        scope = own_scope(session, caller, authority)
        target = get_authority(session, _code(scope)).annual_approvals_target
        return _settings_page(request, scope, Form(), "" if target is None else str(target))

    @post("/", opt={"access": "authorities.settings"}, dependencies=WRITING, sync_to_thread=True)
    def save(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Set (or clear) the annual approvals target (audited)."""
        scope = own_scope(session, caller, authority)
        form = checked_form(request, data)
        raw = form.text("annual_approvals_target")
        if raw is not None and not raw.isdigit():
            form.errors.add("annual_approvals_target", WHOLE)
            return _settings_page(request, scope, form, raw, status_code=400)
        try:
            change_settings(
                session,
                caller,
                _code(scope),
                AuthorityChanges(annual_approvals_target=int(raw) if raw else None),
            )
        except DomainError:
            session.rollback()
            form.errors.add("annual_approvals_target", RANGE)
            return _settings_page(request, scope, form, raw or "", status_code=400)
        session.commit()
        return done(scope, "/dashboard/settings", "settings-saved")


def _code(scope: Scope) -> str:
    assert scope.authority_code is not None
    return scope.authority_code


def _target_page(
    request: Request[Any, Any, Any],
    scope: Scope,
    form: Form,
    record: Any,
    today: date,
    *,
    stale: bool = False,
    status_code: int = 200,
) -> Response[Any]:
    kinds = []
    shown = target_forms.shown(form, record, today)
    for kind in Kind:
        words, example = target_forms.KIND_WORDS[kind]
        kinds.append(
            {
                "kind": kind.value,
                "text": words,
                "hint": example,
                "fields": [
                    (f, target_forms.field_name(kind, f), *target_forms.label(kind, f))
                    for f in sorted(FIELDS[kind], key=list(target_forms.FIELD_WORDS).index)
                ],
            }
        )
    return render(
        request,
        scope,
        "target_form.html",
        "targets",
        status_code=status_code,
        form=form,
        record=record,
        shown=shown,
        kinds=kinds,
        stale=stale,
        stale_message=STALE,
        # A new target's form keeps one key however often it is shown: it saves one target.
        form_key=None if record is not None else (form.text("form_key") or form_keys.new_key()),
        anchors={
            target_forms.field_name(k, f): target_forms.field_name(k, f) + "-day"
            for k in Kind
            for f in FIELDS[k]
            if f in target_forms.DATE_FIELDS
        },
        metric_items=target_forms.metric_items(shown["metric"]),
        directions=[Direction.AT_LEAST.value, Direction.AT_MOST.value],
        date_fields=target_forms.DATE_FIELDS,
        back=scope.link(TARGETS),
    )


def _scenario_page(
    request: Request[Any, Any, Any],
    scope: Scope,
    form: Form,
    inputs: Any,
    scenario_id: int | None,
    version: int | None,
    source: str | None,
    *,
    stale: bool = False,
    status_code: int = 200,
) -> Response[Any]:
    action = f"{SCENARIOS}/{scenario_id}/edit" if scenario_id else f"{SCENARIOS}/new"
    return render(
        request,
        scope,
        "scenario_form.html",
        "scenarios",
        status_code=status_code,
        form=form,
        shown=scenario_forms.shown(form, inputs),
        scenario_id=scenario_id,
        version=version,
        source=source,
        form_key=None if scenario_id else (form.text("form_key") or form_keys.new_key()),
        stale=stale,
        stale_message=STALE,
        words=scenario_forms.WORDS,
        earliest_year=EARLIEST_BASELINE_YEAR,
        mix=scenario_forms.MIX,
        costs=scenario_forms.COSTS,
        action=scope.link(action),
        back=scope.link(SCENARIOS),
    )


def _settings_page(
    request: Request[Any, Any, Any], scope: Scope, form: Form, value: str, status_code: int = 200
) -> Response[Any]:
    return render(
        request,
        scope,
        "settings.html",
        "settings",
        status_code=status_code,
        form=form,
        value=value,
        action=scope.link("/dashboard/settings"),
    )
