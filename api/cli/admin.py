"""Tokens and authorities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from rich.table import Table

from api.cli.base import CLI_CALLER, console, fail, main, open_database, print_table
from api.dashboard.sessions import revoke
from tracker.core import audit
from tracker.core.access import MAX_TOKEN_DAYS, Role, expiry_after, issue_token, list_tokens
from tracker.core.clock import utcnow
from tracker.core.errors import DomainError
from tracker.core.records import MAX_ID
from tracker.core.settings import Settings

NEVER = "never"


class Lifetime(click.ParamType):
    """Days a token lives (1 to `MAX_TOKEN_DAYS`), or `never`."""

    name = "DAYS|never"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number of days, or `NEVER`."""
        text = str(value).strip().lower()
        if text == NEVER:
            return NEVER
        if text.isdigit() and 1 <= int(text) <= MAX_TOKEN_DAYS:
            return int(text)
        self.fail(f"{value!r} is not a number of days from 1 to {MAX_TOKEN_DAYS}, or 'never'")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _expires(moment: datetime | None) -> str:
    """A token's expiry as listed: `never` flagged, a past one marked expired."""
    if moment is None:
        return "never (!)"
    return f"{moment:%Y-%m-%d %H:%M}" + (" (expired)" if moment <= utcnow() else "")


@main.group()
def token() -> None:
    """Bearer tokens: create, list, revoke."""


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--authority", "authority_code", default=None, help="ONS code, e.g. E06000021.")
@click.option("--region", default=None, help="Region of a regional token.")
@click.option(
    "--hub", "hub_id", type=click.IntRange(1, MAX_ID), default=None, help="Hub id of a hub token."
)
@click.option("--name", default="unnamed", show_default=True, help="Who or what holds it.")
@click.option(
    "--expires-in",
    "lifetime",
    type=Lifetime(),
    default=None,
    help="Days until it expires, or 'never' (default: FOSTERING_TOKEN_DAYS, 90).",
)
def token_create(
    role: str,
    authority_code: str | None,
    region: str | None,
    hub_id: int | None,
    name: str,
    lifetime: int | str | None,
) -> None:
    """Create a token and print it once (only its digest is stored)."""
    if lifetime is None:
        lifetime = Settings.from_env().token_days or NEVER
    database = open_database()
    try:
        with database.writing() as session:
            issued = issue_token(
                session,
                role=Role(role),
                name=name,
                authority_code=authority_code.strip().upper() if authority_code else None,
                region=region,
                hub_id=hub_id,
                expires_at=None if lifetime == NEVER else expiry_after(int(lifetime)),
            )
            audit.record(
                session,
                CLI_CALLER,
                "create",
                "token",
                issued.record.id,
                authority_code=issued.record.authority_code,
                detail={"role": role, "expires_at": _iso(issued.record.expires_at)},
            )
    except DomainError as exc:
        fail(exc.message)
    click.echo(issued.secret)
    expires = issued.record.expires_at
    until = f"expires {expires:%Y-%m-%d %H:%M} UTC" if expires else "never expires"
    click.echo(
        f"# token {issued.record.id} ({role}) created, {until}; it is shown only this once",
        err=True,
    )


@token.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked tokens.")
def token_list(include_revoked: bool) -> None:
    """List tokens (never their secrets)."""
    with open_database().read_session() as session:
        tokens = list_tokens(session, include_revoked)
    table = Table(
        "id", "name", "role", "authority", "region", "hint", "created", "expires", "revoked"
    )
    for t in tokens:
        table.add_row(
            str(t.id),
            t.name,
            t.role,
            t.authority_code or "",
            t.region or "",
            t.hint,
            f"{t.created_at:%Y-%m-%d %H:%M}",
            "" if t.revoked_at else _expires(t.expires_at),
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    print_table(table)
    never = sum(1 for t in tokens if t.expires_at is None and t.revoked_at is None)
    if never:
        console.print(
            f"(!) {never} token{'s' if never > 1 else ''} never expire"
            f"{'' if never > 1 else 's'}: revoke any no longer needed, or replace "
            f"{'them' if never > 1 else 'it'} with one that expires (--expires-in DAYS)",
            soft_wrap=True,
        )


@token.command("revoke")
@click.argument("token_id", type=click.IntRange(1, MAX_ID))
def token_revoke(token_id: int) -> None:
    """Revoke a token by id; it stops working at once."""
    try:
        with open_database().writing() as session:
            revoke(session, CLI_CALLER, token_id)
    except DomainError as exc:
        fail(exc.message)
    console.print(f"token {token_id} revoked")


@main.group()
def authority() -> None:
    """Authorities held by this installation."""


@authority.command("add")
@click.argument("code")
@click.option("--name", default=None, help="Defaults to the name in the reference data.")
@click.option("--region", default=None, help="Defaults to the region in the reference data.")
def authority_add(code: str, name: str | None, region: str | None) -> None:
    """Add an authority by ONS code (name and region looked up when not given; the region
    must be the reference's for a code it holds). ONS codes are in capitals: `e06000021` is
    taken as `E06000021`."""
    from tracker.core.authorities import NewAuthority, register_authority
    from tracker.reference import load_reference

    code = code.strip().upper()
    known = load_reference().get(code)
    name = name or (known.name if known else None)
    region = region or (known.region if known else None)
    if not name or not region:
        fail(f"{code} is not in the reference data: give --name and --region")
    try:
        with open_database().writing() as session:
            record, created = register_authority(
                session, NewAuthority(code=code, name=name or "", region=region or "")
            )
    except DomainError as exc:
        fail(exc.message)
    console.print(
        f"{'added' if created else 'already held, unchanged:'} {record.code} {record.name}"
        f" ({record.region})"
    )


@authority.command("list")
def authority_list() -> None:
    """List the authorities."""
    from tracker.core.authorities import list_authorities

    with open_database().read_session() as session:
        records = list_authorities(session)
    table = Table("code", "name", "region", "approvals target")
    for a in records:
        table.add_row(a.code, a.name, a.region, str(a.annual_approvals_target or ""))
    print_table(table)
