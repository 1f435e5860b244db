"""API tokens and the token-guessing guard.

Tokens are 256-bit random, shown once, stored only as SHA-256 hashes. A token reads
``pc_<id>_<secret>``: the id of its row (public: it only selects the token, for the
failed-login guard ``AuthGuard``) and 43 url-safe characters of secret. Tokens made before
ids were embedded (``pc_<secret>``) keep working.

The operator's credential for ``GET /metrics`` is not a row: ``projchain metrics-token``
makes one (``pc_op_<secret>``) and prints the SHA-256 to set as PROJCHAIN_METRICS_TOKEN_SHA256.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import time
from collections.abc import Iterable

from node_api.errors import AuthenticationError, ForbiddenError, RateLimitedError
from node_api.ledger.membership import Membership, Organization
from node_api.store import auth
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

    def __init__(self, db: Database, per_minute: int, trusted_proxies: Iterable[str] = ()) -> None:
        self.db = db
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

    def check(self, client: str, selector: str) -> None:
        """Raises RateLimitedError when (client, selector) failed too often in the last minute."""
        if auth.recent_failures(self.db, client, selector, time.time() - WINDOW) >= self.per_minute:
            raise RateLimitedError("too many failed authentication attempts; retry in a minute")

    def fail(self, client: str, selector: str) -> None:
        """Records a failed attempt (and forgets those older than the window)."""
        now = time.time()
        auth.record_failure(self.db, client, selector, now, now - WINDOW)


def create_token(db: Database, org_id: int, name: str) -> str:
    """Creates a token for an organisation; returns the only copy of the secret."""
    secret = secrets.token_urlsafe(32)
    token_id = auth.insert_token(db, org_id, name, lambda i: hash_token(f"pc_{i}_{secret}"))
    return f"pc_{token_id}_{secret}"


def revoke_token(db: Database, token_id: int) -> bool:
    """Revokes a token by id (the row stays, marked revoked)."""
    return auth.revoke_token(db, token_id)


def create_operator_token() -> tuple[str, str]:
    """A new operator credential for /metrics: (token, its SHA-256 for PROJCHAIN_METRICS_TOKEN_SHA256)."""
    token = "pc_op_" + secrets.token_urlsafe(32)
    return token, hash_token(token)


class Credentials:
    """Who presents a token: the live token row and its organisation, as the chain knows it."""

    def __init__(self, db: Database, membership: Membership, guard: AuthGuard) -> None:
        self.db = db
        self.membership = membership
        self.guard = guard

    def authenticate(self, client: str, header: str) -> tuple[int, Organization]:
        """(token id, organisation) of an ``Authorization`` header value; raises 401, 403 or 429.

        The guard is consulted whether or not the token is right: a locked-out guesser learns nothing.
        """
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            self.guard.check(client, NO_SELECTOR)
            self.guard.fail(client, NO_SELECTOR)
            raise AuthenticationError("Authorization must be 'Bearer <token>'")
        digest = hash_token(token)
        row = auth.find_token(self.db, digest)
        # The lookup is by hash; the comparison is constant-time as well, for good measure.
        if row is not None and not hmac.compare_digest(row["token_hash"], digest):
            row = None
        selector = self._selector(token, None if row is None else int(row["id"]))
        self.guard.check(client, selector)
        if row is None:
            self.guard.fail(client, selector)
            raise AuthenticationError("unknown or revoked token")
        org = self.membership.get(int(row["org_id"]))
        if org is None:
            raise AuthenticationError("the token's organisation is not (yet) a member on chain")
        if org.suspended:
            # A suspended organisation reads nothing beyond the public view, even with a live grant.
            raise ForbiddenError(f"organisation {org.name} is suspended")
        return int(row["id"]), org

    def _selector(self, token: str, found: int | None) -> str:
        """The guard's selector of a presented token: the live token id it names, else "*"."""
        named = token_selector(token)
        if named is None:
            return NO_SELECTOR
        if named == found or (found is None and auth.token_is_live(self.db, named)):
            return str(named)
        return NO_SELECTOR

    def check_operator(self, client: str, header: str, expected: str | None) -> None:
        """The node operator's credential (``Bearer <token>`` whose SHA-256 is ``expected``); raises otherwise."""
        if expected is None:
            raise ForbiddenError(
                "no operator credential is set on this node (PROJCHAIN_METRICS_TOKEN_SHA256)"
            )
        self.guard.check(client, OPERATOR_SELECTOR)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(hash_token(token.strip()), expected):
            self.guard.fail(client, OPERATOR_SELECTOR)
            raise AuthenticationError("not the operator credential")
