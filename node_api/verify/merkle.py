"""RFC 6962 (Certificate Transparency) Merkle tree over SHA-256: roots, proofs and their checks.

Hashes follow RFC 6962 §2.1 exactly, so any CT-compatible verifier can check our proofs:
leaf = SHA256(0x00 || data), node = SHA256(0x01 || left || right), empty tree = SHA256("").
Proof *generation* follows RFC 6962 §2.1.1/§2.1.2; proof *verification* follows the
iterative algorithms of RFC 9162 §2.1.3.2/§2.1.4.2, which need only sizes and hashes.

Leaves passed around here are always leaf HASHES (32 bytes), never raw entries.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence

from node_api.errors import ValidationError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# A function giving the Merkle Tree Hash of leaves [start, end); lets one proof algorithm
# serve both the plain list (rehash everything) and MerkleLog (cached subtrees).
_SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry as a leaf (RFC 6962 §2.1: SHA256(0x00 || data))."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent (RFC 6962 §2.1: SHA256(0x01 || left || right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _list_subtree_hash(leaves: Sequence[bytes]) -> _SubtreeHash:
    def mth(start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return leaves[start]
        k = _split(n)
        return node_hash(mth(start, start + k), mth(start + k, end))

    return mth


def _path(index: int, size: int, mth: _SubtreeHash) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(index, D[0:size]), walked top-down and reversed to leaf-first order."""
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            proof.append(mth(mid, end))
            end = mid
        else:
            proof.append(mth(start, mid))
            start = mid
    proof.reverse()
    return proof


def _subproof(old_size: int, new_size: int, mth: _SubtreeHash) -> list[bytes]:
    """RFC 6962 §2.1.2 SUBPROOF(old_size, D[0:new_size], true), iteratively."""
    proof: list[bytes] = []
    start, end, m = 0, new_size, old_size
    # Stays true while the old tree is a left prefix of the current subtree; the old root
    # itself is then known to the verifier and must be left out (the "b" flag of the RFC).
    complete = True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(mth(start + k, end))
            end = start + k
        else:
            proof.append(mth(start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        proof.append(mth(start, end))
    proof.reverse()
    return proof


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ValidationError("index", f"{index} is outside a tree of {size} leaves")


def _check_sizes(old_size: int, new_size: int) -> None:
    if not 0 <= old_size <= new_size:
        raise ValidationError("old_size", f"{old_size} is not within 0..{new_size}")


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes (RFC 6962 §2.1)."""
    return _list_subtree_hash(leaves)(0, len(leaves))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `leaves`, leaf-side first (RFC 6962 §2.1.1)."""
    _check_index(index, len(leaves))
    return _path(index, len(leaves), _list_subtree_hash(leaves))


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Proof that the first `old_size` leaves are a prefix of `leaves` (RFC 6962 §2.1.2).

    Empty when old_size is 0 or equals the tree size: the RFC defines no proof there, and
    the verifier accepts those cases by comparing roots directly.
    """
    _check_sizes(old_size, len(leaves))
    if old_size == 0 or old_size == len(leaves):
        return []
    return _subproof(old_size, len(leaves), _list_subtree_hash(leaves))


def _all_hashes(*values: bytes) -> bool:
    # Fixed lengths close off any ambiguity in where one hash ends inside node_hash's input.
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether `proof` puts leaf hash `leaf` at `index` in the tree (`size`, `root`); RFC 9162 §2.1.3.2."""
    if not 0 <= index < size or not _all_hashes(leaf, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A right-edge node with no sibling is promoted unchanged; skip those levels.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows (old_size, old_root) is a prefix of (new_size, new_root); RFC 9162 §2.1.4.2."""
    if not 0 <= old_size <= new_size or not _all_hashes(old_root, new_root, *proof):
        return False
    if old_size == 0:
        # Every tree extends the empty one; still insist on the true empty root so a
        # forged "old root" of size 0 is not waved through.
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT)
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree, so the prover left its root out (it is known).
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


class MerkleLog:
    """An append-only, in-memory RFC 6962 log of leaf hashes with O(log n) roots and proofs.

    Every complete, aligned power-of-two subtree is hashed once, when its last leaf arrives,
    and kept: ``_levels[h][j]`` is the hash of leaves [j * 2**h, (j + 1) * 2**h). Such a
    subtree never changes as the log grows, so the cache also serves roots and proofs for
    any earlier tree size; only the O(log n) nodes on the ragged right edge are rehashed.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        """Start a log holding the given leaf hashes, in order."""
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return len(self._levels[0])

    def __len__(self) -> int:
        """The number of leaves appended so far."""
        return self.size

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash and return its index."""
        if not _all_hashes(leaf_hash):
            raise ValidationError("leaf_hash", f"must be {HASH_SIZE} bytes")
        index = len(self._levels[0])
        self._levels[0].append(leaf_hash)
        level, j = 0, index
        # Each odd position closes a complete pair, which closes its parent, and so on up.
        while j & 1:
            below = self._levels[level]
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(node_hash(below[j - 1], below[j]))
            level += 1
            j >>= 1
        return index

    def leaf(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        _check_index(index, self.size)
        return self._levels[0][index]

    def _mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        height = n.bit_length() - 1
        if n == 1 << height and start % n == 0:
            return self._levels[height][start >> height]
        # Every subtree RFC 6962 asks for starts aligned to its left child, so the left half
        # is always a cache hit and only the right edge recurses.
        k = _split(n)
        return node_hash(self._mth(start, start + k), self._mth(start + k, end))

    def _resolve(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValidationError("size", f"{size} is not within 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first `size` leaves (default: all of them)."""
        return self._mth(0, self._resolve(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf `index` in the tree of the first `size` leaves (default: all)."""
        n = self._resolve(size)
        _check_index(index, n)
        return _path(index, n, self._mth)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree of `old_size` leaves is a prefix of that of `new_size` (default: all)."""
        n = self._resolve(new_size)
        _check_sizes(old_size, n)
        if old_size == 0 or old_size == n:
            return []
        return _subproof(old_size, n, self._mth)
