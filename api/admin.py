"""Administration routes: tokens (admins) and the audit log (managers and admins)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, delete, get, post
from sqlalchemy.orm import Session

from api.dashboard.sessions import revoke
from api.deps import WRITING
from api.etags import created
from api.params import Limit, MaybeRecordId, Offset, RecordId
from tracker.core import audit
from tracker.core.access import (
    MAX_TOKEN_DAYS,
    Caller,
    IssuedToken,
    Role,
    TokenRecord,
    expiry_after,
    get_token,
    issue_token,
    list_tokens,
)
from tracker.core.audit import AuditRecord
from tracker.core.records import RecordId as BodyRecordId
from tracker.core.settings import Settings


class NewToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A token to issue."""

    role: Role
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    authority_code: str | None = None
    region: str | None = None
    hub_id: BodyRecordId | None = None
    # Days until it expires, or "never"; omitted: the installation's FOSTERING_TOKEN_DAYS.
    expires_in_days: (
        Annotated[int, msgspec.Meta(ge=1, le=MAX_TOKEN_DAYS)] | Literal["never"] | None
    ) = None


class TokenController(Controller):
    """Issue, list and revoke bearer tokens."""

    path = "/api/v1/tokens"
    tags = ["admin"]
    opt = {"access": "tokens.admin"}

    @get("/", sync_to_thread=True, summary="List tokens")
    def list(self, session: Session, include_revoked: bool = False) -> list[TokenRecord]:
        """Tokens newest first (never their secrets)."""
        return list_tokens(session, include_revoked)

    @post(
        "/",
        sync_to_thread=True,
        dependencies=WRITING,
        summary="Issue a token",
    )
    def issue(
        self, data: NewToken, caller: Caller, session: Session, settings: Settings
    ) -> Response[IssuedToken]:
        """The secret is in this response only; it expires after `expires_in_days` (default
        the installation's policy, 90 days) unless that is "never"."""
        days = data.expires_in_days if data.expires_in_days is not None else settings.token_days
        issued = issue_token(
            session,
            role=data.role,
            name=data.name,
            authority_code=data.authority_code,
            region=data.region,
            hub_id=data.hub_id,
            expires_at=None if days in ("never", 0) else expiry_after(int(days)),
        )
        expires_at = issued.record.expires_at
        audit.record(
            session,
            caller,
            "create",
            "token",
            issued.record.id,
            authority_code=issued.record.authority_code,
            detail={
                "role": data.role.value,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
        session.commit()
        return created(issued, f"/api/v1/tokens/{issued.record.id}", versioned=False)

    @get("/{token_id:int}", sync_to_thread=True, summary="One token")
    def read(self, token_id: RecordId, session: Session) -> TokenRecord:
        """A token's role, scope and state (never its secret)."""
        return get_token(session, token_id)

    @delete(
        "/{token_id:int}",
        sync_to_thread=True,
        status_code=200,
        dependencies=WRITING,
        summary="Revoke a token",
    )
    def revoke(self, token_id: RecordId, caller: Caller, session: Session) -> TokenRecord:
        """The token stops working at once."""
        record = revoke(session, caller, token_id)
        session.commit()
        return record


class AuditController(Controller):
    """Read the audit log."""

    path = "/api/v1/audit"
    tags = ["admin"]

    @get("/", opt={"access": "audit.read"}, sync_to_thread=True, summary="Audit log")
    def list(
        self,
        caller: Caller,
        session: Session,
        authority_code: str | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        enquiry_id: MaybeRecordId = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[AuditRecord]:
        """Newest first; a manager sees only their own authority's entries. `enquiry_id`:
        who changed, read or listed that enquiry, and when."""
        if caller.role is not Role.ADMIN:
            authority_code = caller.authority_code
        return audit.list_entries(
            session,
            authority_code=authority_code,
            entity=entity,
            entity_id=entity_id,
            enquiry_id=enquiry_id,
            limit=limit,
            offset=offset,
        )
