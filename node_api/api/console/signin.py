"""Sign-in and sign-out of console officers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from node_api.api.console.session import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    CheckedForm,
    ConsoleSession,
    check_sign_in_token,
    redirect_target,
    secure,
    set_cookie,
    sign_in_token,
)
from node_api.api.console.views import render
from node_api.api.deps import OfficersDep, SettingsDep, client_address
from node_api.errors import AuthenticationError, RateLimitedError

router = APIRouter(prefix="/console", include_in_schema=False)


def _form_page(
    request: Request, settings: SettingsDep, status: int = 200, error: str | None = None,
    username: str | None = None, back: str = "/console",
) -> HTMLResponse:  # fmt: skip
    token = sign_in_token(request)
    page = render(
        request, "sign_in.html", None, status=status, error=error, username=username,
        next=redirect_target(back), sign_in_token=token, lockout_failures=settings.console_lockout_failures,
        lockout_minutes=round(settings.console_lockout_seconds / 60),
    )  # fmt: skip
    set_cookie(page, SIGN_IN_COOKIE, token, secure(request, settings.public_url))
    return page


@router.get("/sign-in")
async def sign_in_form(request: Request, settings: SettingsDep, next: str = "/console") -> HTMLResponse:
    """The sign-in form."""
    return _form_page(request, settings, back=next[:500])


@router.post("/sign-in")
async def sign_in(request: Request, settings: SettingsDep, officers: OfficersDep) -> Response:
    """Signs an officer in: a session cookie, then back to where they were going."""
    form = await request.form()
    check_sign_in_token(request, form)
    fields = {k: form.get(k) for k in ("username", "password", "otp", "next")}
    text = {k: v[:256] if isinstance(v, str) else "" for k, v in fields.items()}
    try:
        session = officers.sign_in(client_address(request), text["username"], text["password"], text["otp"])
    except (AuthenticationError, RateLimitedError) as e:
        zh = "账户已锁定，请稍后再试" if isinstance(e, RateLimitedError) else "用户名、密码或动态口令错误"
        message = f"{zh}（{e.detail}）"
        return _form_page(request, settings, e.status, message, text["username"], text["next"] or "/console")
    response = RedirectResponse(redirect_target(text["next"] or "/console"), status_code=303)
    set_cookie(response, SESSION_COOKIE, session.token, secure(request, settings.public_url))
    response.delete_cookie(SIGN_IN_COOKIE, path="/console")
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request, session: ConsoleSession, form: CheckedForm, officers: OfficersDep
) -> Response:
    """Ends the session."""
    officers.sign_out(session.token)
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response
