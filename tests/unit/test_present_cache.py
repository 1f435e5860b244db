"""``present_fields`` keeps its answers for recent payloads (supervision asks for every record of a
project at each assessment): each answer must still be a fresh dict that its caller may change."""

from __future__ import annotations

import os

from eth_abi import encode

from node_api.domain.records import Kind, Opening
from node_api.ledger import reader
from node_api.ledger.reader import present_fields


def _event(evidence: list[bytes]) -> tuple[bytes, Opening]:
    opening = Opening(os.urandom(32), encode(["bytes"], ["现场".encode()]))
    payload = encode(["uint8", "bytes", "uint64", "uint64", "bytes32[]", "bytes32"],
                     [3, "质量安全".encode(), 1_782_864_000, 1_877_472_000, evidence, opening.commitment])  # fmt: skip
    return payload, opening


def test_a_kept_answer_is_the_computed_one_and_a_fresh_copy_each_time() -> None:
    payload, _ = _event([b"\x11" * 32, b"\x22" * 32])
    first = present_fields(Kind.EVENT, payload)
    assert first == reader._present(Kind.EVENT, payload, None)[0]
    assert first["occurred_at"] == "2026-07-01" and first["severity"] == "serious"
    first["category"] = "changed"
    first["evidence"].append("0x" + "33" * 32)
    again = present_fields(Kind.EVENT, payload)
    assert again["category"] == "质量安全" and again["evidence"] == ["0x" + "11" * 32, "0x" + "22" * 32]
    assert again is not first and again["evidence"] is not first["evidence"]


def test_an_opened_answer_is_not_kept_for_a_public_read() -> None:
    payload, opening = _event([])
    assert present_fields(Kind.EVENT, payload, opening)["note"] == "现场"
    assert "note" not in present_fields(Kind.EVENT, payload)
    assert present_fields(Kind.EVENT, payload, opening)["note"] == "现场"
