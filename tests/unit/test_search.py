"""Project search without a chain: the query's checks, the row's derivation, and the query builder on a
real SQLite index filled with hand-built records (docs/search.md)."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest

from node_api.domain.records import DECISIONS, PROJECT_TYPES, Kind, Status, project_id, seal_payload
from node_api.domain.search import (
    Registration,
    SearchQuery,
    fts_phrase,
    grants_stage,
    like_pattern,
    parse_query,
    region_range,
    search_entry,
)
from node_api.errors import ValidationError
from node_api.store.database import Database
from node_api.store.index import IndexWriter
from node_api.store.search import ALL_READABLE, SearchTable
from node_api.store.search_rows import SearchWriter

USCC = "91620825MA72BT6H8M"
OTHER_USCC = "91110000600037341L"
ZERO = "0x" + "00" * 32
T0 = int(dt.datetime(2026, 6, 1, 20, 0, tzinfo=dt.UTC).timestamp())  # 2026-06-02 04:00 in Beijing


# -- the query's checks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"owner_uscc": "91350100M000100Y4Z"}, "owner_uscc"),  # the standard's misprinted example
        ({"owner_uscc": "9162082"}, "owner_uscc"),
        ({"region": "620"}, "region"),
        ({"region": "6208251"}, "region"),
        ({"region": "62 08"}, "region"),
        ({"stage": 5}, "stage"),
        ({"stage": -1}, "stage"),
        ({"status": "superseded"}, "status"),
        ({"registered_from": "2026-02-30"}, "registered_from"),
        ({"registered_to": "yesterday"}, "registered_to"),
        ({"registered_from": "2026-06-02", "registered_to": "2026-06-01"}, "registered_to"),
        ({"q": "医" * 65}, "q"),
        ({"q": "a b c d e f g h i"}, "q"),
        ({"q": "医院\x00"}, "q"),
    ],
)
def test_a_bad_parameter_is_refused_naming_its_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_query(**kwargs)
    assert e.value.field == field


def test_a_good_query_is_normalised() -> None:
    query = parse_query(
        q="  医院  门诊楼 医院 ", owner_uscc=" 91620825ma72bt6h8m", region="6208", stage=0,
        registered_from="2026-06-01", registered_to="2026-06-01",
    )  # fmt: skip
    assert query.terms == ("医院", "门诊楼")
    assert query.short_terms == ("医院",) and query.long_terms == ("门诊楼",)
    assert query.owner_uscc == USCC
    assert query.describe() == (
        f"projects?q=医院 门诊楼&owner_uscc={USCC}&region=6208&stage=0&registered_from=2026-06-01"
        "&registered_to=2026-06-01"
    )
    assert parse_query() == SearchQuery()


def test_terms_are_taken_literally() -> None:
    assert fts_phrase('医院"OR"') == '"医院""OR"""'
    assert like_pattern("10%_\\") == "%10\\%\\_\\\\%"
    assert region_range("62") == ("62", "63")
    assert region_range("620829") == ("620829", "62082:")


# -- the row's derivation ------------------------------------------------------------------------------


def _reg(uid: str, name: str, status: Status = Status.ACTIVE, at: int = T0, block: int = 1) -> Registration:
    fields = {
        "name": name,
        "owner_uscc": USCC,
        "project_type": 1,
        "region_code": "620825",
        "industry_code": "48",
    }
    return Registration(uid, fields, status, block, at)


def test_only_approvals_that_grant_reach_a_stage() -> None:
    assert grants_stage({"stage": 2, "decision": DECISIONS["approved"]}) == 2
    assert grants_stage({"stage": 3, "decision": DECISIONS["approved_on_commitment"]}) == 3
    assert grants_stage({"stage": 2, "decision": DECISIONS["accepted_with_deficiencies"]}) == 0
    assert grants_stage({"stage": 4, "decision": DECISIONS["rejected"]}) == 0


def test_the_row_shows_the_registration_in_force_and_the_first_date() -> None:
    first = _reg("0x01", "旧名称", Status.SUPERSEDED, at=T0, block=1)
    later = _reg("0x02", "新名称", Status.REVOKED, at=T0 + 86400 * 30, block=9)
    entry = search_entry("2026-620825-48-01-000001", [first, later], 2)
    assert entry is not None
    assert (entry.name, entry.status, entry.registration, entry.registration_block) == (
        "新名称",
        "revoked",
        "0x02",
        9,
    )
    assert entry.registered_on == "2026-06-02"  # the first registration's block, Beijing date
    assert (entry.region, entry.project_type, entry.industry) == ("620825", "approval", "48")
    assert (
        search_entry("2026-620825-48-01-000001", [first], 0) is None
    )  # superseded with no correction standing


def test_the_region_comes_from_the_code_in_both_shapes() -> None:
    reg = _reg("0x01", "名称")
    assert search_entry("2026-620826-48-01-000001", [reg], 0).region == "620826"  # type: ignore[union-attr]
    assert search_entry("2611-620802-89-05-000017", [reg], 0).region == "620802"  # type: ignore[union-attr]


# -- the read model on a real SQLite index -------------------------------------------------------------


class Ledger:
    """A hand-built index: records appended with the indexer's own statements, one block each."""

    def __init__(self, path: Path) -> None:
        self.db = Database(path / "node.db")
        self.blocks = itertools.count(1)
        self.uids = itertools.count(1)

    def _append(self, kind: Kind, code: str, fields: dict[str, Any], ref: str = ZERO) -> tuple[str, str]:
        number = next(self.blocks)
        uid, block_hash = f"0x{next(self.uids):064x}", f"0x{number:064x}"
        payload, _ = seal_payload(kind, fields)
        project = "0x" + project_id(code).hex()
        with self.db.transaction() as conn:
            IndexWriter.add_block(conn, number, block_hash, T0 + number * 3600, 0.0)
            row = (uid, int(kind), project, ref, 2, "0xsealer", ZERO, payload, b"")
            IndexWriter.add_records(conn, [(*row, number, block_hash, f"0xtx{number}", 0, "0xhash", None)])
            if kind == Kind.PROJECT:
                IndexWriter.add_project(conn, project, code)
                SearchWriter.refresh(conn, project)
            else:
                SearchWriter.reach(conn, [(uid, project, fields)])
        return uid, block_hash

    def register(self, code: str, name: str, uscc: str = USCC, ref: str = ZERO) -> str:
        fields = {"code": code, "name": name, "owner_uscc": uscc, "project_type": PROJECT_TYPES["approval"],
                  "region_code": code[5:11], "industry_code": "48", "total_investment_fen": 100, "note": "机密备注"}  # fmt: skip
        uid, _ = self._append(Kind.PROJECT, code, fields, ref)
        if ref != ZERO:
            self.change(code, ref, Status.SUPERSEDED)
        return uid

    def approve(self, code: str, stage: int) -> str:
        fields = {"stage": stage, "decision": DECISIONS["approved"], "item": "ZL-S1-001", "item_version": 1,
                  "document_no": "", "issued_at": T0, "valid_until": 0, "note": ""}  # fmt: skip
        return self._append(Kind.APPROVAL, code, fields)[0]

    def change(self, code: str, uid: str, status: Status) -> None:
        """A status change (its cause record left out: the search reads only the status)."""
        number = next(self.blocks)
        block_hash = f"0x{number:064x}"
        with self.db.transaction() as conn:
            IndexWriter.add_block(conn, number, block_hash, T0 + number * 3600, 0.0)
            IndexWriter.add_status(conn, uid, int(status), ZERO, (number, block_hash, "0xtx", 1))
            project = SearchWriter.changed(conn, uid)
            assert project == "0x" + project_id(code).hex()
            SearchWriter.refresh(conn, project)

    def find(self, readable: Any = (), after: int | None = None, limit: int = 50, **params: Any) -> list[str]:
        return [r["code"] for r in SearchTable(self.db).find(parse_query(**params), readable, after, limit)]


A, B, C = "2026-620825-48-01-000001", "2026-620825-48-01-000002", "2026-620826-48-01-000003"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger(tmp_path)
    led.register(A, "庄浪县人民医院门诊楼工程")
    led.register(B, "庄浪县南湖道路改造工程", OTHER_USCC)
    led.register(C, "静宁县中医医院扩建工程")
    return led


def test_text_uscc_region_and_paging(ledger: Ledger) -> None:
    assert ledger.find(q="医院") == [C, A]  # 2 characters: the LIKE fallback; newest first
    assert ledger.find(q="人民医院") == [A]  # the trigram index
    assert ledger.find(q="医院 扩建") == [C]  # every term must match (one short, one long: both paths)
    assert ledger.find(owner_uscc=USCC) == [C, A]
    assert ledger.find(q="620826") == [C]  # part of the code
    assert ledger.find(region="620825") == [B, A] and ledger.find(region="62") == [C, B, A]
    assert ledger.find(q="%") == [] and ledger.find(q="_") == []  # wildcards are literal
    ids = [r["id"] for r in SearchTable(ledger.db).find(parse_query(), (), None, 2)]
    assert ledger.find(after=ids[-1]) == [A]


def test_a_correction_replaces_the_text_and_a_rewind_takes_it_back(ledger: Ledger) -> None:
    first = ledger.db.scalar("SELECT registration FROM search_projects WHERE code = ?", (A,))
    ledger.register(A, "庄浪县第一人民医院住院楼", ref=first)
    assert ledger.find(q="门诊楼") == [] and ledger.find(q="住院楼") == [A]
    assert ledger.find(q="医院") == [C, A]  # the row keeps its place
    with ledger.db.transaction() as conn:
        IndexWriter.orphan_blocks_after(conn, 3, 0.0)  # the chain lost the correction
        SearchWriter.refresh_after(conn, 3)
    assert ledger.find(q="门诊楼") == [A] and ledger.find(q="住院楼") == []


def test_stage_and_status_follow_the_records(ledger: Ledger) -> None:
    first = ledger.approve(A, 1)
    second = ledger.approve(A, 2)
    assert ledger.find(stage=2) == [A] and ledger.find(stage=1) == []
    ledger.change(A, first, Status.REVOKED)  # a revocation re-derives: stage 2 still stands
    assert ledger.find(stage=2) == [A]
    ledger.change(A, second, Status.SUPERSEDED)
    assert ledger.find(stage=0) == [C, B, A]
    registration = ledger.db.scalar("SELECT registration FROM search_projects WHERE code = ?", (B,))
    ledger.change(B, registration, Status.REVOKED)
    assert ledger.find(status="revoked") == [B] and B not in ledger.find(status="active")


def test_owner_names_match_only_where_the_caller_may_read_them(ledger: Ledger) -> None:
    with ledger.db.transaction() as conn:
        SearchWriter.add_owner_name(conn, B, "甘肃南湖建设集团有限公司")
    project_b = "0x" + project_id(B).hex()
    for q in ("南湖建设", "集团", "建设集团 南湖"):
        assert ledger.find(q=q) == []  # no reading right: restricted text never matches
        assert ledger.find(q=q, readable=["0x" + project_id(A).hex()]) == []  # a right on another project
        assert ledger.find(q=q, readable=[project_b]) == [B]
        assert ledger.find(q=q, readable=ALL_READABLE) == [B]
    assert SearchTable(ledger.db).owner_names([A, B]) == {B: "甘肃南湖建设集团有限公司"}
    assert ledger.find(q="机密备注", readable=ALL_READABLE) == []  # restricted notes are never indexed


def test_the_tables_rebuild_from_the_ledger(ledger: Ledger) -> None:
    before = [dict(r) for r in SearchTable(ledger.db).find(parse_query(), (), None, 50)]
    with ledger.db.transaction() as conn:
        assert not SearchWriter.current(conn)
        SearchWriter.rebuild(conn)
        assert SearchWriter.current(conn)
    assert [dict(r) for r in SearchTable(ledger.db).find(parse_query(), (), None, 50)] == before
    assert ledger.find(q="人民医院") == [A]
