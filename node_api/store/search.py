"""Queries of the project search read model (docs/search.md): ``search_projects`` and its FTS5 tables.

The rows are derived from the ledger by the indexer (``node_api/store/search_rows.py``).
``search_text`` (FTS5, trigram) holds each row's public text (name, owner USCC, code) under the
row's id; ``search_owner_names`` the owner names of this node's filings (restricted: the 备案证
is), keyed by code. ``SearchTable.find`` runs a checked ``SearchQuery``; the caller says which
projects' restricted text may match (``readable``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from node_api.domain.search import SearchQuery, fts_phrase, like_pattern, region_range
from node_api.store.database import Database

ALL_READABLE = "ALL"  # ``readable``: every project's restricted text may match (a reading role)


def _marks(n: int) -> str:
    return ",".join("?" * n)


class SearchTable:
    """Repository of the search read model: checked queries over the projects a caller may see."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def find(
        self, query: SearchQuery, readable: Iterable[str] | str, after: int | None, limit: int
    ) -> list[sqlite3.Row]:
        """Rows matching ``query``, newest registration first, ids below ``after``, at most ``limit``.

        ``readable`` names the projects whose restricted text (owner names) may match — project
        ids, or ``ALL_READABLE`` for a reading role; every other project matches on public text
        only. Public and restricted matches are two queries merged here, so the public one can
        walk the trigram index in id order and stop at ``limit``.
        """
        where, params = self._filters(query)
        rows = self._public(query, where, params, after, limit)
        codes = self._owner_matches(query, readable)
        if codes:
            more_where = [*where, f"p.code IN ({_marks(len(codes))})"]
            more_params = [*params, *codes]
            if readable != ALL_READABLE:
                projects = sorted(readable)
                more_where.append(f"p.project IN ({_marks(len(projects))})")
                more_params += projects
            more = self._select("search_projects p", more_where, more_params, "p.id", after, limit)
            merged = {int(r["id"]): r for r in [*rows, *more]}
            rows = [merged[i] for i in sorted(merged, reverse=True)][:limit]
        return rows

    @staticmethod
    def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
        """The conditions of every filter but the text, on ``search_projects p``."""
        where: list[str] = []
        params: list[Any] = []
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
        return where, params

    def _public(
        self, query: SearchQuery, where: list[str], params: list[Any], after: int | None, limit: int
    ) -> list[sqlite3.Row]:
        """Rows whose public text holds every term: long terms through the trigram index, short by LIKE."""
        where, params = list(where), list(params)
        for term in query.short_terms:
            where.append(
                "(p.name LIKE ? ESCAPE '\\' OR p.owner_uscc LIKE ? ESCAPE '\\' OR p.code LIKE ? ESCAPE '\\')"
            )
            params += [like_pattern(term)] * 3
        if not query.long_terms:
            return self._select("search_projects p", where, params, "p.id", after, limit)
        where.insert(0, "search_text MATCH ?")
        params.insert(0, " AND ".join(fts_phrase(t) for t in query.long_terms))
        source = "search_text JOIN search_projects p ON p.id = search_text.rowid"
        return self._select(source, where, params, "search_text.rowid", after, limit)

    def _select(
        self, source: str, where: list[str], params: list[Any], order: str, after: int | None, limit: int
    ) -> list[sqlite3.Row]:
        if after is not None:
            where = [*where, f"{order} < ?"]
            params = [*params, after]
        clause = " AND ".join(where) or "1"
        return self.db.all(
            f"SELECT p.* FROM {source} WHERE {clause} ORDER BY {order} DESC LIMIT ?", (*params, limit)
        )

    def _owner_matches(self, query: SearchQuery, readable: Iterable[str] | str) -> list[str]:
        """Codes whose owner name (this node's filings) holds every term, when the caller may read any."""
        if not query.terms or (readable != ALL_READABLE and not list(readable)):
            return []
        where: list[str] = []
        params: list[Any] = []
        if query.long_terms:
            where.append("search_owner_names MATCH ?")
            params.append(" AND ".join(fts_phrase(t) for t in query.long_terms))
        for term in query.short_terms:
            where.append("owner_name LIKE ? ESCAPE '\\'")
            params.append(like_pattern(term))
        rows = self.db.all(
            f"SELECT DISTINCT code FROM search_owner_names WHERE {' AND '.join(where)}", params
        )
        return [str(r["code"]) for r in rows]

    def owner_names(self, codes: list[str]) -> dict[str, str]:
        """The owner names of this node's filings among ``codes`` (restricted: show them only to readers)."""
        if not codes:
            return {}
        rows = self.db.all(
            f"SELECT code, owner_name FROM search_owner_names WHERE code IN ({_marks(len(codes))})", codes
        )
        return {str(r["code"]): str(r["owner_name"]) for r in rows}
