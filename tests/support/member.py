"""A dishonest consortium member: its own relayer key, its own seal key, crafted transactions.

Principle 8 of the architecture: any member may run its own node and relayer and send any
transaction it likes. This helper does exactly that against a running node's chain — it
bypasses the gateway and calls the ledger with whatever records and seals it chooses.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from localnode import NodeProcess
from node_api.chain.compiler import load_artifacts
from node_api.chain.consortium import ConsortiumAdmin
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.group import root_of
from node_api.chain.keystore import KeyStore
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import Sealer, struct_hash
from node_api.config import Settings
from node_api.domain.records import Record
from node_api.ledger.writer import seal_key_name


async def admins_execute(node: NodeProcess, *calls: tuple[Any, ...]) -> None:
    """The consortium's admins (``node``'s admin keys, their threshold) execute each of ``calls``
    (a Consortium function's name, then its arguments), in order."""
    settings = Settings(data_dir=node.data_dir, env="test")
    admins = [KeyStore(settings.keystore_dir, settings.password).load(k) for k in ("admin-1", "admin-2")]
    deployment = Deployment.load(settings.deployment_path)
    client = RpcClient(node.rpc_url)
    try:
        admin = ConsortiumAdmin(client, Contracts(load_artifacts(), deployment), deployment.chain_id)
        for function, *args in calls:
            await admin.execute(admins, function, *args)
    finally:
        await client.close()


async def admit_keys(node: NodeProcess, org: int, seal: str, relayer: str) -> None:
    """The consortium's admins admit another seal key and relayer of organisation ``org``: what a
    member does to run a node of its own."""
    await admins_execute(node, ("addSealKey", org, seal), ("addRelayer", org, relayer))


def own_node(
    node: NodeProcess, org: int, data: Path, name: str, officer: str, env: dict[str, str] | None = None
) -> tuple[NodeProcess, str]:
    """Another node of organisation ``org`` on ``node``'s chain, started without demo data: its own data
    directory, seal key and relayer (admitted by the admins), and a token of an officer named ``officer``."""
    settings = Settings(data_dir=data, env="test")
    keys = KeyStore(settings.keystore_dir, settings.password)
    relayer = keys.create("relayer")
    seal = keys.create(seal_key_name(org))
    asyncio.run(admit_keys(node, org, seal.address, relayer.address))
    started = NodeProcess(data, env={
        "PROJCHAIN_RPC_URL": node.rpc_url,
        "PROJCHAIN_DEPLOYMENT_FILE": str(node.data_dir / "deployment.json"),
        "PROJCHAIN_NODE_NAME": name,
        **(env or {}),
    }).start(demo=False)  # fmt: skip
    try:
        token = subprocess.run(
            [sys.executable, "-m", "node_api.cli", "token", "create", "--org", str(org), "--name", officer],
            env=started.env(), capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except BaseException:
        started.stop()
        raise
    return started, token


def rpc(url: str, method: str, *params: Any) -> Any:
    """One JSON-RPC call; raises on an error reply."""
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).json()
    if "error" in body:
        raise RuntimeError(body["error"])
    return body["result"]


class DishonestMember:
    """Organisation ``org`` of ``node``'s consortium, sending its own transactions with a relayer key."""

    def __init__(self, node: NodeProcess, org: str) -> None:
        settings = Settings(data_dir=node.data_dir, env="test")
        keys = KeyStore(settings.keystore_dir, settings.password)
        self.node = node
        self.org_id = node.org_ids[org]
        self.seal_key: LocalAccount = keys.load(seal_key_name(self.org_id))
        self.relayer: LocalAccount = keys.load("relayer")  # a member's relayer: any registered one will do
        self.deployment = Deployment.load(settings.deployment_path)
        self.contracts = Contracts(load_artifacts(), self.deployment)
        self.sealer = Sealer(self.deployment.chain_id, self.deployment.ledger)

    def uid(self, tag: bytes) -> bytes:
        """A uid in this member's own namespace (its organisation id first)."""
        return self.org_id.to_bytes(4, "big") + tag.rjust(28, b"\0")[:28]

    def seal(self, record: Record) -> bytes:
        """This member's valid seal of ``record``."""
        return self.sealer.seal(record, self.seal_key)

    def send_batch(self, records: list[Record], seals: list[bytes]) -> dict[str, Any]:
        """Sends ``submitBatch`` straight to the ledger; the mined receipt."""
        return self._send(self.contracts.submit_batch_data(records, seals))

    def group_seal(self, records: list[Record]) -> bytes:
        """This member's valid group seal of ``records`` (in order), for its relayer to send."""
        root = root_of([struct_hash(r) for r in records])
        return self.sealer.seal_group(root, len(records), self.relayer.address, self.seal_key)

    def send_groups(self, records: list[Record], group_of: list[int], seals: list[bytes]) -> dict[str, Any]:
        """Sends ``submitGroups`` straight to the ledger; the mined receipt."""
        return self._send(self.contracts.submit_groups_data(records, group_of, seals))

    def _send(self, data: str) -> dict[str, Any]:
        url = self.node.rpc_url
        nonce = int(rpc(url, "eth_getTransactionCount", self.relayer.address, "pending"), 16)
        tx = {"to": self.deployment.ledger, "data": data, "gas": 8_000_000, "gasPrice": 0, "nonce": nonce,
              "chainId": self.deployment.chain_id}  # fmt: skip
        signed = Account.sign_transaction(tx, self.relayer.key)
        tx_hash = rpc(url, "eth_sendRawTransaction", "0x" + bytes(signed.raw_transaction).hex())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            receipt = rpc(url, "eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                return dict(receipt)
            time.sleep(0.05)
        raise TimeoutError(f"transaction {tx_hash} was not mined")

    def wait_confirmed(self, uid: bytes, reader: str = "sjj", timeout: float = 30.0) -> dict[str, Any]:
        """Waits until the node has indexed record ``uid``; its view as ``reader`` (the auditor) sees it."""
        deadline = time.monotonic() + timeout
        with self.node.client(reader) as c:
            while time.monotonic() < deadline:
                r = c.get(f"/v1/records/0x{uid.hex()}")
                if r.status_code == 200 and r.json()["state"] == "confirmed":
                    return dict(r.json())
                time.sleep(0.05)
        raise TimeoutError(f"the node did not index record 0x{uid.hex()}")
