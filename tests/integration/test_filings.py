"""秒批秒办 filing through a real node: code, records, 备案证, 一张清单, refusals that write nothing,
and code allocation across two nodes on one chain (docs/filings.md)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localnode import NodeProcess
from tests.integration.test_certificates import decode_qr, page_one_png, poppler
from tests.support.member import own_node
from tests.support.records import DIGEST

pytestmark = pytest.mark.chain

PLEDGE = "0x" + hashlib.sha256("信用承诺书 (filing test)".encode()).hexdigest()
GBT40058 = re.compile(r"^\d{2}(0[1-9]|1[0-2])-620825-89-05-\d{6}$")


def filing_body(**over: Any) -> dict[str, Any]:
    body = {
        "name": "庄浪县万泉镇光伏农业综合利用项目", "owner_uscc": "91620825MA74XK9R6N",
        "owner_name": "庄浪县绿源新能源科技有限公司", "region_code": "620825", "industry_code": "44",
        "total_investment": "31415926.53", "construction_content": "建设农光互补光伏电站 20MW 及配套设施",
        "pledge_digest": PLEDGE,
    }  # fmt: skip
    body.update(over)
    return body


def file(node: NodeProcess, org: str = "fgj", **over: Any) -> dict[str, Any]:
    with node.client(org) as c:
        r = c.post("/v1/filings", json=filing_body(**over))
    assert r.status_code == 201, r.text
    return dict(r.json())


def outbox(node: NodeProcess) -> int:
    """How many records the node's outbox holds, in any state: a request that writes nothing leaves
    it unchanged (a record of an earlier test may move from submitted to confirmed meanwhile)."""
    with node.client() as c:
        return sum(int(n) for n in c.get("/health").json()["outbox"].values())


def test_a_filing_answers_with_a_new_code_and_its_certificate_decodes_to_the_verify_url(
    node: NodeProcess, tmp_path: Path, artifacts_dir: Path
) -> None:
    answer = file(node)
    code = answer["code"]
    assert GBT40058.match(code), code
    assert answer["certificate_url"] == f"/v1/filings/{code}/certificate"
    with node.client("fgj") as c:
        summary = c.get(f"/v1/projects/{code}").json()
        history = c.get(f"/v1/projects/{code}/history").json()["records"]
        pdf = c.get(answer["certificate_url"])
    assert summary["project_type"] == "filing" and summary["stages"]["1"]["status"] == "approved"
    assert summary["total_investment"] == "31415926.53"
    kinds = [(r["kind"], r["uid"]) for r in history]
    assert ("project", answer["registration"]["uid"]) in kinds and (
        "approval",
        answer["filing"]["uid"],
    ) in kinds
    assert [k for k, _ in kinds].count("checklist") == len(answer["checklist"]) == 1
    filing = next(r for r in history if r["uid"] == answer["filing"]["uid"])
    assert filing["fields"]["item"] == "ZL-S1-001" and filing["digest"] == PLEDGE

    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "filed.pdf"
    path.write_bytes(pdf.content)
    png = page_one_png(path)
    (artifacts_dir / "filing-certificate-served.png").write_bytes(png)
    assert decode_qr(png) == f"http://127.0.0.1:{node.port}/verify/{code}?uscc=91620825MA74XK9R6N"
    text = poppler("pdftotext", "-layout", str(path), "-")
    for expected in (
        code,
        "庄浪县绿源新能源科技有限公司",
        answer["registration"]["tx_hash"],
        answer["filing"]["uid"],
    ):
        assert expected in text


def test_the_certificate_is_served_to_the_filing_authority_and_readers_of_restricted_fields(
    node: NodeProcess,
) -> None:
    code = file(node)["code"]
    url = f"/v1/filings/{code}/certificate"
    with node.client("zjj") as authority, node.client("bank") as bank, node.client() as public:
        assert authority.get(url).status_code == 200  # an approval authority reads restricted fields by role
        assert bank.get(url).status_code == 403  # a bank needs a grant
        assert public.get(url).status_code == 401


@pytest.mark.parametrize(
    ("over", "status", "error", "field"),
    [
        ({"owner_uscc": "91620825MA74XK9R6X"}, 422, "invalid_input", "owner_uscc"),  # wrong check character
        ({"owner_uscc": "95620825MA74XK9R6N"}, 422, "invalid_input", "owner_uscc"),  # 工商 registers no 5
        ({"region_code": "610102"}, 422, "invalid_input", "region_code"),  # 西安: not in Gansu
        ({"region_code": "620899"}, 422, "invalid_input", "region_code"),  # no such county of 平凉
        ({"industry_code": "06"}, 422, "negative_list", "industry_code"),  # 煤炭开采: 核准, not 备案
        ({"industry_code": "86"}, 422, "negative_list", "industry_code"),  # 新闻和出版业
        ({"name": ""}, 422, "invalid_input", "name"),
    ],
)
def test_a_bad_filing_is_refused_by_name_and_writes_nothing(
    node: NodeProcess, over: dict[str, Any], status: int, error: str, field: str
) -> None:
    before = outbox(node)
    with node.client("fgj") as c:
        r = c.post("/v1/filings", json=filing_body(**over))
    assert r.status_code == status, r.text
    assert r.json()["error"] == error and field in r.json()["detail"], r.text
    assert outbox(node) == before


def test_only_the_filing_items_department_files(node: NodeProcess) -> None:
    before = outbox(node)
    with node.client("zjj") as c:
        r = c.post("/v1/filings", json=filing_body())
    assert r.status_code == 403 and "filing authority" in r.json()["detail"], r.text
    assert outbox(node) == before


def test_the_checklist_lists_the_items_and_an_approval_ticks_one_off(node: NodeProcess) -> None:
    code = file(node)["code"]
    with node.client() as c:
        checklist = c.get(f"/v1/projects/{code}/checklist").json()
    items = {i["code"]: i for i in checklist["items"]}
    assert {"ZL-S1-005", "ZL-S1-007", "ZL-S2-002", "ZL-S3-004", "ZL-S4-005"} <= set(items)
    assert not {"ZL-S1-001", "ZL-S1-002", "ZL-S1-014", "ZL-S3-003"} & set(
        items
    )  # filed, 核准, 中介, conditional
    assert [i["stage"] for i in checklist["items"]] == sorted(i["stage"] for i in checklist["items"])
    land = items["ZL-S1-005"]
    assert land["status"] == "pending" and land["department"]["name"] and land["time_limit_days"] > 0
    assert checklist["done"] == 0 and checklist["pending"] == len(items)

    with node.client("zrzyj") as c:
        r = c.post(
            f"/v1/projects/{code}/approvals?wait=true",
            json={"stage": 1, "item": "ZL-S1-005", "decision": "approved", "document_digest": DIGEST,
                  "document_no": "庄自然资预〔2026〕1号", "issued_at": "2026-05-02"},
        )  # fmt: skip
    assert r.status_code == 200, r.text
    with node.client() as c:
        after = {i["code"]: i for i in c.get(f"/v1/projects/{code}/checklist").json()["items"]}
    assert after["ZL-S1-005"]["status"] == "done" and after["ZL-S1-005"]["approval"] == r.json()["uid"]
    assert after["ZL-S1-007"]["status"] == "pending"


# -- two nodes of the filing authority on one chain ------------------------------------------------


FORCED = "424242"  # both extra nodes draw this random part first


@pytest.fixture(scope="module")
def fgj_nodes(
    node: NodeProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[tuple[NodeProcess, str]]]:
    """Two more nodes of 发改局 on the session node's chain, each with its own seal key and relayer,
    both forced to draw the same first code."""
    org = node.org_ids["fgj"]
    out: list[tuple[NodeProcess, str]] = []
    try:
        for n in range(2):
            env = {"PROJCHAIN_WORKERS": "1", "PROJCHAIN_FILING_CODE_CANDIDATES": json.dumps([FORCED])}
            out.append(
                own_node(node, org, tmp_path_factory.mktemp(f"fgj-node-{n}"), f"fgj-node-{n}", "备案员", env)
            )
        yield out
    finally:
        for b, _ in out:
            b.stop()


def _file_at(b: NodeProcess, token: str) -> dict[str, Any]:
    import httpx

    r = httpx.post(b.url + "/v1/filings", json=filing_body(), headers={"Authorization": f"Bearer {token}"},
                   timeout=120)  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_two_nodes_filing_at_once_never_share_a_code_and_the_loser_of_a_forced_collision_retries(
    fgj_nodes: list[tuple[NodeProcess, str]],
) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda nt: _file_at(*nt), fgj_nodes))
    codes = [a["code"] for a in answers]
    assert len(set(codes)) == 2, codes
    # Both drew the forced code first: one registered it, the ledger refused the other (or the other
    # saw it registered already), which drew a fresh code.
    assert sorted(a["code_attempts"] for a in answers) == [1, 2], answers
    winner = next(a for a in answers if a["code_attempts"] == 1)
    assert winner["code"].endswith("-" + FORCED)
    # Then a burst: every code differs.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        burst = list(pool.map(lambda nt: _file_at(*nt), fgj_nodes * 2))
    all_codes = codes + [a["code"] for a in burst]
    assert len(set(all_codes)) == len(all_codes)


def test_a_filing_records_its_acceptance_and_counts_in_the_instant_filing_target(node: NodeProcess) -> None:
    def instant_row() -> dict[str, Any]:
        with node.client("fgj") as c:
            targets = c.get("/v1/reports/regions", params={"region": "620825"}).json()["targets"]
        return dict(next(r for r in targets["instant_filing"] if r["group"] == "all"))

    before = instant_row()
    started = time.monotonic()
    answer = file(node)
    took = time.monotonic() - started
    with node.client("fgj") as c:
        acceptance = c.get(f"/v1/records/{answer['acceptance']['uid']}").json()
    assert acceptance["kind"] == "acceptance" and acceptance["fields"]["item"] == "ZL-S1-001"
    after = instant_row()
    assert after["denominator"] == before["denominator"] + 1 and after["goal"] == 0.99
    # The request took less than a minute, so its 受理 → 批复 on chain did too: it counts as 秒批.
    if took < 59:
        assert after["numerator"] == before["numerator"] + 1


def test_a_filing_asked_again_under_its_idempotency_key_is_answered_not_filed_twice(
    node: NodeProcess,
) -> None:
    key = f"filing-{time.time_ns()}"
    body = filing_body(name="庄浪县幂等备案测试项目")

    def post(key: str, body: dict[str, Any]) -> Any:
        with node.client("fgj") as c:
            return c.post("/v1/filings", json=body, headers={"Idempotency-Key": key})

    # Two at once under one key: one files, the other is told it runs (409) or, if it came after the
    # first had finished, gets its answer again — one project either way.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: post(key, body), range(2))
    answers = [r for r in (first, second) if r.status_code == 201]
    assert answers and all(r.status_code in (201, 409) for r in (first, second)), (first.text, second.text)
    code = answers[0].json()["code"]
    assert {r.json()["code"] for r in answers} == {code}
    for r in (first, second):
        if r.status_code == 409:
            assert "in progress" in r.json()["detail"]
    before = outbox(node)
    again = post(key, body)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == answers[0].json()
    assert outbox(node) == before  # nothing was written for the replay
    other = post(key, filing_body(name="庄浪县另一个项目"))
    assert other.status_code == 409 and "different filing request" in other.json()["detail"]
    fresh = post(f"{key}-other", body)  # another key: another filing, another code
    assert fresh.status_code == 201 and fresh.json()["code"] != code


def _move_filing_item(node: NodeProcess, org: str) -> None:
    """The catalogue maintainer moves the filing item (ZL-S1-001) to ``org``'s department, as it is
    otherwise: a new version of the item."""
    with node.client() as c:
        item = c.get("/v1/catalogue/ZL-S1-001").json()["current"]
    body = {k: item[k] for k in ("code", "name", "stage", "list", "time_limit_days", "on_the_spot", "commitment",
                                 "retired", "depends_on", "guide_digest")}  # fmt: skip
    with node.client("zwfw") as c:
        r = c.post("/v1/catalogue/items?wait=true", json={**body, "department": node.org_ids[org]})
    assert r.status_code == 200, r.text


def test_an_idempotency_key_is_each_organisations_own(node: NodeProcess) -> None:
    """Organisation B filing under the key A used files its own project: B is neither refused (409)
    nor answered with A's filing, and A's replay still answers A's."""
    key = f"shared-{time.time_ns()}"

    def post(org: str, body: dict[str, Any]) -> Any:
        with node.client(org) as c:
            return c.post("/v1/filings", json=body, headers={"Idempotency-Key": key})

    first = post("fgj", filing_body(name="庄浪县发改局幂等键项目"))
    assert first.status_code == 201, first.text
    # Only the filing item's department files: 住建局 takes the item over for B's filing.
    _move_filing_item(node, "zjj")
    try:
        other = post("zjj", filing_body(name="庄浪县住建局幂等键项目", owner_uscc="91620825MA72BT6H8M"))
    finally:
        _move_filing_item(node, "fgj")
    assert other.status_code == 201, other.text
    assert other.headers.get("idempotent-replayed") is None
    assert other.json()["code"] != first.json()["code"]
    with node.client("zjj") as c:
        summary = c.get(f"/v1/projects/{other.json()['code']}").json()
    assert (
        summary["name"] == "庄浪县住建局幂等键项目" and summary["registered_by"]["id"] == node.org_ids["zjj"]
    )
    again = post("fgj", filing_body(name="庄浪县发改局幂等键项目"))
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
