"""A record the ledger accepted from an input that is not the standard ABI encoding, read as the ledger read it.

Solidity's calldata decoder follows offsets wherever they point (a tail offset is compared as a
signed number, so it may point back before the array or tuple that names it) and never looks
at ABI padding; eth_abi refuses both (``InvalidPointer``, ``NonEmptyPaddingBytes``). A member's
relayer that sends a ``submitBatch`` / ``submit`` laid out so — its own records, or records
other organisations sealed on their own, which no seal binds to a relayer or an encoding — got
them accepted while the indexer and the verifiers, decoding with eth_abi, found no copy: the
records were indexed as unreadable with a zero sealer (``RecordAdded`` names none any more) and
no bundle of them verified. Each test sends such an input to the ledger of a real chain, then
checks what the node indexed and that ``verify-bundle`` accepts the bundle.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from eth_utils import keccak

from localnode import NodeProcess
from node_api.chain.contracts import SEAL_TUPLE, SUBMIT, SUBMIT_BATCH, compact_seal
from node_api.domain.records import Record
from tests.integration.test_repeated_uid import bundle_of, bundled, event, logged, verify_bundle
from tests.support.member import DishonestMember
from tests.support.records import register

pytestmark = pytest.mark.chain

_WORD = 1 << 256


def _word(n: int) -> bytes:
    return (n % _WORD).to_bytes(32, "big")


def _struct(record: Record) -> bytes:
    """A Record tuple in the standard encoding (its payload right after its head)."""
    payload = record.payload + bytes(-len(record.payload) % 32)
    return b"".join((record.uid, _word(int(record.kind)), record.project, record.ref, record.digest,
                     _word(0xC0), _word(len(record.payload)), payload))  # fmt: skip


def batch_pointing_back(record: Record, seal: bytes) -> str:
    """``submitBatch([record], [seal])`` with the record's tuple placed before the array that names
    it: the array's one element offset is negative (two's complement), which Solidity follows."""
    selector = keccak(text=SUBMIT_BATCH)[:4]
    r, vs = compact_seal(seal)
    struct = _struct(record)
    records_at = 0x40 + len(struct)
    seals_at = records_at + 0x40
    element = 0x40 - (records_at + 0x20)  # from the array's items to the tuple: negative
    body = b"".join((_word(records_at), _word(seals_at), struct, _word(1), _word(element), _word(1), r, vs))
    return "0x" + (selector + body).hex()


def submit_pointing_back(record: Record, seal: bytes) -> str:
    """``submit(record, seal)`` with the record's payload placed before its tuple (a negative offset)."""
    selector = keccak(text=SUBMIT)[:4]
    r, vs = compact_seal(seal)
    payload = _word(len(record.payload)) + record.payload + bytes(-len(record.payload) % 32)
    struct_at = 0x60 + len(payload)
    head = b"".join((record.uid, _word(int(record.kind)), record.project, record.ref, record.digest))
    body = b"".join((_word(struct_at), r, vs, payload, head, _word(0x60 - struct_at)))
    return "0x" + (selector + body).hex()


assert SEAL_TUPLE == "(bytes32,bytes32)"  # the layouts above write a seal as two words


@pytest.mark.parametrize("call", ["submitBatch", "submit"])
def test_a_record_accepted_from_a_non_standard_encoding_is_indexed_with_its_content_and_sealer(
    node: NodeProcess, code: str, tmp_path: Path, call: str
) -> None:
    register(node, code)
    supervisor = DishonestMember(node, "scjgj")
    record = event(supervisor, code, supervisor.uid(os.urandom(8)), 2)
    seal = supervisor.seal(record)
    crafted = (batch_pointing_back if call == "submitBatch" else submit_pointing_back)(record, seal)
    receipt = supervisor._send(crafted)
    assert int(receipt["status"], 16) == 1
    assert logged(receipt, supervisor) == ["RecordAdded"]

    view = supervisor.wait_confirmed(record.uid)
    assert view["sealer"] == supervisor.seal_key.address
    assert view["digest"] == "0x" + record.digest.hex()
    assert view["fields"]["severity"] in (2, "general")

    bundle = bundle_of(node, code)
    assert bundled(bundle, record.uid)["sealer"] == supervisor.seal_key.address
    done = verify_bundle(node, bundle, tmp_path / "bundle.json")
    assert done.returncode == 0, done.stdout + done.stderr
