"""FastAPI dependencies: the node, the calling organisation, rate limiting."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import Depends, Request

from node_api.errors import AuthenticationError, ForbiddenError, RateLimitedError
from node_api.ledger.access import CURRENT_TOKEN
from node_api.ledger.membership import Organization
from node_api.node import Node


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 hashes only (they are 256-bit random, so no KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


class AuthGuard:
    """Counts failed authentications per client address and refuses guessers."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def check(self, client: str) -> None:
        """Raises RateLimitedError when the client failed too often in the last minute."""
        q = self._failures.get(client)
        if q is None:
            return
        now = time.monotonic()
        while q and now - q[0] > 60:
            q.popleft()
        if not q:
            del self._failures[client]  # forget clients with no recent failure: bounded memory
        elif len(q) >= self.per_minute:
            raise RateLimitedError("too many failed authentication attempts; retry in a minute")

    def fail(self, client: str) -> None:
        """Records a failed attempt."""
        self._failures[client].append(time.monotonic())


async def get_node(request: Request) -> Node:
    """The node serving this app."""
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]


async def optional_org(request: Request, node: NodeDep) -> Organization | None:
    """The calling organisation if a valid token is presented, else None (public)."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    guard: AuthGuard = request.app.state.auth_guard
    client = request.client.host if request.client else "unknown"
    guard.check(client)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        guard.fail(client)
        raise AuthenticationError("Authorization must be 'Bearer <token>'")
    digest = hash_token(token.strip())
    row = node.db.one(
        "SELECT id, org_id, token_hash FROM tokens WHERE token_hash = ? AND revoked_at IS NULL", (digest,)
    )
    # The lookup is by hash; the comparison is constant-time as well, for good measure.
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        guard.fail(client)
        raise AuthenticationError("unknown or revoked token")
    org = node.membership.get(int(row["org_id"]))
    if org is None:
        raise AuthenticationError("the token's organisation is not (yet) a member on chain")
    if org.suspended:
        # A suspended organisation reads nothing beyond the public view, even with a live grant.
        raise ForbiddenError(f"organisation {org.name} is suspended")
    request.state.org_id = org.id
    CURRENT_TOKEN.set(int(row["id"]))
    return org


async def require_org(org: Annotated[Organization | None, Depends(optional_org)]) -> Organization:
    """The calling organisation; 401 without a token."""
    if org is None:
        raise AuthenticationError("this endpoint needs 'Authorization: Bearer <token>'")
    if org.suspended:
        raise ForbiddenError(f"organisation {org.name} is suspended")
    return org


OptionalOrg = Annotated[Organization | None, Depends(optional_org)]
CurrentOrg = Annotated[Organization, Depends(require_org)]
