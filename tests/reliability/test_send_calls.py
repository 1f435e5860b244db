"""Transactions sent together reach the chain whatever their number (issue #15).

The submitter signs several transactions, marks their rows in one commit and sends them with
JSON-RPC batch calls (``PROJCHAIN_SENDS_PER_CALL``). anvil refuses a request body over 2 MiB; a
first version put every transaction of one send into one call, and 32 full transactions
(≈ 2.6 MB) were refused again after every resync, so nothing reached the chain. The calls are
now cut at ``SEND_CALL_BYTES``. Here 6,400 records wait in the outbox of a node that sends
nothing, then the node restarts taking 32 transactions of 200 at a time: every record must be
confirmed on the real chain, each exactly once.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest

from localnode import NodeProcess
from node_api.config import Settings
from tests.support.chaos import onchain_records, rpc, wait_drained
from tests.support.records import approval_body, register, unique_code

pytestmark = [pytest.mark.chain, pytest.mark.slow]

RECORDS = 6_400  # 32 transactions of 200 (``batch_size``): ≈ 2.6 MB of raw transactions


@pytest.mark.timeout(600)
def test_many_transactions_sent_at_once_are_cut_into_calls_the_chain_takes(own_node: NodeProcess) -> None:
    node = own_node
    code = unique_code()
    register(node, code)
    node.stop()
    node.extra_env["PROJCHAIN_MAX_INFLIGHT_TXS"] = "0"  # accepts, sends nothing
    node.start(timeout=120)
    uids: list[str] = []
    with node.client("fgj") as c:
        for start in range(0, RECORDS, 800):
            items = [
                {"type": "approval", "project_code": code,
                 **approval_body("fgj", document_no=f"庄发改发〔2026〕{n + 1}号")}
                for n in range(start, start + 800)
            ]  # fmt: skip
            r = c.post("/v1/records:batch", json={"records": items}, timeout=120)
            assert r.status_code == 202, r.text
            uids += [str(x["uid"]) for x in r.json()["results"]]
    assert len(set(uids)) == RECORDS
    node.stop()
    del node.extra_env["PROJCHAIN_MAX_INFLIGHT_TXS"]
    node.extra_env["PROJCHAIN_SENDS_PER_CALL"] = "32"
    node.start(timeout=120)
    wait_drained(node, timeout=240)
    with sqlite3.connect(Settings(data_dir=node.data_dir, env="test").database_path) as db:
        marks = ",".join("?" * len(uids))
        states = Counter(
            str(s) for (s,) in db.execute(f"SELECT state FROM outbox WHERE uid IN ({marks})", uids)
        )
        sent_in = db.execute(f"SELECT COUNT(DISTINCT tx_hash) FROM outbox WHERE uid IN ({marks})", uids)
        transactions = int(sent_in.fetchone()[0])
    assert states == {"confirmed": RECORDS}, states
    assert transactions >= RECORDS // 200, transactions
    on_chain = Counter(uid for uid, _ in onchain_records(node, code))
    assert all(on_chain[uid] == 1 for uid in uids), "each record on the chain once"
    with sqlite3.connect(Settings(data_dir=node.data_dir, env="test").database_path) as db:
        hashes = [
            str(h) for (h,) in db.execute(f"SELECT DISTINCT tx_hash FROM outbox WHERE uid IN ({marks})", uids)
        ]
    sent = [rpc(node.rpc_url, "eth_getTransactionByHash", h) for h in hashes]
    # The case holds only while the first 32 transactions together pass anvil's 2 MiB body limit.
    first = sorted(sent, key=lambda t: int(t["nonce"], 16))[:32]
    assert sum(len(t["input"]) for t in first) > 2 * 1024 * 1024, "the transactions fit one call anyway"
