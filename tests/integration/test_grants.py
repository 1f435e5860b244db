"""What a grant's scope lets the grantee read: documents only, or restricted fields only."""

from __future__ import annotations

import hashlib

import pytest

from localnode import NodeProcess
from tests.support.records import approval_body, grant_bank, register

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
