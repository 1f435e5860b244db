"""The project search read model (docs/search.md): ``search_projects`` and its FTS5 trigram tables.

Derived, never a source of truth: ``SearchWriter`` (the indexer's statements, inside its
transaction) re-derives a project's row from its canonical ledger rows whenever a registration,
a correction or a status change of a registration or approval lands, raises the stage reached
when an approval grants a later stage, and re-derives every project a rewind touched. The
tables may be dropped and rebuilt from the ledger (``rebuild``; a new ``SEARCH_VERSION`` does it
at start). The ledger's own rows are never changed.

``search_text`` (FTS5, trigram) holds each row's public text (name, owner USCC, code) under the
row's id; ``search_owner_names`` the owner names of this node's filings (restricted: the 备案证
is), keyed by code. ``SearchTable.find`` runs a checked ``SearchQuery``; the caller says which
projects' restricted text may match (``readable``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from node_api.domain.records import INITIAL_STATUS, Kind, PayloadError, Status, decode_payload
from node_api.domain.search import (
    TRIGRAM,
    ApprovalFact,
    Registration,
    SearchEntry,
    SearchQuery,
    fts_phrase,
    grants_stage,
    like_pattern,
    region_range,
    search_entry,
)
from node_api.store.database import CANONICAL, Database

SEARCH_VERSION = "1"  # bump when the derivation changes: the next start rebuilds the tables
_VERSION_KEY = "search.version"
ALL_READABLE = "ALL"  # ``readable``: every project's restricted text may match (a reading role)

_SOURCE = (
    f"SELECT r.uid, r.kind, r.payload, r.block_number, b.timestamp, "
    f"(SELECT s.status FROM chain_status s WHERE s.uid = r.uid AND s.{CANONICAL} "
    f"ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1) AS status "
    f"FROM chain_records r JOIN chain_blocks b ON b.hash = r.block_hash "
    f"WHERE r.project = ? AND r.kind IN ({int(Kind.PROJECT)}, {int(Kind.APPROVAL)}) AND r.problem IS NULL "
    f"AND r.{CANONICAL} ORDER BY r.block_number, r.log_index"
)


def _derive(conn: sqlite3.Connection, project: str) -> SearchEntry | None:
    """A project's search row from its canonical registrations and approvals (None: none stands)."""
    code = conn.execute("SELECT code FROM chain_projects WHERE project = ?", (project,)).fetchone()
    if code is None:
        return None
    seen: set[str] = set()
    registrations: list[Registration] = []
    approvals: list[ApprovalFact] = []
    for row in conn.execute(_SOURCE, (project,)):
        if row["uid"] in seen:
            continue  # a uid included twice counts once, from its first inclusion
        seen.add(row["uid"])
        kind = Kind(int(row["kind"]))
        status = INITIAL_STATUS[kind] if row["status"] is None else Status(int(row["status"]))
        try:
            fields = decode_payload(kind, bytes(row["payload"]))
        except PayloadError:
            continue
        if kind == Kind.PROJECT:
            registrations.append(
                Registration(str(row["uid"]), fields, status, int(row["block_number"]), int(row["timestamp"]))
            )
        else:
            approvals.append(ApprovalFact(int(fields["stage"]), int(fields["decision"]), status))
    return search_entry(str(code[0]), registrations, approvals)


class SearchWriter:
    """The indexer's statements on the search tables, each inside its transaction (``conn``)."""

    @staticmethod
    def refresh(conn: sqlite3.Connection, project: str) -> None:
        """Re-derives one project's row (and its text) from the ledger; drops it when no registration stands."""
        entry = _derive(conn, project)
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
    def reach(conn: sqlite3.Connection, project: str, approval_fields: dict[str, Any]) -> None:
        """A new approval (its decoded payload): the stage reached rises if it grants a later one."""
        stage = grants_stage(approval_fields)
        if stage:
            conn.execute(
                "UPDATE search_projects SET stage = ? WHERE project = ? AND stage < ?",
                (stage, project, stage),
            )

    @staticmethod
    def changed(conn: sqlite3.Connection, uid: str) -> str | None:
        """The project whose row a status change of ``uid`` may change (a registration's or an approval's)."""
        row = conn.execute(
            f"SELECT project FROM chain_records WHERE uid = ? AND kind IN ({int(Kind.PROJECT)}, "
            f"{int(Kind.APPROVAL)}) LIMIT 1",
            (uid,),
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
        """Derives the search tables again from the ledger and this node's filings."""
        conn.execute("DELETE FROM search_text")
        conn.execute("DELETE FROM search_projects")
        conn.execute("DELETE FROM search_owner_names")
        conn.execute("INSERT INTO search_owner_names(code, owner_name) SELECT code, owner_name FROM filings")
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


def _text_match(terms: tuple[str, ...], long_sql: str, short_sql: str, params: list[Any]) -> str:
    """SQL requiring every term: long ones through one FTS5 MATCH (``long_sql`` takes the expression),
    short ones through ``short_sql`` (takes a LIKE pattern)."""
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    parts: list[str] = []
    if long_terms:
        parts.append(long_sql)
        params.append(" AND ".join(fts_phrase(t) for t in long_terms))
    for term in (t for t in terms if len(t) < TRIGRAM):
        parts.append(short_sql)
        params.extend([like_pattern(term)] * short_sql.count("?"))
    return " AND ".join(parts)


class SearchTable:
    """Repository of the search read model: checked queries over the projects a caller may see."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def find(
        self, query: SearchQuery, readable: Iterable[str] | str, after: int | None, limit: int
    ) -> list[sqlite3.Row]:
        """Rows matching ``query``, newest registration first, ids below ``after``, at most ``limit``.

        ``readable`` names the projects whose restricted text (owner names) may match — project
        ids, or ``ALL`` for a reading role; every other project matches on public text only.
        """
        where: list[str] = []
        params: list[Any] = []
        if query.terms:
            public = _text_match(
                query.terms,
                "p.id IN (SELECT rowid FROM search_text WHERE search_text MATCH ?)",
                "(p.name LIKE ? ESCAPE '\\' OR p.owner_uscc LIKE ? ESCAPE '\\' OR p.code LIKE ? ESCAPE '\\')",
                params,
            )
            restricted = self._restricted_match(query, readable, params)
            where.append(f"({public})" if restricted is None else f"(({public}) OR ({restricted}))")
        if query.owner_uscc is not None:
            where.append("p.owner_uscc = ?")
            params.append(query.owner_uscc)
        if query.region is not None:
            where.append("p.region >= ? AND p.region < ?")
            params.extend(region_range(query.region))
        for column, value in (("stage", query.stage), ("status", query.status)):
            if value is not None:
                where.append(f"p.{column} = ?")
                params.append(value)
        if query.registered_from is not None:
            where.append("p.registered_on >= ?")
            params.append(query.registered_from)
        if query.registered_to is not None:
            where.append("p.registered_on <= ?")
            params.append(query.registered_to)
        if after is not None:
            where.append("p.id < ?")
            params.append(after)
        clause = " AND ".join(where) or "1"
        return self.db.all(
            f"SELECT p.* FROM search_projects p WHERE {clause} ORDER BY p.id DESC LIMIT ?", (*params, limit)
        )

    def owner_names(self, codes: list[str]) -> dict[str, str]:
        """The owner names of this node's filings among ``codes`` (restricted: show them only to readers)."""
        if not codes:
            return {}
        rows = self.db.all(
            f"SELECT code, owner_name FROM search_owner_names WHERE code IN ({','.join('?' * len(codes))})",
            codes,
        )
        return {str(r["code"]): str(r["owner_name"]) for r in rows}

    @staticmethod
    def _restricted_match(query: SearchQuery, readable: Iterable[str] | str, params: list[Any]) -> str | None:
        """SQL for "every term matches the owner name, and the caller may read it" (None: it may read none)."""
        projects = None if readable == ALL_READABLE else sorted(readable)
        if projects is not None and not projects:
            return None
        match = _text_match(
            query.terms,
            "p.code IN (SELECT code FROM search_owner_names WHERE search_owner_names MATCH ?)",
            "p.code IN (SELECT code FROM search_owner_names WHERE owner_name LIKE ? ESCAPE '\\')",
            params,
        )
        if projects is None:
            return match
        params.extend(projects)
        return f"{match} AND p.project IN ({','.join('?' * len(projects))})"
