"""Compact approval payloads in a grouped input, crafted by a member with its own relayer key.

``submitGroups`` carries an approval's payload in its compact form (flag bit 5 of the packed
record, ``packed.compact_approval``: the numbers big-endian, the two strings as the item's length,
the item, then the document number; no ABI padding, no offsets). The ledger expands
it into the canonical ABI payload in memory and hashes and checks that, so a record's seal, hash and
entry are the same whichever form carried it. What the ledger refuses:

* a compact payload it cannot expand (another kind than an approval, an item that runs past the
  payload, a payload shorter than the fixed fields) reverts the whole input with
  ``LedgerMalformedRecords(index)``, as a packed record that runs past the end does, and the
  indexer's ``unpack`` reads no records from it either;
* a string longer than MAX_STRING_BYTES expands, and that record alone is refused with
  ``LedgerMalformedPayload``, as its canonical payload is;
* bytes added to or changed in a compact payload after sealing change its expansion, so the group's
  seal no longer recovers the organisation's key: every record of the group is refused.

Nothing of a refused record or a reverted input is written. The last test holds ``unpack`` to the
ledger on mutated inputs: it reads no records exactly when the ledger reverts the input.
"""

from __future__ import annotations

import dataclasses

import pytest
from eth_utils import keccak
from hypothesis import event, given, settings
from hypothesis import strategies as st

from node_api.chain.packed import COMPACT, HAS_PROJECT, HAS_REF, compact_approval, pack, unpack
from node_api.domain.records import ZERO32, Kind, Record, encode_payload
from tests.contracts.conftest import P
from tests.contracts.harness import Harness
from tests.contracts.payloads import approval_fields, catalogue_record, event_fields, item_code
from tests.contracts.test_group_fast_path import outcome
from tests.contracts.test_group_seals import nothing_written, rejected

HEAD = 1 + 32 + 32 + 32  # an approval's packed flags, uid, project and digest: then the payload's length
FIXED = 50  # the compact approval's stage ... restricted and the item's length


def approvals(h: Harness, n: int, **fields: object) -> list[Record]:
    return [h.record(Kind.APPROVAL, P, approval_fields(**fields)) for _ in range(n)]  # type: ignore[arg-type]


def packed_record(flags: int, record: Record, payload: bytes) -> bytes:
    """One packed record with a project and no ref, ``payload`` as it is."""
    return (
        bytes((flags,))
        + record.uid
        + record.project
        + record.digest
        + len(payload).to_bytes(2, "big")
        + payload
    )


def compact(record: Record) -> bytes:
    short = compact_approval(record.payload)
    assert short is not None
    return short


def test_a_record_compact_or_canonical_is_the_same_record(h: Harness) -> None:
    records = approvals(h, 3)
    compact_call = h.grouped(records, ["auth"] * 3)
    at = h.now() + 100  # both sends in a block of the same time: an entry's recordedAt is the block's
    snapshot = h.snapshot()
    h.next_block_at(at)
    receipt = h.transact(h.relayer, compact_call)
    # What the node's consumers derive from each RecordAdded and the input: the copy it names, its
    # record hash and sealer (`h.added`: the indexer's and the verifier's reading).
    via_compact = (
        [(e["uid"], e["recordHash"], e["sealer"]) for e in h.added(receipt)],
        [h.entry(r.uid) for r in records],
    )
    copies = [e["copy"][0] for e in h.added(receipt)]
    h.revert_to(snapshot)
    h.next_block_at(at)
    receipt = h.transact(h.relayer, h.grouped(records, ["auth"] * 3, compact=False))
    via_canonical = (
        [(e["uid"], e["recordHash"], e["sealer"]) for e in h.added(receipt)],
        [h.entry(r.uid) for r in records],
    )

    assert via_compact == via_canonical
    assert [hash_ for _, hash_, _ in via_compact[0]] == [h.sealer.digest(r) for r in records]
    assert {sealer for _, _, sealer in via_compact[0]} == {h.orgs["auth"].seal.address}
    # The indexer reads the canonical payload back from the compact input.
    assert copies == records
    assert len(pack(records)) < len(pack(records, compact=False)) - 3 * 200


@pytest.mark.parametrize(
    "craft",
    [
        "event_marked_compact",
        "item_past_the_payload",
        "shorter_than_the_fixed_fields",
        "empty",
    ],
)
def test_a_compact_payload_that_cannot_be_expanded_reverts_the_input(h: Harness, craft: str) -> None:
    first, second = approvals(h, 2)
    good = packed_record(Kind.APPROVAL | COMPACT | HAS_PROJECT, first, compact(first))
    short = compact(second)
    if craft == "event_marked_compact":
        second = h.record(Kind.EVENT, P, event_fields(1))
        bad = packed_record(Kind.EVENT | COMPACT | HAS_PROJECT, second, second.payload)
    elif craft == "item_past_the_payload":
        length = len(short) - FIXED + 1  # the item would take the document and one byte more
        bad = packed_record(
            Kind.APPROVAL | COMPACT | HAS_PROJECT,
            second,
            short[: FIXED - 2] + length.to_bytes(2, "big") + short[FIXED:],
        )
    elif craft == "shorter_than_the_fixed_fields":
        bad = packed_record(Kind.APPROVAL | COMPACT | HAS_PROJECT, second, short[: FIXED - 1])
    else:
        bad = packed_record(Kind.APPROVAL | COMPACT | HAS_PROJECT, second, b"")
    packed = good + bad
    # The member seals the group over whatever it likes: the input is refused before any seal counts.
    seal = h.group_seal([first, second], "auth")

    assert h.expect_revert(h.relayer, h.packed_call(packed, [0, 0], [seal]), "LedgerMalformedRecords") == (1,)
    nothing_written(h, [first, second])
    assert unpack(packed, 2) is None


@pytest.mark.parametrize("change", ["trailing_byte", "stage", "item_length", "restricted"])
def test_a_compact_payload_changed_after_sealing_is_refused_with_its_group(h: Harness, change: str) -> None:
    records = approvals(h, 3)
    seal = h.group_seal(records, "auth")
    parts = [packed_record(Kind.APPROVAL | COMPACT | HAS_PROJECT, r, compact(r)) for r in records]
    short = bytearray(compact(records[1]))
    if change == "trailing_byte":
        short += b"\x00"  # read as the document number's last byte
    elif change == "stage":
        short[0] ^= 3
    elif change == "item_length":
        length = int.from_bytes(short[FIXED - 2 : FIXED], "big")
        short[FIXED - 2 : FIXED] = (length - 1).to_bytes(
            2, "big"
        )  # the item's last byte becomes the document's
    else:
        short[30] ^= 1
    parts[1] = packed_record(Kind.APPROVAL | COMPACT | HAS_PROJECT, records[1], bytes(short))
    packed = b"".join(parts)
    carried = unpack(packed, 3)
    assert carried is not None and carried[1][5] != records[1].payload  # it expands, to another payload

    receipt = h.transact(h.relayer, h.packed_call(packed, [0, 0, 0], [seal]))

    assert rejected(h, receipt) == {r.uid: "LedgerInvalidSeal" for r in records}
    assert not h.events(receipt, "RecordAdded")
    nothing_written(h, records)


@pytest.mark.parametrize("field", ["item", "document_no"])
def test_a_compact_string_over_the_limit_is_refused_alone_as_its_canonical_payload_is(
    h: Harness, field: str
) -> None:
    good = approvals(h, 2)
    payload = encode_payload(Kind.APPROVAL, {**approval_fields(), field: "x" * 1025})
    long = dataclasses.replace(good[0], uid=h.uid(), payload=payload)
    records = [good[0], long, good[1]]
    packed = pack(records)
    assert packed[len(pack(records[:1]))] & COMPACT  # the long one travels compact

    receipt = h.transact(h.relayer, h.grouped(records, ["auth"] * 3))

    assert rejected(h, receipt) == {long.uid: "LedgerMalformedPayload"}
    assert [bytes(e["uid"]) for e in h.events(receipt, "RecordAdded")] == [good[0].uid, good[1].uid]
    nothing_written(h, [long])
    single = h.revert_of(h.relayer, h.submit_call(long, h.seal(long, "auth")))
    assert single is not None and single.name == "LedgerMalformedPayload"


def mutations(hows: list[str], min_size: int) -> st.SearchStrategy[list[tuple[str, int, int]]]:
    """Up to three changes to a packed input of three records: (how, which record, a value)."""
    return st.lists(
        st.tuples(
            st.sampled_from(hows),
            st.integers(min_value=0, max_value=2),  # which record
            st.integers(min_value=0, max_value=2**16 - 1),
        ),
        min_size=min_size,
        max_size=3,
    )


@settings(max_examples=80, deadline=None)
@given(changes=mutations(["flags", "payload_length", "item_length", "byte", "cut", "append"], min_size=1))
def test_unpack_reads_no_records_exactly_when_the_ledger_reverts_the_input(
    world: Harness, changes: list[tuple[str, int, int]]
) -> None:
    h = world
    records = [h.record(Kind.APPROVAL, P, approval_fields(stage=1 + i % 4)) for i in range(3)]
    seal = h.group_seal(records, "auth")
    packed = bytearray(pack(records))
    starts = [0, len(pack(records[:1])), len(pack(records[:2]))]
    for how, which, value in changes:
        at = starts[which]
        if at + HEAD + 2 + FIXED > len(packed) and how in ("flags", "payload_length", "item_length"):
            continue  # cut off by an earlier change
        if how == "flags":
            packed[at] = value & 0xFF
        elif how == "payload_length":
            packed[at + HEAD : at + HEAD + 2] = (value % 400).to_bytes(2, "big")
        elif how == "item_length":
            packed[at + HEAD + 2 + FIXED - 2 : at + HEAD + 2 + FIXED] = (value % 120).to_bytes(2, "big")
        elif how == "byte" and packed:
            packed[value % len(packed)] = value >> 8
        elif how == "cut":
            del packed[value % (len(packed) + 1) :]
        else:
            packed += bytes(value % 40)

    refused = h.revert_of(h.relayer, h.packed_call(bytes(packed), [0, 0, 0], [seal]))

    if unpack(bytes(packed), 3) is None:
        assert refused is not None and refused.name == "LedgerMalformedRecords", bytes(packed).hex()
    else:
        assert refused is None, refused.describe()


# Lengths around the word and the limits, for the strings a crafted compact payload carries.
_EDGE_LENGTHS = [0, 1, 31, 32, 33, 63, 64, 65, 1023, 1024, 1025]


@st.composite
def crafted_compact(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A compact approval payload written byte by byte as a member may craft it (not through
    ``compact_approval``), and whether its record carries a ref (which sends it down the general
    path): any stage, decision, version and times, an item of the world's catalogue or any bytes,
    a document number of any bytes, their lengths around the word and the limits."""
    stage = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 255]))
    decision = draw(st.sampled_from([0, 1, 2, 3, 4, 255]))
    if draw(st.booleans()):
        item = item_code(min(max(stage, 1), 4), decision if decision <= 3 else 0).encode()
        version = draw(st.sampled_from([1, 2, 0xFFFFFFFF]))
    else:
        item = draw(st.binary(max_size=3)) + bytes([0xA5]) * draw(st.sampled_from(_EDGE_LENGTHS))
        version = draw(st.integers(min_value=0, max_value=2**32 - 1))
    document = bytes([0x5A]) * draw(st.sampled_from(_EDGE_LENGTHS)) + draw(st.binary(max_size=3))
    times = draw(st.sampled_from([0, 1, 2**40 - 1])).to_bytes(5, "big") + draw(
        st.integers(min_value=0, max_value=2**40 - 1)
    ).to_bytes(5, "big")
    short = (
        bytes((stage, decision))
        + version.to_bytes(4, "big")
        + times
        + draw(st.binary(min_size=32, max_size=32))
        + len(item).to_bytes(2, "big")
        + item
        + document
    )
    return short, draw(st.booleans())


@settings(max_examples=60, deadline=None)
@given(crafted=st.lists(crafted_compact(), min_size=1, max_size=4))
def test_crafted_compact_payloads_are_the_records_unpack_reads_and_submit_batch_decides(
    world: Harness, crafted: list[tuple[bytes, bool]]
) -> None:
    """A member seals records over the canonical payloads ``unpack`` reads from its own compact
    bytes and sends those bytes: the ledger's expansion (in ``_leaves`` for the seal, in place on
    the fast path, ``_expandApproval`` on the general path, one record after another in the same
    memory) is that payload, so no record is refused for its seal, and every record is decided as
    ``submitBatch`` decides its canonical payload, and as the same records packed canonical are."""
    h = world
    records, parts = [], []
    for short, with_ref in crafted:
        uid = h.uid("auth")
        ref = keccak(b"no such record" + uid) if with_ref else ZERO32
        flags = Kind.APPROVAL | COMPACT | HAS_PROJECT | (HAS_REF if with_ref else 0)
        head = bytes((flags,)) + uid + P + (ref if with_ref else b"") + keccak(b"document" + uid)
        parts.append(head + len(short).to_bytes(2, "big") + short)
        records.append(Record(uid, Kind.APPROVAL, P, ref, keccak(b"document" + uid), b""))
    packed = b"".join(parts)
    read = unpack(packed, len(records))
    assert read is not None
    records = [dataclasses.replace(r, payload=fields[5]) for r, fields in zip(records, read, strict=True)]
    assert [compact_approval(r.payload) for r in records] == [short for short, _ in crafted]
    seal = h.group_seal(records, "auth")
    timestamp = h.now() + 100

    sent = outcome(h, h.packed_call(packed, [0] * len(records), [seal]), records, timestamp)
    canonical = outcome(h, h.grouped(records, ["auth"] * len(records), compact=False), records, timestamp)
    alone = outcome(h, h.batch_call(records, [h.seal(r, "auth") for r in records]), records, timestamp)

    refusals = [
        h.contracts.decode_revert(log[1]["reason"])
        for log in sent[0]
        if log is not None and log[0] == "RecordRejected"
    ]
    assert all(r is not None and r.name != "LedgerInvalidSeal" for r in refusals), refusals
    assert sent == canonical == alone


def record_starts(packed: bytes | bytearray) -> list[int]:
    """Where each packed record begins, read as the ledger reads them (as far as they go)."""
    starts, at = [], 0
    while at + 1 <= len(packed):
        starts.append(at)
        flags = packed[at]
        p = at + 33 + 32 * (bool(flags & HAS_PROJECT) + bool(flags & HAS_REF)) + 32
        at = p + 2 + int.from_bytes(packed[p : p + 2], "big")
    return starts


@settings(max_examples=80, deadline=None)
@given(
    documents=st.lists(st.sampled_from(_EDGE_LENGTHS[:8]), min_size=3, max_size=3),
    changes=mutations(["flags", "payload_length", "item_length", "byte", "grow", "shrink"], min_size=0),
)
def test_what_the_indexer_reads_of_a_mutated_input_is_what_the_ledger_decided(
    world: Harness, documents: list[int], changes: list[tuple[str, int, int]]
) -> None:
    """A member mutates a sealed compact input (flags, lengths, any byte of a record, bytes added
    to or cut from a payload with its length made to match) and sends it. Unless the ledger
    reverts it (and then ``unpack`` reads nothing), each copy the input carries has exactly one
    log, and every copy the ledger accepts is one that was sealed, read by the indexer
    (``h.added``: ``unpack``, ``CopyCounter``) as that record, sealed by auth: the indexer never
    shows content the chain's hash does not commit to."""
    h = world
    records = [
        h.record(
            Kind.APPROVAL,
            P,
            {**approval_fields(stage=1 + i % 4), "document_no": "号" * (n // 3) + "x" * (n % 3)},
        )
        for i, n in enumerate(documents)
    ]
    seal = h.group_seal(records, "auth")
    packed = bytearray(pack(records))
    for how, which, value in changes:
        starts = record_starts(packed)
        if which >= len(starts):
            continue
        at = starts[which]
        end = starts[which + 1] if which + 1 < len(starts) else len(packed)
        length_at = at + HEAD  # with a project and no ref, as packed
        if how == "flags":
            packed[at] = value & 0xFF
        elif how == "byte":
            packed[at + value % (end - at)] = value >> 8
        elif length_at + 2 > len(packed):
            continue
        elif how == "payload_length":
            packed[length_at : length_at + 2] = (value % 400).to_bytes(2, "big")
        elif how == "item_length" and length_at + 2 + FIXED <= len(packed):
            packed[length_at + FIXED : length_at + 2 + FIXED] = (value % 120).to_bytes(2, "big")
        elif how in ("grow", "shrink"):
            size = int.from_bytes(packed[length_at : length_at + 2], "big")
            spot = length_at + 2 + value % (size + 1)
            count = 1 + (value >> 8) % 40
            if how == "grow":
                packed[spot:spot] = bytes([value & 0xFF]) * count
                size += count
            else:
                count = min(count, length_at + 2 + size - spot)
                del packed[spot : spot + count]
                size -= count
            packed[length_at : length_at + 2] = size.to_bytes(2, "big")
    call = h.packed_call(bytes(packed), [0, 0, 0], [seal])

    refused = h.revert_of(h.relayer, call)
    if refused is not None:
        assert refused.name == "LedgerMalformedRecords", refused.describe()
        assert unpack(bytes(packed), 3) is None
        event("reverted")
        return
    snapshot = h.snapshot()
    try:
        receipt = h.transact(h.relayer, call)
        read = unpack(bytes(packed), 3)
        assert read is not None
        logs = h.events(receipt, "RecordAdded") + h.events(receipt, "RecordRejected")
        assert sorted(bytes(e["uid"]) for e in logs) == sorted(uid for uid, *_ in read)
        accepted = h.added(receipt)
        event(f"{len(accepted)} accepted")
        for added in accepted:
            assert added["copy"] is not None
            assert added["copy"][0] in records
            assert added["sealer"] == h.orgs["auth"].seal.address
    finally:
        h.revert_to(snapshot)


def test_compact_payloads_at_the_packed_forms_limits_are_decided_as_submit_batch_decides(h: Harness) -> None:
    """The largest compact payloads (65,535 bytes: an item or a document number of 65,485 bytes,
    whose canonical payloads do not fit the packed form) and the smallest (50 bytes, both strings
    empty), between ordinary approvals: each decided alone, as ``submitBatch`` decides its
    canonical payload, the approvals around them accepted."""
    good = approvals(h, 3)
    limit = 2**16 - 1 - FIXED

    def odd(**fields: object) -> Record:
        payload = encode_payload(Kind.APPROVAL, {**approval_fields(), **fields})
        return dataclasses.replace(good[0], uid=h.uid(), payload=payload)

    records = [
        good[0],
        odd(item="i" * limit, document_no=""),
        good[1],
        odd(item="", document_no="d" * limit),
        odd(item="", document_no=""),
        good[2],
    ]
    packed = pack(records)
    assert all(flags & COMPACT for flags in (packed[at] for at in record_starts(packed)))
    assert len(packed) == 6 * (HEAD + 2) + 3 * len(compact(good[0])) + 2 * (2**16 - 1) + FIXED
    timestamp = h.now() + 100

    grouped = outcome(h, h.grouped(records, ["auth"] * 6), records, timestamp)
    alone = outcome(h, h.batch_call(records, [h.seal(r, "auth") for r in records]), records, timestamp)

    assert grouped == alone
    receipt = h.transact(h.relayer, h.grouped(records, ["auth"] * 6))
    assert rejected(h, receipt) == {
        records[1].uid: "LedgerMalformedPayload",
        records[3].uid: "LedgerMalformedPayload",
        records[4].uid: "LedgerUnknownItem",
    }
    assert [bytes(e["uid"]) for e in h.events(receipt, "RecordAdded")] == [r.uid for r in good]


def test_the_compact_bit_on_any_other_kind_reverts_the_input_and_reads_as_no_records(h: Harness) -> None:
    """Kinds 0 and 2-31 (the known ones and those the low 5 bits can name beyond them) marked
    compact, carrying an approval's compact payload, which the ledger would expand: every such
    input reverts with LedgerMalformedRecords naming that record, and ``unpack`` reads nothing."""
    first, second = approvals(h, 2)
    good = packed_record(Kind.APPROVAL | COMPACT | HAS_PROJECT, first, compact(first))
    seal = h.group_seal([first, second], "auth")
    for kind in [k for k in range(32) if k != Kind.APPROVAL]:
        packed = good + packed_record(kind | COMPACT | HAS_PROJECT, second, compact(second))
        refused = h.expect_revert(h.relayer, h.packed_call(packed, [0, 0], [seal]), "LedgerMalformedRecords")
        assert refused == (1,), kind
        assert unpack(packed, 2) is None, kind
    nothing_written(h, [first, second])


def test_approvals_of_items_whose_codes_end_at_and_around_a_word_are_decided_as_submit_batch_decides(
    h: Harness,
) -> None:
    """Catalogue items whose codes are 1, 31, 32, 33 and 64 bytes long (the limit), each named by a
    compact approval the fast path hashes the code of in place, one after another, with documents
    of 0-65 bytes and a wrong version among them: accepted and refused as ``submitBatch`` decides."""
    codes = ["Z", "Z" * 30 + "1", "Z" * 31 + "2", "Z" * 32 + "3", "Z" * 63 + "4"]
    for code in codes:
        h.submit(catalogue_record(h, code), "cat")
    records = [
        h.record(
            Kind.APPROVAL,
            P,
            {
                **approval_fields(item=code, item_version=1 + (i == 3)),
                "document_no": "x" * [0, 31, 32, 33, 65][i % 5],
            },
        )
        for i, code in enumerate(codes + codes[::-1])
        if i < 5 or code != codes[0]
    ]
    assert len(records) == 9
    timestamp = h.now() + 100

    grouped = outcome(h, h.grouped(records, ["auth"] * len(records)), records, timestamp)
    canonical = outcome(h, h.grouped(records, ["auth"] * len(records), compact=False), records, timestamp)
    alone = outcome(h, h.batch_call(records, [h.seal(r, "auth") for r in records]), records, timestamp)

    assert grouped == canonical == alone
    added = [log for log in grouped[0] if log is not None and log[0] == "RecordAdded"]
    assert len(added) == len(records) - 1  # all but the wrong version
