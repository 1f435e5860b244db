"""The catalogue's read side: the canonical CATALOGUE records of the chain index, as stored.

No table of its own: every version of every item is a record in ``chain_records`` (kind
CATALOGUE, project zero), and the ledger service (``node_api.ledger.catalogue``) decodes
them into the catalogue. ``version`` is what it watches to know when to read them again.
"""

from __future__ import annotations

import sqlite3

from node_api.domain.records import ZERO32, Kind
from node_api.store.database import CANONICAL, Database

_NO_PROJECT = "0x" + ZERO32.hex()


class CatalogueTable:
    """Repository of the catalogue's records in the chain index."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def stamp(self) -> tuple[int, int]:
        """The database's change stamp (``Database.stamp``): equal, nothing changed."""
        return self.db.stamp()

    def version(self) -> tuple[int, int]:
        """Changes whenever the canonical catalogue may have: (catalogue rows, orphaned blocks), one query."""
        row = self.db.one(
            "SELECT (SELECT count(*) FROM chain_records WHERE project = ? AND kind = ?),"
            " (SELECT count(*) FROM chain_orphans)",
            (_NO_PROJECT, int(Kind.CATALOGUE)),
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    def records(self) -> list[sqlite3.Row]:
        """Every canonical, readable catalogue record in chain order (uid, issuer, payload, block_number,
        block_hash, tx_hash, log_index)."""
        return self.db.all(
            f"SELECT uid, issuer, payload, block_number, block_hash, tx_hash, log_index FROM chain_records"
            f" WHERE project = ? AND kind = ? AND problem IS NULL AND {CANONICAL}"
            f" ORDER BY block_number, log_index",
            (_NO_PROJECT, int(Kind.CATALOGUE)),
        )
