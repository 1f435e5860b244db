"""The catalogue (事项库) through the API of a real node: listing, versions, and the approvals it allows."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from localnode import NodeProcess
from tests.support.records import DIGEST, approval_body, commitment_body, register

pytestmark = pytest.mark.chain

DEMO_CODES = {f"ZL-S1-{n:03d}" for n in range(1, 17)} | {f"ZL-S2-{n:03d}" for n in range(1, 6)}
DEMO_CODES |= {f"ZL-S3-{n:03d}" for n in range(1, 11)} | {f"ZL-S4-{n:03d}" for n in range(1, 10)}


def item_body(code: str, department: int, **over: Any) -> dict[str, Any]:
    """A catalogue item of stage 1 that ``department`` decides (容缺受理), with fields replaced by ``over``."""
    body = {"code": code, "name": "测试事项（集成测试）", "stage": 1, "list": "approval", "department": department,
            "time_limit_days": 10, "commitment": "deficiency"}  # fmt: skip
    body.update(over)
    return body


def put(node: NodeProcess, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    with node.client("zwfw") as c:
        r = c.post("/v1/catalogue/items?wait=true", json=body)
    assert r.status_code == status, r.text
    return dict(r.json())


def fresh_item(node: NodeProcess, **over: Any) -> str:
    """A new item of this test, decided by 发改局; its code."""
    code = f"IT-{random.randint(0, 10**9):09d}"
    answer = put(node, item_body(code, node.org_ids["fgj"], **over))
    assert answer["version"] == 1 and answer["state"] == "confirmed"
    return code


def approvals_of(c: httpx.Client, code: str) -> list[dict[str, Any]]:
    return [r for r in c.get(f"/v1/projects/{code}/history").json()["records"] if r["kind"] == "approval"]


# -- reading the catalogue (public) -------------------------------------------------------------


def test_the_demo_catalogue_is_listed_publicly_page_by_page(node: NodeProcess) -> None:
    codes: list[str] = []
    cursor = None
    with node.client() as c:  # no token
        while True:
            page = c.get("/v1/catalogue", params={"limit": 15, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            codes += [i["code"] for i in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
    assert len(codes) == len(set(codes)) and codes == sorted(codes)
    assert set(codes) >= DEMO_CODES


def test_the_catalogue_is_filtered_by_stage_list_department_and_text(node: NodeProcess) -> None:
    with node.client() as c:
        stage3 = c.get("/v1/catalogue", params={"stage": 3, "limit": 200}).json()["items"]
        intermediary = c.get("/v1/catalogue", params={"list": "intermediary"}).json()["items"]
        zjj = c.get("/v1/catalogue", params={"department": node.org_ids["zjj"], "limit": 200}).json()["items"]
        utilities = c.get("/v1/catalogue", params={"q": "报装"}).json()["items"]
        by_code = c.get("/v1/catalogue", params={"q": "zl-s4-00"}).json()["items"]
    assert {i["stage"] for i in stage3} == {3} and len([i for i in stage3 if i["code"] in DEMO_CODES]) == 10
    assert {i["code"] for i in intermediary} >= {"ZL-S1-014", "ZL-S1-016", "ZL-S2-005", "ZL-S4-009"}
    assert {i["department"]["name"] for i in zjj} == {"庄浪县住房和城乡建设局"}
    assert [i["code"] for i in utilities] == ["ZL-S3-008", "ZL-S3-009", "ZL-S3-010"]
    assert [i["department"]["name"] for i in utilities][1] == "国网甘肃省电力公司庄浪县供电公司"
    assert {i["code"] for i in by_code} == {f"ZL-S4-00{n}" for n in range(1, 10)}


def test_an_item_shows_its_version_in_force_and_its_record(node: NodeProcess) -> None:
    with node.client() as c:
        item = c.get("/v1/catalogue/ZL-S1-002").json()
        assert c.get("/v1/catalogue/ZL-S9-999").status_code == 404
        assert c.get("/v1/catalogue/不是编码").status_code == 422
    current = item["current"]
    assert (current["version"], current["name"], current["stage"]) == (1, "企业投资项目核准", 1)
    assert (current["commitment"], current["time_limit_days"], current["on_the_spot"]) == ("none", 20, False)
    assert current["depends_on"] == ["ZL-S1-005"] and current["guide_digest"].startswith("0x")
    assert current["department"]["name"] == "庄浪县发展和改革局"
    assert [v["version"] for v in item["versions"]] == [1]
    assert current["record"]["uid"].startswith("0x") and current["record"]["block_number"] > 0


def test_a_catalogue_record_reads_like_any_record(node: NodeProcess) -> None:
    uid = node.client().get("/v1/catalogue/ZL-S3-009").json()["current"]["record"]["uid"]
    with node.client("bank") as c:  # any member: the catalogue is public
        record = c.get(f"/v1/records/{uid}").json()
    assert (record["kind"], record["status"], record["project_code"]) == ("catalogue", "recorded", None)
    assert record["issuer"]["name"] == "庄浪县政务服务中心"
    f = record["fields"]
    assert (f["code"], f["version"], f["list"], f["commitment"], f["on_the_spot"]) == (
        "ZL-S3-009",
        1,
        "approval",
        "deficiency",
        False,
    )
    assert f["department"] == node.org_ids["gdgs"] and record["digest"] == f["guide"]


# -- writing it (catalogue role) --------------------------------------------------------------------


def test_only_the_catalogue_role_writes_items(node: NodeProcess) -> None:
    body = item_body("IT-NOT-MINE", node.org_ids["fgj"])
    with node.client("fgj") as c:
        r = c.post("/v1/catalogue/items", json=body)
        assert r.status_code == 403 and "catalogue" in r.json()["detail"]
    assert node.client().post("/v1/catalogue/items", json=body).status_code == 401
    assert node.client().get("/v1/catalogue/IT-NOT-MINE").status_code == 404


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"department": 9999}, "department"),
        ({"depends_on": ["ZL-S9-999"]}, "depends_on"),
        ({"stage": 5}, "stage"),
        ({"commitment": "sometimes"}, "commitment"),
        ({"code": "带中文的编码"}, "code"),
    ],
)
def test_a_bad_item_is_a_422_and_writes_nothing(node: NodeProcess, over: dict[str, Any], needle: str) -> None:
    code = f"IT-BAD-{random.randint(0, 10**9)}"
    answer = put(node, {**item_body(code, node.org_ids["fgj"]), **over}, status=422)
    assert needle in answer["detail"]
    assert node.client().get(f"/v1/catalogue/{over.get('code', code)}").status_code in (404, 422)


def test_versions_are_numbered_by_the_node_and_an_unchanged_item_is_not_written_again(
    node: NodeProcess,
) -> None:
    code = fresh_item(node)
    body = item_body(code, node.org_ids["fgj"], time_limit_days=7)
    assert put(node, body)["version"] == 2
    again = put(node, body)
    assert (again["version"], again["duplicate"]) == (2, True)
    with node.client("zwfw") as c:  # another change while version 3 is still on its way
        assert c.post("/v1/catalogue/items", json={**body, "time_limit_days": 5}).status_code == 202
        r = c.post("/v1/catalogue/items", json={**body, "time_limit_days": 3})
    assert r.status_code == 409 and "not confirmed on chain yet" in r.json()["detail"]


# -- approvals of catalogue items ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org", "over", "status", "needle"),
    [
        ("fgj", {"item": "ZL-S9-999"}, 422, "not in the catalogue"),
        ("zrzyj", {"item": "ZL-S1-002"}, 403, "庄浪县发展和改革局"),  # 发改局's item
        ("fgj", {"item": "ZL-S1-002", "stage": 2}, 422, "stage 1"),
        # 企业投资项目核准 is on the negative list: no approval on commitment
        ("fgj", {"item": "ZL-S1-002", "decision": "approved_on_commitment",
                 "commitment": commitment_body("approved_on_commitment")}, 422, "decision"),
        # 项目备案 is 信用承诺制, not 容缺受理
        ("fgj", {"item": "ZL-S1-001", "decision": "accepted_with_deficiencies",
                 "commitment": commitment_body("accepted_with_deficiencies")}, 422, "decision"),
        ("fgj", {"item_version": 2}, 409, "the current version is 1"),
        ("fgj", {"decision": "approved_on_commitment", "item": "ZL-S1-001"}, 422, "commitment"),  # missing
        ("fgj", {"commitment": commitment_body("approved_on_commitment")}, 422, "commitment"),  # forbidden
    ],
)  # fmt: skip
def test_an_approval_the_catalogue_does_not_allow_is_refused_and_writes_nothing(
    node: NodeProcess, code: str, org: str, over: dict[str, Any], status: int, needle: str
) -> None:
    register(node, code)
    body = {**approval_body(org), **over}
    if "decision" in over and "commitment" not in over:
        body.pop("commitment", None)
    with node.client(org) as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=body)
        assert r.status_code == status, r.text
        assert needle in r.json()["detail"]
        assert approvals_of(c, code) == []
        assert [
            r for r in c.get(f"/v1/projects/{code}/history").json()["records"] if r["kind"] != "project"
        ] == []


def test_an_approval_of_a_retired_item_is_409(node: NodeProcess, code: str) -> None:
    item = fresh_item(node)
    put(node, item_body(item, node.org_ids["fgj"], retired=True))
    register(node, code)
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=approval_body(item=item))
        assert r.status_code == 409 and "retired" in r.json()["detail"]
        assert approvals_of(c, code) == []
    with node.client() as c:
        assert item not in {i["code"] for i in c.get("/v1/catalogue", params={"q": item}).json()["items"]}
        listed = c.get("/v1/catalogue", params={"q": item, "include_retired": True}).json()["items"]
    assert [(i["code"], i["version"], i["retired"]) for i in listed] == [(item, 2, True)]


def test_a_new_version_leaves_an_approval_of_version_1_unchanged(node: NodeProcess, code: str) -> None:
    item = fresh_item(node, name="测试事项（第1版）")
    register(node, code)
    with node.client("fgj") as c:
        first = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(item=item))
        assert first.status_code == 200, first.text
        assert first.json()["item_version"] == 1
        before = c.get(f"/v1/records/{first.json()['uid']}").json()
    put(node, item_body(item, node.org_ids["fgj"], name="测试事项（第2版）", time_limit_days=3))
    with node.client("fgj") as c:
        after = c.get(f"/v1/records/{first.json()['uid']}").json()
        stale = c.post(f"/v1/projects/{code}/approvals", json=approval_body(item=item, item_version=1,
                                                                          document_no="庄发改发〔2026〕102号"))  # fmt: skip
        second = c.post(f"/v1/projects/{code}/approvals?wait=true",
                        json=approval_body(item=item, document_no="庄发改发〔2026〕103号"))  # fmt: skip
        history = approvals_of(c, code)
    assert after == before  # status, fields, item version and name as recorded under version 1
    assert (after["fields"]["item_version"], after["fields"]["item_name"]) == (1, "测试事项（第1版）")
    assert after["status"] == "active"
    assert stale.status_code == 409 and "the current version is 2" in stale.json()["detail"]
    assert second.status_code == 200 and second.json()["item_version"] == 2
    assert [(a["fields"]["item_version"], a["fields"]["item_name"]) for a in history] == [
        (1, "测试事项（第1版）"),
        (2, "测试事项（第2版）"),
    ]
    detail = node.client().get(f"/v1/catalogue/{item}").json()
    assert [v["version"] for v in detail["versions"]] == [2, 1]


# -- commitments bound to approvals ------------------------------------------------------------------


def test_a_deficiency_approval_carries_its_commitment_and_reads_overdue_past_its_due_date(
    node: NodeProcess, code: str
) -> None:
    register(node, code)
    body = approval_body(
        decision="accepted_with_deficiencies", issued_at="2025-03-01"
    )  # 项目建议书 (容缺受理)
    body["commitment"] = commitment_body("accepted_with_deficiencies", due_date="2025-04-01",
                                         missing=["纳入相关规划的说明", "项目建议书专家评审意见"])  # fmt: skip
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=body)
        assert r.status_code == 200, r.text
        approval, bound = r.json()["uid"], r.json()["commitment_uid"]
        record = c.get(f"/v1/records/{bound}").json()
    assert record["state"] == "confirmed" and record["status"] == "overdue"
    assert record["status_changes"] == []  # derived: on chain it is still pending
    assert record["fields"]["approval"] == approval
    assert record["fields"]["commitment_type"] == "deficiency_acceptance"
    assert record["fields"]["missing"] == ["纳入相关规划的说明", "项目建议书专家评审意见"]
    assert record["digest"] == body["commitment"]["pledge_digest"]
    summary = node.client().get(f"/v1/projects/{code}").json()  # public
    assert [(x["uid"], x["status"], x["approval"]) for x in summary["commitments"]] == [
        (bound, "overdue", approval)
    ]
    assert "已逾期" in node.client().get(f"/verify/{code}").text
    with node.client("fgj") as c:  # still pending on chain: the department records it fulfilled
        fulfilled = c.post(f"/v1/records/{bound}/fulfil?wait=true", json={"reason": "已补齐"})
        assert fulfilled.status_code == 200, fulfilled.text
        assert c.get(f"/v1/records/{bound}").json()["status"] == "fulfilled"


def test_correcting_a_deficiency_approval_hands_its_pending_commitment_to_the_correction(
    node: NodeProcess, code: str
) -> None:
    """The owner made one promise: a correction of its 容缺受理 批复 that carries the commitment
    supersedes the corrected approval's pending one instead of leaving it pending (and overdue)
    beside the new one; a commitment already kept is not taken over."""
    register(node, code)
    body = approval_body(decision="accepted_with_deficiencies", issued_at="2025-03-01")
    body["commitment"] = commitment_body("accepted_with_deficiencies", due_date="2025-04-01")
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=body)
        assert r.status_code == 200, r.text
        old, old_commitment = r.json()["uid"], r.json()["commitment_uid"]
        fix = {**body, "document_no": "庄发改发〔2026〕102号"}
        r = c.post(f"/v1/records/{old}/supersede?wait=true", json={"reason": "更正文号", "replacement": fix})
        assert r.status_code == 200, r.text
        new, new_commitment = r.json()["uid"], r.json()["commitment_uid"]
        again = c.post(
            f"/v1/records/{old}/supersede?wait=true", json={"reason": "更正文号", "replacement": fix}
        )
        assert again.status_code == 200 and again.json() == {**r.json(), "duplicate": True}  # a retry
        before, after = (
            c.get(f"/v1/records/{old_commitment}").json(),
            c.get(f"/v1/records/{new_commitment}").json(),
        )
        assert (
            before["status"] == "superseded" and c.get(f"/v1/records/{old}").json()["status"] == "superseded"
        )
        assert after["ref"] == old_commitment and after["fields"]["approval"] == new
        assert after["status"] == "overdue"  # the promise itself, still not kept
        # Kept, then the approval corrected again: the kept commitment stays kept, the new one is new.
        assert (
            c.post(f"/v1/records/{new_commitment}/fulfil?wait=true", json={"reason": "已补齐"}).status_code
            == 200
        )
        key = {"Idempotency-Key": f"correct-{code}"}
        r = c.post(
            f"/v1/records/{new}/supersede?wait=true",
            json={"reason": "再次更正", "replacement": body},
            headers=key,
        )
        assert r.status_code == 200, r.text
        again = c.post(
            f"/v1/records/{new}/supersede?wait=true",
            json={"reason": "再次更正", "replacement": body},
            headers=key,
        )
        assert again.status_code == 200 and again.json() == {**r.json(), "duplicate": True}
        third = c.get(f"/v1/records/{r.json()['commitment_uid']}").json()
        assert third["ref"] != new_commitment and third["status"] == "overdue"
        assert c.get(f"/v1/records/{new_commitment}").json()["status"] == "fulfilled"
    summary = node.client().get(f"/v1/projects/{code}").json()  # public
    assert {x["uid"]: x["status"] for x in summary["commitments"]} == {
        old_commitment: "superseded",
        new_commitment: "fulfilled",
        third["uid"]: "overdue",
    }


def test_a_commitment_before_its_due_date_reads_pending(node: NodeProcess, code: str) -> None:
    register(node, code)
    body = approval_body(decision="approved_on_commitment")  # 项目备案 (信用承诺制)
    body["commitment"] = commitment_body("approved_on_commitment", due_date="2099-12-31")
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=body)
        assert r.status_code == 200, r.text
        record = c.get(f"/v1/records/{r.json()['commitment_uid']}").json()
    assert record["status"] == "pending" and record["fields"]["commitment_type"] == "approval_substitute"


def test_retrying_an_approval_with_its_commitment_writes_each_once(node: NodeProcess, code: str) -> None:
    register(node, code)
    body = approval_body(decision="approved_on_commitment", document_digest=DIGEST)
    with node.client("fgj") as c:
        first = c.post(f"/v1/projects/{code}/approvals", json=body).json()
        again = c.post(f"/v1/projects/{code}/approvals?wait=true", json=body).json()
        kinds = [r["kind"] for r in c.get(f"/v1/projects/{code}/history").json()["records"]]
    assert (again["uid"], again["commitment_uid"], again["duplicate"]) == (
        first["uid"],
        first["commitment_uid"],
        True,
    )
    assert kinds == ["project", "approval", "commitment"]
