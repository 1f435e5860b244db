"""The seed plan's targets computed from the chain."""

from __future__ import annotations

import pytest

from localnode import NodeProcess
from tests.support.records import approval_body, register

pytestmark = pytest.mark.chain


def test_days_to_construction_permit_and_commitment_share(node: NodeProcess, code: str) -> None:
    register(node, code)
    for org, body in (
        ("fgj", approval_body(stage=1, decision="approved_on_commitment", issued_at="2026-03-01")),
        ("zrzyj", approval_body("zrzyj", stage=2, issued_at="2026-03-20")),  # 建设工程规划许可证
        ("zjj", approval_body("zjj", stage=3, item="ZL-S3-004", issued_at="2026-04-10")),  # 施工许可证
    ):
        with node.client(org) as c:
            assert c.post(f"/v1/projects/{code}/approvals?wait=true", json=body).status_code == 200
    with node.client("fgj") as c:
        report = c.get(f"/v1/reports/projects/{code}").json()
        county = c.get("/v1/reports/regions", params={"region": "620825"}).json()
    assert report["days_to_construction_permit"] == 40
    assert report["within_50_days"] is True
    assert report["approved_on_commitment"] == 1 and report["approvals"] == 3
    # 承诺制 share: 容缺 and 信用承诺 decisions over the approvals of items not on the negative list
    # (ZL-S1-001 信用承诺制, ZL-S2-002 and ZL-S3-004 容缺受理: three eligible, one on commitment)
    assert report["commitment"] == {"eligible_approvals": 3, "on_commitment": 1, "share": 0.3333,
                                    "target_met": False}  # fmt: skip
    assert county["by_project"][code] == {k: v for k, v in report.items() if k != "code"}
    assert county["approvals"] >= 3
    by_stage, by_department = county["commitment"]["by_stage"], county["commitment"]["by_department"]
    assert set(by_stage) == {"1", "2", "3", "4"} and by_stage["3"]["eligible_approvals"] >= 1
    assert by_department[str(node.org_ids["fgj"])]["name"] == "庄浪县发展和改革局"
    assert by_department[str(node.org_ids["fgj"])]["on_commitment"] >= 1
    assert county["commitment_share"] == county["commitment"]["share"]


def test_reports_are_not_for_banks(node: NodeProcess) -> None:
    with node.client("bank") as c:
        assert c.get("/v1/reports/regions").status_code == 403


def test_bad_region_is_422(node: NodeProcess) -> None:
    with node.client("fgj") as c:
        r = c.get("/v1/reports/regions", params={"region": "62x"})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_input"
