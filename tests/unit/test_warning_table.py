"""Supervision's due list and batched commits (real SQLite): a burst of records costs one look."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from node_api.store.database import Database
from node_api.store.warnings import Assessment, StoredWarning, WarningFilter, WarningTable


@pytest.fixture
def table(tmp_path: Path) -> WarningTable:
    return WarningTable(Database(tmp_path / "node.sqlite3"))


def _warning(project: str, subject: str) -> StoredWarning:
    return StoredWarning(
        "item.overdue", 1, project, "2026-620825-48-01-000001", "620825", subject, "high", 7, ("0x01",), 100.0,
        "overdue",
    )  # fmt: skip


def test_a_project_marked_again_keeps_its_first_due_time(table: WarningTable) -> None:
    table.mark_due(["p1", "p2"], cursor=5, at=10.0)
    table.mark_due(["p1"], cursor=9, at=11.0)  # a later record of p1 within the settling delay
    assert table.due(9.9, 10) == []
    assert table.due(10.0, 10) == ["p1", "p2"]
    assert table.cursor() == 9


def test_a_record_brings_a_far_recheck_forward_but_not_back(table: WarningTable) -> None:
    table.apply_many([Assessment("p1", recheck_at=1000.0), Assessment("p2", recheck_at=5.0)], now=1.0)
    table.mark_due(["p1", "p2"], cursor=1, at=20.0)
    assert table.due(19.0, 10) == ["p2"]  # p2's own recheck (5) is earlier than the record's
    assert table.due(20.0, 10) == ["p2", "p1"]


def test_apply_many_stores_every_assessment_and_their_transitions_in_order(table: WarningTable) -> None:
    written = table.apply_many(
        [
            Assessment("p1", opened=[_warning("p1", "a"), _warning("p1", "b")], recheck_at=50.0),
            Assessment("p2", opened=[_warning("p2", "a")]),
        ],
        now=2.0,
    )
    assert [t for _, t in written] == ["opened"] * 3
    assert [r["subject"] for r in table.open_of("p1")] == ["a", "b"]
    assert table.due(49.0, 10) == [] and table.due(50.0, 10) == ["p1"]
    closed = table.apply_many([Assessment("p1", closed=[("item.overdue", "a")])], now=3.0)
    assert [t for _, t in closed] == ["closed"]
    assert [r["subject"] for r in table.open_of("p1")] == ["b"]
    assert table.due(1e12, 10) == []  # no recheck asked: nothing waits for time


def _history_of(table: WarningTable, project: str) -> list[str]:
    ids = [int(r["id"]) for r in table.search(WarningFilter(projects=[project]), 0, 100)]
    return [str(h["transition"]) for rows in table.history(ids).values() for h in rows]


def test_two_overlapping_assessments_store_each_transition_once(table: WarningTable) -> None:
    # Two processes that assessed p1 from the same open warnings (one being replaced while the
    # other starts) both find "a" new, then both find it changed: history holds each step once.
    first = table.apply_many([Assessment("p1", opened=[_warning("p1", "a")])], now=1.0)
    second = table.apply_many([Assessment("p1", opened=[_warning("p1", "a")])], now=1.1)
    assert [t for _, t in first] == ["opened"] and second == []
    worse = dataclasses.replace(_warning("p1", "a"), severity="critical", detail="worse")
    assert [t for _, t in table.apply_many([Assessment("p1", changed=[worse])], now=2.0)] == ["changed"]
    assert table.apply_many([Assessment("p1", changed=[worse])], now=2.1) == []
    # the late one's "opened" of a warning the other changed since: stored as the change it is
    late = dataclasses.replace(worse, severity="medium")
    assert [t for _, t in table.apply_many([Assessment("p1", opened=[late])], now=2.2)] == ["changed"]
    assert table.apply_many([Assessment("p1", closed=[("item.overdue", "a")])], now=3.0) != []
    assert table.apply_many([Assessment("p1", closed=[("item.overdue", "a")])], now=3.1) == []
    assert _history_of(table, "p1") == ["opened", "changed", "changed", "closed"]
    assert [r["severity"] for r in table.search(WarningFilter(projects=["p1"]), 0, 10)] == ["medium"]


def test_the_assessing_process_publishes_its_counters_for_the_others(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite3"
    runner, other = WarningTable(Database(path)), WarningTable(Database(path))  # two processes' connections
    assert other.published_figures() == {}
    runner.publish_figures({"assessments": 3, "seconds": 0.25})
    assert other.published_figures() == {"assessments": 3.0, "seconds": 0.25}
