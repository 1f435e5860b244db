"""The search SQL alone, without a chain or HTTP: ``python -m bench.search_table [N]``.

Fills a temporary index with N project registrations (named as in ``bench/search.py``) through the
indexer's own statements (``IndexWriter``, ``SearchWriter.refresh``), then times ``SearchTable.find``
for a USCC, a town-and-kind name, a 2-character name and a word every project holds (page of 51).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.search import KINDS, NUMBERS_FROM, TOWNS, search_project_item
from bench.workload import owner_uscc
from node_api.domain.records import PROJECT_TYPES, Kind, project_id, seal_payload
from node_api.domain.search import parse_query
from node_api.store.database import Database
from node_api.store.index import IndexWriter
from node_api.store.search import SearchTable
from node_api.store.search_rows import SearchWriter

ZERO = "0x" + "00" * 32


def fill(db: Database, n: int) -> float:
    """Registers ``n`` projects, one block each; the seconds it took."""
    t0 = time.perf_counter()
    with db.transaction() as conn:
        for i in range(n):
            code = f"2026-620825-48-01-{i:06d}"
            item = search_project_item(code, NUMBERS_FROM + i)
            fields = {**{k: item[k] for k in ("code", "name", "owner_uscc", "region_code", "industry_code")},
                      "project_type": PROJECT_TYPES["approval"], "total_investment_fen": 1, "note": ""}  # fmt: skip
            payload, _ = seal_payload(Kind.PROJECT, fields)
            block, project = f"0x{i + 1:064x}", "0x" + project_id(code).hex()
            IndexWriter.add_block(conn, i + 1, block, 1_780_000_000 + i, 0.0)
            row = (block, int(Kind.PROJECT), project, ZERO, 2, "0x", ZERO, payload, b"")
            IndexWriter.add_records(conn, [(*row, i + 1, block, "0x", 0, "0x", None)])
            IndexWriter.add_project(conn, project, code)
            SearchWriter.refresh(conn, project)
    return time.perf_counter() - t0


def main(n: int = 50_000, queries: int = 300) -> None:
    """Fills, then prints p50/p99 of each kind of search."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "search.sqlite3")
        print(f"{n:,} projects indexed in {fill(db, n):.1f} s")
        table, rng = SearchTable(db), random.Random(3)
        kinds: dict[str, Callable[[], dict[str, Any]]] = {
            "uscc": lambda: {"owner_uscc": owner_uscc(NUMBERS_FROM + rng.randrange(n))},
            "town and kind": lambda: {"q": rng.choice(TOWNS) + rng.choice(KINDS)},
            "2 characters": lambda: {"q": rng.choice(KINDS)},
            "every project": lambda: {"q": "庄浪县"},
        }
        for label, make in kinds.items():
            times = []
            for _ in range(queries):
                query = parse_query(**make())
                t0 = time.perf_counter()
                if not table.find(query, (), None, 51):
                    raise RuntimeError(f"no project found for {query}")
                times.append(time.perf_counter() - t0)
            times.sort()
            print(
                f"{label}: p50 {times[len(times) // 2] * 1e3:.2f} ms, p99 {times[int(len(times) * 0.99)] * 1e3:.2f} ms"
            )
        db.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
