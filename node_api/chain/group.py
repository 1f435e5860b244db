"""Group seals: one seal per organisation and batch over a Merkle root of its records.

The ledger's ``submitGroups`` takes records with the group each belongs to and one seal per
group. A group's records, in input order, are the leaves of a Merkle tree of RFC 6962's shape
hashed with keccak256, leaves and inner nodes under different prefixes (so that no inner
node passes for a leaf, the second-preimage attack on plain Merkle trees):

* leaf = keccak256(0x00 ‖ struct hash of the record) (its EIP-712 ``Record`` struct hash);
* node = keccak256(0x01 ‖ left ‖ right), neighbours paired left to right, a last node
  without a partner moved up unchanged.

The group seal is the EIP-712 signature of ``RecordGroup(root, count, relayer)`` (the domain
binds chain and ledger; ``relayer``, the account that sends the transaction, binds the
batch). A record of a group is proven by a ``GroupProof``: that seal, the relayer, the
group's size, the record's position and its path to the root. The index keeps it where a
record sealed on its own keeps its 65-byte seal: a proof's encoding is never 65 bytes long.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils import to_checksum_address

from node_api.domain.hashing import keccak256

SEAL_BYTES = 65
_FIXED = SEAL_BYTES + 20 + 4 + 4  # seal, relayer, count, index; then the path, 32 bytes a node


def leaf(struct_hash: bytes) -> bytes:
    """The leaf of a record: keccak256(0x00 ‖ its EIP-712 struct hash)."""
    return keccak256(b"\x00" + struct_hash)


def node(left: bytes, right: bytes) -> bytes:
    """An inner node: keccak256(0x01 ‖ left ‖ right)."""
    return keccak256(b"\x01" + left + right)


def levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree over ``leaves`` (non-empty), from the leaves up to the root."""
    out = [list(leaves)]
    while len(out[-1]) > 1:
        below = out[-1]
        above = [node(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        out.append(above)
    return out


def paths(tree: list[list[bytes]]) -> list[list[bytes]]:
    """Each leaf's path to the root: its siblings, leaf side first (none where a node moved up)."""
    out: list[list[bytes]] = []
    for index in range(len(tree[0])):
        path, i = [], index
        for level in tree[:-1]:
            if i ^ 1 < len(level):
                path.append(level[i ^ 1])
            i >>= 1
        out.append(path)
    return out


def fold(leaf_hash: bytes, index: int, count: int, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` leads to from leaf ``index`` of ``count``; None if it does not fit."""
    if not 0 <= index < count:
        return None
    at, width, used, h = index, count, 0, leaf_hash
    while width > 1:
        if at ^ 1 < width:
            if used == len(path):
                return None
            sibling = path[used]
            used += 1
            h = node(sibling, h) if at & 1 else node(h, sibling)
        at, width = at >> 1, (width + 1) >> 1
    return h if used == len(path) else None


@functools.lru_cache(maxsize=256)
def _checksum(address: bytes) -> str:
    """EIP-55 spelling of a relayer's address (a chain has few relayers: each is spelled once)."""
    return str(to_checksum_address(address))


def _head(seal: bytes, relayer: str, count: int) -> bytes:
    """What every proof of a group begins with: the group's seal, the relayer, the group's size."""
    return seal + bytes.fromhex(relayer.removeprefix("0x")) + count.to_bytes(4, "big")


def _encoded(head: bytes, index: int, path: Sequence[bytes]) -> bytes:
    """A proof's stored form: its group's ``_head``, the record's position, its path."""
    return head + index.to_bytes(4, "big") + b"".join(path)


@dataclass(frozen=True)
class GroupProof:
    """What proves one record of a group: the group's seal and the record's path to its root."""

    seal: bytes  # 65 bytes r ‖ s ‖ v over RecordGroup(root, count, relayer)
    relayer: str
    count: int
    index: int
    path: tuple[bytes, ...]

    def encode(self) -> bytes:
        """The stored form (never 65 bytes long, unlike a record's own seal)."""
        return _encoded(_head(self.seal, self.relayer, self.count), self.index, self.path)

    @classmethod
    def decode(cls, blob: bytes) -> GroupProof | None:
        """The proof a stored seal holds; None for a record's own 65-byte seal or a malformed one."""
        if len(blob) < _FIXED or (len(blob) - _FIXED) % 32:
            return None
        rest = blob[_FIXED:]
        return cls(
            seal=blob[:SEAL_BYTES],
            relayer=_checksum(blob[SEAL_BYTES : SEAL_BYTES + 20]),
            count=int.from_bytes(blob[SEAL_BYTES + 20 : SEAL_BYTES + 24], "big"),
            index=int.from_bytes(blob[SEAL_BYTES + 24 : _FIXED], "big"),
            path=tuple(rest[i : i + 32] for i in range(0, len(rest), 32)),
        )

    def root(self, struct_hash: bytes) -> bytes | None:
        """The root this proof leads to from a record with ``struct_hash``; None if the path does not fit."""
        return fold(leaf(struct_hash), self.index, self.count, self.path)

    def as_json(self, root: bytes | None) -> dict[str, object]:
        """The proof as an evidence bundle shows it."""
        return {
            "seal": "0x" + self.seal.hex(),
            "relayer": self.relayer,
            "count": self.count,
            "index": self.index,
            "path": ["0x" + p.hex() for p in self.path],
            "root": None if root is None else "0x" + root.hex(),
        }


# The roots of proofs this process built (``remember_roots``), by (struct hash, encoded proof): a
# proof's root is a pure function of the two, so reading a group back (the indexer recovering
# each record's sealer) folds no path it built itself. Bounded: the oldest are dropped first.
KNOWN_ROOTS = 16384
# An OrderedDict: dropping a plain dict's oldest key (``next(iter(d))``) walks past every key
# deleted before it, ≈ 13 µs a record once the bound is reached (profile of 2026-12-02).
_roots: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()


def remember_roots(struct_hashes: Sequence[bytes], encoded: Sequence[bytes], root: bytes) -> None:
    """Keeps ``root`` as the root of each record's encoded proof (built by ``proofs``, so exact)."""
    for key in zip(struct_hashes, encoded, strict=True):
        _roots[key] = root
    while len(_roots) > KNOWN_ROOTS:
        _roots.popitem(last=False)


def known_root(struct_hash: bytes, encoded: bytes) -> bytes | None:
    """The root ``remember_roots`` kept for this record and encoded proof; None if it kept none."""
    return _roots.get((struct_hash, encoded))


def proofs(struct_hashes: Sequence[bytes], seal: bytes, relayer: str) -> tuple[bytes, list[GroupProof]]:
    """The root of a group's records and each record's proof under the group's ``seal``."""
    tree = tree_of(struct_hashes)
    return tree[-1][0], tree_proofs(tree, seal, relayer)


def tree_proofs(tree: list[list[bytes]], seal: bytes, relayer: str) -> list[GroupProof]:
    """Each leaf's proof under the group's ``seal`` in ``tree`` (``tree_of``), in leaf order."""
    relayer = to_checksum_address(relayer)
    count = len(tree[0])
    return [GroupProof(seal, relayer, count, i, tuple(p)) for i, p in enumerate(paths(tree))]


def encoded_proofs(
    tree: list[list[bytes]], struct_hashes: Sequence[bytes], seal: bytes, relayer: str
) -> list[bytes]:
    """Each record's encoded proof under ``seal`` in ``tree`` (``tree_of(struct_hashes)``), in input
    order; the root is remembered for each (``remember_roots``), so the sealer is recovered without
    folding a path."""
    head = _head(seal, relayer, len(tree[0]))
    encoded = [_encoded(head, i, path) for i, path in enumerate(paths(tree))]
    remember_roots(struct_hashes, encoded, tree[-1][0])
    return encoded


def tree_of(struct_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of a group's tree over these records' struct hashes (non-empty); the root is ``[-1][0]``."""
    return levels([leaf(h) for h in struct_hashes])


def root_of(struct_hashes: Sequence[bytes]) -> bytes:
    """The Merkle root of a group with these records' struct hashes (non-empty)."""
    return tree_of(struct_hashes)[-1][0]
