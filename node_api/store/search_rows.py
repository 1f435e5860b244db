"""The rows of the project search read model (docs/search.md), derived from the ledger by the indexer.

``SearchWriter`` holds the indexer's statements, inside its transaction: it re-derives a project's
row from its canonical ledger rows whenever a registration, a correction or a status change of a
registration or granting approval lands, raises the stage reached when an approval grants a later
stage, and re-derives every project a rewind touched. The tables may be dropped and rebuilt from
the ledger (``rebuild``; a new ``SEARCH_VERSION`` does it at start). The ledger's own rows are
never changed. ``node_api/store/search.py`` queries the rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from node_api.domain.records import Kind, PayloadError, Status, decode_payload
from node_api.domain.search import Registration, SearchEntry, grants_stage, search_entry
from node_api.store.database import CANONICAL

SEARCH_VERSION = "1"  # bump when the derivation changes: the next start rebuilds the tables
_VERSION_KEY = "search.version"

_LATEST_STATUS = (
    f"(SELECT s.status FROM chain_status s WHERE s.uid = {{uid}} AND s.{CANONICAL} "
    f"ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1)"
)
_REGISTRATIONS = (
    f"SELECT r.uid, r.payload, r.block_number, b.timestamp, {_LATEST_STATUS.format(uid='r.uid')} AS status "
    f"FROM chain_records r JOIN chain_blocks b ON b.hash = r.block_hash "
    f"WHERE r.project = ? AND r.kind = {int(Kind.PROJECT)} AND r.problem IS NULL AND r.{CANONICAL} "
    f"ORDER BY r.block_number, r.log_index"
)
# The highest stage granted by an approval that is canonical and still active (no status change, or active).
_STAGE = (
    f"SELECT coalesce(max(a.stage), 0) FROM search_stages a WHERE a.project = ? "
    f"AND EXISTS (SELECT 1 FROM chain_records r WHERE r.uid = a.uid AND r.{CANONICAL}) "
    f"AND coalesce({_LATEST_STATUS.format(uid='a.uid')}, {int(Status.ACTIVE)}) = {int(Status.ACTIVE)}"
)


def _derive(
    conn: sqlite3.Connection, project: str, decoded: Mapping[str, dict[str, Any]]
) -> SearchEntry | None:
    """A project's search row from its canonical registrations and granting approvals (None: none stands).

    ``decoded`` holds payloads the indexer decoded already, by uid (decoding is the costly part).
    """
    code = conn.execute("SELECT code FROM chain_projects WHERE project = ?", (project,)).fetchone()
    if code is None:
        return None
    seen: set[str] = set()
    registrations: list[Registration] = []
    for row in conn.execute(_REGISTRATIONS, (project,)):
        uid = str(row["uid"])
        if uid in seen:
            continue  # a uid included twice counts once, from its first inclusion
        seen.add(uid)
        status = Status.ACTIVE if row["status"] is None else Status(int(row["status"]))
        fields = decoded.get(uid)
        if fields is None:
            try:
                fields = decode_payload(Kind.PROJECT, bytes(row["payload"]))
            except PayloadError:
                continue
        registrations.append(
            Registration(uid, fields, status, int(row["block_number"]), int(row["timestamp"]))
        )
    stage = int(conn.execute(_STAGE, (project,)).fetchone()[0])
    return search_entry(str(code[0]), registrations, stage)


class SearchWriter:
    """The indexer's statements on the search tables, each inside its transaction (``conn``)."""

    @staticmethod
    def refresh(
        conn: sqlite3.Connection, project: str, decoded: Mapping[str, dict[str, Any]] | None = None
    ) -> None:
        """Re-derives one project's row (and its text) from the ledger; drops it when no registration stands."""
        entry = _derive(conn, project, decoded or {})
        old = conn.execute("SELECT id FROM search_projects WHERE project = ?", (project,)).fetchone()
        if old is not None:
            conn.execute("DELETE FROM search_text WHERE rowid = ?", (old[0],))
        if entry is None:
            conn.execute("DELETE FROM search_projects WHERE project = ?", (project,))
            return
        values = (
            entry.code, entry.name, entry.owner_uscc, entry.project_type, entry.region, entry.industry,
            entry.stage, entry.status, entry.registered_on, entry.registration, entry.registration_block,
        )  # fmt: skip
        row_id = conn.execute(
            "INSERT INTO search_projects(project, code, name, owner_uscc, project_type, region, industry, stage,"
            " status, registered_on, registration, registration_block) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(project) DO UPDATE SET code = excluded.code, name = excluded.name,"
            " owner_uscc = excluded.owner_uscc, project_type = excluded.project_type, region = excluded.region,"
            " industry = excluded.industry, stage = excluded.stage, status = excluded.status,"
            " registered_on = excluded.registered_on, registration = excluded.registration,"
            " registration_block = excluded.registration_block RETURNING id",
            (project, *values),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO search_text(rowid, name, owner_uscc, code) VALUES(?,?,?,?)",
            (row_id, entry.name, entry.owner_uscc, entry.code),
        )

    @staticmethod
    def reach(conn: sqlite3.Connection, approvals: Sequence[tuple[str, str, Mapping[str, Any]]]) -> None:
        """New approvals, as (uid, project, decoded payload): each kept if it grants a stage, and each
        project's stage reached rises to the highest of them (one statement per table)."""
        rows = [
            (uid, project, stage) for uid, project, fields in approvals if (stage := grants_stage(fields))
        ]
        if not rows:
            return
        conn.executemany("INSERT OR IGNORE INTO search_stages(uid, project, stage) VALUES(?,?,?)", rows)
        top: dict[str, int] = {}
        for _, project, stage in rows:
            top[project] = max(top.get(project, 0), stage)
        conn.executemany(
            "UPDATE search_projects SET stage = ? WHERE project = ? AND stage < ?",
            [(stage, project, stage) for project, stage in top.items()],
        )

    @staticmethod
    def changed(conn: sqlite3.Connection, uid: str) -> str | None:
        """The project whose row a status change of ``uid`` may change (a registration's or a granting approval's)."""
        row = conn.execute(
            f"SELECT project FROM chain_records WHERE uid = ? AND +kind = {int(Kind.PROJECT)} "
            f"UNION ALL SELECT project FROM search_stages WHERE uid = ? LIMIT 1",
            (uid, uid),
        ).fetchone()
        return None if row is None else str(row[0])

    @staticmethod
    def refresh_after(conn: sqlite3.Connection, number: int) -> None:
        """Re-derives every project with a record in a block above ``number`` (after a rewind orphaned them)."""
        rows = conn.execute(
            "SELECT DISTINCT project FROM chain_records WHERE block_number > ? AND kind IN (?, ?)",
            (number, int(Kind.PROJECT), int(Kind.APPROVAL)),
        ).fetchall()
        for (project,) in rows:
            SearchWriter.refresh(conn, str(project))

    @staticmethod
    def add_owner_name(conn: sqlite3.Connection, code: str, owner_name: str) -> None:
        """The owner's name of a filing made through this node (restricted text)."""
        conn.execute("INSERT INTO search_owner_names(code, owner_name) VALUES(?, ?)", (code, owner_name))

    @staticmethod
    def current(conn: sqlite3.Connection) -> bool:
        """Whether the tables were derived by this version of the rules."""
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (_VERSION_KEY,)).fetchone()
        return row is not None and str(row[0]) == SEARCH_VERSION

    @staticmethod
    def rebuild(conn: sqlite3.Connection) -> None:
        """Derives the search tables again from the ledger and this node's filings (decodes every approval)."""
        for table in ("search_text", "search_projects", "search_owner_names", "search_stages"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("INSERT INTO search_owner_names(code, owner_name) SELECT code, owner_name FROM filings")
        approvals = conn.execute(
            f"SELECT uid, project, payload FROM chain_records WHERE kind = {int(Kind.APPROVAL)} "
            f"AND problem IS NULL AND {CANONICAL}"
        ).fetchall()
        for uid, project, payload in approvals:
            try:
                fields = decode_payload(Kind.APPROVAL, bytes(payload))
            except PayloadError:
                continue
            if grants_stage(fields):
                conn.execute(
                    "INSERT OR IGNORE INTO search_stages(uid, project, stage) VALUES(?,?,?)",
                    (uid, project, grants_stage(fields)),
                )
        projects = conn.execute(
            f"SELECT project FROM chain_records WHERE kind = {int(Kind.PROJECT)} AND {CANONICAL} "
            f"GROUP BY project ORDER BY min(block_number), min(log_index)"
        ).fetchall()
        for (project,) in projects:
            SearchWriter.refresh(conn, str(project))
        conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (_VERSION_KEY, SEARCH_VERSION),
        )
