"""Who is at the console: the session cookie, the form token (CSRF) and what an officer may do.

The session cookie is HttpOnly, SameSite=Strict and Secure when the console is served over
TLS; the node keeps only its SHA-256. Every form carries the session's synchronizer token
(``csrf``, or the ``X-CSRF-Token`` header for htmx requests); a POST without the right one is
refused with 403 and changes nothing. The sign-in form, before there is a session, uses a
double-submit token (a cookie and a form field that must match).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from node_api.api.deps import OfficersDep
from node_api.errors import ForbiddenError
from node_api.ledger.access import CURRENT_OFFICER, CURRENT_TOKEN
from node_api.ledger.officers import Session

SESSION_COOKIE = "pc_console"
SIGN_IN_COOKIE = "pc_console_signin"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No live session: the browser is sent to the sign-in page (and back afterwards)."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


class CsrfRefused(ForbiddenError):
    """A console form arrived without the session's form token."""

    code = "csrf_refused"


def secure(request: Request, public_url: str | None) -> bool:
    """Whether the console is served over TLS (directly, or as the node's public https URL)."""
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


def set_cookie(response: Response, name: str, value: str, secure_: bool, max_age: int | None = None) -> None:
    """A console cookie: HttpOnly, SameSite=Strict, path /console, Secure over TLS."""
    response.set_cookie(
        name, value, max_age=max_age, path="/console", secure=secure_, httponly=True, samesite="strict"
    )


async def current_session(request: Request, officers: OfficersDep) -> Session:
    """The officer's live session; without one, the sign-in page."""
    session = officers.session(request.cookies.get(SESSION_COOKIE, ""))
    if session is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(back if request.method == "GET" else "/console")
    request.state.org_id = session.officer.org.id
    # Reads and writes below are the officer's: the access log names them (not an API token).
    CURRENT_TOKEN.set(None)
    CURRENT_OFFICER.set(session.officer.label)
    return session


ConsoleSession = Annotated[Session, Depends(current_session)]


async def checked_form(request: Request, session: ConsoleSession) -> FormData:
    """The posted form, once its form token is the session's; 403 otherwise (nothing is done)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfRefused("the form's security token (CSRF) is missing or does not match this session")
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def sign_in_token(request: Request) -> str:
    """The sign-in form's double-submit token: the cookie's, or a new one."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(24)


def check_sign_in_token(request: Request, form: FormData) -> None:
    """The sign-in form's token must match its cookie (a cross-site form cannot read or set it)."""
    cookie = request.cookies.get(SIGN_IN_COOKIE, "")
    sent = form.get(CSRF_FIELD)
    if not cookie or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise CsrfRefused("the sign-in form's security token (CSRF) is missing or does not match")


def redirect_target(back: str) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    return back if back.startswith("/console") and not back.startswith("//") else "/console"


def sign_in_url(back: str) -> str:
    """The sign-in page that returns to ``back``."""
    return "/console/sign-in?next=" + quote(redirect_target(back), safe="/")
