"""The deployed contracts as the node sees them: ABIs, addresses, encoding, decoding.

Custom Solidity errors are decoded here, at the chain boundary, into the node's
error hierarchy, so routes never see a web3 exception.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, keccak, to_checksum_address
from web3 import Web3

from node_api.chain.calldata import batch_records, submit_record
from node_api.chain.group import SEAL_BYTES, encoded_proofs, tree_of
from node_api.chain.packed import groups_arguments, groups_calldata, pack, unpack
from node_api.chain.seal import struct_hash_of
from node_api.domain.records import Kind, Record
from node_api.errors import (
    ChainRevertError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ProjchainError,
    ValidationError,
)

# What each custom error means to an API client.
_REVERT_CLASSES: dict[str, type[ProjchainError]] = {
    "LedgerUnauthorizedRelayer": ForbiddenError,
    "LedgerInvalidSeal": ForbiddenError,
    "LedgerMissingRole": ForbiddenError,
    "LedgerNotIssuer": ForbiddenError,
    "LedgerUnknownProject": NotFoundError,
    "LedgerUnknownRecord": NotFoundError,
    "LedgerDuplicateRecord": ConflictError,
    "LedgerProjectExists": ConflictError,
    "LedgerIllegalTransition": ConflictError,
    "LedgerCrossProject": ConflictError,
    "LedgerRepairTooEarly": ConflictError,
    "LedgerProjectCodeMismatch": ValidationError,
    "LedgerMalformedPayload": ValidationError,
    "LedgerInvalidValue": ValidationError,
    "LedgerUnknownKind": ValidationError,
    "LedgerProjectClosed": ConflictError,
    "LedgerUidNotIssuers": ForbiddenError,
    "LedgerSelfDecision": ForbiddenError,
    "LedgerAnchorFields": ValidationError,
    "LedgerSeverityLowered": ConflictError,
    "LedgerCatalogueVersion": ConflictError,
    "LedgerUnknownItem": ValidationError,
    "LedgerItemRetired": ConflictError,
    "LedgerNotItemDepartment": ForbiddenError,
    "LedgerItemStage": ValidationError,
    "LedgerDecisionNotAllowed": ValidationError,
    "LedgerCommitmentApproval": ConflictError,
    "LedgerCatalogueFields": ValidationError,
    "ECDSAInvalidSignature": ValidationError,
    "ECDSAInvalidSignatureLength": ValidationError,
    "ECDSAInvalidSignatureS": ValidationError,
}


@dataclass(frozen=True)
class Deployment:
    """Where the contracts live on one chain."""

    chain_id: int
    consortium: str
    ledger: str
    block: int
    genesis_hash: str

    def save(self, path: Path) -> None:
        """Writes the deployment file atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Reads a deployment file."""
        return cls(**json.loads(path.read_text()))


@dataclass(frozen=True)
class DecodedRevert:
    """A custom error decoded from revert data."""

    name: str
    args: tuple[Any, ...]

    def describe(self) -> str:
        """Readable form, e.g. ``LedgerMissingRole(uid=0x.., org=3, neededRole=1)``."""
        shown = ", ".join(_show(a) for a in self.args)
        return f"{self.name}({shown})"

    def to_error(self) -> ProjchainError:
        """The node error a client sees for this revert."""
        cls = _REVERT_CLASSES.get(self.name)
        detail = f"the ledger contract refused the record: {self.describe()}"
        if cls is ValidationError:
            return ValidationError("record", detail)
        if cls is not None:
            return cls(detail)
        return ChainRevertError(self.name, self.args, detail)


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


class Contracts:
    """ABI-level access to Consortium and ProjectLedger (no provider: pure encoding)."""

    def __init__(self, artifacts: dict[str, dict[str, Any]], deployment: Deployment | None = None) -> None:
        self._w3 = Web3()
        self.artifacts = artifacts
        self.deployment = deployment
        self.consortium: Any = self._w3.eth.contract(
            address=to_checksum_address(deployment.consortium) if deployment else None,
            abi=artifacts["Consortium"]["abi"],
            bytecode=artifacts["Consortium"]["bytecode"],
        )
        self.ledger: Any = self._w3.eth.contract(
            address=to_checksum_address(deployment.ledger) if deployment else None,
            abi=artifacts["ProjectLedger"]["abi"],
            bytecode=artifacts["ProjectLedger"]["bytecode"],
        )
        ledger_abi: list[dict[str, Any]] = artifacts["ProjectLedger"]["abi"]
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        self._events: dict[bytes, tuple[Any, str]] = {}
        for contract in (self.consortium, self.ledger):
            for item in contract.abi:
                if item["type"] == "error":
                    types = [i["type"] for i in item["inputs"]]
                    self._errors[function_abi_to_4byte_selector(item)] = (item["name"], types)
                elif item["type"] == "event":
                    self._events[event_abi_to_log_topic(item)] = (contract, item["name"])
        entry_abi = next(i for i in ledger_abi if i.get("type") == "function" and i.get("name") == "entry")
        self._entry_fields = [(c["name"], c["type"]) for c in entry_abi["outputs"][0]["components"]]
        # The ledger's hot events, decoded with eth_abi directly (web3's decoder costs ~10x more).
        self._fast: dict[str, _EventLayout] = {
            item["name"]: _EventLayout.of(item)
            for item in ledger_abi
            if item.get("type") == "event" and item["name"] in _FAST_EVENTS
        }

    def submit_batch_data(self, records: list[Record], seals: list[bytes]) -> str:
        """Calldata of ``submitBatch`` (eth_abi directly: web3's encoder costs ~10x more per record).

        ``seals`` are the usual 65-byte ``r ‖ s ‖ v`` signatures; they travel compact (EIP-2098).
        """
        body = abi_encode(
            [RECORD_TUPLE + "[]", SEAL_TUPLE + "[]"],
            [[r.as_tuple() for r in records], [compact_seal(s) for s in seals]],
        )
        return "0x" + (_SUBMIT_BATCH_SELECTOR + body).hex()

    def submit_groups_data(self, records: list[Record], group_of: list[int], seals: list[bytes]) -> str:
        """Calldata of ``submitGroups``: the records packed (``packed.pack``), the group of each (one
        byte), one seal per group; written by hand (bytes joins), as the indexer reads it back."""
        compact = [b"".join(compact_seal(s)) for s in seals]
        return "0x" + groups_calldata(_SUBMIT_GROUPS_SELECTOR, pack(records), bytes(group_of), compact).hex()

    def submit_data(self, record: Record, seal: bytes) -> str:
        """Calldata of ``submit`` (one record, reverts on refusal); ``seal`` as for ``submit_batch_data``."""
        body = abi_encode([RECORD_TUPLE, SEAL_TUPLE], [record.as_tuple(), compact_seal(seal)])
        return "0x" + (_SUBMIT_SELECTOR + body).hex()

    def carried_records(self, data: bytes | str, sender: str | None = None) -> dict[bytes, list[Copy | None]]:
        """``copies_by_uid``: every copy of each uid, in input order (none for another input)."""
        return copies_by_uid(data, sender) or {}

    def decode_entry(self, data: str) -> dict[str, int]:
        """The ``Entry`` an ``entry(uid)`` call returned, by field name (kind 0: no such record)."""
        fields = self._entry_fields
        values = abi_decode([t for _, t in fields], _raw(data))
        return {name: int(v) for (name, _), v in zip(fields, values, strict=True)}

    def decode_revert(self, data: bytes | str | None) -> DecodedRevert | None:
        """Decodes revert data into a custom error, or None if unknown."""
        if data is None:
            return None
        raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else data
        if len(raw) < 4:
            return None
        known = self._errors.get(raw[:4])
        if known is None:
            return None
        name, types = known
        try:
            args = tuple(abi_decode(types, raw[4:]))
        except Exception:  # malformed revert data from a foreign contract
            return DecodedRevert(name, ())
        return DecodedRevert(name, args)

    def decode_log(self, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """Decodes one of our contracts' logs into (event name, args)."""
        topics = log.get("topics") or []
        if not topics:
            return None
        t0 = topics[0]
        key = bytes.fromhex(t0.removeprefix("0x")) if isinstance(t0, str) else bytes(t0)
        found = self._events.get(key)
        if found is None:
            return None
        contract, name = found
        fast = self._fast.get(name)
        if fast is not None:
            return name, _fast_decode(fast, topics, log["data"])
        event = getattr(contract.events, name)()
        decoded = event.process_log(_as_web3_log(log))
        return name, dict(decoded["args"])

    def event_topic(self, name: str) -> str:
        """topic0 of an event by name."""
        for key, (_, n) in self._events.items():
            if n == name:
                return "0x" + key.hex()
        raise KeyError(name)


# The ledger's interface as the node and the verifier read it, spelled out so that decoding
# needs no compiled artifacts (`verify-bundle` runs without them).
RECORD_TUPLE = "(bytes32,uint8,bytes32,bytes32,bytes32,bytes)"
SEAL_TUPLE = "(bytes32,bytes32)"  # EIP-2098 compact seal (r, vs)
SUBMIT = f"submit({RECORD_TUPLE},{SEAL_TUPLE})"
SUBMIT_BATCH = f"submitBatch({RECORD_TUPLE}[],{SEAL_TUPLE}[])"
SUBMIT_GROUPS = (
    f"submitGroups(bytes,bytes,{SEAL_TUPLE}[])"  # the records packed: see node_api/chain/packed.py
)
RECORD_ADDED = "RecordAdded(bytes32,bytes32)"
RECORD_REJECTED = "RecordRejected(bytes32,bytes)"
RECORD_ADDED_TOPIC = "0x" + keccak(text=RECORD_ADDED).hex()
RECORD_REJECTED_TOPIC = "0x" + keccak(text=RECORD_REJECTED).hex()
_SUBMIT_SELECTOR = keccak(text=SUBMIT)[:4]
_SUBMIT_BATCH_SELECTOR = keccak(text=SUBMIT_BATCH)[:4]
_SUBMIT_GROUPS_SELECTOR = keccak(text=SUBMIT_GROUPS)[:4]
_KINDS = frozenset(int(k) for k in Kind)


Copy = tuple[Record, bytes]
"""A record as an input carries it, with its 65-byte seal or its encoded ``GroupProof``."""


def carried_copies(data: bytes | str, sender: str | None = None) -> list[Copy] | None:
    """Every (record, seal) a ``submit`` / ``submitBatch`` / ``submitGroups`` input carries, in input order.

    A record sealed on its own comes with its 65-byte seal; one of a ``submitGroups`` group
    with the encoded ``GroupProof`` (its group's seal and its path to the root the ledger
    computed), which needs the transaction's ``sender`` (the relayer the group seal names;
    without it such an input reads as None). The input is read as the ledger's decoder reads it
    (``calldata``: offsets wherever they point, padding ignored), not as eth_abi would. None for
    any other input (or one the ledger reverts on); records of kinds the ledger does not know (it
    refuses them), or whose fields it could not have read, are left out.
    """
    carried = _carried(data, sender)
    return None if carried is None else [copy for _, copy in carried if copy is not None]


def copies_by_uid(data: bytes | str, sender: str | None = None) -> dict[bytes, list[Copy | None]] | None:
    """Every copy of each uid an input carries, in input order; None in place of a copy of a kind
    the node does not know (the ledger refused it), so that the k-th copy of a uid stays its k-th
    (``accepted_copy``). None for another input (as ``carried_copies``)."""
    carried = _carried(data, sender)
    if carried is None:
        return None
    out: dict[bytes, list[Copy | None]] = {}
    for uid, copy in carried:
        out.setdefault(uid, []).append(copy)
    return out


def sent_copies(records: list[Record], seals: list[bytes]) -> dict[bytes, list[Copy | None]]:
    """``copies_by_uid`` of the input a sender made of ``records``, each with its 65-byte seal (in the
    form the input carries it: compact, read back with v 27 or 28) or its encoded ``GroupProof``
    (``encoded_proofs``) — what reading that input back gives, without reading it. The submitter
    keeps it for the indexer; ``tests/unit/test_contracts_codec.py`` holds the two equal."""
    out: dict[bytes, list[Copy | None]] = {}
    for record, seal in zip(records, seals, strict=True):
        carried = expand_seal(*compact_seal(seal)) if len(seal) == SEAL_BYTES else seal
        out.setdefault(record.uid, []).append((record, carried))
    return out


def _carried(data: bytes | str, sender: str | None) -> list[tuple[bytes, Copy | None]] | None:
    """``carried_copies``, each with its uid, a record of an unknown kind as None."""
    try:
        raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data)
    except ValueError:
        return None
    selector = raw[:4]
    if selector == _SUBMIT_BATCH_SELECTOR:
        carried = batch_records(raw)
    elif selector == _SUBMIT_SELECTOR:
        carried = submit_record(raw)
    elif selector == _SUBMIT_GROUPS_SELECTOR and sender is not None:
        return _group_copies(raw[4:], sender)
    else:
        return None
    if carried is None:  # an input the ledger reverts on: it left no log
        return None
    return [
        (uid, (Record(uid, Kind(fields[1]), *fields[2:]), expand_seal(r, vs)))
        if fields is not None and fields[1] in _KINDS
        else (uid, None)
        for uid, fields, (r, vs) in carried
    ]


def _group_copies(body: bytes, sender: str) -> list[tuple[bytes, Copy | None]] | None:
    """The records of a ``submitGroups`` input (after its selector), each with its ``GroupProof``
    (encoded); None for an input the ledger reverts (packed records that do not fill their bytes
    exactly, a group without a seal)."""
    arguments = groups_arguments(body)
    if arguments is None:
        return None
    packed, group_of, seals = arguments
    records = unpack(packed, len(group_of))
    if records is None or any(g >= len(seals) for g in group_of):
        return None
    members: dict[int, list[int]] = {}
    for i, g in enumerate(group_of):
        members.setdefault(g, []).append(i)
    proof_of: dict[int, bytes] = {}
    for g, at in members.items():
        # The leaves are the records as carried, of kinds the node does not know too.
        hashes = [struct_hash_of(records[i]) for i in at]
        proof_of.update(
            zip(at, encoded_proofs(tree_of(hashes), hashes, expand_seal(*seals[g]), sender), strict=True)
        )
    return [
        (
            uid,
            (Record(uid, Kind(kind), project, ref, digest, payload), proof_of[i]) if kind in _KINDS else None,
        )
        for i, (uid, kind, project, ref, digest, payload) in enumerate(records)
    ]


_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_HIGH_BIT = 1 << 255


def compact_seal(seal: bytes) -> tuple[bytes, bytes]:
    """A 65-byte ``r ‖ s ‖ v`` seal as the ledger's ``Seal(r, vs)`` (EIP-2098: v - 27 in s's top bit).

    Only low-``s`` seals (EIP-2) have a compact form; the node accepts no other.
    """
    if len(seal) != 65:
        raise ValueError(f"a seal is 65 bytes (r, s, v), not {len(seal)}")
    s, v = int.from_bytes(seal[32:64], "big"), seal[64]
    if s > _SECP256K1_HALF_N or v not in (0, 1, 27, 28):
        raise ValueError("the seal is not a canonical signature (low s, v 27 or 28)")
    return seal[:32], (s | (_HIGH_BIT if v % 27 == 1 else 0)).to_bytes(32, "big")


def expand_seal(r: bytes, vs: bytes) -> bytes:
    """The 65-byte ``r ‖ s ‖ v`` form (v 27/28) of a compact seal, as EIP-712 libraries take it."""
    word = int.from_bytes(vs, "big")
    return bytes(r) + (word & (_HIGH_BIT - 1)).to_bytes(32, "big") + bytes([27 + (word >> 255)])


_FAST_EVENTS = frozenset({"RecordAdded", "StatusChanged", "RecordRejected"})


@dataclass(frozen=True)
class _EventLayout:
    """An event's indexed argument names, and its data arguments' names and types."""

    indexed: tuple[str, ...]
    names: tuple[str, ...]
    types: tuple[str, ...]

    @classmethod
    def of(cls, abi: dict[str, Any]) -> _EventLayout:
        inputs = abi["inputs"]
        data = [i for i in inputs if not i["indexed"]]
        return cls(
            indexed=tuple(i["name"] for i in inputs if i["indexed"]),
            names=tuple(i["name"] for i in data),
            types=tuple(i["type"] for i in data),
        )


def _raw(value: Any) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _word(kind: str, word: bytes) -> Any:
    """One static ABI word as eth_abi decodes it (None: not a type read here; padding is checked)."""
    if kind == "bytes32":
        return word
    if kind == "address":
        return _checksum("0x" + word[12:].hex()) if not any(word[:12]) else None
    if kind.startswith("uint"):
        bits = int(kind[4:] or 256)
        value = int.from_bytes(word, "big")
        return value if value >> bits == 0 else None
    return None


@functools.lru_cache(maxsize=1024)
def _checksum(address: str) -> str:
    """EIP-55 spelling of an address (a ledger's logs name few sealers: each is spelled once)."""
    return str(to_checksum_address(address))


def _fast_decode(layout: _EventLayout, topics: list[Any], data: Any) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key, t in zip(layout.indexed, topics[1:], strict=True):
        args[key] = _raw(t)
    raw = _raw(data)
    words = [_word(t, raw[32 * i : 32 * i + 32]) for i, t in enumerate(layout.types)]
    if len(raw) == 32 * len(layout.types) and None not in words:
        values: Any = words  # static words only: sliced, which is what abi_decode answers, ≈ 20× faster
    else:
        values = abi_decode(list(layout.types), raw)
    args.update(zip(layout.names, values, strict=True))
    if "sealer" in args:
        args["sealer"] = _checksum(str(args["sealer"]).lower())
    return args


class CopyCounter:
    """Which copy of its uid each ``RecordAdded`` / ``RecordRejected`` of the ledger names.

    The ledger answers every record of an input, in input order, with exactly one
    ``RecordAdded`` or one ``RecordRejected`` naming its uid (a transaction that reverts
    leaves no log at all), so the k-th of these logs naming a uid in a transaction is about
    the k-th copy of that uid in the transaction's input (``accepted_copy``). Fed a
    transaction's logs in order (the logs of several transactions may be interleaved by
    transaction, as a block's are), ``copy_of`` answers that k. Logs of other contracts (a
    look-alike's included) and of other events (``StatusChanged`` names uids too) do not count.
    """

    def __init__(self, ledger: str) -> None:
        self._ledger = ledger.lower()
        self._seen: dict[tuple[str, str], int] = {}

    def copy_of(self, log: dict[str, Any]) -> int | None:
        """The index of the copy (among its uid's copies in the input) that ``log`` names; None
        for a log that is no ledger ``RecordAdded`` / ``RecordRejected``."""
        topics = [_hex(t) for t in log.get("topics") or []]
        if (
            len(topics) < 2
            or topics[0] not in (RECORD_ADDED_TOPIC, RECORD_REJECTED_TOPIC)
            or _hex(log.get("address", "")) != self._ledger
        ):
            return None
        key = (_hex(log.get("transactionHash", "")), topics[1])
        k = self._seen.get(key, 0)
        self._seen[key] = k + 1
        return k


def _hex(value: Any) -> str:
    """A JSON-RPC hex string (lower case) or bytes (web3's) as lower-case 0x-hex."""
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


def accepted_copy(copies: list[Copy | None], k: int | None, project: bytes) -> Copy | None:
    """The copy of a uid the ledger accepted: the ``k``-th of the uid's ``copies`` in the input
    (``CopyCounter``), which must be of the ``project`` its ``RecordAdded`` names. None when there is
    no such copy (an input this node cannot read): the index then never takes content the contract
    did not accept."""
    if k is None or k >= len(copies):
        return None
    copy = copies[k]
    return copy if copy is not None and copy[0].project == project else None


def _as_web3_log(log: dict[str, Any]) -> dict[str, Any]:
    from hexbytes import HexBytes

    return {
        "address": to_checksum_address(log["address"]),
        "topics": [HexBytes(t) for t in log["topics"]],
        "data": HexBytes(log["data"]),
        "blockNumber": int(log["blockNumber"], 16)
        if isinstance(log["blockNumber"], str)
        else log["blockNumber"],
        "transactionHash": HexBytes(log["transactionHash"]),
        "transactionIndex": 0,
        "blockHash": HexBytes(log["blockHash"]),
        "logIndex": int(log["logIndex"], 16) if isinstance(log["logIndex"], str) else log["logIndex"],
        "removed": False,
    }
