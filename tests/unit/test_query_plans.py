"""The index's keyed look-ups use the index of their key, never a scan of every record of a kind.

SQLite plans without statistics (the node runs no ANALYZE), so a look-up by project, ref or uid
that also names a kind could be planned on ``chain_records_kind`` and read every record of
that kind: every registration for one status change, every objection for one objection. A
look-up by project and kind has an index of both (``chain_records_by_project``); a look-up by
uid or ref writes its kind term as ``+kind`` (an expression SQLite does not look up by). Each
statement is captured as the store sends it (a trace on a real database with the node's
schema) and planned there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from node_api.domain.records import Kind
from node_api.store.access_log import AccessLogTable
from node_api.store.catalogue import CatalogueTable
from node_api.store.database import Database
from node_api.store.index import IndexTable
from node_api.store.owners import OwnerIndex
from node_api.store.search_rows import SearchWriter

P = "0x" + "11" * 32
U = "0x" + "22" * 32
CODES = [f"2024-620825-48-01-{n:06d}" for n in range(1000)]
PROJECTS = [f"0x{n:064x}" for n in range(1000)]


def _plans(db: Database, call: Callable[[], Any]) -> list[tuple[str, list[str]]]:
    """Each statement ``call`` sends that reads chain_records, with its query plan's lines."""
    sent: list[str] = []
    db.conn.set_trace_callback(sent.append)
    try:
        call()
    finally:
        db.conn.set_trace_callback(None)
    out = []
    for sql in sent:
        if re.search(r"chain_record|search_stages", sql) and sql.lstrip().upper().startswith("SELECT"):
            out.append((sql, [str(r[3]) for r in db.conn.execute("EXPLAIN QUERY PLAN " + sql)]))
    return out


def _changed(db: Database) -> None:
    with db.transaction() as conn:
        SearchWriter.changed(conn, U)


LOOKUPS: dict[str, Callable[[Database], Any]] = {
    "registrations": lambda db: IndexTable(db).registrations(P),
    "uids_of_kind": lambda db: IndexTable(db).uids_of_kind(P, Kind.APPROVAL),
    "registrant": lambda db: IndexTable(db).registrant(P),
    "latest_issuer": lambda db: IndexTable(db).latest_issuer(U, Kind.OBJECTION),
    "commitments_naming": lambda db: IndexTable(db).commitments_naming(P, U),
    "revoked_registration": lambda db: IndexTable(db).revoked_registration(P),
    "registered_project": lambda db: IndexTable(db).registered_project("2024-620825-48-01-000001"),
    "project_rows": lambda db: IndexTable(db).project_rows(P),
    # A batch's projects at once (Writer.write_many), with IN lists short and long: without statistics
    # SQLite weighs an IN list by its length, so a long one must not turn the plan to the kind index.
    "registered_projects_1": lambda db: IndexTable(db).registered_projects(CODES[:1]),
    "registered_projects_1000": lambda db: IndexTable(db).registered_projects(CODES),
    "revoked_registrations_1": lambda db: IndexTable(db).revoked_registrations(PROJECTS[:1]),
    "revoked_registrations_1000": lambda db: IndexTable(db).revoked_registrations(PROJECTS),
    "catalogue_version": lambda db: CatalogueTable(db).version(),
    "catalogue_records": lambda db: CatalogueTable(db).records(),
    "search_changed": _changed,
    # A record by a document's digest: through chain_record_digests, since chain_records has no
    # digest index (verify/document, evidence, the access log's anchors).
    "records_binding": lambda db: IndexTable(db).records_binding(U),
    "projects_binding": lambda db: IndexTable(db).projects_binding(U, [7]),
    "confirmed_anchors": lambda db: AccessLogTable(db).confirmed_anchors(),
    # A project's records up to a block (credit profiles as of a block, supervision timelines).
    "project_records_until": lambda db: OwnerIndex(db).project_records_until(P, 100),
}


@pytest.mark.parametrize("name", sorted(LOOKUPS))
def test_keyed_lookup_uses_its_key(tmp_path: Path, name: str) -> None:
    db = Database(tmp_path / "node.sqlite3")
    try:
        plans = _plans(db, lambda: LOOKUPS[name](db))
    finally:
        db.close()
    assert plans, f"{name} sent no statement reading chain_records"
    for sql, plan in plans:
        scans = [
            line
            for line in plan
            if "chain_records_kind" in line
            or re.match(r"SCAN (chain_record_digests|chain_records|search_stages|r|d)\b", line)
        ]
        assert not scans, f"{name}: {sql}\nplanned as {plan}"


BY_PROJECT_AND_KIND = sorted(
    {"registrations", "uids_of_kind", "registrant", "commitments_naming", "revoked_registration"}
    | {"registered_project", "catalogue_version", "catalogue_records"}
    | {"registered_projects_1", "registered_projects_1000", "revoked_registrations_1"}
    | {"revoked_registrations_1000"}
)


@pytest.mark.parametrize("name", BY_PROJECT_AND_KIND)
def test_project_and_kind_lookup_seeks_both(tmp_path: Path, name: str) -> None:
    """A project's records of one kind are found by both columns, not by reading all the project's
    records (a project registration among a project's hundreds of approvals: supervision asks for
    it at every assessment)."""
    db = Database(tmp_path / "node.sqlite3")
    try:
        plans = _plans(db, lambda: LOOKUPS[name](db))
    finally:
        db.close()
    for sql, plan in plans:
        assert any("(project=? AND kind=?)" in line for line in plan), f"{name}: {sql}\nplanned as {plan}"


def test_the_check_sees_a_scan(tmp_path: Path) -> None:
    """The assertion above fails on the plan it guards against (the statement without ``+``)."""
    db = Database(tmp_path / "node.sqlite3")
    try:
        sql = "SELECT project FROM chain_records WHERE uid = ? AND kind = 1"
        plan = [str(r[3]) for r in db.conn.execute("EXPLAIN QUERY PLAN " + sql, (U,))]
    finally:
        db.close()
    assert any("chain_records_kind" in line for line in plan), plan
