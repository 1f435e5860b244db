"""Nonces of signed node-to-node requests already served (replay protection, ``node_api.peer``).

A nonce is kept, as its 32 bytes, with the request's signed timestamp, for as long as the
request could still pass the freshness check; older ones are deleted as new ones arrive
(one indexed range delete in the same commit), so the table holds a few minutes of requests.
"""

from __future__ import annotations

import sqlite3

from node_api.store.database import Database


def remember_nonce(db: Database, nonce: bytes, org_id: int, timestamp: float, forget_before: float) -> bool:
    """Records a request's nonce; False if it was seen before (a replay).

    Nonces of requests signed before ``forget_before`` are deleted in the same commit.
    """
    with db.transaction() as conn:
        conn.execute("DELETE FROM peer_nonces WHERE at < ?", (forget_before,))
        try:
            conn.execute(
                "INSERT INTO peer_nonces(nonce, org_id, at) VALUES(?,?,?)", (nonce, org_id, timestamp)
            )
        except sqlite3.IntegrityError:
            return False
    return True
