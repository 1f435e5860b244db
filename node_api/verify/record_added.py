"""The ledger's ``RecordAdded`` log, read through its ABI, and the copy of a record it names.

``RecordAdded(uid, project, issuer, sealer)`` says the ledger accepted a record; a newer
ledger adds ``recordHash``, the EIP-712 hash of the accepted record. The verifier reads
the event through the ABI of the compiled contracts (``build/artifacts``) when it can, and
also knows both published forms, so a bundle of either ledger verifies. ``recordHash``
tells which copy of a uid in a transaction's input the ledger accepted: an input may carry
the same uid twice (the second is refused as a duplicate), and only the hash picks the
right one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

from node_api.chain.seal import RECORD_TYPEHASH, Sealer
from node_api.domain.records import Record


def _event(*data: tuple[str, str]) -> dict[str, Any]:
    indexed = [{"name": n, "type": "bytes32", "indexed": True} for n in ("uid", "project")]
    return {
        "type": "event",
        "name": "RecordAdded",
        "anonymous": False,
        "inputs": [*indexed, *({"name": n, "type": t, "indexed": False} for n, t in data)],
    }


# The published forms, for a verifier without the compiled contracts.
KNOWN_FORMS = (
    _event(("issuer", "uint32"), ("sealer", "address")),
    _event(("issuer", "uint32"), ("sealer", "address"), ("recordHash", "bytes32")),
)


def signature(abi: dict[str, Any]) -> str:
    """``Name(type,…)`` of an event ABI."""
    return f"{abi['name']}({','.join(i['type'] for i in abi['inputs'])})"


@functools.cache
def _forms() -> dict[str, dict[str, Any]]:
    """topic0 → ABI of every RecordAdded form this verifier reads (the compiled one first)."""
    forms = list(KNOWN_FORMS)
    try:
        from node_api.chain.compiler import load_artifacts

        compiled = [
            e for e in load_artifacts()["ProjectLedger"]["abi"]
            if e.get("type") == "event" and e.get("name") == "RecordAdded"
        ]  # fmt: skip
        forms = compiled + forms
    except Exception:  # no compiler or contract sources here: the published forms suffice
        pass
    out: dict[str, dict[str, Any]] = {}
    for abi in forms:
        out.setdefault("0x" + keccak(text=signature(abi)).hex(), abi)
    return out


def topics() -> list[str]:
    """topic0 of every RecordAdded form, for an ``eth_getLogs`` filter (any of them matches)."""
    return list(_forms())


@dataclass(frozen=True)
class RecordAdded:
    """One decoded RecordAdded log."""

    uid: bytes
    project: bytes
    issuer: int
    sealer: str
    record_hash: bytes | None  # None for a ledger whose event has no recordHash


def decode(log: dict[str, Any]) -> RecordAdded | None:
    """The RecordAdded a log holds, by its ABI; None if it is no (well-formed) RecordAdded."""
    log_topics = [str(t).lower() for t in log.get("topics") or []]
    abi = _forms().get(log_topics[0]) if log_topics else None
    if abi is None:
        return None
    indexed = [i for i in abi["inputs"] if i.get("indexed")]
    data = [i for i in abi["inputs"] if not i.get("indexed")]
    if len(log_topics) != 1 + len(indexed):
        return None
    try:
        args: dict[str, Any] = {
            i["name"]: bytes.fromhex(t[2:]) for i, t in zip(indexed, log_topics[1:], strict=True)
        }
        values = abi_decode([i["type"] for i in data], bytes.fromhex(str(log["data"])[2:]))
    except Exception:  # data that is not this event's encoding
        return None
    args.update((i["name"], v) for i, v in zip(data, values, strict=True))
    record_hash = args.get("recordHash")
    if record_hash is None:  # a compiled form that names it differently: its one bytes32 datum
        record_hash = next((v for i, v in zip(data, values, strict=True) if i["type"] == "bytes32"), None)
    try:
        return RecordAdded(
            uid=args["uid"],
            project=args["project"],
            issuer=int(args["issuer"]),
            sealer=str(args["sealer"]),
            record_hash=bytes(record_hash) if record_hash is not None else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def record_hashes(record: Record, chain_id: int, ledger: str) -> set[bytes]:
    """The values a ledger may log as a record's hash: ``hashRecord`` (the EIP-712 digest the
    seal signs) and the struct hash it is made of."""
    struct = keccak(
        RECORD_TYPEHASH + record.uid + int(record.kind).to_bytes(32, "big") + record.project + record.ref
        + record.digest + keccak(record.payload)
    )  # fmt: skip
    return {Sealer(chain_id, ledger).digest(record), struct}


def accepted_copy(
    copies: list[tuple[Record, bytes]], uid: bytes, logged: RecordAdded | None, chain_id: int, ledger: str
) -> tuple[tuple[Record, bytes] | None, str | None]:
    """The copy of ``uid`` (record, seal) among a transaction's ``copies`` that the ledger accepted.

    By the log's ``recordHash`` when it has one; otherwise the one copy there is (several
    different copies cannot be told apart). (None, why) when no copy qualifies.
    """
    same = [c for c in copies if c[0].uid == uid]
    if not same:
        return None, f"does not carry record 0x{uid.hex()}"
    if logged is not None and logged.record_hash is not None:
        match = next((c for c in same if logged.record_hash in record_hashes(c[0], chain_id, ledger)), None)
        if match is None:
            return (
                None,
                f"carries no copy of the record with the hash 0x{logged.record_hash.hex()} its log names",
            )
        return match, None
    if len(set(same)) > 1:
        return None, (
            f"carries {len(set(same))} different records with this uid, and its log has no "
            "record hash to tell which one the ledger accepted"
        )
    return same[0], None
