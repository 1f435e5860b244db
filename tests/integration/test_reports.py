"""The seed plan's targets computed from the chain."""

from __future__ import annotations

import pytest

from localnode import NodeProcess
from tests.support.records import approval_body, register

pytestmark = pytest.mark.chain


def test_days_to_construction_permit_and_commitment_share(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("fgj") as c:
        for body in (
            approval_body(stage=1, decision="approved_on_commitment", issued_at="2026-03-01"),
            approval_body(stage=2, item="建设工程规划许可证", issued_at="2026-03-20"),
            approval_body(stage=3, item="施工许可证", issued_at="2026-04-10"),
        ):
            assert c.post(f"/v1/projects/{code}/approvals?wait=true", json=body).status_code == 200
        report = c.get(f"/v1/reports/projects/{code}").json()
        county = c.get("/v1/reports/regions", params={"region": "620825"}).json()
    assert report["days_to_construction_permit"] == 40
    assert report["within_50_days"] is True
    assert report["approved_on_commitment"] == 1 and report["approvals"] == 3
    assert county["by_project"][code] == {k: v for k, v in report.items() if k != "code"}
    assert county["approvals"] >= 3


def test_reports_are_not_for_banks(node: NodeProcess) -> None:
    with node.client("bank") as c:
        assert c.get("/v1/reports/regions").status_code == 403


def test_bad_region_is_422(node: NodeProcess) -> None:
    with node.client("fgj") as c:
        r = c.get("/v1/reports/regions", params={"region": "62x"})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_input"
