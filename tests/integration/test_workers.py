"""A node with gateway workers (PROJCHAIN_WORKERS=3): one API on one port over three worker processes.

Real processes, a real anvil: the primary serves none of the API (PROJCHAIN_PRIMARY_SERVES=false,
the default: it keeps to the serial part of writes); writes accepted by any worker are sent by the primary and confirmed to
the worker that waits for them; reads agree everywhere; a dead worker is replaced; a
dead primary takes its workers with it. Worker 1, not the primary, assesses the warnings, and a
worker 1 started again takes that over.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from localnode import NodeProcess
from node_api.workers import worker_index, worker_pids
from tests.integration.test_supervision import accept, fresh_item, wait_for
from tests.support.polling import wait_until
from tests.support.records import register, unique_code

pytestmark = pytest.mark.chain

WORKERS = 3


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    proc = NodeProcess(
        tmp_path_factory.mktemp("workers"),
        env={"PROJCHAIN_WORKERS": str(WORKERS), "PROJCHAIN_PRIMARY_SERVES": "false"},
    )
    proc.start()
    yield proc
    proc.stop()


def approval(code: str, n: int) -> dict[str, object]:
    return {
        "stage": 1, "item": "ZL-S1-002", "decision": "approved", "document_no": f"庄批〔2026〕{n}号",
        "document_digest": "0x" + hashlib.sha256(f"{code}/{n}".encode()).hexdigest(), "issued_at": "2026-06-01",
    }  # fmt: skip


def processes_in_log(node: NodeProcess, path: str) -> set[str]:
    lines = (node.data_dir / "node.log").read_text(encoding="utf-8").splitlines()
    out = set()
    for line in lines:
        entry = json.loads(line)
        if entry.get("logger") == "projchain.access" and entry.get("path") == path:
            out.add(entry["process"])
    return out


def test_workers_start_with_the_node(pool: NodeProcess) -> None:
    # `start` returned after the demo was loaded, which the primary does once its workers serve.
    assert pool.process is not None
    assert len(worker_pids(pool.process.pid)) == WORKERS


def test_the_primary_serves_none_of_the_api(pool: NodeProcess) -> None:
    # PROJCHAIN_PRIMARY_SERVES=false: the primary's log names no request on the node's port.
    for _ in range(20):  # fresh connections, each to whichever process the kernel picks
        with pool.client() as c:
            assert c.get("/health").status_code == 200
    served = processes_in_log(pool, "/health")
    assert served and "primary" not in served, served
    assert len(served) >= 2, served  # the workers share the port


def test_writes_through_every_process_are_confirmed_and_read_everywhere(pool: NodeProcess) -> None:
    code = unique_code()
    with pool.client("fgj") as c:
        r = c.post("/v1/projects", json={
            "code": code, "name": "庄浪县多进程测试项目", "owner_uscc": "91620825MA72BT6H8M",
            "project_type": "approval", "region_code": "620825", "industry_code": "48",
            "total_investment": "1000.00"}, params={"wait": "true"})  # fmt: skip
        assert r.status_code == 200, r.text

    def write(n: int) -> dict[str, object]:
        # A fresh connection each time: the kernel spreads connections over the processes.
        with pool.client("fgj") as c:
            answer = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval(code, n))
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

    with ThreadPoolExecutor(8) as ex:
        written = list(ex.map(write, range(30)))
    assert {w["state"] for w in written} == {"confirmed"}
    path = f"/v1/projects/{code}/approvals"
    assert len(processes_in_log(pool, path)) >= 2, "30 connections all landed on one process"

    uids = {str(w["uid"]) for w in written}
    for _ in range(6):  # fresh connections: several processes answer, all the same
        with pool.client("sjj") as c:
            history = c.get(f"/v1/projects/{code}/history").json()["records"]
        assert {h["uid"] for h in history if h["kind"] == "approval"} == uids
        assert {h["state"] for h in history} == {"confirmed"}


def test_batch_waits_across_processes(pool: NodeProcess) -> None:
    code = unique_code()
    items: list[dict[str, object]] = [{
        "type": "project", "code": code, "name": "庄浪县多进程批量项目", "owner_uscc": "91620825MA72BT6H8M",
        "project_type": "approval", "region_code": "620825", "industry_code": "48",
        "total_investment": "1000.00"}]  # fmt: skip
    items += [{"type": "approval", "project_code": code, **approval(code, n)} for n in range(50)]
    for _ in range(3):
        with pool.client("fgj") as c:
            r = c.post("/v1/records:batch?wait=true", json={"records": items})
        assert r.status_code == 200, r.text
        assert {x["state"] for x in r.json()["results"]} == {"confirmed"}


def supervising(node: NodeProcess) -> list[tuple[str, int]]:
    """(process, pid) of each start of the warnings' assessment the node's log names, in order."""
    lines = (node.data_dir / "node.log").read_text(encoding="utf-8").splitlines()
    return [
        (entry["process"], int(entry["pid"]))
        for entry in map(json.loads, lines)
        if entry.get("logger") == "projchain.supervision" and "assesses the warnings" in entry["msg"]
    ]


def overdue_warning(node: NodeProcess) -> dict[str, Any]:
    """A project with an item accepted 30 days ago (its limit is 1 day): its open warning, once assessed."""
    code = unique_code()
    register(node, code)
    item = fresh_item(node)
    with node.client("fgj") as c:
        uid = accept(c, code, item, days_ago=30)
        found = wait_for(c, code, lambda ws: any(w["subject"] == uid for w in ws), state="open")
    (warning,) = [w for w in found if w["subject"] == uid]
    assert warning["rule"] == "item.overdue"
    return warning


def assessments(node: NodeProcess) -> float:
    """projchain_warning_assessments of the /metrics of whichever worker answers (a fresh connection)."""
    with node.client() as c:
        text = c.get("/metrics", headers=node.operator_headers).text
    (value,) = [
        ln.split()[-1] for ln in text.splitlines() if ln.startswith("projchain_warning_assessments_total ")
    ]
    return float(value)


def test_worker_1_assesses_the_warnings_and_the_primary_does_not(pool: NodeProcess) -> None:
    warning = overdue_warning(pool)
    assert [h["transition"] for h in warning["history"]] == ["opened"]
    starts = supervising(pool)
    assert starts and {process for process, _ in starts} == {"worker-1"}, starts
    assert pool.process is not None
    assert starts[-1][1] in worker_pids(pool.process.pid) and worker_index(starts[-1][1]) == 1
    # Every process's /metrics shows worker 1's counters (the others read what it publishes).
    for _ in range(10):
        assert assessments(pool) >= 1


def test_a_restarted_worker_1_takes_the_assessment_over(pool: NodeProcess) -> None:
    assert pool.process is not None
    primary = pool.process.pid
    (first,) = [pid for pid in worker_pids(primary) if worker_index(pid) == 1]
    started = len(supervising(pool))
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: len(supervising(pool)) > started, 60, "no process took the assessment over")
    process, pid = supervising(pool)[-1]
    assert process == "worker-1" and pid != first and worker_index(pid) == 1
    warning = overdue_warning(pool)  # assessed by the new worker 1, once
    assert [h["transition"] for h in warning["history"]] == ["opened"]
    assert {p for p, _ in supervising(pool)} == {"worker-1"}


def test_a_dead_worker_is_replaced(pool: NodeProcess) -> None:
    assert pool.process is not None
    before = worker_pids(pool.process.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: len(worker_pids(pool.process.pid)) == WORKERS and victim not in worker_pids(pool.process.pid),  # type: ignore[union-attr]
        60,
        "the primary did not replace its dead worker",
    )
    with pool.client() as c:
        assert c.get("/health").status_code == 200


def test_workers_die_with_their_primary(tmp_path: Path) -> None:
    env = {"PROJCHAIN_WORKERS": "2", "PROJCHAIN_PRIMARY_SERVES": "false"}
    node = NodeProcess(tmp_path, env=env).start(demo=False)
    assert node.process is not None
    primary = node.process.pid
    wait_until(lambda: len(worker_pids(primary)) == 2, 60, "the workers did not start")
    workers = set(worker_pids(primary))
    node.kill()  # SIGKILL: no clean shutdown
    wait_until(
        lambda: not any(Path(f"/proc/{p}").exists() for p in workers), 10, "a worker outlived its primary"
    )
    with pytest.raises(httpx.ConnectError):
        httpx.get(node.url + "/health", timeout=2)
    # The chain (not a child of the node) outlives it, as after any node crash: stop it.
    restarted = NodeProcess(tmp_path, anvil_port=node.anvil_port, env=env)
    restarted.port = node.port
    restarted.start(demo=False)
    restarted.stop()


def test_with_primary_serves_the_primary_answers_beside_one_worker(tmp_path: Path) -> None:
    env = {"PROJCHAIN_WORKERS": "2", "PROJCHAIN_PRIMARY_SERVES": "true"}
    node = NodeProcess(tmp_path, env=env).start(demo=False)
    try:
        assert node.process is not None
        wait_until(lambda: len(worker_pids(node.process.pid)) == 1, 60, "the worker did not start")  # type: ignore[union-attr]
        wait_until(
            lambda: (
                (httpx.get(node.url + "/health", timeout=5).status_code == 200)
                and "primary" in processes_in_log(node, "/health")
            ),
            60,
            "no request reached the primary",
        )
    finally:
        node.stop()
