"""POST /v1/records:batch against a real node and anvil: per-item results, auth, limits."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from localnode import NodeProcess
from tests.support.records import unique_code

pytestmark = pytest.mark.chain


def digest(text: str) -> str:
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


def project_item(code: str) -> dict[str, Any]:
    return {
        "type": "project", "code": code, "name": "庄浪县批量写入测试项目",
        "owner_uscc": "91620825MA72BT6H8M", "project_type": "approval", "region_code": "620825",
        "industry_code": "48", "total_investment": "880000.00",
    }  # fmt: skip


ITEMS = {1: "ZL-S1-002", 2: "ZL-S2-003"}  # the demo catalogue items of 发改局 in stages 1 and 2


def approval_item(code: str, n: int, **over: Any) -> dict[str, Any]:
    stage = 1 + n % 2
    item = {
        "type": "approval", "project_code": code, "stage": stage, "item": ITEMS[stage],
        "decision": "approved", "document_digest": digest(f"{code}/{n}"), "document_no": f"庄批〔2026〕{n}号",
        "issued_at": "2026-06-01",
    }  # fmt: skip
    item.update(over)
    return item


def test_batch_registers_project_and_files_records_all_confirmed(node: NodeProcess) -> None:
    code = unique_code()
    items = [project_item(code)] + [approval_item(code, n) for n in range(20)]
    items.append({"type": "commitment", "project_code": code, "commitment_type": "self_discipline",
                  "content_digest": digest(f"{code}/commitment"), "due_date": "2026-12-31"})  # fmt: skip
    with node.client("fgj") as c:
        r = c.post("/v1/records:batch?wait=true", json={"records": items})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["accepted"] == len(items) and body["rejected"] == 0
        assert [x["index"] for x in body["results"]] == list(range(len(items)))
        assert {x["state"] for x in body["results"]} == {"confirmed"}
        history = c.get(f"/v1/projects/{code}/history").json()["records"]
    kinds = [h["kind"] for h in history]
    assert kinds.count("approval") == 20 and kinds.count("commitment") == 1 and kinds[0] == "project"
    uids = {x["uid"] for x in body["results"]}
    assert uids == {h["uid"] for h in history}
    # The same batch again is safe: nothing is written twice. Every item, the registration
    # included, comes back as a duplicate with its first uid (same content, same uid).
    with node.client("fgj") as c:
        again = c.post("/v1/records:batch", json={"records": items}).json()
    assert all(x["duplicate"] and x["state"] == "confirmed" for x in again["results"])
    assert {x["uid"] for x in again["results"]} == uids


def test_invalid_items_are_reported_by_index_without_sinking_the_others(node: NodeProcess) -> None:
    code = unique_code()
    with node.client("fgj") as c:
        assert (
            c.post("/v1/records:batch?wait=true", json={"records": [project_item(code)]}).status_code == 200
        )
        items = [
            approval_item(code, 0),
            approval_item(code, 1, stage=9),  # out of range
            approval_item(code, 2, document_digest="not-a-digest"),
            approval_item(unique_code(), 3),  # project not registered
            {"type": "event", "project_code": code, "category": "安全", "severity": "general",
             "description_digest": digest("event"), "occurred_at": "2026-06-02"},  # fgj is no supervisor
            {"type": "grant"},  # unknown type
            "not an object",
            approval_item(code, 7, unexpected="field"),
            approval_item(code, 8, project_code="2026-620825-48-01-12345"),  # malformed code
            approval_item(code, 9),
            approval_item(code, 10, item="ZL-S9-999"),  # not in the catalogue
            approval_item(code, 11, item="ZL-S1-005"),  # 自然资源局's item
        ]  # fmt: skip
        r = c.post("/v1/records:batch?wait=true", json={"records": items})
        assert r.status_code == 200, r.text
        body = r.json()
        by_index = {x["index"]: x for x in body["results"]}
        assert sorted(by_index) == list(range(len(items)))
        assert body["accepted"] == 2 and body["rejected"] == 10
        for i in (0, 9):
            assert by_index[i]["state"] == "confirmed"
        expected = {i: "invalid_input" for i in (1, 2, 5, 6, 7, 8, 10)} | {3: "not_found", 4: "forbidden"}
        expected[11] = "forbidden"
        for i, error in expected.items():
            assert by_index[i]["error"] == error, by_index[i]
            assert by_index[i]["detail"]
        assert "stage" in by_index[1]["detail"]
        history = c.get(f"/v1/projects/{code}/history").json()["records"]
    # Nothing was written for the refused items.
    assert sorted(h["fields"].get("document_no", "") for h in history if h["kind"] == "approval") == [
        "庄批〔2026〕0号",
        "庄批〔2026〕9号",
    ]


def test_batch_without_any_valid_item_is_422_and_writes_nothing(node: NodeProcess) -> None:
    with node.client("fgj") as c:
        r = c.post("/v1/records:batch", json={"records": [{"type": "approval"}, {"type": "nope"}]})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_input" and body["accepted"] == 0 and len(body["results"]) == 2


def test_batch_needs_a_token(node: NodeProcess) -> None:
    code = unique_code()
    with node.client() as c:
        r = c.post("/v1/records:batch", json={"records": [project_item(code)]})
        assert r.status_code == 401
        assert r.json()["error"] == "unauthenticated"
        r = c.post(
            "/v1/records:batch",
            json={"records": [project_item(code)]},
            headers={"Authorization": "Bearer nope"},
        )
        assert r.status_code == 401
        assert c.get(f"/v1/projects/{code}").status_code == 404


def test_more_than_1000_items_is_refused(node: NodeProcess) -> None:
    code = unique_code()
    items = [approval_item(code, n) for n in range(1001)]
    with node.client("fgj") as c:
        r = c.post("/v1/records:batch", json={"records": items})
        assert r.status_code in (413, 422), r.text
        assert r.json()["error"] in ("invalid_input", "payload_too_large")
        empty = c.post("/v1/records:batch", json={"records": []})
        assert empty.status_code == 422


def test_batch_approval_on_commitment_carries_its_commitment(node: NodeProcess) -> None:
    code = unique_code()
    on_commitment = approval_item(
        code, 0, item="ZL-S1-001", decision="approved_on_commitment",
        commitment={"due_date": "2027-06-30", "pledge_digest": digest("承诺书"), "summary": "按备案内容建设"},
    )  # fmt: skip
    with node.client("fgj") as c:
        r = c.post("/v1/records:batch?wait=true", json={"records": [project_item(code), on_commitment]})
        assert r.status_code == 200, r.text
        result = r.json()["results"][1]
        bound = c.get(f"/v1/records/{result['commitment_uid']}").json()
    assert bound["state"] == "confirmed" and bound["status"] == "pending"
    assert bound["fields"]["approval"] == result["uid"]
    assert bound["fields"]["commitment_type"] == "approval_substitute"


def test_an_item_whose_key_another_item_of_the_batch_used_is_refused_alone(node: NodeProcess) -> None:
    # Two items under one idempotency key with other content derive one uid: the second is a
    # conflict of its own (by index), and the batch's other items are answered and written as usual.
    code = unique_code()
    with node.client("fgj") as c:
        assert (
            c.post("/v1/records:batch?wait=true", json={"records": [project_item(code)]}).status_code == 200
        )
        items = [
            approval_item(code, 0, idempotency_key="one-key"),
            approval_item(code, 2, idempotency_key="one-key"),  # the same key, other content
            approval_item(code, 4),
        ]
        r = c.post("/v1/records:batch?wait=true", json={"records": items})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["accepted"] == 2 and body["rejected"] == 1, body
        results = {x["index"]: x for x in body["results"]}
        assert results[1]["error"] == "conflict" and "different content" in results[1]["detail"], results
        assert results[0]["state"] == results[2]["state"] == "confirmed", results


def test_a_batch_across_projects_is_checked_against_each_projects_state(node: NodeProcess) -> None:
    """A batch's projects are looked up together (``Writer._look_ahead``): each item still gets its own
    project's answer — open, revoked, registered in the outbox only, or unknown."""
    open_, revoked, pending, unknown = (unique_code() for _ in range(4))
    with node.client("fgj") as c:
        r = c.post(
            "/v1/records:batch?wait=true", json={"records": [project_item(open_), project_item(revoked)]}
        )
        assert r.status_code == 200, r.text
        registration = r.json()["results"][1]["uid"]
        assert (
            c.post(f"/v1/records/{registration}/revoke?wait=true", json={"reason": "项目取消"}).status_code
            == 200
        )
        assert c.post("/v1/records:batch", json={"records": [project_item(pending)]}).status_code in (
            200,
            202,
        )
        items = [approval_item(code, n) for n, code in enumerate((open_, revoked, pending, unknown, open_))]
        r = c.post("/v1/records:batch?wait=true", json={"records": items})
        assert r.status_code == 200, r.text
        results = {x["index"]: x for x in r.json()["results"]}
    assert results[0]["state"] == results[4]["state"] == "confirmed", results
    assert results[1]["error"] == "conflict" and "revoked" in results[1]["detail"], results
    assert results[2]["state"] == "confirmed", results  # its registration went first in the outbox
    assert results[3]["error"] == "not_found" and unknown in results[3]["detail"], results
