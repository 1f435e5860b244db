"""An outbox row is confirmed only when the chain holds that row's very content (real SQLite)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from node_api.domain.records import ZERO32, Kind, Record, derive_uid, project_id, seal_payload
from node_api.store.database import Database
from node_api.store.outbox import OutboxTable


def _approval(uid: bytes, item: str) -> Record:
    payload, _ = seal_payload(
        Kind.APPROVAL,
        {
            "stage": 1,
            "decision": 0,
            "item": item,
            "item_version": 1,
            "document_no": "",
            "issued_at": 0,
            "valid_until": 0,
            "note": "",
        },
    )
    return Record(uid, Kind.APPROVAL, project_id("2026-620825-48-01-000001"), ZERO32, os.urandom(32), payload)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "node.sqlite3")


def _queue(db: Database, record: Record, state: str = "submitted") -> str:
    uid = "0x" + record.uid.hex()
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO outbox(uid, org_id, kind, project, ref, digest, payload, seal, state, accepted_at)"
            " VALUES(?,?,?,?,?,?,?,?,?,0)",
            (uid, 2, int(record.kind), "0x" + record.project.hex(), "0x" + record.ref.hex(),
             "0x" + record.digest.hex(), record.payload, b"\0" * 65, state),
        )  # fmt: skip
    return uid


def _state(db: Database, uid: str) -> tuple[str, str | None]:
    row = db.one("SELECT state, error FROM outbox WHERE uid = ?", (uid,))
    assert row is not None
    return str(row["state"]), row["error"]


def test_the_rows_own_content_on_chain_confirms_it(db: Database) -> None:
    ours = _approval(derive_uid(2, Kind.APPROVAL, b"k:1"), "项目审批")
    uid = _queue(db, ours)
    with db.transaction() as conn:
        assert OutboxTable.settle(conn, uid, ours) == (1, 0)
    assert _state(db, uid) == ("confirmed", None)


def test_other_content_under_the_rows_uid_fails_it_with_the_reason(db: Database) -> None:
    ours = _approval(derive_uid(2, Kind.APPROVAL, b"k:2"), "项目审批")
    theirs = _approval(ours.uid, "另一事项")  # the same uid, landed first with other content
    uid = _queue(db, ours)
    with db.transaction() as conn:
        assert OutboxTable.settle(conn, uid, theirs) == (0, 1)
    state, error = _state(db, uid)
    assert state == "failed" and error is not None and "another record" in error
    other = _queue(db, _approval(derive_uid(2, Kind.APPROVAL, b"k:3"), "x"), state="accepted")
    with db.transaction() as conn:  # unreadable content under the uid is not this row's either
        assert OutboxTable.settle(conn, other, None) == (0, 1)


def test_a_record_of_another_node_touches_no_row(db: Database) -> None:
    foreign = _approval(derive_uid(5, Kind.APPROVAL, b"k:4"), "项目审批")
    with db.transaction() as conn:
        assert OutboxTable.settle(conn, "0x" + foreign.uid.hex(), foreign) == (0, 0)
