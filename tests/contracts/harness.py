"""A deployed Consortium + ProjectLedger on a private automining anvil, driven synchronously.

Deployment and admissions reuse the node's own async code (``deploy``,
``ConsortiumAdmin``); the tests' direct calls use plain web3.py so that a test reads
as "this key sends this call, the chain answers this".
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_hex_address, keccak, to_checksum_address
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from localnode import free_port
from node_api.chain.compiler import load_artifacts
from node_api.chain.consortium import ConsortiumAdmin, deploy
from node_api.chain.contracts import Contracts, CopyCounter, DecodedRevert, accepted_copy, compact_seal
from node_api.chain.embedded import anvil_command
from node_api.chain.group import root_of
from node_api.chain.packed import pack
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import Sealer, struct_hash
from node_api.chain.signer import AccessList, TransactionSigner
from node_api.config import Settings
from node_api.domain.records import UID_ORG_BYTES, ZERO32, Kind, Record, encode_payload

T = TypeVar("T")
# The organisation that seals a kind unless a test says otherwise: the supervisor reports
# events and moves them on, the approval authority ("auth") issues everything else.
SUPERVISOR_KINDS = {
    Kind.EVENT,
    Kind.RESOLUTION,
    Kind.REPAIR,
    Kind.OBJECTION,
    Kind.OBJECTION_UPHELD,
    Kind.OBJECTION_REJECTED,
}
CATALOGUE_ORG = "cat"  # the organisation holding the catalogue role, which seals catalogue records
TX_GAS = 15_000_000  # under the EIP-7825 per-transaction cap (2**24) of newer hardforks
DAY = 86_400


def account(name: str) -> LocalAccount:
    """A deterministic test key, so failures reproduce with the same addresses."""
    return Account.from_key(keccak(text=f"projchain/tests/contracts/{name}"))


def checksummed(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """eth-abi decodes addresses in lower case; compare them in checksum form."""
    return tuple(to_checksum_address(v) if is_hex_address(v) else v for v in values)


@dataclass(frozen=True)
class Org:
    """A member organisation as the tests know it."""

    id: int
    seal: LocalAccount
    relayer: LocalAccount | None


class Anvil:
    """An anvil process with automine (one block per transaction) and no state file."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = anvil_command(settings, self.port, automine=True, kept_states=None)
        self._log = (log_dir / "anvil.log").open("ab")
        self.process = subprocess.Popen(cmd, stdout=self._log, stderr=self._log, start_new_session=True)

    def wait_ready(self, w3: Web3, timeout: float = 20.0) -> None:
        """Blocks until anvil answers JSON-RPC."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"anvil exited with {self.process.returncode}")
            if w3.is_connected():
                return
            time.sleep(0.05)
        raise RuntimeError(f"anvil did not answer on {self.url}")

    def stop(self) -> None:
        """Terminates the process this harness started."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


class Harness:
    """The chain, the contracts, the keys, and the verbs the contract tests use."""

    def __init__(self, anvil: Anvil, settings: Settings) -> None:
        self.w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))
        anvil.wait_ready(self.w3)
        self.chain_id = settings.chain_id
        self._loop = asyncio.new_event_loop()
        self._rpc = RpcClient(anvil.url)
        self._uids = itertools.count(1)
        self.admins = [account(f"admin-{i}") for i in range(3)]
        self.threshold = 2
        artifacts = load_artifacts(settings.evm_version)
        deployment = self.run(
            deploy(self._rpc, artifacts, account("deployer"), self.addresses(), self.threshold)
        )
        self.contracts = Contracts(artifacts, deployment)
        self.ledger = self.w3.eth.contract(address=deployment.ledger, abi=artifacts["ProjectLedger"]["abi"])
        self.consortium = self.w3.eth.contract(
            address=deployment.consortium, abi=artifacts["Consortium"]["abi"]
        )
        self.sealer = Sealer(self.chain_id, deployment.ledger)
        self._admin = ConsortiumAdmin(self._rpc, self.contracts, self.chain_id)
        self.orgs: dict[str, Org] = {}

    def addresses(self) -> list[str]:
        """The admin addresses."""
        return [a.address for a in self.admins]

    def close(self) -> None:
        """Closes the async client and its loop."""
        self.run(self._rpc.close())
        self._loop.close()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Runs one of the node's async helpers to completion."""
        return self._loop.run_until_complete(coro)

    # Membership -----------------------------------------------------------------

    def admit(self, name: str, uscc: str, roles: list[str], relayer: bool = False) -> Org:
        """Admits an organisation through a 2-of-3 admin proposal."""
        seal = account(f"{name}-seal")
        relay = account(f"{name}-relayer") if relayer else None
        org_id = self.run(
            self._admin.admit(
                self.admins[: self.threshold],
                name,
                uscc,
                roles,
                seal.address,
                relay.address if relay else "0x" + "00" * 20,
            )
        )
        org = Org(org_id, seal, relay)
        self.orgs[name] = org
        return org

    def admin_execute(self, fn: str, *args: Any) -> TxReceipt:
        """Runs a Consortium admin function with threshold confirmations (proposal + confirm)."""
        receipt = self.run(self._admin.execute(self.admins[: self.threshold], fn, *args))
        return self.w3.eth.get_transaction_receipt(receipt["transactionHash"])

    # Transactions -----------------------------------------------------------------

    def _tx(self, sender: LocalAccount, call: ContractFunction, gas: int) -> dict[str, Any]:
        # Gas is fixed so that building never runs eth_estimateGas, which fails on a revert.
        return dict(
            call.build_transaction(
                {
                    "from": sender.address,
                    "nonce": self.w3.eth.get_transaction_count(sender.address),
                    "gas": gas,
                    "gasPrice": 0,
                    "chainId": self.chain_id,
                }
            )
        )

    def send(
        self,
        sender: LocalAccount,
        call: ContractFunction,
        gas: int = TX_GAS,
        access: AccessList | None = None,
    ) -> TxReceipt:
        """Signs and sends ``call``; returns the receipt, reverted or not. With ``access``, the
        transaction carries that EIP-2930 access list, signed as the node's submitter signs it."""
        tx = self._tx(sender, call, gas)
        if access is None:
            raw = bytes(sender.sign_transaction(tx).raw_transaction)
        else:
            signer = TransactionSigner(sender.key, self.chain_id)
            raw = signer.sign_with_access_list(
                tx["nonce"], 0, gas, tx["to"], 0, bytes.fromhex(tx["data"][2:]), access
            ).raw
        tx_hash = self.w3.eth.send_raw_transaction(raw)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)

    def send_input(self, sender: LocalAccount, data: bytes) -> TxReceipt:
        """Signs and sends a call of the ledger with ``data`` as its whole input, whatever it holds."""
        tx = {"to": self.ledger.address, "data": "0x" + data.hex(), "gas": TX_GAS, "gasPrice": 0,
              "nonce": self.w3.eth.get_transaction_count(sender.address), "chainId": self.chain_id}  # fmt: skip
        tx_hash = self.w3.eth.send_raw_transaction(bytes(sender.sign_transaction(tx).raw_transaction))
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)

    def transact(
        self, sender: LocalAccount, call: ContractFunction, access: AccessList | None = None
    ) -> TxReceipt:
        """Sends ``call`` (with ``access``, see ``send``) and fails the test, naming the custom error,
        if it reverts."""
        refused = self.revert_of(sender, call)
        assert refused is None, f"unexpected revert: {refused.describe()}"
        receipt = self.send(sender, call, access=access)
        assert receipt["status"] == 1
        return receipt

    def revert_of(
        self, sender: LocalAccount, call: ContractFunction, gas: int = TX_GAS
    ) -> DecodedRevert | None:
        """The custom error ``call`` would revert with if ``sender`` sent it now (None if it succeeds)."""
        tx = self._tx(sender, call, gas)
        request = {"from": sender.address, "to": tx["to"], "data": tx["data"], "gas": hex(gas)}
        response = self.w3.provider.make_request("eth_call", [request, "latest"])  # type: ignore[arg-type]
        error = response.get("error")
        if error is None:
            return None
        data = error.get("data")
        if isinstance(data, dict):
            data = data.get("data")
        decoded = self.contracts.decode_revert(data)
        assert decoded is not None, f"revert without a known custom error: {error}"
        return decoded

    def expect_revert(
        self, sender: LocalAccount, call: ContractFunction, error: str, gas: int = TX_GAS
    ) -> tuple[Any, ...]:
        """Asserts the mined transaction fails with custom error ``error``; returns the error's arguments."""
        decoded = self.revert_of(sender, call, gas)
        assert decoded is not None, f"expected {error}, but the call succeeds"
        assert decoded.name == error, f"expected {error}, got {decoded.describe()}"
        receipt = self.send(sender, call, gas)
        assert receipt["status"] == 0, "the simulated call reverted but the mined transaction did not"
        return checksummed(decoded.args)

    def events(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        """Arguments of every ``name`` event in the receipt, in log order."""
        out = []
        for log in receipt["logs"]:
            decoded = self.contracts.decode_log(dict(log))
            if decoded is not None and decoded[0] == name:
                out.append(decoded[1])
        return out

    def carried(self, receipt: TxReceipt) -> dict[bytes, list[tuple[Record, bytes] | None]]:
        """The records (with 65-byte seals) the transaction's input carries, by uid, every copy."""
        tx = self.w3.eth.get_transaction(receipt["transactionHash"])
        return self.contracts.carried_records(bytes(tx["input"]), tx["from"])

    def added(self, receipt: TxReceipt) -> list[dict[str, Any]]:
        """Every RecordAdded of the receipt with what the node's consumers derive from the input,
        as they do (``CopyCounter``, ``accepted_copy``): the ``copy`` it names (record, seal), its
        ``issuer`` (the uid's namespace), ``sealer`` (what the copy's seal recovers) and
        ``recordHash``; ``copy`` None (and no sealer) when the input holds no such copy."""
        carried = self.carried(receipt)
        counter = CopyCounter(self.ledger.address)
        out = []
        for log in receipt["logs"]:
            k = counter.copy_of(dict(log))
            decoded = self.contracts.decode_log(dict(log))
            if decoded is None or decoded[0] != "RecordAdded" or log["address"] != self.ledger.address:
                continue
            args = decoded[1]
            copy = accepted_copy(carried.get(args["uid"], []), k, args["project"])
            out.append({
                **args,
                "copy": copy,
                "issuer": int.from_bytes(args["uid"][:4], "big"),
                "sealer": None if copy is None else self.sealer.signer(*copy),
                "recordHash": None if copy is None else self.sealer.digest(copy[0]),
            })  # fmt: skip
        return out

    # Time ---------------------------------------------------------------------------

    def now(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> None:
        """Moves chain time forward and mines a block at the new time."""
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def next_block_at(self, timestamp: int) -> None:
        """The next mined block carries ``timestamp`` (two sends from one snapshot compared alike)."""
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]

    def snapshot(self) -> str:
        """An anvil snapshot id."""
        return str(self.w3.provider.make_request("evm_snapshot", [])["result"])  # type: ignore[arg-type]

    def revert_to(self, snapshot: str) -> None:
        """Restores a snapshot (which anvil then forgets)."""
        response = self.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        assert response.get("result") is True, response

    # Records ------------------------------------------------------------------------

    def uid(self, org: str | int = "auth") -> bytes:
        """A fresh record uid in the namespace of ``org`` (a name or an id): the contract accepts
        a uid only from the organisation whose id its first four bytes are."""
        org_id = org if isinstance(org, int) else self.orgs[org].id
        fresh = keccak(b"projchain/tests/uid" + next(self._uids).to_bytes(8, "big"))
        return org_id.to_bytes(UID_ORG_BYTES, "big") + fresh[UID_ORG_BYTES:]

    def seal(self, record: Record, org: str | LocalAccount) -> bytes:
        """The EIP-712 seal of ``record`` by an organisation's seal key (or any key)."""
        key = self.orgs[org].seal if isinstance(org, str) else org
        return self.sealer.seal(record, key)

    def submit_call(self, record: Record, seal: bytes) -> ContractFunction:
        """The ``submit`` call for one sealed record (``seal`` 65 bytes, sent compact)."""
        return self.ledger.functions.submit(record.as_tuple(), compact_seal(seal))

    def batch_call(self, records: list[Record], seals: list[bytes]) -> ContractFunction:
        """The ``submitBatch`` call (65-byte seals, sent compact)."""
        return self.ledger.functions.submitBatch(
            [r.as_tuple() for r in records], [compact_seal(s) for s in seals]
        )

    def group_seal(
        self, records: list[Record], org: str | LocalAccount, relayer: LocalAccount | None = None
    ) -> bytes:
        """The group seal of ``records`` (in order) by an organisation's seal key (or any key),
        for ``relayer`` (default: the tests' relayer) to send."""
        key = self.orgs[org].seal if isinstance(org, str) else org
        root = root_of([struct_hash(r) for r in records])
        return self.sealer.seal_group(root, len(records), (relayer or self.relayer).address, key)

    def groups_call(
        self, records: list[Record], group_of: list[int], seals: list[bytes], compact: bool = True
    ) -> ContractFunction:
        """The ``submitGroups`` call (records packed as the node packs them, approvals' payloads
        compact, or all canonical unless ``compact``; 65-byte group seals sent compact)."""
        return self.packed_call(pack(records, compact=compact), group_of, seals)

    def packed_call(self, packed: bytes, group_of: list[int], seals: list[bytes]) -> ContractFunction:
        """The ``submitGroups`` call with ``packed`` as its records, whatever those bytes hold."""
        return self.ledger.functions.submitGroups(packed, bytes(group_of), [compact_seal(s) for s in seals])

    def grouped(self, records: list[Record], orgs: list[str], compact: bool = True) -> ContractFunction:
        """``submitGroups`` of ``records``, record i sealed by ``orgs[i]``'s group (one group per
        organisation, numbered in order of first appearance), through the tests' relayer; the
        approvals' payloads compact unless ``compact`` is false (see ``groups_call``)."""
        number = {org: g for g, org in enumerate(dict.fromkeys(orgs))}
        group_of = [number[o] for o in orgs]
        seals = [
            self.group_seal([r for r, o in zip(records, orgs, strict=True) if o == org], org)
            for org in number
        ]
        return self.groups_call(records, group_of, seals, compact)

    @property
    def relayer(self) -> LocalAccount:
        """The relayer every test submits through (the approval authority's node)."""
        relayer = self.orgs["auth"].relayer
        assert relayer is not None
        return relayer

    def submit(self, record: Record, org: str) -> TxReceipt:
        """Seals ``record`` as ``org`` and submits it through the relayer; it must be accepted."""
        return self.transact(self.relayer, self.submit_call(record, self.seal(record, org)))

    def refused(self, record: Record, org: str | LocalAccount, error: str) -> tuple[Any, ...]:
        """Seals ``record`` as ``org``, submits it and asserts it is refused with ``error``."""
        return self.expect_revert(self.relayer, self.submit_call(record, self.seal(record, org)), error)

    def item(self, code: str) -> dict[str, Any]:
        """The ledger's version in force of a catalogue item, by field name (version 0: unknown)."""
        raw = self.ledger.functions.catalogueItem(keccak(text=code)).call()
        names = ("version", "department", "timeLimit", "stage", "list", "commitment", "flags")
        return dict(zip(names, raw, strict=True))

    def entry(self, uid: bytes) -> dict[str, Any]:
        """The ledger's entry for a record, by field name."""
        raw = self.ledger.functions.entry(uid).call()
        names = ("kind", "status", "level", "issuer", "project", "recordedAt", "subject", "expiresAt")
        return dict(zip(names, raw, strict=True))

    def record(
        self, kind: Kind, project: bytes, fields: dict[str, Any], ref: bytes = ZERO32, org: str | None = None
    ) -> Record:
        """A record with a fresh uid in ``org``'s namespace and a digest bound to its uid.

        ``org`` is the organisation that will seal it; by default the supervisor for events and
        their status changes, the catalogue role's ``cat`` for catalogue items, the approval
        authority ``auth`` for every other kind.
        """
        default = "sup" if kind in SUPERVISOR_KINDS else (CATALOGUE_ORG if kind == Kind.CATALOGUE else "auth")
        uid = self.uid(org or default)
        return Record(uid, kind, project, ref, keccak(b"document" + uid), encode_payload(kind, fields))
