"""The database's change stamp moves on every commit, this connection's or another's (real SQLite files)."""

from __future__ import annotations

from pathlib import Path

from node_api.store.database import Database


def test_the_stamp_moves_with_every_commit_and_only_then(tmp_path: Path) -> None:
    mine, theirs = Database(tmp_path / "node.sqlite3"), Database(tmp_path / "node.sqlite3")
    first = mine.stamp()
    mine.one("SELECT count(*) FROM chain_records")  # a read changes nothing
    theirs.one("SELECT count(*) FROM meta")
    assert mine.stamp() == first
    theirs.set_meta("test.other", "1")  # another connection (a worker, the primary) commits
    second = mine.stamp()
    assert second != first
    assert mine.stamp() == second
    mine.set_meta("test.own", "1")  # this connection's own commit
    third = mine.stamp()
    assert third != second
    theirs.set_meta("test.other", "2")
    assert mine.stamp() != third
