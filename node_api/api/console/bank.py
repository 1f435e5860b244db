"""The bank's screens: project search, the owner's credit profile (信用画像), verification
certificates (request, read, download) and the watch list (webhook subscriptions and deliveries).

Each calls the API's own route function (``search_projects``, ``owner_profile``,
``owner_grade_history``, ``issue_certificate``, ``get_certificate``, ``subscribe`` …) with the
officer's organisation: the same access rules, the same access-log entries (naming the
officer), the same refusals. Nothing here decides what a bank may see.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from node_api.api.console.forms import model, text
from node_api.api.console.session import CheckedForm, ConsoleSession
from node_api.api.console.views import render
from node_api.api.deps import CertificatesDep, NotificationsDep, ProfilesDep, SearchDep
from node_api.api.params import CodePath, checked_code
from node_api.api.routes import certificates as certificates_route
from node_api.api.routes import owners as owners_route
from node_api.api.routes import projects as projects_route
from node_api.api.routes import subscriptions as subscriptions_route
from node_api.api.schemas import SubscriptionIn
from node_api.errors import NotFoundError, ValidationError

router = APIRouter(prefix="/console", include_in_schema=False)

SEARCH_FIELDS = ("q", "owner_uscc", "region", "stage", "status", "registered_from", "registered_to")
PAGE = 50  # search results a page
CERTIFICATE_ID = re.compile(r"vc-[0-9a-f]{32}")
SUBSCRIPTION_ID = re.compile(r"sub_[0-9a-f]{24}")


def _number(name: str, value: str, low: int, high: int) -> int | None:
    """A whole-number query parameter of a page ('' = not given); out of range or not a number: 422."""
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise ValidationError(name, f"a whole number from {low} to {high}")
    return int(value)


@router.get("/search")
async def search(
    request: Request, session: ConsoleSession, search: SearchDep, q: str = "", owner_uscc: str = "",
    region: str = "", stage: str = "", status: str = "", registered_from: str = "", registered_to: str = "",
    cursor: str = "",
) -> Response:  # fmt: skip
    """Projects by owner USCC, name or code words, region, stage, status and date (GET /v1/projects)."""
    chosen = {"q": q, "owner_uscc": owner_uscc, "region": region, "stage": stage, "status": status,
              "registered_from": registered_from, "registered_to": registered_to}  # fmt: skip
    chosen = {k: v.strip()[:200] for k, v in chosen.items()}
    found: dict[str, Any] | None = None
    if any(chosen.values()):  # an empty form searches nothing (and logs nothing)
        given = {k: v or None for k, v in chosen.items()}
        answer = await projects_route.search_projects(
            session.officer.org, search, q=given["q"], owner_uscc=given["owner_uscc"], region=given["region"],
            stage=_number("stage", chosen["stage"], 0, 4), status=given["status"],
            registered_from=given["registered_from"], registered_to=given["registered_to"],
            cursor=_number("cursor", cursor.strip(), 1, 2**62), limit=PAGE,
        )  # fmt: skip
        found = json.loads(bytes(answer.body))
    more = None
    if found is not None and found["next_cursor"] is not None:
        more = {**{k: v for k, v in chosen.items() if v}, "cursor": found["next_cursor"]}
    return render(request, "search.html", session, nav="search", chosen=chosen, found=found, more=more)


@router.get("/owners")
async def find_owner(session: ConsoleSession, uscc: str = "") -> Response:
    """Open an owner's profile by its USCC."""
    return RedirectResponse(f"/console/owners/{_uscc(uscc)}", status_code=303)


def _uscc(value: str) -> str:
    """A USCC as typed (upper case, no spaces), to be checked by the profile itself."""
    value = value.strip().upper()[:32]
    if not value or not value.isalnum() or not value.isascii():
        raise ValidationError("uscc", "the owner's Unified Social Credit Code (18 characters)")
    return value


@router.get("/owners/{uscc}")
async def owner(
    request: Request, uscc: str, session: ConsoleSession, profiles: ProfilesDep, as_of_block: str = ""
) -> Response:
    """The owner's credit profile: grade with its basis and causes, projects, events, commitments, history."""
    uscc = _uscc(uscc)
    block = _number("as_of_block", as_of_block.strip(), 0, 2**62)
    org = session.officer.org
    profile = await owners_route.owner_profile(uscc, org, profiles, as_of_block=block)
    history = await owners_route.owner_grade_history(uscc, org, profiles, as_of_block=block)
    return render(request, "owner.html", session, nav="search", p=profile, history=history["changes"])


@router.post("/projects/{code}/certificates")
async def request_certificate(
    code: CodePath, session: ConsoleSession, form: CheckedForm, certificates: CertificatesDep
) -> Response:
    """Issues a verification certificate (POST /v1/projects/{code}/certificates: a role or a live grant)."""
    response = await certificates_route.issue_certificate(
        checked_code(code), session.officer.org, certificates
    )
    issued: dict[str, Any] = json.loads(bytes(response.body))
    return RedirectResponse(f"/console/certificates/{issued['id']}?issued=1", status_code=303)


def _certificate_id(value: str) -> str:
    value = value.strip().lower()[:64]
    if not CERTIFICATE_ID.fullmatch(value):
        raise NotFoundError("no such certificate")
    return value


@router.get("/certificates/{certificate_id}")
async def certificate(
    request: Request, certificate_id: str, session: ConsoleSession, certificates: CertificatesDep,
    issued: str = "",
) -> Response:  # fmt: skip
    """A certificate this node issued (GET /v1/certificates/{id}, same grant; logged): what it states."""
    cid = _certificate_id(certificate_id)
    response = await certificates_route.get_certificate(cid, session.officer.org, certificates)
    doc: dict[str, Any] = json.loads(bytes(response.body))
    return render(request, "certificate.html", session, nav="search", c=doc, issued=bool(issued))


DOWNLOADS = {"json": certificates_route.get_certificate, "pdf": certificates_route.get_certificate_pdf}


@router.get("/certificates/{certificate_id}/{form}")
async def certificate_file(
    certificate_id: str, form: str, session: ConsoleSession, certificates: CertificatesDep
) -> Response:
    """The sealed JSON (byte for byte) or the PDF (the JSON attached), as a download; a logged read."""
    cid = _certificate_id(certificate_id)
    if form not in DOWNLOADS:
        raise NotFoundError("a certificate downloads as json or pdf")
    response = await DOWNLOADS[form](cid, session.officer.org, certificates)
    response.headers["Content-Disposition"] = f'attachment; filename="{cid}.{form}"'
    return response


@router.get("/watch")
async def watch_list(request: Request, session: ConsoleSession, notifications: NotificationsDep) -> Response:
    """The organisation's webhook subscriptions (GET /v1/subscriptions) and a form to add a watch list."""
    found = await subscriptions_route.list_subscriptions(session.officer.org, notifications)
    return render(
        request, "watch.html", session, nav="watch", subscriptions=found["subscriptions"], made=None
    )


@router.post("/watch")
async def watch(
    request: Request, session: ConsoleSession, form: CheckedForm, notifications: NotificationsDep
) -> Response:
    """Subscribes a receiver to the projects this organisation holds a live grant on (``watch: granted``)."""
    events = [e for e in ("record", "warning") if text(form, f"event_{e}")]
    body = model(SubscriptionIn, {"url": text(form, "url"), "events": events or ["record"],
                                  "filters": {"watch": "granted"}})  # fmt: skip
    made = await subscriptions_route.subscribe(body, session.officer.org, notifications)
    found = await subscriptions_route.list_subscriptions(session.officer.org, notifications)
    return render(
        request,
        "watch.html",
        session,
        status=201,
        nav="watch",
        subscriptions=found["subscriptions"],
        made=made,
    )


def _subscription_id(value: str) -> str:
    if not SUBSCRIPTION_ID.fullmatch(value[:64]):
        raise NotFoundError("no such subscription")
    return value


@router.get("/watch/{subscription_id}")
async def watch_detail(
    request: Request, subscription_id: str, session: ConsoleSession, notifications: NotificationsDep
) -> Response:
    """One subscription and its latest deliveries with their state (GET /v1/subscriptions/{id})."""
    sid = _subscription_id(subscription_id)
    view = await subscriptions_route.get_subscription(sid, session.officer.org, notifications)
    return render(request, "watch_detail.html", session, nav="watch", sub=view)


@router.post("/watch/{subscription_id}/deactivate")
async def stop_watching(
    subscription_id: str, session: ConsoleSession, form: CheckedForm, notifications: NotificationsDep
) -> Response:
    """Stops a subscription (DELETE /v1/subscriptions/{id}: kept, marked deactivated)."""
    sid = _subscription_id(subscription_id)
    await subscriptions_route.deactivate_subscription(sid, session.officer.org, notifications)
    return RedirectResponse(f"/console/watch/{sid}", status_code=303)
