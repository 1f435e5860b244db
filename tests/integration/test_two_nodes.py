"""A second node (the bank's) on the same chain: same read model, documents under a grant."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from node_api.chain.compiler import load_artifacts
from node_api.chain.consortium import ConsortiumAdmin
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.keystore import KeyStore
from node_api.chain.rpc import RpcClient
from node_api.config import Settings
from node_api.ledger.writer import seal_key_name
from tests.conftest import unique_code
from tests.integration.test_api_flows import approval_body, register
from tests.support.cluster import NodeProcess

pytestmark = pytest.mark.chain


async def _admit_bank_node(a: NodeProcess, bank_id: int, seal: str, relayer: str) -> None:
    sa = Settings(data_dir=a.data_dir, env="test")
    admins = [KeyStore(sa.keystore_dir, sa.password).load(k) for k in ("admin-1", "admin-2")]
    deployment = Deployment.load(sa.deployment_path)
    rpc = RpcClient(a.rpc_url)
    try:
        admin = ConsortiumAdmin(rpc, Contracts(load_artifacts(), deployment), deployment.chain_id)
        await admin.execute(admins, "addSealKey", bank_id, seal)
        await admin.execute(admins, "addRelayer", bank_id, relayer)
    finally:
        await rpc.close()


@pytest.fixture(scope="module")
def bank_node(
    node: NodeProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[NodeProcess, str]]:
    """The bank's own node: own data dir, keys and database; node A's chain; node A as peer."""
    data = tmp_path_factory.mktemp("bank-node")
    sb = Settings(data_dir=data, env="test")
    keys = KeyStore(sb.keystore_dir, sb.password)
    bank_id = node.org_ids["bank"]
    relayer = keys.create("relayer")
    seal = keys.create(seal_key_name(bank_id))
    asyncio.run(_admit_bank_node(node, bank_id, seal.address, relayer.address))
    env = {
        "PROJCHAIN_RPC_URL": node.rpc_url,
        "PROJCHAIN_DEPLOYMENT_FILE": str(node.data_dir / "deployment.json"),
        "PROJCHAIN_PEERS": json.dumps([node.url]),
        "PROJCHAIN_NODE_NAME": "bank-node",
        # The session node runs a worker beside its primary (the default); the bank's
        # node is a single process, so both shapes of a node are exercised.
        "PROJCHAIN_WORKERS": "1",
    }
    b = NodeProcess(data, env=env).start(demo=False)
    out = subprocess.run(
        [sys.executable, "-m", "node_api.cli", "token", "create", "--org", str(bank_id), "--name", "bank officer"],
        env=b.env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    yield b, out.stdout.strip()
    b.stop()


def _wait_until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_two_nodes_agree_and_a_granted_document_crosses(
    node: NodeProcess, bank_node: tuple[NodeProcess, str]
) -> None:
    b, bank_token = bank_node
    code = unique_code()
    register(node, code)
    content = f"庄浪县发展和改革局批复 {code}".encode()
    digest = "0x" + hashlib.sha256(content).hexdigest()
    with node.client("fgj") as fgj:
        assert fgj.post("/v1/documents", content=content).status_code == 201
        assert (
            fgj.post(
                f"/v1/projects/{code}/approvals?wait=true", json=approval_body(document_digest=digest)
            ).status_code
            == 200
        )
        grant = fgj.post(
            f"/v1/projects/{code}/grants?wait=true",
            json={"grantee_org": node.org_ids["bank"], "scope": "all", "expires_at": "2031-01-01T00:00:00Z",
                  "authorisation_digest": digest},
        )  # fmt: skip
        assert grant.status_code == 200, grant.text
        history_a = fgj.get(f"/v1/projects/{code}/history").json()["records"]

    headers = {"Authorization": f"Bearer {bank_token}"}
    with b.client() as c:
        c.headers.update(headers)

        # The second node builds the same read model from the chain alone.
        def caught_up() -> bool:
            r = c.get(f"/v1/projects/{code}/history")  # 403 until node B has indexed the grant
            return r.status_code == 200 and len(r.json()["records"]) == len(history_a)

        _wait_until(caught_up)
        # Same public view from both nodes (the bank's detailed view depends on its grant being indexed).
        assert (
            b.client().get(f"/v1/projects/{code}").json() == node.client().get(f"/v1/projects/{code}").json()
        )
        history_b = c.get(f"/v1/projects/{code}/history").json()["records"]
        assert [(r["uid"], r["tx_hash"], r["status"]) for r in history_b] == [
            (r["uid"], r["tx_hash"], r["status"]) for r in history_a
        ]
        assert (
            b.client().get("/health").json()["contracts"] == node.client().get("/health").json()["contracts"]
        )
        # The document is held by node A only; node B fetches it with a signed peer request.
        assert not (b.data_dir / "documents").exists() or not any(
            (b.data_dir / "documents").rglob(digest[2:])
        )
        r = c.get(f"/v1/documents/{digest}")
        assert r.status_code == 200, r.text
        assert r.content == content

    # Node A checked the grant on chain and logged the bank's access.
    db = sqlite3.connect(node.data_dir / "node.sqlite3")
    rows = db.execute("SELECT org_id, action, basis FROM access_log WHERE subject = ?", (digest,)).fetchall()
    assert (node.org_ids["bank"], "peer.document", f"grant:{grant.json()['uid']}") in rows


def test_second_node_refuses_a_document_without_grant(
    node: NodeProcess, bank_node: tuple[NodeProcess, str]
) -> None:
    b, bank_token = bank_node
    code = unique_code()
    register(node, code)
    content = f"no grant for this one {code}".encode()
    digest = "0x" + hashlib.sha256(content).hexdigest()
    with node.client("fgj") as fgj:
        fgj.post("/v1/documents", content=content)
        fgj.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(document_digest=digest))
    with b.client() as c:
        c.headers["Authorization"] = f"Bearer {bank_token}"
        _wait_until(lambda: c.get(f"/v1/projects/{code}").status_code == 200)
        r = c.get(f"/v1/documents/{digest}")
    assert r.status_code == 403


def test_peer_endpoint_refuses_unsigned_and_replayed_requests(
    node: NodeProcess, bank_node: tuple[NodeProcess, str]
) -> None:
    from node_api.peer import sign_request

    b, _ = bank_node
    digest = "0x" + "ab" * 32
    r = node.client().get(f"/v1/peer/documents/{digest}")
    assert r.status_code == 422
    sb = Settings(data_dir=b.data_dir, env="test")
    key = KeyStore(sb.keystore_dir, sb.password).load(seal_key_name(node.org_ids["bank"]))
    d = Deployment.load(Path(node.data_dir) / "deployment.json")
    signed = sign_request(key, d.chain_id, d.ledger, digest, node.org_ids["bank"])
    first = node.client().get(f"/v1/peer/documents/{digest}", headers=signed.headers())
    second = node.client().get(f"/v1/peer/documents/{digest}", headers=signed.headers())
    assert first.status_code == 404  # signature fine, document unknown
    assert second.status_code == 403  # same nonce again
    forged = sign_request(key, d.chain_id, d.ledger, digest, node.org_ids["fgj"])  # bank key claiming 发改局
    assert node.client().get(f"/v1/peer/documents/{digest}", headers=forged.headers()).status_code == 403
