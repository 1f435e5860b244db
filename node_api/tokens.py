"""API tokens: 256-bit random, shown once, stored only as SHA-256 hashes.

A token reads ``pc_<id>_<secret>``: the id of its row (public: it only selects the
token, for the failed-login guard in ``node_api.api.deps.AuthGuard``) and 43 url-safe
characters of secret. Tokens made before ids were embedded (``pc_<secret>``) keep working.

The operator's credential for ``GET /metrics`` is not a row: ``projchain metrics-token``
makes one (``pc_op_<secret>``) and prints the SHA-256 to set as PROJCHAIN_METRICS_TOKEN_SHA256.
"""

from __future__ import annotations

import secrets

from node_api.api.deps import hash_token
from node_api.store import auth
from node_api.store.database import Database


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
