"""The chain index's tables (``chain_*``): what the indexer stored, as the services read it.

The indexer appends rows; nothing here changes them. Rows of orphaned blocks stay (the
index is append-only) and are left out by ``CANONICAL``.
"""

from __future__ import annotations

import sqlite3

from node_api.store.database import CANONICAL, Database


class IndexTable:
    """Repository of the chain index's tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def last_rowid(self) -> int:
        """The rowid of the newest ``chain_records`` row (0 when empty)."""
        return int(self.db.scalar("SELECT coalesce(max(rowid), 0) FROM chain_records"))

    def uids_after(self, rowid: int) -> tuple[int, list[str]]:
        """Uids of the ``chain_records`` rows after ``rowid``, and the newest rowid seen."""
        rows = self.db.all("SELECT rowid, uid FROM chain_records WHERE rowid > ? ORDER BY rowid", (rowid,))
        if not rows:
            return rowid, []
        return int(rows[-1][0]), [str(r[1]) for r in rows]

    def holds(self, uid: str) -> bool:
        """Whether a canonical record of ``uid`` is indexed."""
        return (
            self.db.scalar(f"SELECT 1 FROM chain_records WHERE uid = ? AND {CANONICAL}", (uid,)) is not None
        )

    def project_code(self, project: str) -> str | None:
        """The code of a project id (0x…), None when no registration was indexed."""
        code = self.db.scalar("SELECT code FROM chain_projects WHERE project = ?", (project,))
        return None if code is None else str(code)

    def records_binding(self, digest: str) -> list[sqlite3.Row]:
        """Canonical records that bind a document digest (uid, kind, block, tx, role, project code)."""
        return self.db.all(
            f"SELECT r.uid, r.kind, r.block_number, r.tx_hash, d.role, p.code FROM chain_record_digests d "
            f"JOIN chain_records r ON r.uid = d.uid AND r.block_hash = d.block_hash "
            f"LEFT JOIN chain_projects p ON p.project = r.project WHERE d.digest = ? AND r.{CANONICAL} "
            f"ORDER BY r.block_number",
            (digest,),
        )

    def relayer_events(self) -> list[sqlite3.Row]:
        """RelayerAdded / RelayerRemoved events in chain order (name, args JSON)."""
        return self.db.all(
            f"SELECT name, args FROM chain_member_events WHERE name IN ('RelayerAdded', 'RelayerRemoved') "
            f"AND {CANONICAL} ORDER BY block_number, log_index"
        )
