"""Code and identity rules against a real node: a registration that disagrees with its code, a historical
code, the parsed-code endpoint, and an approval past its valid_until reading expired."""

from __future__ import annotations

import random
from typing import Any

import pytest

from localnode import NodeProcess
from tests.support.records import approval_body, project_body, register, unique_code

pytestmark = pytest.mark.chain


def test_registration_whose_type_disagrees_with_the_code_is_refused_naming_the_field(
    node: NodeProcess,
) -> None:
    code = unique_code(kind="01")  # 01: 审批 (approval)
    with node.client("fgj") as c:
        r = c.post("/v1/projects?wait=true", json=project_body(code, project_type="filing"))
        assert r.status_code == 422, r.text
        assert r.json() == {
            "error": "invalid_input",
            "detail": f"project_type: 'filing' does not agree with project code {code}, "
            "whose type segment is 01, i.e. approval (审批)",
        }
        # Nothing was written: not registered, and no record of it pending or on chain.
        assert c.get(f"/v1/projects/{code}").status_code == 404
        assert c.get(f"/v1/reports/projects/{code}").status_code == 404
        # Registered correctly afterwards, the project has exactly one registration: the refused one left none.
        assert c.post("/v1/projects?wait=true", json=project_body(code)).status_code == 200
        history = c.get(f"/v1/projects/{code}/history").json()["records"]
        assert [(h["kind"], h["fields"]["project_type"]) for h in history] == [("project", "approval")]


@pytest.mark.parametrize(("field", "value"), [("industry_code", "44"), ("region_code", "620826")])
def test_registration_whose_industry_or_region_disagrees_is_refused(
    node: NodeProcess, field: str, value: str
) -> None:
    code = unique_code()
    with node.client("fgj") as c:
        r = c.post("/v1/projects", json=project_body(code, **{field: value}))
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith(f"{field}: '{value}' does not agree with project code {code}")
        assert c.get(f"/v1/projects/{code}").status_code == 404


def test_batch_item_that_disagrees_with_its_code_is_refused_and_the_rest_written(node: NodeProcess) -> None:
    good, bad = unique_code(), unique_code()
    items = [
        {"type": "project", **project_body(good)},
        {"type": "project", **project_body(bad, industry_code="44")},
    ]
    with node.client("fgj") as c:
        r = c.post("/v1/records:batch?wait=true", json={"records": items})
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert results[0]["state"] == "confirmed"
        assert results[1]["error"] == "invalid_input"
        assert (
            "industry_code" in results[1]["detail"] and "whose industry segment is 48" in results[1]["detail"]
        )
        assert c.get(f"/v1/projects/{bad}").status_code == 404


def test_omitted_fields_are_taken_from_the_code_and_a_historical_code_registers(node: NodeProcess) -> None:
    # 华亭县 620824 was abolished in 2018: a 2017 code of it is a valid historical code.
    code = f"2017-620824-01-03-{random.randint(0, 999_999):06d}"
    body: dict[str, Any] = project_body(code)
    for field in ("project_type", "region_code", "industry_code"):
        body.pop(field)
    with node.client("fgj") as c:
        r = c.post("/v1/projects?wait=true", json=body)
        assert r.status_code == 200, r.text
        summary = c.get(f"/v1/projects/{code}").json()
    assert (summary["region_code"], summary["industry_code"], summary["project_type"]) == (
        "620824",
        "01",
        "filing",
    )
    with node.client() as anyone:
        page = anyone.get(f"/verify/{code}")
    assert "甘肃省平凉市华亭县" in page.text


def test_a_code_out_of_its_years_division_is_refused(node: NodeProcess) -> None:
    code = "2019-620824-48-01-000001"
    with node.client("fgj") as c:
        r = c.post("/v1/projects", json=project_body(code))
    assert r.status_code == 422
    assert (
        "620824 (华亭县) was abolished in 2018; in 2019 the division is 620881 华亭市" in r.json()["detail"]
    )


def test_the_parsed_code_endpoint_reads_each_shape_by_its_rules(node: NodeProcess) -> None:
    with node.client() as c:
        classic = c.get("/v1/project-codes/2017-620824-48-02-000001").json()
        gbt = c.get("/v1/project-codes/2509-620825-89-05-864976").json()
        bad = c.get("/v1/project-codes/2019-620824-48-01-000001")
    assert classic["shape"] == "classic" and classic["year"] == 2017 and classic["well_formed"] is True
    assert classic["division_name"] == "甘肃省平凉市华亭县"
    assert [s["name"] for s in classic["segments"]][2:4] == ["industry", "project_type"]
    assert gbt["shape"] == "gbt40058" and (gbt["year"], gbt["month"]) == (2025, 9)
    assert [s["name"] for s in gbt["segments"]][2:4] == ["department", "project_type_code"]
    assert gbt["project_type"] is None
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_input"


def test_an_approval_past_its_valid_until_reads_expired(node: NodeProcess) -> None:
    code = unique_code()
    register(node, code)
    with node.client("fgj") as c:
        r = c.post(
            f"/v1/projects/{code}/approvals?wait=true",
            json=approval_body(issued_at="2024-03-01", valid_until="2025-03-01"),
        )
        assert r.status_code == 200, r.text
        uid = r.json()["uid"]
        record = c.get(f"/v1/records/{uid}").json()
        summary = c.get(f"/v1/projects/{code}").json()
        report = c.get(f"/v1/reports/projects/{code}").json()
    assert record["status"] == "expired"
    assert record["status_changes"] == []  # nothing was written: on chain it is still active
    stage = summary["stages"]["1"]
    assert stage["status"] == "expired"
    assert [a["status"] for a in stage["approvals"]] == ["expired"]
    assert report["approvals"] == 1  # it was issued, so it still counts
    assert report["region_code"] == "620825" and report["project_type"] == "approval"
    with node.client() as anyone:
        page = anyone.get(f"/verify/{code}", params={"uscc": "91620825MA72BT6H8M"})
    assert page.status_code == 200
    assert '<div class="stage" data-stage="1" data-status="expired">' in page.text
    assert '已过期 <span class="en">Expired</span>' in page.text
    assert '已批准 <span class="en">Approved</span>' not in page.text


def test_a_still_valid_approval_reads_approved(node: NodeProcess) -> None:
    code = unique_code()
    register(node, code)
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(valid_until="2099-12-31"))
        assert r.status_code == 200, r.text
        summary = c.get(f"/v1/projects/{code}").json()
    assert summary["stages"]["1"]["status"] == "approved"
    assert summary["stages"]["1"]["approvals"][0]["status"] == "active"
