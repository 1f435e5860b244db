"""Group Merkle trees (node_api.chain.group): roots, paths, proofs, their encoding."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from node_api.chain.group import GroupProof, encoded_proofs, fold, leaf, node, proofs, root_of, tree_of

SEAL = bytes(range(65))
RELAYER = "0x" + "ab" * 20


def hashes(n: int) -> list[bytes]:
    return [keccak(i.to_bytes(4, "big")) for i in range(n)]


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """RFC 6962's recursive definition (split at the largest power of two below n)."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node(rfc6962_root(leaves[:k]), rfc6962_root(leaves[k:]))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17, 100])
def test_every_path_leads_to_the_root_of_rfc6962s_shape(n: int) -> None:
    struct_hashes = hashes(n)
    root, group = proofs(struct_hashes, SEAL, RELAYER)
    assert root == root_of(struct_hashes) == rfc6962_root([leaf(h) for h in struct_hashes])
    for i, proof in enumerate(group):
        assert proof.root(struct_hashes[i]) == root
        assert GroupProof.decode(proof.encode()) == proof
        assert len(proof.encode()) != 65
        # Another record, another position or another size lead elsewhere (or nowhere).
        assert proof.root(keccak(b"other")) != root
        if n > 1:
            assert fold(leaf(struct_hashes[i]), (i + 1) % n, n, proof.path) != root
            # (The size alone may not change a left-edge path's root: the group seal signs it.)


def test_an_inner_node_is_no_leaf() -> None:
    a, b = hashes(2)
    inner = node(leaf(a), leaf(b))
    assert root_of([a, b]) == inner
    # A record whose struct hash were the inner node's children would still hash under 0x00.
    assert leaf(inner) != inner and root_of([inner]) != inner


def test_a_path_too_long_or_too_short_fits_nothing() -> None:
    struct_hashes = hashes(5)
    _, group = proofs(struct_hashes, SEAL, RELAYER)
    p = group[0]
    assert fold(leaf(struct_hashes[0]), 0, 5, (*p.path, p.path[0])) is None
    assert fold(leaf(struct_hashes[0]), 0, 5, p.path[:-1]) is None
    assert fold(leaf(struct_hashes[0]), 5, 5, p.path) is None
    assert GroupProof.decode(SEAL) is None and GroupProof.decode(b"\0" * 100) is None


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 200])
def test_a_groups_proofs_encoded_at_once_are_each_proofs_own_encoding(n: int) -> None:
    """What the submitter keeps for the indexer (``encoded_proofs``) is what ``GroupProof.encode`` stores."""
    struct_hashes = hashes(n)
    _, group = proofs(struct_hashes, SEAL, RELAYER)
    assert encoded_proofs(tree_of(struct_hashes), struct_hashes, SEAL, RELAYER) == [p.encode() for p in group]
    assert all(
        GroupProof.decode(b) == p
        for b, p in zip(
            encoded_proofs(tree_of(struct_hashes), struct_hashes, SEAL, RELAYER), group, strict=True
        )
    )
