"""One-use keys for the forms that create a record (a new enquiry, target or scenario): a
form sent twice creates one record.

GOV.UK Frontend's `preventDoubleClick` stops a second click only where JavaScript runs; a
browser without it sends the form twice. Each form shown carries a random `form_key`, kept
while it is shown again with its errors or a duplicate warning; logging claims the key in the
creating transaction, in the API's store of idempotency keys (`api.idempotency.store`: per
token, kept 24 hours, purged on schedule), and a second sending of the same key leads to the
enquiry the first one logged, whatever the form holds now. The stored answer is the
address the first sending led to only: no personal data.

Back after logging fetches the form anew, with a new key (the dashboard's pages are not
stored by the browser); that form is `autocomplete="off"` (enquiry_form.html), so the
browser restores nothing into it (it used to restore the channel and the note, enough to log
a nameless second enquiry), and sent as it is, it is refused for its missing fields.
"""

from __future__ import annotations

import secrets

from litestar.response import Redirect
from sqlalchemy.orm import Session

from api.dashboard.forms import Form
from api.dashboard.rendering import done
from api.dashboard.scope import Scope
from api.idempotency import store
from tracker.core.access import Caller
from tracker.core.errors import InvalidValueError

PATH = "/dashboard/enquiries/new"
"""Where the new-enquiry form's keys are claimed: the form's address (the authority is in the
caller's token); another form passes its own."""


def new_key() -> str:
    """A key for a form about to be shown."""
    return "form-" + secrets.token_urlsafe(16)


def claim(session: Session, caller: Caller, key: str | None, path: str = PATH) -> int | str | None:
    """Claim the key of the form sent to `path` in the session's transaction: the claim to
    complete once the record is created; or, if this key already created one, the page the
    first sending led to; None without a usable key (a form from before keys, or no token to
    hold it)."""
    if not key or caller.token_id is None:
        return None
    try:
        store.check_key(key)
    except InvalidValueError:
        return None
    # The key alone is the request: a form sent again after Back may hold less than before.
    sent = store.request_print("POST", path, "", b"")
    claimed = store.claim(session.connection(), caller.token_id, key, sent)
    if claimed.stored is not None:
        return claimed.stored.headers.get("Location") or None
    return claimed.record_id


def claim_sent(
    session: Session, caller: Caller, scope: Scope, form: Form, banner: str, path: str = PATH
) -> Redirect | int | None:
    """`claim` the key of the form sent to `path`; if this key already created a record,
    roll the session back and give the way to the page its first sending led to, with
    `banner` (return it), else the claim to `complete`."""
    claimed = claim(session, caller, form.text("form_key"), path)
    if isinstance(claimed, str):
        session.rollback()
        return done(scope, claimed, banner)
    return claimed


def complete(session: Session, claimed: int | str | None, path: str) -> None:
    """Record, with the claim, the page the form's first sending led to."""
    if isinstance(claimed, int):
        answer = store.StoredResponse(
            status_code=303, body=b"", content_type="", headers={"Location": path}
        )
        store.complete(session.connection(), claimed, answer)
