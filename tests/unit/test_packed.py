"""The packed records of ``submitGroups``, written and read by hand: the same bytes web3 encodes,
read back exactly, and refused (None) wherever the ledger reverts (LedgerMalformedRecords).

An approval's payload travels in its compact form (``compact_approval``) whenever it is in the
canonical ABI layout, and reads back as that canonical payload; tests/contracts/test_compact_payload.py
holds ``unpack`` to the ledger on mutated inputs."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.chain.compiler import load_artifacts
from node_api.chain.contracts import Contracts, Deployment, carried_copies, compact_seal
from node_api.chain.packed import (
    COMPACT,
    HAS_PROJECT,
    HAS_REF,
    compact_approval,
    expand_approval,
    groups_arguments,
    pack,
    unpack,
)
from node_api.domain.records import ZERO32, Kind, Record, encode_payload

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
        67 + len(_carried_payload(r)) + 32 * ((r.project != ZERO32) + (r.ref != ZERO32)) for r in records
    )


def _carried_payload(record: Record) -> bytes:
    """The payload as ``pack`` carries it: an approval's compact form where it has one."""
    short = compact_approval(record.payload) if record.kind == Kind.APPROVAL else None
    return record.payload if short is None else short


# Any value an approval's canonical payload can hold (strings up to twice MAX_STRING_BYTES: the form
# carries those too, and the ledger refuses them as it refuses their canonical payload).
approval_strategy = st.fixed_dictionaries(
    {
        "stage": st.integers(min_value=0, max_value=2**8 - 1),
        "decision": st.integers(min_value=0, max_value=2**8 - 1),
        "item": st.text(max_size=70) | st.text(min_size=1020, max_size=2048, alphabet="x审"),
        "item_version": st.integers(min_value=0, max_value=2**32 - 1),
        "document_no": st.text(max_size=70) | st.text(min_size=1020, max_size=2048, alphabet="x审"),
        "issued_at": st.integers(min_value=0, max_value=2**40 - 1)
        | st.integers(min_value=0, max_value=2**64 - 1),
        "valid_until": st.integers(min_value=0, max_value=2**40 - 1)
        | st.integers(min_value=0, max_value=2**64 - 1),
        "restricted": st.binary(min_size=32, max_size=32),
    }
)


@settings(max_examples=150, deadline=None)
@given(approval_strategy)
def test_every_canonical_approval_payload_with_times_in_40_bits_has_a_compact_form_that_expands_back(
    fields: dict[str, object],
) -> None:
    payload = encode_payload(Kind.APPROVAL, fields)
    short = compact_approval(payload)
    if any(int(str(fields[f])) >> 40 for f in ("issued_at", "valid_until")):
        assert short is None  # a time after 2^40 - 1 has no compact form: the payload travels as it is
        return
    assert short is not None
    item, document = (str(fields[f]).encode() for f in ("item", "document_no"))
    assert len(short) == 50 + len(item) + len(document) < len(payload)
    assert expand_approval(short) == payload
    numbers = [fields[f] for f in ("stage", "decision", "item_version")]
    assert all(isinstance(n, int) for n in numbers)
    stage, decision, version = (int(str(n)) for n in numbers)
    assert short[:6] == bytes((stage, decision)) + version.to_bytes(4, "big")


@settings(max_examples=40, deadline=None)
@given(st.lists(approval_strategy, min_size=1, max_size=4), records_strategy)
def test_packed_approvals_travel_compact_and_read_back_canonical(
    approvals: list[dict[str, object]], others: list[tuple[Kind, bool, bool, bytes]]
) -> None:
    records = _records([(Kind.APPROVAL, True, False, encode_payload(Kind.APPROVAL, f)) for f in approvals])
    records += _records(others)
    packed = pack(records)
    assert unpack(packed, len(records)) == [r.as_tuple() for r in records]
    assert unpack(pack(records, compact=False), len(records)) == [r.as_tuple() for r in records]
    at = 0
    for r in records:
        carried = _carried_payload(r)
        assert bool(packed[at] & COMPACT) == (carried != r.payload)
        at += 67 + len(carried) + 32 * ((r.project != ZERO32) + (r.ref != ZERO32))
    assert at == len(packed) < len(pack(records, compact=False)) + 1


@settings(max_examples=150, deadline=None)
@given(
    approval_strategy,
    st.integers(min_value=0, max_value=2**12),
    st.binary(min_size=1, max_size=33),
    st.sampled_from(["replace", "insert", "cut"]),
)
def test_a_compact_form_expands_to_exactly_the_payload_it_stands_for(
    fields: dict[str, object], at: int, data: bytes, how: str
) -> None:
    payload = encode_payload(Kind.APPROVAL, fields)
    at %= len(payload)
    if how == "replace":
        changed = payload[:at] + data + payload[at + len(data) :]
    elif how == "insert":
        changed = payload[:at] + data + payload[at:]
    else:
        changed = payload[:at]
    short = compact_approval(changed)
    # A compact form always expands to exactly the payload it stands for, never to another: a payload
    # off the canonical layout has none (it travels as it is, and the ledger refuses it as malformed).
    assert short is None or expand_approval(short) == changed
    if how == "cut":
        assert short is None


DOCUMENT_NO = "庄发改发〔2026〕23号"


def approval_payload(**fields: object) -> bytes:
    """An approval's canonical payload: ``fields`` over the demo's."""
    return encode_payload(
        Kind.APPROVAL,
        {
            "stage": 1,
            "decision": 0,
            "item": "T-S1",
            "item_version": 1,
            "document_no": DOCUMENT_NO,
            "issued_at": 1_772_409_600,
            "valid_until": 0,
            "restricted": bytes(range(32)),
            **fields,
        },
    )


def test_every_byte_changed_in_a_canonical_payload_leaves_no_compact_form_or_its_own() -> None:
    payload = approval_payload(stage=2, decision=1, item="T-S2-CREDIT", item_version=3)
    kept = 0
    for at in range(len(payload)):
        for flip in (0x01, 0x80):
            changed = payload[:at] + bytes((payload[at] ^ flip,)) + payload[at + 1 :]
            short = compact_approval(changed)
            assert short is None or expand_approval(short) == changed, at
            kept += short is not None
    # Only the bytes the compact form carries keep one: the numbers' own bytes, restricted, the strings.
    # (the times' three high bytes are not carried: a time there has no compact form)
    assert kept == 2 * (1 + 1 + 4 + 5 + 5 + 32 + len("T-S2-CREDIT") + len(DOCUMENT_NO.encode()))


def test_a_compact_payload_that_cannot_be_expanded_reads_as_no_records() -> None:
    payload = approval_payload()
    short = compact_approval(payload)
    assert short is not None and expand_approval(short) == payload
    fixed = 50  # the numbers, restricted and the item's length
    assert expand_approval(short[: fixed - 1]) is None  # shorter than the fixed fields
    item_past_the_end = (len(short) - fixed + 1).to_bytes(2, "big")
    assert expand_approval(short[: fixed - 2] + item_past_the_end + short[fixed:]) is None
    no_document = (len(short) - fixed).to_bytes(2, "big")
    assert expand_approval(short[: fixed - 2] + no_document + short[fixed:]) is not None
    # A time after 2^40 - 1 has no compact form: the approval travels canonical.
    late = approval_payload(valid_until=2**40)
    assert compact_approval(late) is None and compact_approval(approval_payload(valid_until=2**40 - 1))
    assert unpack(pack(_records([(Kind.APPROVAL, True, False, late)])), 1) is not None
    record = _records([(Kind.APPROVAL, True, False, payload)])[0]
    packed = bytearray(pack([record]))
    assert packed[0] == Kind.APPROVAL | COMPACT | HAS_PROJECT
    packed[0] = Kind.EVENT | COMPACT | HAS_PROJECT  # no other kind has a compact form
    assert unpack(bytes(packed), 1) is None


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
    record = _records([(Kind.APPROVAL, True, False, b"\x01" * 64)])[0]  # no canonical layout: sent as it is
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
