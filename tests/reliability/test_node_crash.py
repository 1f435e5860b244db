"""Principle 7 across node crashes: SIGKILL the node under write load, restart, lose nothing.

The node is killed at random moments (seeded, printed), each after a random number of
records accepted, while client threads post records; it restarts on the same data directory and adopts its still-running
anvil. Clients whose answer was lost retry the same request. In the end the chain
itself (RecordAdded logs, not the node's index) holds every record answered 202
exactly once, with the content that was sent, and none that was refused.
"""

from __future__ import annotations

import random

import pytest

from localnode import NodeProcess
from tests.support.chaos import Writers, assert_chain_holds_exactly, wait_drained
from tests.support.records import project_body, register, unique_code

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@pytest.mark.timeout(240)
def test_sigkilled_node_loses_and_duplicates_no_accepted_record(
    healthy_chaos_node: NodeProcess, seed: int
) -> None:
    node = healthy_chaos_node
    rng = random.Random(seed)
    code = unique_code()
    project_uid = register(node, code)
    with Writers(node, code, seed) as writers:
        for kill in range(3):
            writers.wait_accepted(rng.randint(60, 250))
            node.kill()
            writers.wait_lost(rng.randint(0, 30))  # clients knock at the dead node a while
            node.start(timeout=60)
            print(f"kill {kill + 1}: restarted with {writers.accepted()} records accepted so far")
            writers.replay_some(rng)  # retries after a restart still get the same uid
        writers.wait_accepted(150)
    o = writers.outcomes
    assert not o.unexpected, o.unexpected[:5]
    assert len(o.accepted) > 300 and len(o.refused) > 20, (len(o.accepted), len(o.refused))
    wait_drained(node)
    assert_chain_holds_exactly(node, code, project_uid, o)
    print(
        f"seed {seed}: {len(o.accepted)} accepted, {len(o.refused)} refused, "
        f"{o.retried_after_loss} answers lost and retried, {o.duplicates_checked} retries checked"
    )


@pytest.mark.timeout(60)
def test_retry_after_restart_gets_same_uid_for_content_and_key(healthy_chaos_node: NodeProcess) -> None:
    node = healthy_chaos_node
    code = unique_code()
    register(node, code)
    approval = {"stage": 2, "item": "ZL-S2-002", "decision": "approved",  # 建设工程规划许可证核发
                "document_digest": "0x" + "5a" * 32, "issued_at": "2026-04-08"}  # fmt: skip
    with node.client("zrzyj") as c:
        by_content = c.post(f"/v1/projects/{code}/approvals", json=approval).json()["uid"]
        keyed = {**approval, "document_digest": "0x" + "5b" * 32}
        headers = {"Idempotency-Key": f"{code}/keyed"}
        by_key = c.post(f"/v1/projects/{code}/approvals", json=keyed, headers=headers).json()["uid"]
    node.kill()
    node.start(timeout=60)
    with node.client("zrzyj") as c:
        again = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval)
        again_keyed = c.post(f"/v1/projects/{code}/approvals?wait=true", json=keyed, headers=headers)
        history = c.get(f"/v1/projects/{code}/history").json()["records"]
    assert again.status_code == 200 and again.json()["uid"] == by_content and again.json()["duplicate"]
    assert again_keyed.status_code == 200 and again_keyed.json()["uid"] == by_key
    assert sorted(h["uid"] for h in history if h["kind"] == "approval") == sorted([by_content, by_key])


@pytest.mark.timeout(60)
def test_retried_project_registration_gets_the_same_uid(healthy_chaos_node: NodeProcess) -> None:
    node = healthy_chaos_node
    body = project_body(unique_code())
    with node.client("fgj") as c:
        first = c.post("/v1/projects", json=body)
        again = c.post("/v1/projects", json=body)  # the answer to the first was lost, say
    assert first.status_code == 202
    assert again.status_code in (200, 202), again.text
    assert again.json()["uid"] == first.json()["uid"] and again.json()["duplicate"] is True


@pytest.mark.timeout(60)
def test_retried_status_change_gets_the_same_uid(healthy_chaos_node: NodeProcess) -> None:
    node = healthy_chaos_node
    code = unique_code()
    register(node, code)
    approval = {"stage": 1, "item": "ZL-S1-002", "decision": "approved",
                "document_digest": "0x" + "5c" * 32, "issued_at": "2026-04-08"}  # fmt: skip
    with node.client("fgj") as c:
        uid = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval).json()["uid"]
        first = c.post(f"/v1/records/{uid}/revoke", json={"reason": "批复文件有误"})
        again = c.post(f"/v1/records/{uid}/revoke?wait=true", json={"reason": "批复文件有误"})
    assert first.status_code == 202
    assert again.status_code == 200, again.text
    assert again.json()["uid"] == first.json()["uid"] and again.json()["duplicate"] is True
