"""The hot-path keccak256 is Ethereum's Keccak-256 (as eth_utils computes it), not SHA3-256."""

from __future__ import annotations

import hashlib

from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from node_api.domain.hashing import keccak256


def test_known_answer() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"") != hashlib.sha3_256(b"").digest()


@given(st.binary(max_size=2048))
def test_same_as_eth_utils(data: bytes) -> None:
    assert keccak256(data) == keccak(data)


def test_decoded_payloads_are_fresh_copies() -> None:
    from node_api.domain.records import Kind, decode_payload, encode_payload

    payload = encode_payload(
        Kind.EVENT,
        {"severity": 2, "category": "质量", "occurred_at": 0, "publish_until": 0,
         "evidence": [b"\x11" * 32], "restricted": b"\x22" * 32},
    )  # fmt: skip
    first = decode_payload(Kind.EVENT, payload)
    first["evidence"].append("changed")
    first["category"] = "changed"
    again = decode_payload(Kind.EVENT, payload)
    assert again["evidence"] == ["0x" + "11" * 32] and again["category"] == "质量"
