"""Edges found in review: grant scopes, out-of-range dates and ids answer 4xx, never 500."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.cluster import NodeProcess
from tests.support.records import DIGEST, approval_body, grant_bank, register

pytestmark = pytest.mark.chain


def test_documents_only_grant_serves_documents_but_not_record_content(node: NodeProcess, code: str) -> None:
    uid = register(node, code)
    content = f"批复 {code}".encode()
    digest = "0x" + hashlib.sha256(content).hexdigest()
    with node.client("fgj") as c:
        c.post("/v1/documents", content=content)
        c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(document_digest=digest))
    grant_bank(node, code, "documents")
    with node.client("bank") as bank:
        assert bank.get(f"/v1/documents/{digest}").content == content
        assert bank.get(f"/v1/projects/{code}/history").status_code == 403
        assert bank.get(f"/v1/records/{uid}").status_code == 403
        assert "total_investment" not in bank.get(f"/v1/projects/{code}").json()


def test_restricted_fields_grant_reads_records_but_not_documents(node: NodeProcess, code: str) -> None:
    register(node, code)
    content = f"另一份批复 {code}".encode()
    digest = "0x" + hashlib.sha256(content).hexdigest()
    with node.client("fgj") as c:
        c.post("/v1/documents", content=content)
        c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(document_digest=digest))
    grant_bank(node, code, "restricted_fields")
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 200
        assert bank.get(f"/v1/documents/{digest}").status_code == 403


@pytest.mark.parametrize("day", ["1960-01-01", "9999-06-01"])
def test_dates_the_ledger_cannot_hold_get_422(node: NodeProcess, code: str, day: str) -> None:
    register(node, code)
    event = {"category": "质量安全", "severity": "serious", "description_digest": DIGEST, "occurred_at": day}
    with node.client("zjj") as c:
        assert c.post(f"/v1/projects/{code}/approvals", json=approval_body(issued_at=day)).status_code == 422
        r = c.post(f"/v1/projects/{code}/events", json=event)
        batch = c.post(
            "/v1/records:batch", json={"records": [{"type": "event", "project_code": code, **event}]}
        )
    assert r.status_code == 422 and "1970-01-01" in r.json()["detail"]
    assert batch.status_code == 422


def test_huge_org_id_filter_on_access_log_gets_422(node: NodeProcess) -> None:
    with node.client("sjj") as auditor:
        r = auditor.get("/v1/audit/access-log", params={"org_id": 2**70})
    assert r.status_code == 422
