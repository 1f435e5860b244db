"""The certificate's statements, canonical form and seal, on hand-built data (no chain, no font)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from node_api.domain.records import Kind, encode_payload
from node_api.errors import ValidationError
from node_api.store.certificates import CertificateRow, CertificateTable
from node_api.store.database import Database
from node_api.verify.certificate import (
    canonical,
    chain_status,
    check_shape,
    seal,
    seal_signer,
    shown_status,
    stage_status,
    statement_fields,
    typed_data,
)
from node_api.verify.certificate_check import read_certificate

ZERO = b"\x00" * 32
DAY = 86_400
KEY = Account.from_key("0x" + "42" * 32)


def _ts(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def ref(n: int) -> dict[str, Any]:
    h = f"0x{n:064x}"
    return {"uid": h, "kind": "approval", "issuer": 2, "block_number": n, "block_hash": h, "tx_hash": h,
            "log_index": 0, "record_hash": h, "chain_status": "active", "status": "active",
            "fields": {"stage": 1, "decision": "approved"}}  # fmt: skip


def document() -> dict[str, Any]:
    return {
        "format": "projchain-verification-certificate", "version": 1, "id": "vc-" + "ab" * 16,
        "issued_at": "2026-11-30T06:00:00+00:00", "issuer": {"org_id": 7, "name": "银行", "uscc": "91620825MA71PX3KXP"},
        "chain_id": 620825, "contracts": {"consortium": "0x" + "11" * 20, "ledger": "0x" + "22" * 20},
        "as_of": {"block_number": 120, "block_hash": "0x" + "33" * 32, "block_time": "2026-11-30T05:59:00+00:00"},
        "project": {"code": "2026-620825-48-01-000001", "project_id": "0x" + "44" * 32, "name": "项目",
                    "registration": {**ref(100), "kind": "project", "fields": {}}},
        "stages": [{"stage": 1, "name": "立项用地规划许可", "status": "approved", "approvals": [ref(101)]}],
        "open_events": [], "commitments": [], "verify_url": "http://node/verify?certificate=vc-" + "ab" * 16,
    }  # fmt: skip


def test_statement_fields_name_enums_and_dates_and_drop_the_commitment() -> None:
    payload = encode_payload(Kind.APPROVAL, {"stage": 2, "decision": 1, "item": "ZL-S2-002", "item_version": 3,
                                             "document_no": "庄建发〔2026〕1号", "issued_at": _ts("2026-06-01"),
                                             "valid_until": 0, "restricted": b"\x01" * 32})  # fmt: skip
    assert statement_fields(Kind.APPROVAL, payload) == {
        "stage": 2, "decision": "approved_on_commitment", "item": "ZL-S2-002", "item_version": 3,
        "document_no": "庄建发〔2026〕1号", "issued_at": "2026-06-01", "valid_until": None, "stage_name": "工程建设许可",
    }  # fmt: skip
    event = encode_payload(Kind.EVENT, {"severity": 3, "category": "质量安全", "occurred_at": _ts("2026-07-01"),
                                        "publish_until": 0, "evidence": [b"\x05" * 32], "restricted": ZERO})  # fmt: skip
    assert statement_fields(Kind.EVENT, event) == {"severity": "serious", "category": "质量安全",
                                                   "occurred_at": "2026-07-01", "publish_until": None}  # fmt: skip
    free = encode_payload(Kind.COMMITMENT, {"commitment_type": 2, "approval": ZERO, "due_at": _ts("2026-08-01"),
                                            "restricted": ZERO})  # fmt: skip
    assert statement_fields(Kind.COMMITMENT, free) == {"commitment_type": "deficiency_acceptance", "approval": None,
                                                       "due_at": "2026-08-01"}  # fmt: skip


def test_statuses_at_the_block_and_on_its_day() -> None:
    assert chain_status(Kind.EVENT, []) == "open"
    assert chain_status(Kind.EVENT, [5, 6]) == "resolved"  # objected, then resolved
    assert chain_status(Kind.COMMITMENT, []) == "pending"
    approval = {"decision": "approved", "valid_until": "2026-06-30"}
    assert shown_status(Kind.APPROVAL, "active", approval, dt.date(2026, 6, 30)) == "active"
    assert shown_status(Kind.APPROVAL, "active", approval, dt.date(2026, 7, 1)) == "expired"
    assert shown_status(Kind.APPROVAL, "revoked", approval, dt.date(2026, 7, 1)) == "revoked"
    assert (
        shown_status(Kind.APPROVAL, "active", {**approval, "decision": "rejected"}, dt.date(2027, 1, 1))
        == "active"
    )
    due = {"due_at": "2026-08-01"}
    assert shown_status(Kind.COMMITMENT, "pending", due, dt.date(2026, 8, 2)) == "overdue"
    assert shown_status(Kind.COMMITMENT, "fulfilled", due, dt.date(2026, 8, 2)) == "fulfilled"


@pytest.mark.parametrize(
    ("approvals", "expected"),
    [
        ([], "not_started"),
        ([("revoked", "approved")], "not_started"),
        ([("active", "rejected")], "rejected"),
        ([("active", "rejected"), ("active", "approved_on_commitment")], "approved"),
        ([("expired", "approved")], "expired"),
        ([("active", "accepted_with_deficiencies")], "in_progress"),
    ],
)
def test_stage_status(approvals: list[tuple[str, str]], expected: str) -> None:
    assert stage_status(approvals) == expected


def test_the_seal_covers_every_byte_of_content_but_not_its_layout() -> None:
    sealed = seal(document(), KEY)
    assert seal_signer(sealed) == KEY.address == sealed["seal"]["sealer"]
    assert typed_data(sealed)["primaryType"] == "Certificate"
    # Key order and whitespace are not content: the canonical form is the same.
    relaid = json.loads(json.dumps(sealed, indent=2, sort_keys=False))
    assert canonical(relaid) == canonical(sealed) and seal_signer(relaid) == KEY.address
    for path, value in [(("project", "name"), "项目X"), (("as_of", "block_number"), 119),
                        (("stages", 0, "status"), "in_progress"), (("issuer", "org_id"), 8), (("id",), "vc-" + "cd" * 16)]:  # fmt: skip
        changed = copy.deepcopy(sealed)
        target: Any = changed
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert seal_signer(changed) != KEY.address, path


def test_check_shape_names_what_is_missing() -> None:
    check_shape(seal(document(), KEY))
    broken = seal(document(), KEY)
    del broken["stages"][0]["approvals"][0]["record_hash"]
    with pytest.raises(ValidationError, match="record_hash"):
        check_shape(broken)
    with pytest.raises(ValidationError, match="format"):
        check_shape({**document(), "format": "projchain-evidence-bundle"})


def test_read_certificate_takes_json_and_refuses_a_pdf_without_one(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document(), ensure_ascii=False), encoding="utf-8")
    assert read_certificate(path) == document()
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(ValueError, match="PDF"):
        read_certificate(pdf)


def test_stored_certificates_are_insert_only(tmp_path: Path) -> None:
    table = CertificateTable(Database(tmp_path / "node.sqlite3"))
    row = CertificateRow("vc-" + "ab" * 16, 7, "0x" + "44" * 32, "2026-620825-48-01-000001", 120, b"{}", 1.0)
    table.add(row)
    assert table.get(row.id) == row and table.count(7) == 1 and table.pdf(row.id) is None
    table.add_pdf(row.id, b"%PDF-1")
    table.add_pdf(row.id, b"%PDF-2")  # a second rendering is not kept: the first stays
    assert table.pdf(row.id) == b"%PDF-1"
    with pytest.raises(sqlite3.IntegrityError):
        table.add(row)
    for sql in ("UPDATE certificates SET as_of_block = 1", "DELETE FROM certificates",
                "UPDATE certificate_pdfs SET pdf = x'00'", "DELETE FROM certificate_pdfs"):  # fmt: skip
        with pytest.raises(sqlite3.DatabaseError, match="insert-only"), table.db.transaction() as conn:
            conn.execute(sql)
    assert table.get(row.id) == row and table.pdf(row.id) == b"%PDF-1"
