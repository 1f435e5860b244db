"""The owner's credit profile (信用画像) on a real chain: its facts and grade, what each viewer sees
(public, a bank with and without a grant, a supervisor), the access log, the grade at a past block
after new records, repair restoring the grade, and the history of changes with their causes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from typing import Any

import httpx
import pytest

from localnode import NodeProcess
from tests.support.api import write_confirmed
from tests.support.records import approval_body, grant_bank, project_body, unique_code, unique_uscc

pytestmark = pytest.mark.chain

BEIJING = dt.timezone(dt.timedelta(hours=8))


def digest(text: str) -> str:
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


def register(node: NodeProcess, owner: str) -> str:
    code = unique_code()
    with node.client("fgj") as c:
        write_confirmed(c, "/v1/projects", project_body(code, owner_uscc=owner))
    return code


def report(node: NodeProcess, code: str, severity: str, days_ago: int = 10) -> str:
    """A supervisor (市场监管局) reports an event of ``severity`` on ``code``; its uid once on chain."""
    occurred = (dt.datetime.now(BEIJING) - dt.timedelta(days=days_ago)).date().isoformat()
    with node.client("scjgj") as c:
        return write_confirmed(
            c,
            f"/v1/projects/{code}/events",
            {"category": "安全文明施工", "severity": severity, "description_digest": digest(f"{code} {severity} {random.random()}"),
             "occurred_at": occurred},
        )  # fmt: skip


def act(node: NodeProcess, org: str, uid: str, action: str) -> str:
    with node.client(org) as c:
        return write_confirmed(c, f"/v1/records/{uid}/{action}", {"reason": f"{action} in a test"})


def commit(node: NodeProcess, code: str, due: str) -> str:
    with node.client("fgj") as c:
        return write_confirmed(
            c,
            f"/v1/projects/{code}/commitments",
            {"commitment_type": "self_discipline", "content_digest": digest(code + due), "due_date": due},
        )


def profile(client: httpx.Client, owner: str, **params: Any) -> dict[str, Any]:
    r = client.get(f"/v1/owners/{owner}/profile", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def listed(p: dict[str, Any], section: str) -> set[str]:
    return {i["uid"] for i in p[section]["items"]}


@pytest.fixture
def owner_with_history(node: NodeProcess) -> dict[str, str]:
    """An owner with two projects: a general event on each (restricted), and on the second an
    overdue commitment (public) and a kept one."""
    owner = unique_uscc()
    p1, p2 = register(node, owner), register(node, owner)
    with node.client("fgj") as c:
        write_confirmed(c, f"/v1/projects/{p1}/approvals", approval_body())
    yesterday = (dt.datetime.now(BEIJING) - dt.timedelta(days=1)).date().isoformat()
    facts = {
        "owner": owner,
        "p1": p1,
        "p2": p2,
        "g1": report(node, p1, "general"),
        "g2": report(node, p2, "general"),
        "overdue": commit(node, p2, yesterday),
        "kept": commit(node, p2, "2030-12-31"),
    }
    act(node, "fgj", facts["kept"], "fulfil")
    return facts


def test_supervisor_sees_every_fact_and_the_full_grade(
    node: NodeProcess, owner_with_history: dict[str, str]
) -> None:
    f = owner_with_history
    with node.client("scjgj") as sup:
        p = profile(sup, f["owner"])
    assert p["basis"] == "full" and p["grade"]["basis"] == "full"
    assert {x["code"] for x in p["projects"]} == {f["p1"], f["p2"]}
    stages = {x["code"]: x["stages"]["1"]["status"] for x in p["projects"]}
    assert stages == {f["p1"]: "approved", f["p2"]: "not_started"}
    assert listed(p, "events") == {f["g1"], f["g2"]}
    assert p["events"]["by_severity"]["general"] == {"open": 2}
    assert (p["commitments"]["kept"], p["commitments"]["overdue"]) == (1, 1)
    states = {c["uid"]: c["state"] for c in p["commitments"]["items"]}
    assert states == {f["overdue"]: "overdue", f["kept"]: "fulfilled"}
    # two general events (C) and an overdue commitment (B): C
    g = p["grade"]
    assert g["letter"] == "C" and g["rules_version"] >= 1
    causes = {c["rule"]: set(c["facts"]) for c in g["causes"]}
    assert causes["event.general_repeated"] == {f["g1"], f["g2"]}
    assert causes["commitment.overdue"] == {f["overdue"]}
    assert isinstance(p["warnings"], list)


def test_the_public_sees_the_public_part_and_a_grade_over_it_only(
    node: NodeProcess, owner_with_history: dict[str, str]
) -> None:
    f = owner_with_history
    with node.client() as anyone:
        p = profile(anyone, f["owner"])
    assert p["basis"] == "public" and p["grade"]["basis"] == "public"
    assert listed(p, "events") == set()  # general events are not in the public part
    assert p["events"]["by_severity"] == {"slight": {}, "general": {}, "serious": {}}  # nor in its counts
    assert listed(p, "commitments") == {f["overdue"], f["kept"]}
    assert p["grade"]["letter"] == "B"
    assert [c["rule"] for c in p["grade"]["causes"]] == ["commitment.overdue"]
    assert p["warnings"] == []
    text = json.dumps(p)
    assert f["g1"] not in text and f["g2"] not in text


def test_a_bank_sees_the_restricted_part_of_granted_projects_only_and_each_read_is_logged(
    node: NodeProcess, owner_with_history: dict[str, str]
) -> None:
    f = owner_with_history
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    with node.client("bank") as bank:
        before = profile(bank, f["owner"])
    assert before["basis"] == "public" and before["grade"]["letter"] == "B"
    assert listed(before, "events") == set()
    grant = grant_bank(node, f["p1"], "restricted_fields")
    with node.client("bank") as bank:
        after = profile(bank, f["owner"])
    assert after["basis"] == "granted" and after["granted_projects"] == [f["p1"]]
    assert listed(after, "events") == {f["g1"]}  # p1's restricted event, not p2's
    assert f["g2"] not in json.dumps(after)
    assert after["grade"]["letter"] == "B" and after["grade"]["basis"] == "granted"
    assert {c["rule"] for c in after["grade"]["causes"]} == {"event.general", "commitment.overdue"}
    assert [e["part"] for e in after["events"]["items"]] == ["restricted"]
    with node.client("bank") as bank:
        history = bank.get(f"/v1/owners/{f['owner']}/grade-history").json()
    assert history["basis"] == "granted" and f["g2"] not in json.dumps(history)
    assert history["changes"][-1]["after"] == "B"
    with node.client("sjj") as auditor:
        r = auditor.get(
            "/v1/audit/access-log",
            params={"org_id": node.org_ids["bank"], "since": since.isoformat(), "limit": 1000},
        )
    assert r.status_code == 200, r.text
    reads = [json.loads(e["entry"]) for e in r.json()["entries"]]
    mine = [e for e in reads if e["action"] == "owner.profile" and e["subject"] == f["owner"]]
    assert [(e["project_code"], e["basis"]) for e in mine] == [(None, "public"), (f["p1"], f"grant:{grant}")]
    history_reads = [e for e in reads if e["action"] == "owner.grade_history" and e["subject"] == f["owner"]]
    assert [(e["project_code"], e["basis"]) for e in history_reads] == [(f["p1"], f"grant:{grant}")]


def test_the_grade_at_a_past_block_is_what_it_was_after_new_records(
    node: NodeProcess, owner_with_history: dict[str, str]
) -> None:
    f = owner_with_history
    with node.client("scjgj") as sup:
        then = profile(sup, f["owner"])
        block = then["as_of"]["block"]
        serious = report(node, f["p2"], "serious")
        now = profile(sup, f["owner"])
        again = profile(sup, f["owner"], as_of_block=block)
        history = sup.get(f"/v1/owners/{f['owner']}/grade-history").json()
    assert now["grade"]["letter"] == "D" and now["as_of"]["block"] > block
    assert now["grade"]["causes"][0] == {
        **now["grade"]["causes"][0], "rule": "event.serious_unresolved", "facts": [serious]
    }  # fmt: skip
    assert again["grade"] == then["grade"]  # the same letter, causes and block time
    assert again["as_of"] == then["as_of"]
    assert serious not in json.dumps(again)
    assert again["warnings"] is None  # warnings are not replayed at a past block
    letters = [(c["before"], c["after"]) for c in history["changes"]]
    assert letters[-1] == ("C", "D")
    last = history["changes"][-1]
    assert last["trigger"] == "records"
    assert [(m["fact"], m["reason"], m["record"]) for m in last["moves"]] == [(serious, "recorded", serious)]
    with node.client("fgj") as c:
        record = c.get(f"/v1/records/{serious}").json()
    assert last["block"] == record["block_number"]
    # the history up to the earlier block stops before the serious event
    with node.client("scjgj") as sup:
        past = sup.get(f"/v1/owners/{f['owner']}/grade-history", params={"as_of_block": block}).json()
    assert [(c["before"], c["after"]) for c in past["changes"]] == letters[:-1]


def test_repair_restores_the_grade_and_the_history_names_it(node: NodeProcess) -> None:
    owner = unique_uscc()
    code = register(node, owner)
    slight = [report(node, code, "slight", days_ago=3) for _ in range(3)]
    with node.client("zjj") as sup:
        assert profile(sup, owner)["grade"]["letter"] == "B"
        act(node, "scjgj", slight[0], "resolve")
        assert profile(sup, owner)["grade"]["letter"] == "B"  # resolved, still published
        repair = act(node, "scjgj", slight[0], "repair")
        p = profile(sup, owner)
        history = sup.get(f"/v1/owners/{owner}/grade-history").json()
    assert p["grade"]["letter"] == "A"
    (repaired,) = [e for e in p["events"]["items"] if e["uid"] == slight[0]]
    assert (repaired["status"], repaired["counts"]) == ("repaired", False)  # kept, not deleted
    last = history["changes"][-1]
    assert (last["before"], last["after"]) == ("B", "A")
    assert [(m["fact"], m["reason"], m["record"]) for m in last["moves"]] == [(slight[0], "repaired", repair)]


def test_an_upheld_objection_annuls_the_event_for_the_grade(node: NodeProcess) -> None:
    owner = unique_uscc()
    code = register(node, owner)
    serious = report(node, code, "serious")
    objection = act(node, "zjj", serious, "object")  # lodged for the owner by one supervisor …
    with node.client() as anyone:
        assert profile(anyone, owner)["grade"]["letter"] == "D"  # under objection it still counts
        upheld = act(node, "scjgj", serious, "uphold-objection")  # … decided by another
        p = profile(anyone, owner)
        history = anyone.get(f"/v1/owners/{owner}/grade-history").json()
    assert p["grade"]["letter"] == "A" and listed(p, "events") == set()  # annulled: out of the public part
    assert [(c["before"], c["after"]) for c in history["changes"]] == [(None, "A"), ("A", "D"), ("D", "A")]
    last = history["changes"][-1]
    assert [(m["fact"], m["reason"], m["record"]) for m in last["moves"]] == [(serious, "annulled", upheld)]
    assert objection != upheld


@pytest.mark.parametrize(
    "uscc, status",
    [
        ("91350100M000100Y4Z", 422),  # the standard's printed example: wrong check character
        ("91620825MA72BT6H8N", 422),  # one character off
        ("9162082", 422),
    ],
)
def test_a_malformed_uscc_is_refused_naming_the_problem(node: NodeProcess, uscc: str, status: int) -> None:
    with node.client() as anyone:
        for path in ("profile", "grade-history"):
            r = anyone.get(f"/v1/owners/{uscc}/{path}")
            assert r.status_code == status, r.text
            assert r.json()["error"] == "invalid_input" and "uscc" in r.json()["detail"]


def test_an_owner_without_projects_and_a_future_block_are_answered_4xx(node: NodeProcess) -> None:
    with node.client() as anyone:
        r = anyone.get(f"/v1/owners/{unique_uscc()}/profile")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        r = anyone.get("/v1/owners/91620825MA72BT6H8M/profile", params={"as_of_block": 10**9})
        assert r.status_code == 422 and "as_of_block" in r.json()["detail"]
        assert anyone.get("/v1/credit/rules").json()["version"] >= 1
