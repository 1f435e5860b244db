"""The node's SQLite database: tokens, the durable outbox and the chain index.

One connection, used from the event loop's thread. WAL mode with
``synchronous=FULL`` makes each commit durable; callers group many writes into one
commit (see ``pipeline.Outbox``) so durability does not cost a fsync per request.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = Path(__file__).with_name("schema.sql")

# Columns added to a table after its first release: CREATE TABLE IF NOT EXISTS leaves an older
# database's table as it was, so these are added in place (ALTER TABLE … ADD COLUMN, nullable).
_ADDED_COLUMNS = (("access_log", "officer", "TEXT"),)

DatabaseError = sqlite3.Error  # what a statement raises (busy past the timeout, disk full, …)

# A row is canonical unless its block was orphaned (chain reorganised or lost).
CANONICAL = "block_hash NOT IN (SELECT hash FROM chain_orphans)"


class Database:
    """Thin wrapper over one sqlite3 connection."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.executescript(_SCHEMA.read_text())
        for table, column, declaration in _ADDED_COLUMNS:
            present = {str(r["name"]) for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        """Closes the connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def stamp(self) -> tuple[int, int]:
        """Changes whenever the database may have: another connection's commits (SQLite's
        ``data_version``) and this connection's own changes (``total_changes``). Equal stamps: no
        table changed in between, so a read model derived in between is still current."""
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        return int(version), self.conn.total_changes

    def one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """First row of a query."""
        row: sqlite3.Row | None = self.conn.execute(sql, tuple(params)).fetchone()
        return row

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """All rows of a query."""
        return list(self.conn.execute(sql, tuple(params)).fetchall())

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        """First column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def get_meta(self, key: str) -> str | None:
        """A value of the meta table."""
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Sets a value of the meta table (operational state, not ledger data)."""
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
