"""Local authorities: the owner of every record (ONS code, name, region)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import String, bindparam, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from tracker.core.approvals_targets import record_target
from tracker.core.clock import utcnow
from tracker.core.errors import ConflictError, InvalidValueError, NotFoundError

ONS_CODE = re.compile(r"^E(06|07|08|09|10)\d{6}$")


class Authority(SQLModel, table=True):
    """A council (or other authority) whose records this installation holds."""

    __tablename__ = "authority"

    code: str = Field(primary_key=True, sa_type=String(9))
    name: str = Field(sa_type=String(120))
    region: str = Field(sa_type=String(60), index=True)
    annual_approvals_target: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class AuthorityRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An authority as the API shows it."""

    code: str
    name: str
    region: str
    annual_approvals_target: int | None


class NewAuthority(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An authority to add: ONS code (E06/E07/E08/E09/E10 + 6 digits), name and region."""

    code: str
    name: str
    region: str
    annual_approvals_target: int | None = None


class AuthorityChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields of an authority a manager may change."""

    annual_approvals_target: int | None


def to_record(row: Authority) -> AuthorityRecord:
    """The API view of a stored authority."""
    return AuthorityRecord(
        code=row.code,
        name=row.name,
        region=row.region,
        annual_approvals_target=row.annual_approvals_target,
    )


def list_authorities(session: Session, region: str | None = None) -> list[AuthorityRecord]:
    """Every authority, or those of one region, by name."""
    query = select(Authority).order_by(Authority.name)
    if region is not None:
        query = query.where(Authority.region == region)
    return [to_record(a) for a in session.scalars(query)]


def get_authority(session: Session, code: str) -> Authority:
    """The stored authority with this code, or NotFoundError. Held by the session once read,
    so the many figures of one request that check their authority ask the database once (the
    session's identity map alone lets an unreferenced row go, and asks again)."""
    held: dict[str, Authority] = session.info.setdefault("authorities", {})
    row = held.get(code)
    if row is None or row not in session:
        row = session.get(Authority, code)
        if row is None:
            raise NotFoundError(f"no authority with code {code}", field="code")
        held[code] = row
    return row


def stored_authorities(session: Session, codes: Iterable[str]) -> set[str]:
    """Those of `codes` that are stored authorities: one Core query on the session's
    connection (none for codes whose rows the session already holds), for writes that need
    the codes only, not the rows."""
    wanted = set(codes)
    held: dict[str, Authority] = session.info.get("authorities", {})
    asked = sorted(wanted - held.keys())
    found = wanted & held.keys()
    if asked:
        query = _stored_query()
        found.update(session.connection().execute(query, {"codes": asked}).scalars())
    return found


@cache
def _stored_query() -> Any:
    """On the table, not the ORM class: run on the session's connection, it needs none of the
    ORM's execution."""
    table: Any = Authority.__table__
    return select(table.c.code).where(table.c.code.in_(bindparam("codes", expanding=True)))


def _check_target(target: int | None) -> None:
    """An annual approvals target is 1 to 10,000 households, or none (null): 0 would be a
    target met on 1 April, which the funnel and overview read as none set."""
    if target is not None and not 1 <= target <= 10_000:
        raise InvalidValueError(
            "annual_approvals_target must be from 1 to 10,000 (null for none)",
            field="annual_approvals_target",
        )


def add_authority(session: Session, new: NewAuthority) -> tuple[AuthorityRecord, bool]:
    """Add an authority, or update its name and region; True when it was new."""
    if not ONS_CODE.match(new.code):
        raise InvalidValueError(
            f"code {new.code!r} is not an English local authority ONS code (e.g. E06000021)",
            field="code",
        )
    if not new.name.strip() or not new.region.strip():
        raise InvalidValueError("name and region must not be blank", field="name")
    _check_target(new.annual_approvals_target)
    row = session.get(Authority, new.code)
    created = row is None
    if row is None:
        row = Authority(code=new.code, name=new.name.strip(), region=new.region.strip())
        session.add(row)
    else:
        row.name, row.region = new.name.strip(), new.region.strip()
    changed = new.annual_approvals_target not in (None, row.annual_approvals_target)
    if changed:
        row.annual_approvals_target = new.annual_approvals_target
    session.flush()
    if changed:  # once the authority's row is written: the setting refers to it
        record_target(session, row.code, new.annual_approvals_target)
        session.flush()
    return to_record(row), created


def register_authority(session: Session, new: NewAuthority) -> tuple[AuthorityRecord, bool]:
    """Add an authority as an administrator asks (the API, the CLI): its region must be the
    one the shipped reference gives its code (a region decides which regional tokens see its
    figures), or one of England's regions for a code the reference does not hold; its name
    is the council's to write. A code already held is left as it is: the same name, region
    and target again is a repeat (False, nothing changed); anything else is a conflict
    (its approvals target is changed with `change_authority`). True when it was added."""
    from tracker.reference import load_reference

    reference = load_reference()
    region = new.region.strip()
    known = reference.get(new.code)
    if known is not None and known.region and region != known.region:
        raise InvalidValueError(
            f"{new.code} is {known.name}, in {known.region}, not {region!r}", field="region"
        )
    regions = {item.region for item in reference.values() if item.region}
    if known is None and region not in regions:
        raise InvalidValueError(
            f"region {region!r} is not one of England's regions: {', '.join(sorted(regions))}",
            field="region",
        )
    row = session.get(Authority, new.code)
    if row is None:
        return add_authority(session, new)
    same = (row.name, row.region) == (new.name.strip(), region) and (
        new.annual_approvals_target in (None, row.annual_approvals_target)
    )
    if not same:
        raise ConflictError(
            f"{new.code} is already held, as {row.name} ({row.region}); its approvals target "
            "is changed with PATCH /api/v1/authorities/{code}",
            field="code",
        )
    return to_record(row), False


def change_authority(session: Session, code: str, changes: AuthorityChanges) -> AuthorityRecord:
    """Apply a manager's changes to an authority, keeping a changed target's history."""
    _check_target(changes.annual_approvals_target)
    row = get_authority(session, code)
    if changes.annual_approvals_target != row.annual_approvals_target:
        row.annual_approvals_target = changes.annual_approvals_target
        record_target(session, code, changes.annual_approvals_target)
    session.flush()
    return to_record(row)
