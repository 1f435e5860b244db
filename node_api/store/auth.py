"""API tokens (stored as hashes) and failed authentications, in the node's database.

Failed authentications live in the database, not in a process, so the gateway processes
of a node (``node_api/workers.py``) share one count: a guesser gets the same number of
tries whichever process its connections land on. Each failure is one row keyed by the
client address and the selector of the token presented (see ``node_api.api.deps.AuthGuard``);
rows older than the window are deleted as new ones are written (an indexed range delete
in the same commit), so the table holds at most a minute of failures.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable

from node_api.store.database import Database


def insert_token(db: Database, org_id: int, name: str, token_hash: Callable[[int], str]) -> int:
    """Adds a token row and returns its id; ``token_hash(id)`` is the hash stored.

    The token embeds its row id (its public selector), so the hash is known only once the
    row has an id: insert and hash are one transaction.
    """
    with db.transaction() as conn:
        # A placeholder that matches no presented token, replaced before the commit.
        cur = conn.execute(
            "INSERT INTO tokens(org_id, name, token_hash, created_at) VALUES(?,?,?,?)",
            (org_id, name, "pending:" + secrets.token_hex(16), time.time()),
        )
        token_id = int(cur.lastrowid or 0)
        conn.execute("UPDATE tokens SET token_hash = ? WHERE id = ?", (token_hash(token_id), token_id))
    return token_id


def find_token(db: Database, token_hash: str) -> sqlite3.Row | None:
    """The live (not revoked) token with this hash: id, org_id, token_hash."""
    return db.one(
        "SELECT id, org_id, token_hash FROM tokens WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
    )


def token_is_live(db: Database, token_id: int) -> bool:
    """Whether a token of this id exists and is not revoked."""
    return db.one("SELECT 1 FROM tokens WHERE id = ? AND revoked_at IS NULL", (token_id,)) is not None


def revoke_token(db: Database, token_id: int) -> bool:
    """Marks a token revoked (the row stays); False if there was no live token of this id."""
    cur = db.conn.execute(
        "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (time.time(), token_id)
    )
    return cur.rowcount == 1


def list_tokens(db: Database) -> list[sqlite3.Row]:
    """Every token row, without hashes."""
    return db.all("SELECT id, org_id, name, created_at, revoked_at FROM tokens ORDER BY id")


def recent_failures(db: Database, client: str, selector: str, since: float) -> int:
    """Failed authentications of (client, selector) at or after ``since`` (unix seconds)."""
    return int(
        db.scalar(
            "SELECT count(*) FROM auth_failures WHERE client = ? AND selector = ? AND at >= ?",
            (client, selector, since),
        )
        or 0
    )


def record_failure(db: Database, client: str, selector: str, at: float, forget_before: float) -> None:
    """Records a failed authentication, and forgets every failure older than ``forget_before``."""
    with db.transaction() as conn:
        conn.execute("DELETE FROM auth_failures WHERE at < ?", (forget_before,))
        conn.execute("INSERT INTO auth_failures(client, selector, at) VALUES(?,?,?)", (client, selector, at))
