"""Records the node sent under one group seal are proven one by one in evidence bundles.

A batch written through ``POST /v1/records:batch`` reaches the chain in one ``submitGroups``
transaction, one seal per organisation over the Merkle root of its records. Its bundle
carries, for every record, the group's seal and the record's path; ``projchain
verify-bundle`` folds leaf → path → root and recovers the group seal against the
consortium's registered key — and a record changed in the bundle, a changed path, or a
record given another record's place in the group, fails and is named.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from localnode import NodeProcess
from node_api.chain.compiler import load_artifacts
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.ledger_layout import entry_slot
from node_api.chain.rpc import RpcClient
from node_api.indexer.follower import Indexer
from node_api.store.database import Database
from node_api.store.index import IndexTable
from tests.integration.test_batch import approval_item, project_item
from tests.support.chaos import rpc
from tests.support.records import unique_code

pytestmark = pytest.mark.chain

# Enough records in one transaction for the submitter's EIP-2930 access list (more than 24 slots).
APPROVALS = 30


@pytest.fixture(scope="module")
def grouped_bundle(node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    code = unique_code()
    items = [project_item(code)] + [approval_item(code, n) for n in range(APPROVALS)]
    with node.client("fgj") as c:
        r = c.post("/v1/records:batch?wait=true", json={"records": items})
        assert r.status_code == 200, r.text
        assert {x["state"] for x in r.json()["results"]} == {"confirmed"}
    with node.client("sjj") as auditor:
        r = auditor.get(f"/v1/audit/projects/{code}/bundle")
    assert r.status_code == 200, r.text
    path = tmp_path_factory.mktemp("grouped") / "bundle.json"
    path.write_text(r.text)
    return path


def _verify(node: NodeProcess, bundle: dict[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    args = [sys.executable, "-m", "node_api.cli", "verify-bundle", str(path), "--rpc", node.rpc_url]
    pin = ["--deployment", str(node.data_dir / "deployment.json")]
    return subprocess.run([*args, *pin], capture_output=True, text=True, timeout=60)


def _failures(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {
        line.split()[1].rstrip(":"): line for line in done.stdout.splitlines() if line.startswith("FAIL 0x")
    }


def test_a_batch_is_sealed_once_and_each_record_verifies_by_its_path(
    node: NodeProcess, grouped_bundle: Path, tmp_path: Path
) -> None:
    bundle = json.loads(grouped_bundle.read_text())
    records = bundle["records"]
    assert len(records) == 1 + APPROVALS
    # The registration is accepted before the batch's other items and may travel alone, with
    # its own seal; the approvals, accepted in one commit, travel together under one seal.
    assert all("group" in r for r in records if r["kind"] == "approval")
    assert all(len(bytes.fromhex(r["seal"][2:])) == 65 for r in records if "group" not in r)
    groups: dict[tuple[str, str], list[int]] = {}
    for r in records:
        if "group" in r:
            groups.setdefault((r["tx_hash"], r["group"]["root"]), []).append(r["group"]["index"])
    assert len(groups) == 1, "one transaction, one organisation: one group seal"
    ((_, indexes),) = groups.items()
    assert len(indexes) >= APPROVALS and sorted(indexes) == list(range(len(indexes)))
    assert {r["group"]["count"] for r in records if "group" in r} == {len(indexes)}
    done = _verify(node, bundle, tmp_path / "bundle.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sum(1 for line in done.stdout.splitlines() if line.startswith("OK 0x")) == len(records)


def test_the_batch_travelled_with_an_access_list_of_its_ledger_slots(
    node: NodeProcess, grouped_bundle: Path
) -> None:
    """The submitter names each record's entry slot and the project's slot (``ledger_layout``); the
    verifier above read the records back from that access-list (type 1) transaction."""
    records = json.loads(grouped_bundle.read_text())["records"]
    (tx_hash,) = {r["tx_hash"] for r in records if "group" in r}
    tx = rpc(node.rpc_url, "eth_getTransactionByHash", tx_hash)
    assert int(tx["type"], 16) == 1
    ((listed),) = tx["accessList"]
    assert (
        listed["address"].lower()
        == json.loads((node.data_dir / "deployment.json").read_text())["ledger"].lower()
    )
    uids = [r["uid"] for r in records if r["tx_hash"] == tx_hash]
    slots = {bytes.fromhex(k[2:]) for k in listed["storageKeys"]}
    assert {entry_slot(bytes.fromhex(u[2:])) for u in uids} <= slots
    assert len(slots) == len(uids) + 1  # and the project's


def test_the_proof_checks_with_plain_keccak_and_eth_account(grouped_bundle: Path) -> None:
    """Leaf keccak256(0x00 ‖ struct hash), node keccak256(0x01 ‖ left ‖ right), then the group seal."""
    bundle = json.loads(grouped_bundle.read_text())
    grouped = [r for r in bundle["records"] if "group" in r]
    assert len(grouped) >= APPROVALS
    for r in grouped:
        group = r["group"]
        h = keccak(b"\x00" + bytes(encode_typed_data(full_message=r["typed_data"]).body))
        at, width, path = group["index"], group["count"], [bytes.fromhex(p[2:]) for p in group["path"]]
        while width > 1:
            if at ^ 1 < width:
                sibling = path.pop(0)
                h = keccak(b"\x01" + sibling + h) if at & 1 else keccak(b"\x01" + h + sibling)
            at, width = at >> 1, (width + 1) >> 1
        assert not path and "0x" + h.hex() == group["root"]
        assert group["typed_data"]["message"]["root"] == group["root"]
        signer = Account.recover_message(
            encode_typed_data(full_message=group["typed_data"]), signature=group["seal"]
        )
        assert signer == r["sealer"]


def test_a_changed_record_of_the_batch_fails_and_only_it(
    node: NodeProcess, grouped_bundle: Path, tmp_path: Path
) -> None:
    original = json.loads(grouped_bundle.read_text())
    bundle = copy.deepcopy(original)
    target = bundle["records"][3]  # an approval: sealed with its group
    assert "group" in target
    message = target["typed_data"]["message"]
    message["digest"] = "0x" + ("11" if message["digest"][2:4] != "11" else "22") * 32
    done = _verify(node, bundle, tmp_path / "changed.json")
    assert done.returncode == 1, done.stdout + done.stderr
    failed = _failures(done)
    assert list(failed) == [target["uid"]]
    line = failed[target["uid"]]
    assert "leaf and path do not lead to its group's root" in line and "digest differs from the chain" in line


def test_a_changed_path_or_a_record_put_in_anothers_place_fails(
    node: NodeProcess, grouped_bundle: Path, tmp_path: Path
) -> None:
    original = json.loads(grouped_bundle.read_text())

    bent = copy.deepcopy(original)
    group = bent["records"][2]["group"]  # approvals: sealed with their group
    group["path"][0] = "0x" + keccak(b"another sibling").hex()
    done = _verify(node, bent, tmp_path / "bent.json")
    assert done.returncode == 1
    assert list(_failures(done)) == [bent["records"][2]["uid"]]

    swapped = copy.deepcopy(original)
    first, second = swapped["records"][1], swapped["records"][2]
    first["group"], first["seal"] = second["group"], second["seal"]
    done = _verify(node, swapped, tmp_path / "swapped.json")
    assert done.returncode == 1
    assert first["uid"] in _failures(done)


def _own_and_fetched(node: NodeProcess) -> tuple[float, float]:
    text = httpx.get(node.url + "/metrics", headers=node.operator_headers, timeout=10).text
    found = dict(re.findall(r'^projchain_indexer_transactions_total\{source="(\w+)"\} (\S+)$', text, re.M))
    return float(found["own"]), float(found["fetched"])


def test_the_index_of_the_nodes_own_input_is_the_index_read_back_from_the_chain(
    node: NodeProcess, grouped_bundle: Path, tmp_path: Path
) -> None:
    # The node's indexer reads the records of its own transactions from the input its submitter
    # signed (issue #15); an indexer that knows no input fetches every transaction back. Both must
    # store the very same rows.
    own, _ = _own_and_fetched(node)
    assert own > 0
    db = Database(tmp_path / "fresh.sqlite3")
    contracts = Contracts(load_artifacts(), Deployment.load(node.data_dir / "deployment.json"))

    async def catch_up() -> dict[str, int]:
        rpc = RpcClient(node.rpc_url)
        try:
            indexer = Indexer(db, IndexTable(db), rpc, contracts)
            while await indexer.step():
                pass
            return indexer.stats
        finally:
            await rpc.close()

    stats = asyncio.run(catch_up())
    assert stats["txs_own"] == 0 and stats["txs_fetched"] >= own
    checkpoint = IndexTable(db).checkpoint()
    assert checkpoint is not None
    columns = (
        "uid, kind, project, ref, issuer, sealer, digest, payload, seal, block_number, block_hash, tx_hash,"
        " log_index, record_hash, problem"
    )
    canonical = "block_hash NOT IN (SELECT hash FROM chain_orphans)"
    query = f"SELECT {columns} FROM chain_records WHERE block_number <= ? AND {canonical} ORDER BY block_number, log_index"
    fresh = [tuple(r) for r in db.all(query, (checkpoint[0],))]
    with sqlite3.connect(f"file:{node.data_dir / 'node.sqlite3'}?mode=ro", uri=True) as theirs:
        nodes = [tuple(r) for r in theirs.execute(query, (checkpoint[0],))]
    assert len(fresh) >= APPROVALS + 1
    assert fresh == nodes
