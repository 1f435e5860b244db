"""API tokens: 256-bit random, shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import secrets
import time

from node_api.api.deps import hash_token
from node_api.store.database import Database


def create_token(db: Database, org_id: int, name: str) -> str:
    """Creates a token for an organisation; returns the only copy of the secret."""
    token = "pc_" + secrets.token_urlsafe(32)
    db.conn.execute(
        "INSERT INTO tokens(org_id, name, token_hash, created_at) VALUES(?,?,?,?)",
        (org_id, name, hash_token(token), time.time()),
    )
    return token


def revoke_token(db: Database, token_id: int) -> bool:
    """Revokes a token by id (the row stays, marked revoked)."""
    cur = db.conn.execute(
        "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (time.time(), token_id)
    )
    return cur.rowcount == 1
