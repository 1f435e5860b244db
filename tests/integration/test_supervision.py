"""Supervision on a real node: 受理 / 暂停计时 / 恢复计时 through the API, and the warnings the node
derives from the chain (GET /v1/warnings, role-scoped), closing when their cause goes."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

import httpx
import pytest

from localnode import NodeProcess
from tests.integration.test_catalogue import item_body, put
from tests.support.records import DIGEST, approval_body, grant_bank, register

pytestmark = pytest.mark.chain

BEIJING = dt.timezone(dt.timedelta(hours=8))


def fresh_item(node: NodeProcess, stage: int = 1, limit: int = 1) -> str:
    code = f"SV-{random.randint(0, 10**9):09d}"
    put(node, item_body(code, node.org_ids["fgj"], stage=stage, time_limit_days=limit, commitment="none"))
    return code


def accept(c: httpx.Client, code: str, item: str, days_ago: int) -> str:
    at = (dt.datetime.now(BEIJING) - dt.timedelta(days=days_ago)).isoformat()
    r = c.post(f"/v1/projects/{code}/acceptances?wait=true", json={"item": item, "accepted_at": at})
    assert r.status_code == 200, r.text
    return str(r.json()["uid"])


def warnings_of(c: httpx.Client, code: str, **params: Any) -> list[dict[str, Any]]:
    r = c.get("/v1/warnings", params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    return [w for w in r.json()["warnings"] if w["project_code"] == code]


def wait_for(
    c: httpx.Client, code: str, check: Any, timeout: float = 20.0, **params: Any
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = warnings_of(c, code, **params)
        if check(found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.3)


def test_acceptance_pause_resume_through_the_api(node: NodeProcess, code: str) -> None:
    register(node, code)
    item = fresh_item(node, limit=20)
    with node.client("fgj") as c:
        uid = accept(c, code, item, days_ago=1)
        record = c.get(f"/v1/records/{uid}").json()
        assert (record["kind"], record["status"], record["fields"]["item_version"]) == (
            "acceptance",
            "open",
            1,
        )
        r = c.post(f"/v1/records/{uid}/pause?wait=true", json={"reason": "专家评审"})
        assert r.status_code == 200, r.text
        assert c.get(f"/v1/records/{uid}").json()["status"] == "paused"
        again = c.post(f"/v1/records/{uid}/pause", json={"reason": "公示"})
        assert again.status_code == 409, again.text
        r = c.post(f"/v1/records/{uid}/resume?wait=true", json={"reason": "专家评审结束"})
        assert r.status_code == 200, r.text
        assert c.get(f"/v1/records/{uid}").json()["status"] == "open"
        clock = c.get(f"/v1/projects/{code}/clock").json()
    assert clock["calendar"].startswith("chinese-calendar")
    (entry,) = clock["items"]
    assert entry["acceptance"] == uid and entry["state"] == "running" and entry["limit_days"] == 20
    assert [p["reason"] for p in entry["pauses"]] == ["专家评审"]
    assert clock["project"]["state"] == "running" and clock["project"]["target"] == 50
    with node.client("zrzyj") as other:  # not the item's department
        r = other.post(
            f"/v1/projects/{code}/acceptances",
            json={"item": item, "accepted_at": "2026-11-02T09:00:00+08:00"},
        )
        assert r.status_code == 403, r.text


def test_warnings_list_overdue_paused_and_expired_and_close_with_their_cause(
    node: NodeProcess, code: str
) -> None:
    register(node, code)
    late, paused, later = fresh_item(node), fresh_item(node), fresh_item(node, stage=2, limit=30)
    with node.client("fgj") as c:
        late_uid = accept(c, code, late, days_ago=30)
        paused_uid = accept(c, code, paused, days_ago=30)
        r = c.post(f"/v1/records/{paused_uid}/pause?wait=true", json={"reason": "听证"})
        assert r.status_code == 200, r.text
        approval = c.post(
            f"/v1/projects/{code}/approvals?wait=true",
            json=approval_body("fgj", issued_at="2026-03-01", valid_until="2026-06-30"),
        )
        assert approval.status_code == 200, approval.text
        accept(c, code, later, days_ago=1)  # a stage-2 item relies on the expired stage-1 approval
        found = wait_for(
            c, code, lambda ws: {"item.overdue", "approval.expired_relied_on"} <= {w["rule"] for w in ws}
            and len([w for w in ws if w["rule"] == "item.overdue"]) == 2, state="open",
        )  # fmt: skip
        overdue = {w["subject"]: w for w in found if w["rule"] == "item.overdue"}
        assert set(overdue) == {late_uid, paused_uid}
        assert (
            overdue[late_uid]["severity"] == "high"
            and overdue[late_uid]["responsible"] == node.org_ids["fgj"]
        )
        expired = next(w for w in found if w["rule"] == "approval.expired_relied_on")
        assert expired["subject"] == approval.json()["uid"]
        assert [h["transition"] for h in expired["history"]] == ["opened"]
        assert warnings_of(c, code, rule="approval.expired_relied_on", severity="low") == []
        assert c.get(f"/v1/projects/{code}/warnings").json()["warnings"]

        with node.client("bank") as bank:
            assert warnings_of(bank, code) == []  # no grant: none
        with node.client() as public:
            assert public.get("/v1/warnings").json()["warnings"] == []

        # the late item gets its 批复: its warning closes, with its history
        done = c.post(
            f"/v1/projects/{code}/approvals?wait=true",
            json={"stage": 1, "item": late, "decision": "approved", "document_digest": DIGEST,
                  "issued_at": dt.datetime.now(BEIJING).date().isoformat()},
        )  # fmt: skip
        assert done.status_code == 200, done.text
        closed = wait_for(
            c, code, lambda ws: any(w["subject"] == late_uid for w in ws), state="closed", rule="item.overdue"
        )
        assert [h["transition"] for h in closed[0]["history"]] == ["opened", "closed"]
        still = warnings_of(c, code, state="open", rule="item.overdue")
        assert [w["subject"] for w in still] == [paused_uid]

    grant_bank(node, code)
    with node.client("bank") as bank:
        assert {w["rule"] for w in warnings_of(bank, code, state="open")} >= {"item.overdue"}


def test_reports_show_the_four_targets_with_the_calendar_and_export_them(
    node: NodeProcess, code: str
) -> None:
    register(node, code)
    item = fresh_item(node, limit=10)
    with node.client("fgj") as c:
        accept(c, code, item, days_ago=0)
        decided = c.post(
            f"/v1/projects/{code}/approvals?wait=true",
            json={"stage": 1, "item": item, "decision": "approved", "document_digest": DIGEST,
                  "issued_at": dt.datetime.now(BEIJING).date().isoformat()},
        )  # fmt: skip
        assert decided.status_code == 200, decided.text
        report = c.get("/v1/reports/regions", params={"region": "620825"}).json()
        targets = report["targets"]
        assert targets["calendar"].startswith("chinese-calendar")
        overall = next(r for r in targets["same_day"] if r["group"] == "all")
        assert overall["denominator"] >= 1 and overall["goal"] == 0.9
        assert {"same_day", "instant_filing", "commitment", "project_days"} <= targets.keys()
        csv = c.get("/v1/reports/targets.csv", params={"table": "project_days"})
        assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
        assert "chinese-calendar" in csv.content.decode("utf-8-sig").splitlines()[0]
        xlsx = c.get("/v1/reports/targets.xlsx")
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    with node.client("bank") as bank:
        assert bank.get("/v1/reports/targets.xlsx").status_code == 403


def test_the_demo_hospital_shows_a_live_clock_a_paused_item_and_their_warnings(node: NodeProcess) -> None:
    from demo import HOSPITAL

    with node.client("sjj") as auditor:  # auditor: reads by role
        found = wait_for(
            auditor, HOSPITAL,
            lambda ws: {"item.overdue", "commitment.overdue", "approval.expired_relied_on"} <= {w["rule"] for w in ws},
            state="open",
        )  # fmt: skip
        assert all(w["region"] == "620825" for w in found)
    with node.client("fgj") as c:
        clock = c.get(f"/v1/projects/{HOSPITAL}/clock").json()
    states = {i["item"]: i for i in clock["items"]}
    assert states["ZL-S1-002"]["paused_now"] and states["ZL-S1-002"]["state"] == "overdue"
    assert states["ZL-S1-002"]["pauses"][0]["reason"] == "专家评审"
    assert states["ZL-S2-003"]["state"] == "running" and states["ZL-S2-003"]["remaining"] > 0
    assert (
        clock["project"]["state"] in ("running", "paused")
        and clock["project"]["remaining_to_target"] is not None
    )
    # The four seed targets, the calendar named; the demo's 秒批秒办 filing is counted in 秒批.
    with node.client("sjj") as auditor:
        targets = auditor.get("/v1/reports/regions", params={"region": "620825"}).json()["targets"]
    assert targets["calendar"].startswith("chinese-calendar")
    assert {"same_day", "instant_filing", "commitment", "project_days"} <= targets.keys()
    filings = next(r for r in targets["instant_filing"] if r["group"] == "all")
    assert filings["denominator"] >= 1 and filings["share"] is not None
