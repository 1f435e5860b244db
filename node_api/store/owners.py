"""Reads of the chain index by project and owner: an owner's projects (信用画像), a project's records
and status changes up to a block (``ledger/facts.py``), and indexed blocks by number.

Every query reads only canonical rows (``CANONICAL``) and, where asked, only what blocks up to
a given number hold: the profile at a past block is computed from exactly what was on chain then.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from node_api.domain.records import Kind
from node_api.store.database import CANONICAL, Database

_LIVE_BLOCK = "hash NOT IN (SELECT hash FROM chain_orphans)"
_PROJECT_RECORDS = (
    "SELECT r.rowid, r.uid, r.kind, r.ref, r.issuer, r.payload, r.block_number, r.block_hash, r.tx_hash, "
    "r.log_index, b.timestamp AS block_time FROM chain_records r JOIN chain_blocks b ON b.hash = r.block_hash"
)


class OwnerIndex:
    """Repository of the index's tables as a project's facts and an owner's credit profile read them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def registrations_naming(self, text: str, until_block: int) -> list[sqlite3.Row]:
        """Readable project records (registrations and corrections) in blocks ≤ ``until_block`` whose
        payload holds ``text`` (an owner's USCC: an ABI string is stored as its UTF-8 bytes), oldest first
        (project, uid, ref, payload, block_number, log_index). The caller decodes and compares the field."""
        return self.db.all(
            f"SELECT project, uid, ref, payload, block_number, log_index FROM chain_records "
            f"WHERE kind = ? AND problem IS NULL AND block_number <= ? AND instr(payload, ?) > 0 AND {CANONICAL} "
            f"ORDER BY block_number, log_index",
            (int(Kind.PROJECT), until_block, text.encode()),
        )

    def project_records_until(self, project: str, until_block: int | None = None) -> list[sqlite3.Row]:
        """A project's readable canonical records in blocks ≤ ``until_block`` (None: every block), in chain
        order, each with its block's timestamp (``block_time``); a uid included twice appears twice (the
        first counts)."""
        until = "" if until_block is None else "AND r.block_number <= ? "
        return self.db.all(
            f"{_PROJECT_RECORDS} WHERE r.project = ? AND r.problem IS NULL {until}AND r.{CANONICAL} "
            f"ORDER BY r.block_number, r.log_index",
            (project,) if until_block is None else (project, until_block),
        )

    def project_records_after(self, project: str, rowid: int) -> list[sqlite3.Row]:
        """``project_records_until``'s rows (every block) indexed after row ``rowid``, with their ``rowid``:
        the indexer appends blocks in chain order, so these follow the rows up to ``rowid`` in chain
        order while no block was orphaned since (``orphan_mark``)."""
        return self.db.all(
            f"{_PROJECT_RECORDS} WHERE r.project = ? AND r.rowid > ? AND r.problem IS NULL AND r.{CANONICAL} "
            f"ORDER BY r.block_number, r.log_index",
            (project, rowid),
        )

    def orphan_mark(self) -> int:
        """Changes whenever a block is found orphaned (the newest ``chain_orphans`` row; 0 for none)."""
        row = self.db.one("SELECT max(rowid) FROM chain_orphans")
        return 0 if row is None or row[0] is None else int(row[0])

    def status_changes_until(self, uids: Sequence[str], until_block: int | None = None) -> list[sqlite3.Row]:
        """Status changes of ``uids`` in blocks ≤ ``until_block`` (None: every block), in chain order
        (uid, status, cause, block_number, block_time)."""
        if not uids:
            return []
        marks = ",".join("?" * len(uids))
        until = "" if until_block is None else "AND s.block_number <= ? "
        return self.db.all(
            f"SELECT s.uid, s.status, s.cause, s.block_number, b.timestamp AS block_time FROM chain_status s "
            f"JOIN chain_blocks b ON b.hash = s.block_hash WHERE s.uid IN ({marks}) {until}"
            f"AND s.{CANONICAL} ORDER BY s.block_number, s.log_index",
            (*uids,) if until_block is None else (*uids, until_block),
        )

    def block(self, number: int) -> sqlite3.Row | None:
        """The indexed canonical block of this number (number, hash, timestamp), if the index holds it."""
        return self.db.one(
            f"SELECT number, hash, timestamp FROM chain_blocks WHERE number = ? AND {_LIVE_BLOCK}", (number,)
        )
