"""The signed-in officer's own account: a new password on the current one (argon2id, CSRF-checked)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from node_api.api.console.forms import MAX_TEXT
from node_api.api.console.session import CheckedForm, ConsoleSession
from node_api.api.console.views import render
from node_api.api.deps import OfficersDep, client_address
from node_api.errors import AuthenticationError, RateLimitedError, ValidationError
from node_api.ledger.officers import MIN_PASSWORD

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/account")
async def account(request: Request, session: ConsoleSession, changed: str = "") -> Response:
    """The officer's account: who, which organisation and roles, and the password form."""
    return render(
        request, "account.html", session, nav="account", min_password=MIN_PASSWORD, changed=bool(changed)
    )


def _secret(form: FormData, name: str) -> str:
    """A password field as typed (not stripped: spaces are part of a passphrase)."""
    value = form.get(name)
    return value[:MAX_TEXT] if isinstance(value, str) else ""


@router.post("/account/password")
async def change_password(
    request: Request, session: ConsoleSession, form: CheckedForm, officers: OfficersDep
) -> Response:
    """Changes the officer's password: the current one is checked (a failure counts towards the lock-out),
    the new one is typed twice; the officer's other sessions end."""
    new = _secret(form, "new_password")
    try:
        if new != _secret(form, "new_password_again"):
            raise ValidationError("new_password_again", "the two new passwords differ")
        officers.change_password(client_address(request), session, _secret(form, "current_password"), new)
    except (AuthenticationError, RateLimitedError, ValidationError) as e:
        return render(
            request, "account.html", session, status=e.status, nav="account", min_password=MIN_PASSWORD,
            changed=False, error=e.detail, error_code=e.code,
        )  # fmt: skip
    return render(request, "account.html", session, nav="account", min_password=MIN_PASSWORD, changed=True)
