"""RFC 6962 Merkle tree: known answers, proof round trips, tamper detection, the cached log."""

from __future__ import annotations

import functools
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.errors import ValidationError
from node_api.verify import merkle
from node_api.verify.merkle import (
    MerkleLog,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)


def flip(value: bytes, position: int = 0) -> bytes:
    """`value` with one bit of one byte changed."""
    i = position % len(value)
    return value[:i] + bytes([value[i] ^ 0x01]) + value[i + 1 :]


# --- known answers ---------------------------------------------------------------------


def test_hash_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = b"L" * 32, b"R" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_empty_tree_root() -> None:
    assert root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == hashlib.sha256(b"").digest()
    assert MerkleLog().root() == root([])


def test_small_trees_by_hand() -> None:
    a, b, c, d, e = (leaf_hash(bytes([i])) for i in range(5))
    assert root([a]) == a
    assert root([a, b]) == node_hash(a, b)
    # Three leaves split at 2: the lone third leaf is promoted, not paired with itself.
    assert root([a, b, c]) == node_hash(node_hash(a, b), c)
    assert root([a, b, c, d]) == node_hash(node_hash(a, b), node_hash(c, d))
    assert root([a, b, c, d, e]) == node_hash(node_hash(node_hash(a, b), node_hash(c, d)), e)


class SevenLeaves:
    """The 7-leaf tree drawn in RFC 6962 §2.1.3, with every node built by hand."""

    def __init__(self) -> None:
        self.leaves = [leaf_hash(f"d{i}".encode()) for i in range(7)]
        self.a, self.b, self.c, self.d, self.e, self.f, self.j = self.leaves
        self.g = node_hash(self.a, self.b)
        self.h = node_hash(self.c, self.d)
        self.i = node_hash(self.e, self.f)
        self.k = node_hash(self.g, self.h)
        self.l = node_hash(self.i, self.j)  # the RFC's own name for this node
        self.root = node_hash(self.k, self.l)


def test_rfc6962_seven_leaf_inclusion_paths() -> None:
    t = SevenLeaves()
    assert root(t.leaves) == t.root
    # RFC 6962 §2.1.3: "The audit path for d0 is [b, h, l]", d3 is [c, g, l], d4 is [f, j, k], d6 is [i, k].
    expected = {0: [t.b, t.h, t.l], 3: [t.c, t.g, t.l], 4: [t.f, t.j, t.k], 6: [t.i, t.k]}
    for index, path in expected.items():
        assert inclusion_proof(index, t.leaves) == path
        assert verify_inclusion(t.leaves[index], index, 7, path, t.root)


def test_rfc6962_seven_leaf_consistency_proofs() -> None:
    t = SevenLeaves()
    hash0 = node_hash(t.g, t.c)  # the tree of d0..d2
    hash1 = t.k  # d0..d3
    hash2 = node_hash(t.k, t.i)  # d0..d5
    assert root(t.leaves[:3]) == hash0 and root(t.leaves[:4]) == hash1 and root(t.leaves[:6]) == hash2
    # RFC 6962 §2.1.3: PROOF(3) = [c, d, g, l], PROOF(4) = [l], PROOF(6) = [i, j, k].
    for old_size, old_root, proof in (
        (3, hash0, [t.c, t.d, t.g, t.l]),
        (4, hash1, [t.l]),
        (6, hash2, [t.i, t.j, t.k]),
    ):
        assert consistency_proof(old_size, t.leaves) == proof
        assert verify_consistency(old_size, 7, old_root, t.root, proof)


# The reference vectors of Certificate Transparency's own test suite, so we agree with other logs.
CT_ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_ct_reference_vectors() -> None:
    leaves = [leaf_hash(e) for e in CT_ENTRIES]
    log = MerkleLog(leaves)
    for n, expected in enumerate(CT_ROOTS):
        assert root(leaves[:n]).hex() == expected
        assert log.root(n).hex() == expected
    assert [p.hex()[:8] for p in inclusion_proof(0, leaves)] == ["96a296d2", "5f083f0a", "6b47aaf2"]
    assert [p.hex()[:8] for p in consistency_proof(6, leaves)] == ["0ebc5d34", "ca854ea1", "d37ee418"]
    assert [p.hex()[:8] for p in consistency_proof(2, leaves[:5])] == ["5f083f0a", "bc1a0643"]


# --- edge cases ------------------------------------------------------------------------


def test_single_leaf_and_trivial_consistency() -> None:
    a = leaf_hash(b"only")
    assert inclusion_proof(0, [a]) == []
    assert verify_inclusion(a, 0, 1, [], a)
    assert consistency_proof(1, [a]) == [] and verify_consistency(1, 1, a, a, [])
    assert consistency_proof(0, [a]) == [] and verify_consistency(0, 1, root([]), a, [])
    assert not verify_consistency(1, 1, a, flip(a), [])
    assert not verify_consistency(0, 1, flip(root([])), a, [])


def test_bad_arguments() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(5)]
    r = root(leaves)
    with pytest.raises(ValidationError):
        inclusion_proof(5, leaves)
    with pytest.raises(ValidationError):
        inclusion_proof(-1, leaves)
    with pytest.raises(ValidationError):
        consistency_proof(6, leaves)
    proof = inclusion_proof(4, leaves)
    assert not verify_inclusion(leaves[4], 5, 5, proof, r)
    assert not verify_inclusion(leaves[4], -1, 5, proof, r)
    assert not verify_inclusion(leaves[4], 4, 5, [*proof, proof[0]], r)  # too long
    assert not verify_inclusion(leaves[4], 4, 5, [], r)  # too short
    assert not verify_inclusion(leaves[4] + b"\x00", 4, 5, proof, r)  # not a 32-byte hash
    assert not verify_consistency(5, 3, r, r, [])
    assert not verify_consistency(3, 5, root(leaves[:3]), r, [])  # a real change needs a proof


def test_merkle_log_validation() -> None:
    log = MerkleLog([leaf_hash(b"x")])
    with pytest.raises(ValidationError):
        log.append(b"short")
    with pytest.raises(ValidationError):
        log.root(2)
    with pytest.raises(ValidationError):
        log.inclusion_proof(1)
    with pytest.raises(ValidationError):
        log.consistency_proof(2, 1)
    assert log.leaf(0) == leaf_hash(b"x") and len(log) == log.size == 1


def test_merkle_log_large_is_incremental() -> None:
    # 100,000 leaves must stay cheap: appends do amortised O(1) hashing, queries O(log n).
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(100_000)]
    log = MerkleLog(leaves)
    assert log.root() == root(leaves)
    assert log.root(65_537) == root(leaves[:65_537])
    r = log.root()
    for i in (0, 1, 65_535, 65_536, 99_998, 99_999):
        assert verify_inclusion(leaves[i], i, log.size, log.inclusion_proof(i), r)
    for old in (1, 3, 65_536, 70_001, 99_999):
        assert verify_consistency(old, log.size, log.root(old), r, log.consistency_proof(old))


# --- properties ------------------------------------------------------------------------


@functools.cache
def path_length(index: int, size: int) -> int:
    """How many hashes an inclusion proof of `index` in a tree of `size` holds."""
    return len(inclusion_proof(index, [b"\x00" * 32] * size))


@functools.cache
def proof_length(old_size: int, new_size: int) -> int:
    """How many hashes a consistency proof from `old_size` to `new_size` holds."""
    return len(consistency_proof(old_size, [b"\x00" * 32] * new_size))


# Sizes drawn uniformly (Hypothesis' own list sizes cluster near zero); the index prefix keeps
# entries distinct, since equal leaves could legitimately make a proof fit a second index.
leaf_lists = st.integers(1, 70).flatmap(
    lambda n: st.lists(st.binary(max_size=16), min_size=n, max_size=n).map(
        lambda blobs: [leaf_hash(i.to_bytes(1, "big") + blob) for i, blob in enumerate(blobs)]
    )
)


@settings(max_examples=100, deadline=None)
@given(leaves=leaf_lists)
def test_inclusion_round_trip_and_tamper(leaves: list[bytes]) -> None:
    size, r = len(leaves), root(leaves)
    for index, leaf in enumerate(leaves):
        proof = inclusion_proof(index, leaves)
        assert verify_inclusion(leaf, index, size, proof, r)
        assert not verify_inclusion(flip(leaf, index), index, size, proof, r)
        assert not verify_inclusion(leaf, index, size, proof, flip(r))
        for k in range(len(proof)):
            bad = [*proof[:k], flip(proof[k], index + k), *proof[k + 1 :]]
            assert not verify_inclusion(leaf, index, size, bad, r)
        for other in {(index + 1) % size, index ^ 1, size - 1 - index, size} - {index}:
            assert not verify_inclusion(leaf, other, size, proof, r)
        # A path fits another size whenever that size's path has the same shape (size and root
        # are bound by the signed tree head, not the proof); where the lengths differ it must fail.
        for other_size in (size - 1, size + 1):
            if index < other_size and path_length(index, other_size) != len(proof):
                assert not verify_inclusion(leaf, index, other_size, proof, r)


@settings(max_examples=100, deadline=None)
@given(leaves=leaf_lists)
def test_consistency_all_pairs(leaves: list[bytes]) -> None:
    log = MerkleLog(leaves)
    roots = [log.root(n) for n in range(len(leaves) + 1)]
    for new in range(len(leaves) + 1):
        for old in range(new + 1):
            proof = log.consistency_proof(old, new)
            assert verify_consistency(old, new, roots[old], roots[new], proof)
            assert not verify_consistency(old, new, flip(roots[old], new), roots[new], proof)
            for claimed_old, claimed_new in ((old, new + 1), (old - 1, new), (old + 1, new)):
                if 0 < claimed_old <= claimed_new and proof_length(claimed_old, claimed_new) != len(proof):
                    assert not verify_consistency(claimed_old, claimed_new, roots[old], roots[new], proof)
            if old < new and old > 0:
                assert not verify_consistency(old, new, roots[old], flip(roots[new]), proof)
                assert not verify_consistency(old, new, roots[old], roots[new], [flip(proof[0]), *proof[1:]])


@settings(max_examples=100, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_merkle_log_matches_pure_functions(leaves: list[bytes], data: st.DataObject) -> None:
    log = MerkleLog()
    for i, leaf in enumerate(leaves):
        assert log.append(leaf) == i
        assert log.root() == root(leaves[: i + 1])
    assert log.size == len(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    prefix = leaves[:size]
    assert log.root(size) == root(prefix)
    for index in range(size):
        assert log.inclusion_proof(index, size) == inclusion_proof(index, prefix)
    for old in range(size + 1):
        assert log.consistency_proof(old, size) == consistency_proof(old, prefix)
    assert log.inclusion_proof(0) == inclusion_proof(0, leaves)


def test_module_constants() -> None:
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.HASH_SIZE == 32
