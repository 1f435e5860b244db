"""An outbox row is confirmed only when the chain holds that row's very content (real SQLite)."""

from __future__ import annotations

import os
import random
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


STATES = ("accepted", "submitted", "confirmed", "failed")


@pytest.mark.parametrize("seed", range(16))
def test_settling_many_ends_where_settling_each_in_turn_ends(tmp_path: Path, seed: int) -> None:
    # Rows in every state, landed as their own content, as another's, as unreadable, or not at all,
    # plus records of another node: one batch and one settle per record leave the same table.
    rnd = random.Random(seed)
    dbs = [Database(tmp_path / "each.sqlite3"), Database(tmp_path / "many.sqlite3")]
    landed: list[tuple[str, Record | None]] = []
    for i in range(40):
        ours = _approval(derive_uid(2, Kind.APPROVAL, f"m:{seed}:{i}".encode()), "项目审批")
        state = rnd.choice(STATES)
        (uid,) = {_queue(d, ours, state) for d in dbs}  # the same row in both tables
        for _ in range(rnd.choice([1, 1, 2])):  # a uid landing twice in one list, too
            how = rnd.choice(["own", "other", "none", "absent"])
            if how == "own":
                landed.append((uid, ours))
            elif how == "other":
                landed.append((uid, _approval(ours.uid, "另一事项")))
            elif how == "none":
                landed.append((uid, None))
    rnd.shuffle(landed)
    for i in range(5):
        foreign = _approval(derive_uid(5, Kind.APPROVAL, f"f:{seed}:{i}".encode()), "项目审批")
        landed.insert(rnd.randrange(len(landed) + 1), ("0x" + foreign.uid.hex(), foreign))
    each, many = dbs
    expected: list[str] = []
    totals = [0, 0]
    with each.transaction() as conn:
        for uid, record in landed:
            confirmed, failed = OutboxTable.settle(conn, uid, record)
            totals[0] += confirmed
            totals[1] += failed
            if confirmed or failed:
                expected.append(uid)
    with many.transaction() as conn:
        settled, confirmed, failed = OutboxTable.settle_many(conn, landed)
    assert (sorted(settled), confirmed, failed) == (sorted(expected), totals[0], totals[1])
    uids = [u for u, _ in landed]
    assert len(uids) > len(set(uids))  # the case in question was drawn
    rows = [d.all("SELECT uid, state, error FROM outbox ORDER BY uid") for d in dbs]
    assert [tuple(r) for r in rows[0]] == [tuple(r) for r in rows[1]]
    assert totals[0] > 0 and totals[1] > 0


def test_final_states_look_rows_up_by_uid_not_by_state(db: Database) -> None:
    """``final_states`` answers each uid's final state, and reads the rows by their uid: with the state
    in the query, SQLite read every confirmed row through the state index (a 1,000-uid wait on a filled
    outbox cost 237 ms instead of 7)."""
    uids = {state: _queue(db, _approval(derive_uid(2, Kind.APPROVAL, os.urandom(32)), state), state) for state in
            ("accepted", "submitted", "confirmed", "failed")}  # fmt: skip
    # The plan depends on how many uids are asked for: with a few the uid index won anyway.
    strangers = ["0x" + os.urandom(32).hex() for _ in range(996)]
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        states = OutboxTable(db).final_states([*uids.values(), *strangers])
    finally:
        db.conn.set_trace_callback(None)
    assert states == {uids["confirmed"]: "confirmed", uids["failed"]: "failed"}
    assert statements
    for statement in statements:
        plan = " | ".join(str(r[3]) for r in db.conn.execute("EXPLAIN QUERY PLAN " + statement))
        assert "outbox_state" not in plan and "SCAN outbox" not in plan, (statement, plan)
