"""Project search on a real chain (docs/search.md): by USCC, Chinese name (2-character terms too), region,
stage, status and date; public fields for every member, restricted ones — and matches on them — only by
role or live grant; every search in the access log; bad input refused with 422."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from typing import Any

import pytest

from localnode import NodeProcess
from node_api.domain.uscc import org_code_check_character, uscc_check_character
from tests.support.records import DIGEST, approval_body, grant_bank, project_body, register, unique_code

pytestmark = pytest.mark.chain

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def fresh_uscc() -> str:
    """A well-formed enterprise USCC of 庄浪县 (91 620825 …) not used by other tests."""
    org = "".join(random.choice(_ORG_ALPHABET[:10]) for _ in range(8))
    first17 = "91620825" + org + org_code_check_character(org)
    return first17 + uscc_check_character(first17)


def rare_word(n: int = 2) -> str:
    """``n`` CJK characters unlikely to appear in any other test's names (from the rarely used range)."""
    return "".join(chr(random.randint(0x9E00, 0x9FA0)) for _ in range(n))


def search(node: NodeProcess, org: str | None, **params: Any) -> Any:
    with node.client(org) as c:
        return c.get("/v1/projects", params=params)


def found(node: NodeProcess, org: str, **params: Any) -> dict[str, dict[str, Any]]:
    r = search(node, org, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"projects", "next_cursor"}  # no totals, no facets
    return {p["code"]: p for p in body["projects"]}


def register_as(node: NodeProcess, code: str, **over: Any) -> str:
    with node.client("fgj") as c:
        r = c.post("/v1/projects?wait=true", json=project_body(code, **over))
    assert r.status_code == 200, r.text
    return str(r.json()["uid"])


def test_bank_finds_by_uscc_name_and_region_and_sees_restricted_fields_only_under_its_grant(
    node: NodeProcess,
) -> None:
    uscc, word = fresh_uscc(), rare_word()
    granted, other = unique_code(), f"2026-620826-48-01-{random.randint(0, 999_999):06d}"
    register_as(node, granted, name=f"庄浪县{word}医院门诊楼工程", owner_uscc=uscc)
    register_as(node, other, name=f"静宁县{word}道路改造工程", owner_uscc=uscc, region_code="620826")
    grant_bank(node, granted)

    by_uscc = found(node, "bank", owner_uscc=uscc)
    assert set(by_uscc) == {granted, other}
    assert by_uscc[granted]["total_investment"] == "12500000.50"  # restricted, under the grant
    assert "total_investment" not in by_uscc[other] and "owner_name" not in by_uscc[other]
    assert by_uscc[other]["name"] == f"静宁县{word}道路改造工程" and by_uscc[other]["region_code"] == "620826"
    assert by_uscc[granted]["stage_reached"] == 0 and by_uscc[granted]["status"] == "active"

    assert set(found(node, "bank", q=word)) == {granted, other}  # a 2-character term: substring scan
    assert set(found(node, "bank", q=f"{word}医院")) == {granted}  # 4 characters: the trigram index
    assert set(found(node, "bank", q=f"{word} 医院")) == {granted}  # every term must match
    assert set(found(node, "bank", q=word, region="620826")) == {other}
    assert set(found(node, "bank", q=word, region="6208")) == {granted, other}
    assert set(found(node, "bank", q=word, region="61")) == set()
    assert set(found(node, "bank", q=uscc[4:12])) == {granted, other}  # part of the USCC

    supervisor = found(node, "scjgj", owner_uscc=uscc)  # a reading role sees every restricted field
    assert supervisor[granted]["total_investment"] == supervisor[other]["total_investment"] == "12500000.50"
    assert search(node, None, owner_uscc=uscc).status_code == 401


def test_owner_name_is_found_only_by_who_may_read_it_and_counts_reveal_nothing(node: NodeProcess) -> None:
    uscc, word = fresh_uscc(), rare_word(3)
    owner = f"庄浪县{word}新能源科技有限公司"
    with node.client("fgj") as c:
        r = c.post(
            "/v1/filings",
            json={"name": "庄浪县光伏农业综合利用项目", "owner_uscc": uscc, "owner_name": owner,
                  "region_code": "620825", "industry_code": "44", "total_investment": "31415926.53",
                  "construction_content": "建设农光互补光伏电站", "pledge_digest": DIGEST},
        )  # fmt: skip
    assert r.status_code == 201, r.text
    code = r.json()["code"]

    # The owner's name is restricted (the 备案证 shows it): a bank without a grant finds nothing by it,
    # neither by the trigram index nor by the 1–2 character scan, and the page says nothing more.
    for q in (word, word[:2], f"{word}新能源"):
        r = search(node, "bank", q=q)
        assert r.status_code == 200 and r.json() == {"projects": [], "next_cursor": None}, q
    public = found(node, "bank", owner_uscc=uscc)[code]  # found by public fields, without the name
    assert "owner_name" not in public and public["stage_reached"] == 1 and public["project_type"] == "filing"

    assert found(node, "scjgj", q=word)[code]["owner_name"] == owner  # a supervisor reads it by role

    grant_bank(node, code, "documents")  # a documents-only grant does not cover restricted fields
    assert found(node, "bank", q=word) == {}
    grant = grant_bank(node, code, "restricted_fields")
    hit = found(node, "bank", q=word[:2])[code]
    assert hit["owner_name"] == owner and hit["total_investment"] == "31415926.53"

    with node.client("fgj") as c:  # a revoked grant opens nothing any more
        assert c.post(f"/v1/records/{grant}/revoke?wait=true", json={"reason": "授权撤回"}).status_code == 200
    assert found(node, "bank", q=word) == {}
    assert "owner_name" not in found(node, "bank", owner_uscc=uscc)[code]


def test_restricted_note_is_never_searchable(node: NodeProcess, code: str) -> None:
    word = rare_word(4)
    register(node, code)
    with node.client("fgj") as c:
        uid = c.get(f"/v1/projects/{code}").json()["registration"]["uid"]
        r = c.post(
            f"/v1/records/{uid}/supersede?wait=true",
            json={"reason": f"更正：{word}", "replacement": project_body(code, name="庄浪县更正后的工程")},
        )
    assert r.status_code == 200, r.text
    assert found(node, "scjgj", q=word) == {}  # the correction's reason is restricted content: not indexed
    assert code in found(node, "scjgj", q="更正后的工程")


def test_a_correction_a_revocation_and_approvals_change_the_row(node: NodeProcess, code: str) -> None:
    before, after = rare_word(3), rare_word(3)
    uid = register_as(node, code, name=f"庄浪县{before}工程")
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(stage=1))
        assert r.status_code == 200, r.text
        approval = r.json()["uid"]
    assert found(node, "fgj", q=before)[code]["stage_reached"] == 1
    assert code in found(node, "fgj", q=before, stage=1) and found(node, "fgj", q=before, stage=0) == {}

    with node.client("fgj") as c:
        assert c.post(f"/v1/records/{approval}/revoke?wait=true", json={"reason": "撤销"}).status_code == 200
    assert found(node, "fgj", q=before)[code]["stage_reached"] == 0  # the revoked approval no longer counts

    with node.client("fgj") as c:
        r = c.post(
            f"/v1/records/{uid}/supersede?wait=true",
            json={"reason": "名称更正", "replacement": project_body(code, name=f"庄浪县{after}工程")},
        )
        assert r.status_code == 200, r.text
        correction = r.json()["uid"]
    assert found(node, "fgj", q=before) == {}  # the row shows the latest view
    row = found(node, "fgj", q=after)[code]
    assert row["registration"]["uid"] == correction

    with node.client("fgj") as c:
        assert (
            c.post(f"/v1/records/{correction}/revoke?wait=true", json={"reason": "项目撤销"}).status_code
            == 200
        )
    assert found(node, "fgj", q=after, status="revoked")[code]["status"] == "revoked"
    assert found(node, "fgj", q=after, status="active") == {}


def test_registration_dates_and_cursor_pages(node: NodeProcess) -> None:
    uscc = fresh_uscc()
    codes = [unique_code() for _ in range(3)]
    # Beijing's date before the registrations: a run that crosses midnight registers on the later day.
    day_before = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    for c in codes:
        register_as(node, c, owner_uscc=uscc)
    yesterday = (day_before - dt.timedelta(days=1)).isoformat()
    assert set(found(node, "bank", owner_uscc=uscc, registered_from=day_before.isoformat())) == set(codes)
    assert found(node, "bank", owner_uscc=uscc, registered_to=yesterday) == {}

    first = search(node, "bank", owner_uscc=uscc, limit=2).json()
    assert [p["code"] for p in first["projects"]] == [codes[2], codes[1]]  # newest registration first
    rest = search(node, "bank", owner_uscc=uscc, limit=2, cursor=first["next_cursor"]).json()
    assert [p["code"] for p in rest["projects"]] == [codes[0]] and rest["next_cursor"] is None


def test_every_bank_search_is_an_access_log_entry(node: NodeProcess, code: str) -> None:
    uscc = fresh_uscc()
    register_as(node, code, owner_uscc=uscc)
    grant = grant_bank(node, code)
    since = time.time() - 1
    assert code in found(node, "bank", owner_uscc=uscc)
    with node.client("sjj") as c:
        params = {"org_id": node.org_ids["bank"], "since": since, "limit": 1000}
        entries = c.get("/v1/audit/access-log", params=params).json()["entries"]
    logged = [json.loads(e["entry"]) for e in entries]
    seen = {(e["action"], e["subject"], e["project_code"], e["basis"]) for e in logged}
    assert ("project.search", f"projects?owner_uscc={uscc}", None, "grants") in seen
    assert ("project.search.result", code, code, f"grant:{grant}") in seen
    assert all(e["org_id"] == node.org_ids["bank"] for e in logged)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"owner_uscc": "91350100M000100Y4Z"}, "owner_uscc"),
        ({"region": "6208251"}, "region"),
        ({"region": "62a"}, "region"),
        ({"stage": 5}, "stage"),
        ({"stage": "two"}, "stage"),
        ({"status": "deleted"}, "status"),
        ({"registered_from": "2026-13-01"}, "registered_from"),
        ({"registered_from": "2026-06-02", "registered_to": "2026-06-01"}, "registered_to"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": 0}, "cursor"),
        ({"q": "x" * 65}, "q"),
    ],
)
def test_bad_search_input_is_a_422_naming_the_field(
    node: NodeProcess, params: dict[str, Any], field: str
) -> None:
    r = search(node, "bank", **params)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_input" and r.json()["detail"].startswith(field), r.json()
