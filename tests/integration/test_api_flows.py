"""The public API end to end against a real node and anvil chain."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from localnode import NodeProcess
from tests.support.polling import wait_until
from tests.support.records import DIGEST, approval_body, grant_bank, project_body, register, unique_code

pytestmark = pytest.mark.chain


def test_register_approve_and_read_history_with_tx_hashes(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body("zrzyj"))  # 用地预审与选址
        assert r.status_code == 200, r.text
        history = c.get(f"/v1/projects/{code}/history").json()["records"]
    assert [h["kind"] for h in history] == ["project", "approval"]
    approval = history[1]
    assert approval["state"] == "confirmed"
    assert approval["tx_hash"].startswith("0x") and len(approval["tx_hash"]) == 66
    assert approval["block_number"] >= history[0]["block_number"]
    assert approval["issuer"]["name"] == "庄浪县自然资源局"
    assert approval["digest"] == DIGEST
    assert approval["fields"]["decision"] == "approved"
    summary = node.client().get(f"/v1/projects/{code}").json()
    assert summary["stages"]["1"]["status"] == "approved"
    assert "total_investment" not in summary  # public view


def test_write_answers_202_then_record_becomes_confirmed(node: NodeProcess, code: str) -> None:
    with node.client("fgj") as c:
        r = c.post("/v1/projects", json=project_body(code))
        assert r.status_code == 202
        uid = r.json()["uid"]

        def confirmed() -> dict[str, Any] | None:
            rec: dict[str, Any] = c.get(f"/v1/records/{uid}").json()
            return rec if rec["state"] == "confirmed" else None

        rec = wait_until(confirmed, 60, f"record {uid} becomes confirmed")
    assert rec["status"] == "active"


def test_retry_with_same_idempotency_key_gives_same_uid(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("fgj") as c:
        headers = {"Idempotency-Key": "batch-7-line-3"}
        a = c.post(f"/v1/projects/{code}/approvals", json=approval_body(), headers=headers)
        b = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(), headers=headers)
        history = c.get(f"/v1/projects/{code}/history").json()["records"]
    assert a.json()["uid"] == b.json()["uid"]
    assert b.json()["duplicate"] is True
    assert sum(1 for h in history if h["kind"] == "approval") == 1


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("owner_uscc", "91350100M000100Y4Z", "check character should be 3"),
        ("owner_uscc", "91620825MA72BT6H8", "18 characters"),
        ("code", "2026-620825-48-01-12345", "code"),
        ("region_code", "629999", "region_code"),
        ("project_type", "lottery", "project_type"),
        ("total_investment", "-5", "total_investment"),
    ],
)
def test_bad_project_fields_get_422_naming_the_field(
    node: NodeProcess, field: str, value: str, needle: str
) -> None:
    code = unique_code()
    with node.client("fgj") as c:
        r = c.post("/v1/projects", json=project_body(code, **{field: value}))
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["error"] == "invalid_input"
        assert needle in body["detail"]
        # Nothing was written.
        assert c.get(f"/v1/projects/{code}").status_code in (404, 422)


def test_malformed_json_gets_400(node: NodeProcess) -> None:
    with node.client("fgj") as c:
        r = c.post("/v1/projects", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request"


def test_bank_writing_an_approval_gets_403(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("bank") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=approval_body())
    assert r.status_code == 403
    assert "approval_authority" in r.json()["detail"]


def test_approving_another_departments_item_gets_403(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("scjgj") as c:  # 市场监管局: the department of 特种设备安装告知 only
        r = c.post(f"/v1/projects/{code}/approvals", json=approval_body())
    assert r.status_code == 403
    assert "庄浪县发展和改革局" in r.json()["detail"]


def test_unknown_project_gets_404(node: NodeProcess) -> None:
    code = unique_code()
    with node.client("fgj") as c:
        assert c.post(f"/v1/projects/{code}/approvals", json=approval_body()).status_code == 404
        assert c.get(f"/v1/projects/{code}").status_code == 404


def test_missing_or_wrong_token_gets_401(node: NodeProcess, code: str) -> None:
    r = node.client().post("/v1/projects", json=project_body(code))
    assert r.status_code == 401
    with node.client() as c:
        r = c.post("/v1/projects", json=project_body(code), headers={"Authorization": "Bearer pc_nope"})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthenticated"


def test_registering_a_code_twice_gets_409(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("zrzyj") as c:
        r = c.post("/v1/projects", json=project_body(code, name="另一个名字"))
    assert r.status_code == 409


def test_revoke_then_revoke_again_is_an_illegal_change(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("fgj") as c:
        uid = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body()).json()["uid"]
        r = c.post(f"/v1/records/{uid}/revoke?wait=true", json={"reason": "批复文件有误"})
        assert r.status_code == 200, r.text
        assert c.get(f"/v1/records/{uid}").json()["status"] == "revoked"
        again = c.post(f"/v1/records/{uid}/revoke", json={"reason": "again"})
        assert again.status_code == 409
        resolve = c.post(f"/v1/records/{uid}/fulfil", json={"reason": "not a commitment"})
        assert resolve.status_code == 409


def test_only_the_issuer_revokes_its_approval(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("fgj") as c:
        uid = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body()).json()["uid"]
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/records/{uid}/revoke", json={"reason": "not ours"})
    assert r.status_code == 403


def test_supersede_keeps_history_and_marks_old_superseded(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("fgj") as c:
        old = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body()).json()["uid"]
        r = c.post(
            f"/v1/records/{old}/supersede?wait=true",
            json={"reason": "更正文号", "replacement": approval_body(document_no="庄发改发〔2026〕102号")},
        )
        assert r.status_code == 200, r.text
        new = r.json()["uid"]
        assert c.get(f"/v1/records/{old}").json()["status"] == "superseded"
        rec = c.get(f"/v1/records/{new}").json()
    assert rec["ref"] == old
    assert rec["fields"]["note"] == "更正文号"


def test_event_lifecycle_objection_rejected_then_resolved(node: NodeProcess, code: str) -> None:
    register(node, code)
    event = {
        "category": "质量安全",
        "severity": "serious",
        "description_digest": DIGEST,
        "evidence_digests": ["0x" + "11" * 32],
        "occurred_at": "2026-07-01",
    }
    with node.client("scjgj") as c:
        uid = c.post(f"/v1/projects/{code}/events?wait=true", json=event).json()["uid"]
        assert (
            c.post(f"/v1/records/{uid}/object?wait=true", json={"reason": "业主提出异议"}).status_code == 200
        )
        assert c.get(f"/v1/records/{uid}").json()["status"] == "objected"
        # The objector does not decide its own objection; another supervisor (住建局) does.
        own = c.post(f"/v1/records/{uid}/reject-objection", json={"reason": "异议不成立"})
        assert own.status_code == 403, own.text
    with node.client("zjj") as other:
        assert (
            other.post(
                f"/v1/records/{uid}/reject-objection?wait=true", json={"reason": "异议不成立"}
            ).status_code
            == 200
        )
    with node.client("scjgj") as c:
        assert c.post(f"/v1/records/{uid}/resolve?wait=true", json={"reason": "已整改"}).status_code == 200
        # A serious event may be repaired only after a year of publication.
        r = c.post(f"/v1/records/{uid}/repair", json={"reason": "申请信用修复"})
        assert r.status_code == 409
        assert "信用修复" in r.json()["detail"]
        rec = c.get(f"/v1/records/{uid}").json()
    assert rec["status"] == "resolved"
    assert [s["status"] for s in rec["status_changes"]] == ["objected", "open", "resolved"]
    assert rec["fields"]["publish_until"] == "2029-06-30"


def test_bank_reads_only_with_a_grant(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("bank") as bank:
        denied = bank.get(f"/v1/projects/{code}/history")
        assert denied.status_code == 403
        assert "项目" not in denied.text and "测试道路" not in denied.text
        public = bank.get(f"/v1/projects/{code}").json()
        assert "total_investment" not in public
    grant = grant_bank(node, code)
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 200
        assert bank.get(f"/v1/projects/{code}").json()["total_investment"] == "12500000.50"
    with node.client("fgj") as c:
        r = c.delete(f"/v1/projects/{code}/grants/{grant}?wait=true")
        assert r.status_code == 200, r.text
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 403


def test_document_upload_download_and_public_verification(node: NodeProcess, code: str) -> None:
    register(node, code)
    content = "庄浪县发展和改革局关于测试项目的批复".encode() + code.encode()
    with node.client("fgj") as c:
        up = c.post("/v1/documents", content=content, headers={"Content-Type": "text/plain"})
        assert up.status_code == 201
        digest = up.json()["digest"]
        assert digest == "0x" + hashlib.sha256(content).hexdigest()
        before = node.client().post("/v1/verify/document", content=content).json()
        assert before["on_chain"] is False
        c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(document_digest=digest))
        assert c.get(f"/v1/documents/{digest}").content == content
    after = node.client().post("/v1/verify/document", json={"digest": digest}).json()
    assert after["on_chain"] is True
    assert after["records"][0]["project_code"] == code
    with node.client("bank") as bank:
        assert bank.get(f"/v1/documents/{digest}").status_code == 403


def test_oversized_body_gets_413(node: NodeProcess) -> None:
    with node.client("fgj") as c:
        r = c.post(
            "/v1/projects",
            content=b"{" + b" " * 2_000_000 + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


def test_health_reports_chain_contracts_and_lag(node: NodeProcess) -> None:
    h = node.client().get("/health").json()
    assert h["chain"]["chain_id"] == 620825
    # The test node runs its chain itself; a gateway worker (which answers here) must say so too.
    assert h["chain"]["embedded"] is True, h["chain"]
    assert h["chain"]["latest_block"] >= h["chain"]["indexed_block"] > 0
    assert h["contracts"]["ledger"].startswith("0x")


def test_openapi_is_served(node: NodeProcess) -> None:
    spec = node.client().get("/openapi.json").json()
    assert "/v1/projects/{code}/approvals" in spec["paths"]


def test_revoked_project_takes_no_new_approvals(node: NodeProcess, code: str) -> None:
    registration = register(node, code)
    with node.client("fgj") as c:
        assert (
            c.post(f"/v1/records/{registration}/revoke?wait=true", json={"reason": "项目取消"}).status_code
            == 200
        )
        r = c.post(f"/v1/projects/{code}/approvals", json=approval_body())
    assert r.status_code == 409
    assert "revoked" in r.json()["detail"]


def test_a_waiting_request_learns_that_the_chain_refused_its_record(node: NodeProcess, code: str) -> None:
    """The approval is accepted while the project's revocation is still on its way (the node's
    index does not know it yet); the ledger applies the revocation first and refuses the
    approval. The waiting request is woken by the failure watcher, not left to its timeout."""
    registration = register(node, code)
    with node.client("fgj") as c:
        assert c.post(f"/v1/records/{registration}/revoke", json={"reason": "项目取消"}).status_code == 202
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body())
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["state"] == "failed", body  # refused on chain, not by the node's own check
    assert "LedgerProjectClosed" in body["error"], body
    # The node waits up to 30 s (Settings.wait_timeout); a refusal missed by the watcher would
    # only be answered then.
    assert r.elapsed.total_seconds() < 15, "answered at the refusal, not at the timeout"
