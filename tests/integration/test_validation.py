"""Values the ledger cannot hold are refused at the gateway with 422, never a 500."""

from __future__ import annotations

import pytest

from localnode import NodeProcess
from tests.support.records import DIGEST, approval_body, register

pytestmark = pytest.mark.chain


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
