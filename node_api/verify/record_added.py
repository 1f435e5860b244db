"""The ledger's ``RecordAdded`` log, and the copy of a record it names.

``RecordAdded(uid, project, issuer, sealer, recordHash)`` says the ledger accepted a record;
``recordHash`` is its EIP-712 hash (the value its seal signs). It tells which copy of a uid in
a transaction's input the ledger accepted: an input may carry the same uid twice (the second
is refused as a duplicate), and only the hash picks the right one. A log of another shape is
no ``RecordAdded`` of this ledger.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils import to_checksum_address
from eth_utils.crypto import keccak

from node_api.chain.contracts import RECORD_ADDED
from node_api.chain.contracts import accepted_copy as accepted_by_hash
from node_api.chain.seal import Sealer
from node_api.domain.records import Record

TOPIC = "0x" + keccak(text=RECORD_ADDED).hex()


@dataclass(frozen=True)
class RecordAdded:
    """One decoded RecordAdded log."""

    uid: bytes
    project: bytes
    issuer: int
    sealer: str
    record_hash: bytes


def topics() -> list[str]:
    """topic0 of RecordAdded, as an ``eth_getLogs`` filter position."""
    return [TOPIC]


def decode(log: dict[str, Any]) -> RecordAdded | None:
    """The RecordAdded a log holds; None if it is no (well-formed) RecordAdded."""
    log_topics = [str(t).lower() for t in log.get("topics") or []]
    if len(log_topics) != 3 or log_topics[0] != TOPIC:
        return None
    try:
        issuer, sealer, record_hash = abi_decode(
            ["uint32", "address", "bytes32"], bytes.fromhex(str(log["data"])[2:])
        )
        return RecordAdded(
            uid=bytes.fromhex(log_topics[1][2:]),
            project=bytes.fromhex(log_topics[2][2:]),
            issuer=int(issuer),
            sealer=to_checksum_address(sealer),
            record_hash=bytes(record_hash),
        )
    except Exception:  # data that is not this event's encoding
        return None


@functools.cache
def _sealer(chain_id: int, ledger: str) -> Sealer:
    return Sealer(chain_id, ledger)


def accepted_copy(
    copies: list[tuple[Record, bytes]], uid: bytes, logged: RecordAdded | None, chain_id: int, ledger: str
) -> tuple[tuple[Record, bytes] | None, str | None]:
    """The copy of ``uid`` (record, seal) among a transaction's ``copies`` that the ledger accepted.

    By the log's ``recordHash`` (the node's indexer picks it the same way); without a log, the
    one copy there is (several different copies cannot be told apart). (None, why) when no
    copy qualifies.
    """
    same = [c for c in copies if c[0].uid == uid]
    if not same:
        return None, f"does not carry record 0x{uid.hex()}"
    if logged is not None:
        sealer = _sealer(chain_id, ledger)
        match = accepted_by_hash(same, logged.record_hash, logged.sealer, sealer.digest, sealer.signer)
        if match is None:
            return (
                None,
                f"carries no copy of the record with the hash 0x{logged.record_hash.hex()} its log names",
            )
        return match, None
    if len(set(same)) > 1:
        return None, (
            f"carries {len(set(same))} different records with this uid, and no log names the one "
            "the ledger accepted"
        )
    return same[0], None
