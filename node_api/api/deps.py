"""FastAPI dependencies: the node, the calling organisation, the operator, the token-guessing guard."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import time
from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request

from node_api.errors import AuthenticationError, ForbiddenError, RateLimitedError
from node_api.ledger.access import CURRENT_TOKEN
from node_api.ledger.membership import Organization
from node_api.node import Node
from node_api.store.auth import find_token, recent_failures, record_failure, token_is_live
from node_api.store.database import Database

WINDOW = 60.0  # seconds the guard remembers a failure
NO_SELECTOR = "*"  # the guard's key part for a credential that names no live token
OPERATOR_SELECTOR = "operator"  # the guard's key part for the operator's credential
# An API token names its row id (its public selector) before the secret: pc_<id>_<43 url-safe>.
_SELECTOR_TOKEN = re.compile(r"pc_([1-9][0-9]{0,17})_[A-Za-z0-9_-]{43}")


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 hashes only (they are 256-bit random, so no KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_selector(token: str) -> int | None:
    """The token id a token names (``pc_<id>_<secret>``); None for other strings and older tokens."""
    m = _SELECTOR_TOKEN.fullmatch(token)
    return int(m.group(1)) if m else None


class AuthGuard:
    """Refuses token guessers: at most ``per_minute`` failures per (client address, selector).

    The count is kept in the database (``node_api.store.auth``), so every process of the node
    sees the same one. The key is the pair of

    - the client address: the direct peer, or — only when the direct peer is one of
      ``trusted_proxies`` — the last address of X-Forwarded-For that is not a trusted proxy
      (the one the proxy itself saw; entries a client wrote before it are not believed);
    - the selector of the credential presented: the id of the live token it names
      (``pc_<id>_…``), ``"*"`` for anything else, ``"operator"`` for /metrics.

    A guesser is stopped at its address, and once a key is locked even the right token is
    refused under it (no oracle); other clients at the same address (an office NAT, a proxy
    that is not configured as trusted) keep working with their own tokens. Tokens made
    before selectors existed (``pc_`` + 43 characters) share the ``"*"`` key of their address.
    """

    def __init__(self, per_minute: int, trusted_proxies: Iterable[str] = ()) -> None:
        self.per_minute = per_minute
        self._trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def _is_trusted(self, address: str) -> bool:
        if not self._trusted:
            return False
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return False
        return any(ip in net for net in self._trusted)

    def client_address(self, peer: str, forwarded_for: Iterable[str] = ()) -> str:
        """The address failures are counted against (see the class docstring)."""
        if not self._is_trusted(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop[:64]
        return hops[0][:64] if hops else peer

    def client(self, request: Request) -> str:
        """The client address of a request."""
        peer = request.client.host if request.client else "unknown"
        return self.client_address(peer, request.headers.getlist("x-forwarded-for"))

    def check(self, db: Database, client: str, selector: str) -> None:
        """Raises RateLimitedError when (client, selector) failed too often in the last minute."""
        if recent_failures(db, client, selector, time.time() - WINDOW) >= self.per_minute:
            raise RateLimitedError("too many failed authentication attempts; retry in a minute")

    def fail(self, db: Database, client: str, selector: str) -> None:
        """Records a failed attempt (and forgets those older than the window)."""
        now = time.time()
        record_failure(db, client, selector, now, now - WINDOW)


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
    client = guard.client(request)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        guard.check(node.db, client, NO_SELECTOR)
        guard.fail(node.db, client, NO_SELECTOR)
        raise AuthenticationError("Authorization must be 'Bearer <token>'")
    digest = hash_token(token)
    row = find_token(node.db, digest)
    # The lookup is by hash; the comparison is constant-time as well, for good measure.
    if row is not None and not hmac.compare_digest(row["token_hash"], digest):
        row = None
    selector = _selector(node, token, None if row is None else int(row["id"]))
    # Checked whether or not the token is right: a locked-out guesser learns nothing.
    guard.check(node.db, client, selector)
    if row is None:
        guard.fail(node.db, client, selector)
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


def _selector(node: Node, token: str, found: int | None) -> str:
    """The guard's selector of a presented token: the live token id it names, else "*"."""
    named = token_selector(token)
    if named is None:
        return NO_SELECTOR
    if named == found or (found is None and token_is_live(node.db, named)):
        return str(named)
    return NO_SELECTOR


async def require_operator(request: Request, node: NodeDep) -> None:
    """The node operator (GET /metrics): ``Bearer <token>`` whose SHA-256 is PROJCHAIN_METRICS_TOKEN_SHA256."""
    header = request.headers.get("authorization")
    if header is None:
        raise AuthenticationError("this endpoint needs 'Authorization: Bearer <operator token>'")
    expected = node.settings.metrics_token_sha256
    if expected is None:
        raise ForbiddenError("no operator credential is set on this node (PROJCHAIN_METRICS_TOKEN_SHA256)")
    guard: AuthGuard = request.app.state.auth_guard
    client = guard.client(request)
    guard.check(node.db, client, OPERATOR_SELECTOR)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(hash_token(token.strip()), expected):
        guard.fail(node.db, client, OPERATOR_SELECTOR)
        raise AuthenticationError("not the operator credential")


async def require_org(org: Annotated[Organization | None, Depends(optional_org)]) -> Organization:
    """The calling organisation; 401 without a token."""
    if org is None:
        raise AuthenticationError("this endpoint needs 'Authorization: Bearer <token>'")
    if org.suspended:
        raise ForbiddenError(f"organisation {org.name} is suspended")
    return org


OptionalOrg = Annotated[Organization | None, Depends(optional_org)]
CurrentOrg = Annotated[Organization, Depends(require_org)]
