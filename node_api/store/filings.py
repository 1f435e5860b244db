"""Filings made through this node: the owner's name as filed and the rendered 备案证 (table ``filings``)."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from node_api.store.database import Database
from node_api.store.search_rows import SearchWriter


@dataclass(frozen=True)
class FilingRow:
    """One filing as stored."""

    code: str
    org_id: int
    owner_name: str
    registration: str
    filing: str
    checklist: list[str]
    certificate: bytes
    created_at: float


class FilingTable:
    """Repository of the filings this node made."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, row: FilingRow) -> None:
        """Stores a filing (its code is new: the ledger refused any other registration of it)."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO filings (code, org_id, owner_name, registration, filing, checklist, certificate,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row.code, row.org_id, row.owner_name, row.registration, row.filing, json.dumps(row.checklist),
                 row.certificate, row.created_at or time.time()),
            )  # fmt: skip
            SearchWriter.add_owner_name(conn, row.code, row.owner_name)  # searchable by those who may read it

    def get(self, code: str) -> FilingRow | None:
        """The filing of ``code`` made through this node, if any."""
        r = self.db.one("SELECT * FROM filings WHERE code = ?", (code,))
        if r is None:
            return None
        return FilingRow(
            code=str(r["code"]), org_id=int(r["org_id"]), owner_name=str(r["owner_name"]),
            registration=str(r["registration"]), filing=str(r["filing"]),
            checklist=[str(u) for u in json.loads(r["checklist"])], certificate=bytes(r["certificate"]),
            created_at=float(r["created_at"]),
        )  # fmt: skip

    def count(self) -> int:
        """How many filings this node made."""
        return int(self.db.scalar("SELECT count(*) FROM filings") or 0)

    # -- Idempotency-Keys ----------------------------------------------------------------------
    def claim(self, org_id: int, key: str, fingerprint: str, now: float, stale: float) -> sqlite3.Row | None:
        """Claims ``key`` for a new filing: None when claimed now (a new key, one whose filing failed, or
        one whose filing started before ``stale`` and never ended: its process died), else the row of
        the filing that holds it (in progress or done)."""
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO filing_requests (org_id, key, fingerprint, started_at) VALUES (?, ?, ?, ?)",
                (org_id, key, fingerprint, now),
            )
            if cur.rowcount == 1:
                return None
            cur = conn.execute(
                "UPDATE filing_requests SET started_at = ?, error = NULL"
                " WHERE org_id = ? AND key = ? AND fingerprint = ? AND answer IS NULL"
                " AND (error IS NOT NULL OR started_at < ?)",
                (now, org_id, key, fingerprint, stale),
            )
            if cur.rowcount == 1:
                return None
            row: sqlite3.Row | None = conn.execute(
                "SELECT * FROM filing_requests WHERE org_id = ? AND key = ?", (org_id, key)
            ).fetchone()
            return row

    def settle(self, org_id: int, key: str, answer: str | None, error: str | None) -> None:
        """Records how the filing holding ``key`` ended: its answer, or why it failed."""
        self.db.conn.execute(
            "UPDATE filing_requests SET answer = ?, error = ? WHERE org_id = ? AND key = ?",
            (answer, error, org_id, key),
        )
