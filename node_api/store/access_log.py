"""The access log's tables: ``access_log`` (one row per restricted read) and ``access_anchors``.

Rows are appended by ``node_api.ledger.access.Access.log``; the anchorer reads them as the
leaves of an RFC 6962 log and records which roots are confirmed on chain.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from typing import Any

from node_api.store.database import CANONICAL, Database


class AccessLogTable:
    """Repository of the access log and its anchors."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def leaves_after(self, seq: int) -> list[sqlite3.Row]:
        """Rows after ``seq`` in log order (seq, at, leaf_hash)."""
        return self.db.all("SELECT seq, at, leaf_hash FROM access_log WHERE seq > ? ORDER BY seq", (seq,))

    def entries(
        self,
        after_seq: int,
        limit: int,
        project_code: str | None = None,
        org_id: int | None = None,
        since: dt.datetime | None = None,
    ) -> list[sqlite3.Row]:
        """Whole rows after ``after_seq`` in log order, optionally of one project, organisation or since a time."""
        where: list[str] = ["seq > ?"]
        params: list[object] = [after_seq]
        if project_code is not None:
            where.append("project_code = ?")
            params.append(project_code)
        if org_id is not None:
            where.append("org_id = ?")
            params.append(org_id)
        if since is not None:
            where.append("at >= ?")
            params.append((since if since.tzinfo else since.replace(tzinfo=dt.UTC)).timestamp())
        return self.db.all(
            f"SELECT * FROM access_log WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", (*params, limit)
        )

    def append(self, rows: list[tuple[Any, ...]]) -> None:
        """Appends entries in one commit: each row is (at, org_id, org_name, token_id, action,
        subject, project_code, basis, leaf_hash, officer)."""
        with self.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO access_log(at, org_id, org_name, token_id, action, subject, project_code, basis,"
                " leaf_hash, officer) VALUES(?,?,?,?,?,?,?,?,?,?)",
                rows,
            )

    # -- anchors ------------------------------------------------------------------------
    def anchors_version(self) -> tuple[int, int]:
        """Changes whenever the confirmed anchors may have: (anchors, orphaned blocks)."""
        return (
            int(self.db.scalar("SELECT count(*) FROM access_anchors")),
            int(self.db.scalar("SELECT count(*) FROM chain_orphans")),
        )

    def confirmed_anchors(self) -> list[sqlite3.Row]:
        """Anchors whose record is canonical on chain with their root, smallest tree first
        (tree_size, root, uid, block_number, tx_hash)."""
        return self.db.all(
            f"SELECT a.tree_size, a.root, a.uid, min(r.block_number) AS block_number, r.tx_hash "
            f"FROM access_anchors a JOIN chain_records r ON r.uid = a.uid AND r.digest = a.root "
            f"WHERE r.{CANONICAL} GROUP BY a.tree_size ORDER BY a.tree_size"
        )

    def anchor_uids(self) -> set[str]:
        """Uids of every recorded anchor."""
        return {str(r[0]) for r in self.db.all("SELECT uid FROM access_anchors")}

    def largest_anchor(self) -> sqlite3.Row | None:
        """The recorded anchor of the largest tree (tree_size, root, uid)."""
        return self.db.one("SELECT tree_size, root, uid FROM access_anchors ORDER BY tree_size DESC")

    def record_anchor(self, tree_size: int, root: str, uid: str) -> None:
        """Records an anchor confirmed on chain (once per tree size and uid)."""
        self.db.conn.execute(
            "INSERT OR IGNORE INTO access_anchors(tree_size, root, uid, created_at) VALUES(?,?,?,?)",
            (tree_size, root, uid, time.time()),
        )
