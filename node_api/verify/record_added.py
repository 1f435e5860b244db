"""The ledger's ``RecordAdded`` log, and the copy of a record it names.

``RecordAdded(uid, project)`` says the ledger accepted a record; it carries nothing else,
because everything else follows from the input of the transaction that carried the record:
the record and its seal (the copy of ``uid`` there), its issuer (the uid's first four bytes:
the ledger accepts a record only in its sealer's organisation's namespace), its sealer (what
its seal, or its group's seal, recovers: the ledger recovered it from the same input) and its
record hash (the copy's EIP-712 hash).

Which copy, when the input carries the uid more than once (a crafted input, or the same
content sealed by two keys of one organisation): the ledger answers every record of an input,
in order, with exactly one ``RecordAdded`` or ``RecordRejected`` naming its uid, so the log
that is the k-th of the ledger's such logs naming the uid in its transaction names the k-th
copy (``node_api.chain.contracts.CopyCounter``). A log of another shape, or of another
contract, is no ``RecordAdded`` of this ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node_api.chain.contracts import RECORD_ADDED_TOPIC as TOPIC
from node_api.chain.contracts import Copy, CopyCounter
from node_api.chain.contracts import accepted_copy as kth_copy


@dataclass(frozen=True)
class RecordAdded:
    """One decoded RecordAdded log, and which copy of its uid (in its transaction's input) it names."""

    uid: bytes
    project: bytes
    copy: int | None = None  # None: not known (no receipt to count in)


def topics() -> list[str]:
    """topic0 of RecordAdded, as an ``eth_getLogs`` filter position."""
    return [TOPIC]


def decode(log: dict[str, Any]) -> RecordAdded | None:
    """The RecordAdded a log holds; None if it is no (well-formed) RecordAdded."""
    log_topics = [str(t).lower() for t in log.get("topics") or []]
    if len(log_topics) != 3 or log_topics[0] != TOPIC or str(log.get("data", "0x")) not in ("0x", ""):
        return None
    try:
        return RecordAdded(uid=bytes.fromhex(log_topics[1][2:]), project=bytes.fromhex(log_topics[2][2:]))
    except ValueError:  # topics that are not hex words
        return None


def in_receipt(receipt: Any, log_index: int, ledger: str) -> RecordAdded | None:
    """The ledger's RecordAdded at ``log_index`` (an index within the block) of a transaction
    ``receipt``, with the copy it names (counted over the receipt's logs before it); None if that
    log is not one (another event, another contract's)."""
    if not isinstance(receipt, dict):
        return None
    counter = CopyCounter(ledger)
    for log in sorted(receipt.get("logs") or [], key=lambda lg: int(lg["logIndex"], 16)):
        k = counter.copy_of(log)
        if int(log["logIndex"], 16) == log_index:
            added = decode(log) if str(log.get("address", "")).lower() == ledger.lower() else None
            return None if added is None else RecordAdded(added.uid, added.project, k)
    return None


def accepted_copy(
    copies: dict[bytes, list[Copy | None]], uid: bytes, logged: RecordAdded | None
) -> tuple[Copy | None, str | None]:
    """The copy of ``uid`` (record, seal) among a transaction's ``copies`` (by uid, in input order)
    that the ledger accepted.

    The one the log ``logged`` names (``in_receipt``: the node's indexer picks it the same way);
    without a log, the one copy there is (several different copies cannot be told apart).
    (None, why) when no copy qualifies.
    """
    same = copies.get(uid, [])
    if not same:
        return None, f"does not carry record 0x{uid.hex()}"
    if logged is not None and logged.copy is not None:
        found = kth_copy(same, logged.copy, logged.project)
        if found is None:
            return None, (
                f"carries no readable copy {logged.copy + 1} of the record (of project "
                f"0x{logged.project.hex()}), the one its log names"
            )
        return found, None
    only = same[0] if len(same) == 1 else None
    if only is None:
        return None, f"carries {len(same)} copies of this uid, and no log names the one the ledger accepted"
    return only, None
