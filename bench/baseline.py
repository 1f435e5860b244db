"""The naive baseline: the web3.py loop users would write themselves.

An organisation with its own relayer account and seal key (admitted to the
consortium like any member, and holding the catalogue role so that it can put the
items its approvals name in the catalogue, one per stage) writes approvals one at a time: encode the payload,
seal it with ``Account.sign_typed_data`` (EIP-712), build the ``submit`` call
(web3 fills nonce and gas by asking the chain), sign, send, wait for the receipt,
next. Reads are ``ledger.functions.entry(uid).call()``, one at a time. Plain
web3.py and eth_account against the same anvil the node uses; nothing from the
node's pipeline.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.types import Wei

from localnode import free_port
from node_api.chain.compiler import load_artifacts
from node_api.chain.consortium import ConsortiumAdmin, deploy
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.embedded import EmbeddedChain, anvil_command
from node_api.chain.keystore import KeyStore
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import DOMAIN_NAME, DOMAIN_VERSION, EIP712_TYPES
from node_api.domain.records import Kind, seal_payload
from node_api.node import ADMIN_KEYS

# web3's default receipt poll is 0.1 s, which caps the loop near 8 records/s even on an
# automining chain; a 5 ms poll gives the naive loop its best case (a fair, strong baseline).
RECEIPT_POLL = 0.005
BASELINE_ORG = "基准测试对照单位（web3.py 逐笔提交）"
BASELINE_USCC = "11620825MB0000019Y"
# The catalogue items the baseline organisation approves (its own, one per stage; set-up, not measured).
BASELINE_ITEMS = {stage: f"JZ-S{stage}" for stage in (1, 2, 3, 4)}


@dataclass
class Baseline:
    """The baseline organisation's keys and the chain it writes to."""

    rpc_url: str
    chain_id: int
    ledger: str
    abi: list[dict[str, Any]]
    relayer: LocalAccount
    seal_key: LocalAccount
    org_id: int


@dataclass
class LoopResult:
    """What one baseline loop measured."""

    records: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    gas: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mining: str = ""

    @property
    def rate(self) -> float:
        """Records (or reads) per second."""
        return self.records / self.seconds if self.seconds else 0.0


async def admit_baseline_org(
    rpc_url: str, deployment: Deployment, artifacts: dict[str, Any], admins: list[LocalAccount]
) -> Baseline:
    """Admits the baseline organisation (approval authority and catalogue role) with fresh relayer
    and seal keys, and puts its catalogue items on chain.

    Two consortium admins confirm the admission, as for any member.
    """
    contracts = Contracts(artifacts, deployment)
    rpc = RpcClient(rpc_url)
    try:
        admin = ConsortiumAdmin(rpc, contracts, deployment.chain_id)
        relayer: LocalAccount = Account.create()
        seal_key: LocalAccount = Account.create()
        org_id = await admin.admit(
            admins[:2], BASELINE_ORG, BASELINE_USCC, ["approval_authority", "catalogue"], seal_key.address,
            relayer.address,
        )  # fmt: skip
    finally:
        await rpc.close()
    b = Baseline(
        rpc_url=rpc_url,
        chain_id=deployment.chain_id,
        ledger=deployment.ledger,
        abi=artifacts["ProjectLedger"]["abi"],
        relayer=relayer,
        seal_key=seal_key,
        org_id=org_id,
    )
    _catalogue(b)
    return b


def _catalogue(b: Baseline) -> None:
    """The baseline's catalogue items, department the baseline organisation (naive ``submit``s)."""
    fields = [
        {"code": code, "version": 1, "name": f"基准对照事项（第{stage}阶段）", "stage": stage, "list": 1,
         "department": b.org_id, "time_limit_days": 0, "on_the_spot": 0, "commitment": 0, "retired": 0,
         "depends_on": [], "guide": b"\0" * 32}
        for stage, code in BASELINE_ITEMS.items()
    ]  # fmt: skip
    out = _submit_loop(b, None, Kind.CATALOGUE, fields, 60.0, poll=RECEIPT_POLL)
    if out.records != len(fields):
        raise RuntimeError(f"could not write the baseline's catalogue items: {out.errors[:2]}")


async def on_node_chain(data_dir: Path, rpc_url: str) -> Baseline:
    """The baseline organisation on the node's own chain (the node's dev keystore holds the admins)."""
    password = (data_dir / "secrets" / "keystore-password").read_text().strip()
    keystore = KeyStore(data_dir / "keystore", password)
    admins = [keystore.load(k) for k in ADMIN_KEYS[:2]]
    deployment = Deployment.load(data_dir / "deployment.json")
    return await admit_baseline_org(rpc_url, deployment, load_artifacts("shanghai"), admins)


class FreshChain:
    """A second anvil: the node's anvil binary and flags, but automine (one block per transaction).

    The naive loop's best case: no block interval to wait for, and a chain with nothing
    else on it. Automine cannot be switched back to sub-second interval mining over
    RPC, and a chain the node already filled costs anvil more per block (its periodic
    state dump grows with it), so the best case gets its own chain.
    """

    def __init__(self, work_dir: Path, node_env: dict[str, str]) -> None:
        from node_api.config import Settings

        port = free_port()
        env = {k.removeprefix("PROJCHAIN_").lower(): v for k, v in node_env.items()}
        self.settings = Settings.model_validate({k: v for k, v in env.items() if k in Settings.model_fields})
        self.chain = EmbeddedChain(self.settings, port=port, state_dir=work_dir)
        self.url = self.chain.url

    def start(self) -> None:
        """Starts anvil with the node's flags minus ``--block-time`` (so: automine)."""
        cmd = anvil_command(self.settings, self.chain.port, automine=True)
        self.chain.state_dir.mkdir(parents=True, exist_ok=True)
        log = (self.chain.state_dir / "anvil.log").open("ab")
        self.chain.process = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 20
        while self.chain._answers() is None:
            if time.monotonic() > deadline or self.chain.process.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"the baseline's anvil did not start; see {self.chain.state_dir}/anvil.log"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Stops the second anvil."""
        self.chain.stop()

    async def setup(self, project_code: str) -> Baseline:
        """Deploys the contracts, admits the baseline organisation and registers its project."""
        artifacts = load_artifacts(self.settings.evm_version)
        deployer: LocalAccount = Account.create()
        admins: list[LocalAccount] = [Account.create() for _ in range(3)]
        rpc = RpcClient(self.url)
        try:
            deployment = await deploy(rpc, artifacts, deployer, [a.address for a in admins], 2)
        finally:
            await rpc.close()
        b = await admit_baseline_org(self.url, deployment, artifacts, admins)
        register_project(b, project_code)
        return b


def register_project(b: Baseline, code: str) -> None:
    """Registers a project with one naive ``submit`` (set-up, not measured)."""
    from bench.workload import owner_uscc

    fields = {"code": code, "name": "基准对照项目", "owner_uscc": owner_uscc(1), "project_type": 1,
              "region_code": "620825", "industry_code": code[12:14], "total_investment_fen": 100_000_000,
              "note": ""}  # fmt: skip
    out = _submit_loop(b, code, Kind.PROJECT, [fields], 60.0, poll=RECEIPT_POLL)
    if out.records != 1:
        raise RuntimeError(f"could not register the baseline project: {out.errors[:2]}")


def _typed_data(b: Baseline, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "types": EIP712_TYPES,
        "primaryType": "Record",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": b.chain_id,
            "verifyingContract": b.ledger,
        },
        "message": record,
    }


def naive_writes(b: Baseline, project_code: str, fields: list[dict[str, Any]], seconds: float) -> LoopResult:
    """The one-record-per-transaction loop, for ``seconds`` (or until ``fields`` run out)."""
    return _submit_loop(b, project_code, Kind.APPROVAL, fields, seconds, RECEIPT_POLL)


def _submit_loop(
    b: Baseline,
    project_code: str | None,
    kind: Kind,
    fields: list[dict[str, Any]],
    seconds: float,
    poll: float,
) -> LoopResult:
    w3 = Web3(Web3.HTTPProvider(b.rpc_url))
    ledger = w3.eth.contract(address=Web3.to_checksum_address(b.ledger), abi=b.abi)
    project = b"\0" * 32 if project_code is None else keccak(text=project_code)  # none: a catalogue item
    out = LoopResult()
    start = time.perf_counter()
    for f in fields:
        if time.perf_counter() - start >= seconds:
            break
        t0 = time.perf_counter()
        try:
            # Public fields on chain, the restricted ones behind a salted commitment (docs/records.md).
            payload, _ = seal_payload(kind, f)
            record = {
                "uid": b.org_id.to_bytes(4, "big") + os.urandom(28),  # uids live in the issuer's namespace
                "kind": int(kind),
                "project": project,
                "ref": b"\0" * 32,
                "digest": bytes.fromhex(f["digest"][2:]) if "digest" in f else b"\0" * 32,
                "payload": payload,
            }
            signed_seal = Account.sign_typed_data(b.seal_key.key, full_message=_typed_data(b, record))
            # The ledger takes the seal in its compact EIP-2098 form: r, and s with v's parity on top.
            vs = signed_seal.s | ((signed_seal.v - 27) << 255)
            call = ledger.functions.submit(
                (record["uid"], record["kind"], record["project"], record["ref"], record["digest"], payload),
                (signed_seal.r.to_bytes(32, "big"), vs.to_bytes(32, "big")),
            )
            nonce = w3.eth.get_transaction_count(b.relayer.address)
            tx = call.build_transaction({"from": b.relayer.address, "gasPrice": Wei(0), "nonce": nonce})
            signed = b.relayer.sign_transaction(tx)  # type: ignore[arg-type]
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=poll)
            if receipt["status"] != 1:
                raise RuntimeError(f"transaction {tx_hash.hex()} reverted")
        except Exception as e:  # a failed write is reported, not counted
            out.errors.append(f"{type(e).__name__}: {e}"[:300])
            if len(out.errors) > 20:
                break
            continue
        out.latencies.append(time.perf_counter() - t0)
        out.gas.append(int(receipt["gasUsed"]))
        out.records += 1
    out.seconds = time.perf_counter() - start
    return out


def naive_reads(b: Baseline, uids: list[str], seconds: float) -> LoopResult:
    """``entry(uid)`` by eth_call, one at a time, for ``seconds``."""
    w3 = Web3(Web3.HTTPProvider(b.rpc_url))
    ledger = w3.eth.contract(address=Web3.to_checksum_address(b.ledger), abi=b.abi)
    out = LoopResult()
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds and uids:
        uid = uids[i % len(uids)]
        i += 1
        t0 = time.perf_counter()
        entry = ledger.functions.entry(bytes.fromhex(uid[2:])).call()
        if not entry[0]:
            out.errors.append(f"entry {uid} is empty")
            continue
        out.latencies.append(time.perf_counter() - t0)
        out.records += 1
    out.seconds = time.perf_counter() - start
    return out


def approval_payload_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A workload approval body as the payload fields (and digest) the naive loop encodes."""
    import datetime as dt

    from node_api.domain.records import DECISIONS

    issued = dt.date.fromisoformat(body["issued_at"])
    return {
        "stage": body["stage"],
        "decision": DECISIONS[body["decision"]],
        "item": BASELINE_ITEMS[body["stage"]],  # the baseline's own item of the stage (its department)
        "item_version": 1,
        "document_no": body["document_no"],
        "issued_at": int(dt.datetime(issued.year, issued.month, issued.day, tzinfo=dt.UTC).timestamp()),
        "valid_until": 0,
        "note": "",
        "digest": body["document_digest"],
    }
