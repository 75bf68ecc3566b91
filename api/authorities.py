"""Authority routes: list and read for every role, add for admins, settings for managers."""

from __future__ import annotations

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import State
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE, WRITING
from tracker.core import audit
from tracker.core.access import Caller, Role
from tracker.core.authorities import (
    AuthorityChanges,
    AuthorityRecord,
    NewAuthority,
    get_authority,
    list_authorities,
    register_authority,
    to_record,
)
from tracker.core.authority_settings import change_settings


class AuthorityController(Controller):
    """The authorities this installation holds."""

    path = "/api/v1/authorities"
    tags = ["authorities"]

    @get("/", opt={"access": "authorities.read"}, sync_to_thread=True, summary="List authorities")
    def list(self, caller: Caller, session: Session) -> list[AuthorityRecord]:
        """Admins see all; regional tokens their region; others their own authority."""
        if caller.role is Role.ADMIN:
            return list_authorities(session)
        records = list_authorities(session, region=caller.region)
        if caller.role is Role.REGIONAL:
            return records
        return [a for a in records if a.code == caller.authority_code]

    @get(
        "/{code:str}",
        opt={"access": "authorities.read"},
        sync_to_thread=True,
        dependencies=IN_SCOPE,
        summary="One authority",
    )
    def read(self, authority: str, session: Session) -> AuthorityRecord:
        """An authority the caller may reach."""
        return to_record(get_authority(session, authority))

    @post(
        "/",
        opt={"access": "authorities.write"},
        sync_to_thread=True,
        dependencies=WRITING,
        summary="Add an authority",
    )
    def add(
        self, state: State, data: NewAuthority, caller: Caller, session: Session
    ) -> Response[AuthorityRecord]:
        """Add an authority (201); the same one again is a repeat (200, nothing changed), a
        code already held with another name, region or target 409, and a region other
        than the reference's for the code 422 naming `region`."""
        record, created = register_authority(session, data)
        if created:
            code = record.code
            audit.record(session, caller, "create", "authority", code, authority_code=code)
            session.commit()
            state.regions.invalidate()
        location = f"/api/v1/authorities/{record.code}"
        return Response(record, status_code=201 if created else 200, headers={"Location": location})

    @patch(
        "/{code:str}",
        opt={"access": "authorities.settings"},
        sync_to_thread=True,
        dependencies=WRITING | IN_SCOPE,
        summary="Change an authority's settings",
    )
    def change(
        self, authority: str, data: AuthorityChanges, caller: Caller, session: Session
    ) -> AuthorityRecord:
        """Set the annual approvals target the funnel reports against."""
        record = change_settings(session, caller, authority, data)
        session.commit()
        return record
