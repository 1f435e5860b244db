"""The packed records of ``submitGroups``, written and read by hand: the same bytes web3 encodes,
read back exactly, and refused (None) wherever the ledger reverts (LedgerMalformedRecords)."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.chain.compiler import load_artifacts
from node_api.chain.contracts import Contracts, Deployment, carried_copies, compact_seal
from node_api.chain.packed import HAS_PROJECT, HAS_REF, groups_arguments, pack, unpack
from node_api.domain.records import ZERO32, Kind, Record

DEPLOYMENT = Deployment(620825, "0x" + "11" * 20, "0x" + "22" * 20, 1, "0x" + "00" * 32)
CONTRACTS = Contracts(load_artifacts(), DEPLOYMENT)
RELAYER = "0x" + "33" * 20

records_strategy = st.lists(
    st.tuples(
        st.sampled_from(list(Kind)),
        st.booleans(),  # has a project
        st.booleans(),  # has a ref
        st.binary(max_size=600),
    ),
    min_size=1,
    max_size=6,
)


def _records(shapes: list[tuple[Kind, bool, bool, bytes]]) -> list[Record]:
    return [
        Record(
            os.urandom(32),
            kind,
            os.urandom(32) if project else ZERO32,
            os.urandom(32) if ref else ZERO32,
            os.urandom(32),
            payload,
        )
        for kind, project, ref, payload in shapes
    ]


def _seal() -> bytes:
    s = int.from_bytes(os.urandom(32), "big") >> 2
    return os.urandom(32) + s.to_bytes(32, "big") + bytes([27 + os.urandom(1)[0] % 2])


@settings(max_examples=40, deadline=None)
@given(records_strategy, st.integers(min_value=1, max_value=3))
def test_groups_calldata_equals_web3_encoding_and_reads_back(
    shapes: list[tuple[Kind, bool, bool, bytes]], groups: int
) -> None:
    records = _records(shapes)
    group_of = [i % groups for i in range(len(records))]
    seals = [_seal() for _ in range(groups)]
    packed = pack(records)
    expected = CONTRACTS.ledger.encode_abi(
        "submitGroups", [packed, bytes(group_of), [compact_seal(s) for s in seals]]
    )
    data = CONTRACTS.submit_groups_data(records, group_of, seals)
    assert data == expected
    assert unpack(packed, len(records)) == [r.as_tuple() for r in records]
    copies = carried_copies(data, RELAYER)
    assert copies is not None and [c[0] for c in copies] == records
    # An absent project or ref costs no bytes.
    assert len(packed) == sum(
        67 + len(r.payload) + 32 * ((r.project != ZERO32) + (r.ref != ZERO32)) for r in records
    )


@settings(max_examples=40, deadline=None)
@given(records_strategy, st.integers(min_value=1, max_value=70))
def test_packed_records_that_do_not_fill_their_bytes_exactly_read_as_none(
    shapes: list[tuple[Kind, bool, bool, bytes]], cut: int
) -> None:
    records = _records(shapes)
    packed = pack(records)
    n = len(records)
    assert unpack(packed[: max(0, len(packed) - cut)], n) is None  # truncated
    assert unpack(packed + os.urandom(cut), n) is None  # bytes after the last record
    assert unpack(packed, n + 1) is None  # fewer records than the input names
    if n > 1:
        assert unpack(packed, n - 1) is None  # more records than it names


def test_a_length_or_flag_that_lies_reads_as_none_or_as_other_records() -> None:
    record = _records([(Kind.APPROVAL, True, False, b"\x01" * 64)])[0]
    packed = bytearray(pack([record]))
    assert packed[0] == Kind.APPROVAL | HAS_PROJECT
    at = 1 + 32 + 32 + 32
    packed[at : at + 2] = (65).to_bytes(2, "big")  # one byte past the end
    assert unpack(bytes(packed), 1) is None
    packed[at : at + 2] = (64).to_bytes(2, "big")
    packed[0] |= HAS_REF  # the digest read as the ref: the record no longer ends where the bytes do
    assert unpack(bytes(packed), 1) is None


def test_offsets_outside_the_input_read_as_no_records() -> None:
    records = _records([(Kind.APPROVAL, True, False, b"x")])
    data = bytes.fromhex(CONTRACTS.submit_groups_data(records, [0], [_seal()])[2:])
    body = bytearray(data[4:])
    body[0:32] = (len(body)).to_bytes(32, "big")  # the records' offset at the very end
    assert groups_arguments(bytes(body)) is None
    assert carried_copies(data[:4] + bytes(body), RELAYER) is None
    assert groups_arguments(bytes(data[4:40])) is None
    # A group without a seal: the ledger reverts (LedgerUnknownGroup), nothing is read.
    two_groups = CONTRACTS.submit_groups_data(records, [1], [_seal()])
    assert carried_copies(two_groups, RELAYER) is None
