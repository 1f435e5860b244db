"""The access log's pure parts: anchors, when one is due, which anchor covers a leaf.

Every restricted read is a row of ``access_log``; its ``leaf_hash`` is the RFC 6962 leaf
hash of the entry's canonical JSON, and the rows in ``seq`` order are the leaves of one
append-only Merkle log (``node_api.verify.merkle``). The node's anchorer
(``node_api.ledger.anchorer``) writes its roots on chain as ANCHOR records.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from node_api.domain.records import Kind, derive_uid


@dataclass(frozen=True)
class Anchor:
    """A root of the access log confirmed on chain."""

    tree_size: int
    root: str
    uid: str
    tx_hash: str
    block_number: int

    def as_json(self) -> dict[str, Any]:
        """The anchor as the API shows it."""
        return {"tree_size": self.tree_size, "root": self.root, "uid": self.uid,
                "tx_hash": self.tx_hash, "block_number": self.block_number}  # fmt: skip


def anchor_due(unanchored: int, oldest_age: float, every: int, interval: float) -> bool:
    """Whether the log should be anchored now: by count, or by the age of its oldest unanchored entry."""
    return unanchored > 0 and (unanchored >= every or oldest_age >= interval)


def covering_anchor(index: int, sizes: list[int]) -> int | None:
    """Position in ``sizes`` (ascending) of the smallest anchored tree that includes leaf ``index``."""
    pos = bisect.bisect_right(sizes, index)
    return pos if pos < len(sizes) else None


def anchor_uid(org_id: int, tree_size: int, root: bytes) -> bytes:
    """uid of the anchor of (tree_size, root) by an organisation: the same anchor is one record."""
    return derive_uid(org_id, Kind.ANCHOR, b"anchor:" + tree_size.to_bytes(8, "big") + root)
