"""The consortium as the chain says it is: members, their roles, suspension and seal keys (read-only).

What every member may see on chain (principle 1). Admitting, suspending and rotating keys
take a threshold of admin signatures (``projchain org admit``); their proposals and
confirmations have no screen yet (docs/console.md, "Not yet").
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from node_api.api.console.session import ConsoleSession
from node_api.api.console.views import render
from node_api.api.deps import MembershipDep

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/consortium")
async def members(request: Request, session: ConsoleSession, membership: MembershipDep) -> Response:
    """Every member organisation with its roles and seal keys (valid or revoked)."""
    orgs = sorted(membership.all(), key=lambda o: o.id)
    return render(request, "consortium.html", session, nav="consortium", orgs=orgs)
