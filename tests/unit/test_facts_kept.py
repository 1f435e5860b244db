"""``Facts`` keeps a project's presented records between reads: every read equals a fresh one.

The index is built by hand with the indexer's own statements (``IndexWriter``) in a real SQLite
database: records appended between reads, a status change of an older record, a uid included twice,
another project's records in between, a project dropped from what is kept, and a block orphaned
after it was read.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from node_api.domain.records import DECISIONS, Kind, Status, project_id, seal_payload
from node_api.ledger.facts import Facts, ProjectRecords
from node_api.store.database import Database
from node_api.store.index import IndexWriter
from node_api.store.owners import OwnerIndex

ZERO = "0x" + "00" * 32
T0 = 1_780_000_000
A, B = ("0x" + project_id(code).hex() for code in ("2026-620825-48-01-000001", "2026-620825-48-01-000002"))


class Chain:
    """Blocks appended to a real index, one statement list per block, as the indexer writes them."""

    def __init__(self, path: Path) -> None:
        self.db = Database(path / "node.db")
        self.numbers = itertools.count(1)
        self.uids = itertools.count(1)
        self.head = 0

    def block(
        self,
        records: Sequence[tuple[str, str]] = (),
        changes: Sequence[tuple[str, Status]] = (),
        unreadable: Sequence[str] = (),
    ) -> int:
        """A block holding approvals (project, uid), those of ``unreadable`` with a ``problem`` (the
        indexer could not read them), and status changes (uid, status); its number."""
        number = next(self.numbers)
        self.head = number
        block_hash = f"0x{number:064x}"
        with self.db.transaction() as conn:
            IndexWriter.add_block(conn, number, block_hash, T0 + number * 60, 0.0)
            rows = []
            for i, (project, uid) in enumerate(records):
                fields = {"stage": 1 + number % 4, "decision": DECISIONS["approved"], "item": "ZL-S1-001",
                          "item_version": 1, "document_no": f"庄发改〔2026〕{number}号", "issued_at": T0,
                          "valid_until": 0, "note": ""}  # fmt: skip
                payload, _ = seal_payload(Kind.APPROVAL, fields)
                row = (uid, int(Kind.APPROVAL), project, ZERO, 2, "0xsealer", ZERO, payload, b"")
                problem = "payload: unreadable" if uid in unreadable else None
                rows.append((*row, number, block_hash, f"0xtx{number}", i, "0xhash", problem))
            IndexWriter.add_records(conn, rows)
            for j, (uid, status) in enumerate(changes):
                IndexWriter.add_status(conn, uid, int(status), ZERO, (number, block_hash, "0xtx", 100 + j))
        return number

    def new_uid(self) -> str:
        return f"0x{next(self.uids):064x}"


def fresh(chain: Chain, project: str) -> list[Any]:
    """What a reader that keeps nothing sees: the project's records up to the newest block, read whole
    (``project_records_until``, the query the kept reads do not use)."""
    return view(Facts(OwnerIndex(chain.db), 0).project(project, until_block=chain.head))


def view(records: ProjectRecords) -> list[Any]:
    """What a reader sees: each record's chain position, fields and status changes."""
    return [(e.uid, e.block, e.at, e.fields, records.status(e.uid, e.kind), records.changes.get(e.uid))
            for e in records.entries]  # fmt: skip


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return Chain(tmp_path)


def test_each_read_of_the_kept_records_equals_a_fresh_one(chain: Chain) -> None:
    owners = OwnerIndex(chain.db)
    kept = Facts(owners)

    def same(project: str) -> list[Any]:
        seen = view(kept.project(project))
        assert seen == fresh(chain, project)
        return seen

    first, second = chain.new_uid(), chain.new_uid()
    chain.block([(A, first), (B, chain.new_uid()), (A, second)])
    assert [r[0] for r in same(A)] == [first, second]
    later = chain.new_uid()
    chain.block([(A, later), (B, chain.new_uid())], changes=[(first, Status.REVOKED)])
    seen = same(A)  # the new record, and the older record's change
    assert [r[0] for r in seen] == [first, second, later] and seen[0][4] == "revoked"
    chain.block([(A, second), (A, chain.new_uid())])  # a uid included again: the first inclusion counts
    assert len(same(A)) == 4 and len(same(B)) == 2
    assert same(A)[1][1] == 1  # ``second`` still at its first block
    bad = chain.new_uid()
    chain.block([(A, bad)], unreadable=[bad])  # unreadable at its first inclusion, readable at its second
    chain.block([(A, bad)])
    assert [r[0] for r in same(A)][-1] == bad and same(A)[-1][1] == chain.head


def test_a_block_orphaned_after_a_read_leaves_the_kept_records(chain: Chain) -> None:
    owners = OwnerIndex(chain.db)
    facts = Facts(owners)
    chain.block([(A, chain.new_uid())])
    lost_at = chain.block([(A, chain.new_uid())])
    assert len(facts.project(A).entries) == 2
    with chain.db.transaction() as conn:
        IndexWriter.orphan_blocks_after(conn, lost_at - 1, 0.0)  # the chain lost block 2
    assert len(facts.project(A).entries) == 1
    chain.block([(A, chain.new_uid())])
    assert view(facts.project(A)) == fresh(chain, A)


def test_what_is_kept_is_bounded_and_the_least_recent_project_goes_first(chain: Chain) -> None:
    owners = OwnerIndex(chain.db)
    facts = Facts(owners, kept_entries=3)
    chain.block([(A, chain.new_uid()), (A, chain.new_uid()), (B, chain.new_uid()), (B, chain.new_uid())])
    facts.project(A)
    facts.project(B)  # 4 kept > 3: A, read least recently, is dropped
    assert list(facts._kept) == [B] and facts._kept_count == 2
    chain.block([(A, chain.new_uid())])
    assert view(facts.project(A)) == fresh(chain, A)  # read afresh, in full
    assert list(facts._kept) == [A] and facts._kept_count == 3


class RacingIndex(OwnerIndex):
    """The primary's indexer orphans the newest block and indexes another fork right after this
    process read the new rows, before it looks at the orphan mark again (once)."""

    def __init__(self, chain: Chain) -> None:
        super().__init__(chain.db)
        self.chain = chain
        self.race = False

    def project_records_after(self, project: str, rowid: int) -> list[Any]:
        rows = super().project_records_after(project, rowid)
        if self.race:
            self.race = False
            with self.chain.db.transaction() as conn:
                IndexWriter.orphan_blocks_after(conn, self.chain.head - 1, 0.0)
            self.chain.block([(A, self.chain.new_uid())])  # the new fork's block
        return rows


def test_a_block_orphaned_while_the_rows_are_read_is_not_kept(chain: Chain) -> None:
    owners = RacingIndex(chain)
    facts = Facts(owners)
    chain.block([(A, chain.new_uid())])
    facts.project(A)
    chain.block([(A, chain.new_uid())])  # on the fork about to be lost
    owners.race = True
    assert view(facts.project(A)) == fresh(chain, A)  # the lost block's record is not among them
