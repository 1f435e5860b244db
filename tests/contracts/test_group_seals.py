"""Group seals (``submitGroups``): one seal per organisation and batch over a Merkle root.

The ledger recomputes each group's root from the records in the input and recovers the
group seal over it, so a record under a group seal is sealed exactly as one with its own
seal. The attacks are a member's relayer sending crafted inputs: a root that does not
match its records, a root sealed by another organisation's key, a record moved between
groups, a group seal replayed in another batch, for another relayer or another chain,
leaf/node confusion, and packed records that do not fill their bytes exactly (truncated, a
length pointing past the end, a record smuggled between groups). Every one is refused and
nothing of it is written.
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from node_api.chain.group import GroupProof, leaf, root_of
from node_api.chain.packed import COMPACT, HAS_PROJECT, HAS_REF, compact_approval, pack, unpack
from node_api.chain.seal import Sealer, struct_hash
from node_api.chain.signer import TransactionSigner
from node_api.domain.records import ZERO32, Kind, Record, Status
from tests.contracts.conftest import P
from tests.contracts.harness import Harness, account
from tests.contracts.payloads import approval_fields, event_fields, reason


def approvals(h: Harness, n: int, org: str = "auth") -> list[Record]:
    return [h.record(Kind.APPROVAL, P, approval_fields(), org=org) for _ in range(n)]


def rejected(h: Harness, receipt: object) -> dict[bytes, str]:
    """The refused records of a receipt: uid -> the custom error's name."""
    out = {}
    for event in h.events(receipt, "RecordRejected"):  # type: ignore[arg-type]
        decoded = h.contracts.decode_revert(event["reason"])
        assert decoded is not None
        out[bytes(event["uid"])] = decoded.name
    return out


def nothing_written(h: Harness, records: list[Record]) -> None:
    for r in records:
        assert h.entry(r.uid)["kind"] == 0, f"record {r.uid.hex()} was written"


# Accepted ------------------------------------------------------------------------------------


def test_one_seal_per_organisation_accepts_interleaved_records_in_input_order(h: Harness) -> None:
    ours = approvals(h, 3)
    event = h.record(Kind.EVENT, P, event_fields(1))  # the supervisor's
    records = [ours[0], event, ours[1], ours[2]]
    orgs = ["auth", "sup", "auth", "auth"]

    receipt = h.transact(h.relayer, h.grouped(records, orgs))

    added = h.added(receipt)
    assert [bytes(e["uid"]) for e in added] == [r.uid for r in records]  # input order
    for e, record, org in zip(added, records, orgs, strict=True):
        assert e["sealer"] == h.orgs[org].seal.address
        assert e["issuer"] == h.orgs[org].id
        assert e["recordHash"] == h.sealer.digest(record)
    assert [h.entry(r.uid)["kind"] for r in records] == [r.kind for r in records]


def test_records_changing_earlier_records_of_the_batch_apply_in_input_order_across_groups(h: Harness) -> None:
    event = h.record(Kind.EVENT, P, event_fields(1))
    approval = h.record(Kind.APPROVAL, P, approval_fields())
    resolution = h.record(Kind.RESOLUTION, P, reason("已整改"), ref=event.uid)
    revocation = h.record(Kind.REVOCATION, P, reason(), ref=approval.uid)
    records = [event, approval, resolution, revocation]

    receipt = h.transact(h.relayer, h.grouped(records, ["sup", "auth", "sup", "auth"]))

    assert not h.events(receipt, "RecordRejected")
    assert h.entry(event.uid)["status"] == Status.RESOLVED
    assert h.entry(approval.uid)["status"] == Status.REVOKED
    # The same changes before what they change are refused, whatever their groups.
    first = h.record(Kind.APPROVAL, P, approval_fields())
    early = h.record(Kind.REVOCATION, P, reason(), ref=first.uid)
    receipt = h.transact(h.relayer, h.grouped([early, first], ["auth", "auth"]))
    assert rejected(h, receipt) == {early.uid: "LedgerUnknownRecord"}


def test_each_record_is_provable_by_its_leaf_path_root_and_group_seal(h: Harness) -> None:
    records = approvals(h, 5)  # an odd count: a node moves up unchanged
    receipt = h.transact(h.relayer, h.grouped(records, ["auth"] * 5))

    carried = h.carried(receipt)
    root = root_of([struct_hash(r) for r in records])
    for i, record in enumerate(records):
        ((copy, blob),) = carried[record.uid]
        assert copy == record
        proof = GroupProof.decode(blob)
        assert proof is not None and (proof.index, proof.count) == (i, 5)
        assert proof.root(struct_hash(record)) == root
        assert h.sealer.signer(record, blob) == h.orgs["auth"].seal.address
        # A changed record leads to another root, which no key of the consortium sealed.
        changed = Record(record.uid, record.kind, record.project, record.ref, keccak(b"x"), record.payload)
        assert h.sealer.signer(changed, blob) != h.orgs["auth"].seal.address


def test_the_ledger_hashes_the_tree_as_the_node_does(h: Harness) -> None:
    for n in (1, 2, 3, 5, 8, 13):
        hashes = [keccak(bytes([i])) for i in range(n)]
        assert h.ledger.functions.groupRoot(hashes).call() == root_of(hashes)
    assert h.ledger.functions.hashGroup(b"\x01" * 32, 3, h.relayer.address).call() == h.sealer.group_digest(
        b"\x01" * 32, 3, h.relayer.address
    )


def test_every_rule_still_applies_to_each_record_of_a_group(h: Harness) -> None:
    good = h.record(Kind.APPROVAL, P, approval_fields())
    unknown_ref = h.record(Kind.REVOCATION, P, reason("revoke"), ref=keccak(b"nothing"))
    # An event by an approval authority: the supervisor role is missing.
    event = h.record(Kind.EVENT, P, event_fields(1), org="auth")
    receipt = h.transact(h.relayer, h.grouped([good, unknown_ref, event], ["auth"] * 3))

    assert rejected(h, receipt) == {unknown_ref.uid: "LedgerUnknownRecord", event.uid: "LedgerMissingRole"}
    assert h.entry(good.uid)["kind"] == Kind.APPROVAL
    nothing_written(h, [unknown_ref, event])


# Attacks -------------------------------------------------------------------------------------


def test_a_root_that_does_not_match_its_records_is_refused(h: Harness) -> None:
    records = approvals(h, 3)
    seal = h.group_seal(records, "auth")
    swapped = approvals(h, 1)[0]  # one record replaced after sealing

    receipt = h.transact(h.relayer, h.groups_call([records[0], records[1], swapped], [0, 0, 0], [seal]))

    assert set(rejected(h, receipt).values()) == {"LedgerInvalidSeal"}
    assert len(rejected(h, receipt)) == 3
    nothing_written(h, [*records, swapped])


def test_a_root_sealed_by_another_organisations_key_is_refused(h: Harness) -> None:
    records = approvals(h, 3)  # in auth's namespace
    receipt = h.transact(h.relayer, h.groups_call(records, [0, 0, 0], [h.group_seal(records, "sup")]))

    assert set(rejected(h, receipt).values()) == {"LedgerUidNotIssuers"}
    nothing_written(h, records)


def test_a_record_moved_to_another_organisations_group_is_refused(h: Harness) -> None:
    ours = approvals(h, 2)
    theirs = h.record(Kind.EVENT, P, event_fields(1))
    seals = [h.group_seal(ours, "auth"), h.group_seal([theirs], "sup")]

    # Moved as sealed: both recomputed roots differ from what was sealed.
    moved = h.transact(h.relayer, h.groups_call([ours[0], ours[1], theirs], [0, 1, 1], seals))
    assert set(rejected(h, moved).values()) == {"LedgerInvalidSeal"}
    nothing_written(h, [*ours, theirs])

    # Re-sealed by the member whose group it joined: not its namespace.
    resealed = [seals[0], h.group_seal([ours[1], theirs], "sup")]
    receipt = h.transact(h.relayer, h.groups_call([ours[0], ours[1], theirs], [0, 1, 1], resealed))
    refused = rejected(h, receipt)
    assert refused[ours[0].uid] == "LedgerInvalidSeal"  # auth's root lost a record
    assert refused[ours[1].uid] == "LedgerUidNotIssuers"
    assert h.entry(theirs.uid)["kind"] == Kind.EVENT  # the member's own record stands
    nothing_written(h, ours)


def test_a_group_seal_replayed_in_another_batch_is_refused(h: Harness) -> None:
    records = approvals(h, 2)
    seal = h.group_seal(records, "auth")
    h.transact(h.relayer, h.groups_call(records, [0, 0], [seal]))
    before = [h.entry(r.uid) for r in records]

    # The same group again: every record is a duplicate, nothing changes.
    again = h.transact(h.relayer, h.groups_call(records, [0, 0], [seal]))
    assert set(rejected(h, again).values()) == {"LedgerDuplicateRecord"}
    assert not h.events(again, "RecordAdded")
    assert [h.entry(r.uid) for r in records] == before

    # The seal lifted onto other records (a subset, or new ones): another root.
    fresh = approvals(h, 2)
    lifted = h.transact(h.relayer, h.groups_call(fresh, [0, 0], [seal]))
    assert set(rejected(h, lifted).values()) == {"LedgerInvalidSeal"}
    nothing_written(h, fresh)


def test_a_group_seal_for_another_relayer_or_chain_is_refused(h: Harness) -> None:
    records = approvals(h, 2)
    other_relayer: LocalAccount = account("someone-elses-relayer")
    for_other_relayer = h.group_seal(records, "auth", relayer=other_relayer)
    receipt = h.transact(h.relayer, h.groups_call(records, [0, 0], [for_other_relayer]))
    assert set(rejected(h, receipt).values()) == {"LedgerInvalidSeal"}

    root = root_of([struct_hash(r) for r in records])
    key = h.orgs["auth"].seal
    for chain_id, ledger in ((h.chain_id + 1, h.ledger.address), (h.chain_id, h.consortium.address)):
        elsewhere = Sealer(chain_id, ledger).seal_group(root, 2, h.relayer.address, key)
        receipt = h.transact(h.relayer, h.groups_call(records, [0, 0], [elsewhere]))
        assert set(rejected(h, receipt).values()) == {"LedgerInvalidSeal"}
    nothing_written(h, records)


def test_leaves_and_inner_nodes_cannot_stand_for_each_other(h: Harness) -> None:
    a, b = approvals(h, 2)
    key = h.orgs["auth"].seal
    la, lb = leaf(struct_hash(a)), leaf(struct_hash(b))
    assert root_of([struct_hash(a), struct_hash(b)]) == keccak(b"\x01" + la + lb)

    # A root over the pair hashed without the prefixes (a plain Merkle tree) is not the ledger's.
    plain = keccak(struct_hash(a) + struct_hash(b))
    seal = h.sealer.seal_group(plain, 2, h.relayer.address, key)
    receipt = h.transact(h.relayer, h.groups_call([a, b], [0, 0], [seal]))
    assert set(rejected(h, receipt).values()) == {"LedgerInvalidSeal"}

    # The pair's root presented as the root of a one-record group (an inner node as a leaf).
    pair = h.sealer.seal_group(keccak(b"\x01" + la + lb), 1, h.relayer.address, key)
    receipt = h.transact(h.relayer, h.groups_call([a], [0], [pair]))
    assert rejected(h, receipt) == {a.uid: "LedgerInvalidSeal"}

    # A group seal is no record seal and a record seal no group seal (different EIP-712 types).
    one_group = h.group_seal([a], "auth")
    assert h.revert_of(h.relayer, h.submit_call(a, one_group)) is not None
    receipt = h.transact(h.relayer, h.groups_call([a], [0], [h.seal(a, "auth")]))
    assert rejected(h, receipt) == {a.uid: "LedgerInvalidSeal"}
    nothing_written(h, [a, b])


def test_a_record_naming_a_group_without_a_seal_reverts_the_input(h: Harness) -> None:
    records = approvals(h, 2)
    h.expect_revert(
        h.relayer, h.groups_call(records, [0, 1], [h.group_seal(records[:1], "auth")]), "LedgerUnknownGroup"
    )
    # One group byte for two packed records: the second is bytes after the last record.
    h.expect_revert(
        h.relayer, h.groups_call(records, [0], [h.group_seal(records, "auth")]), "LedgerMalformedRecords"
    )


@pytest.mark.parametrize("n, at", [(1, 0), (31, 30), (32, 31), (33, 32), (40, 35), (64, 63), (70, 69)])
def test_one_group_naming_another_group_anywhere_reverts_naming_the_first_such_record(
    h: Harness, n: int, at: int
) -> None:
    # With one seal the ledger reads the group bytes a word at a time: the first byte that is not
    # 0 is found wherever it lies in its word, and bytes past the last are not read as records'.
    records = approvals(h, n)
    group_of = [0] * n
    group_of[at] = 7
    if at + 1 < n:
        group_of[-1] = 1  # a later one too: the first is named
    seal = h.group_seal(records, "auth")
    assert h.expect_revert(h.relayer, h.groups_call(records, group_of, [seal]), "LedgerUnknownGroup") == (
        at,
        7,
    )
    receipt = h.transact(h.relayer, h.groups_call(records, [0] * n, [seal]))
    assert len(h.events(receipt, "RecordAdded")) == n


def test_only_a_relayer_sends_groups(h: Harness) -> None:
    records = approvals(h, 1)
    outsider = account("outsider")
    h.expect_revert(outsider, h.grouped(records, ["auth"]), "LedgerUnauthorizedRelayer")


# The packed records (``node_api.chain.packed``): crafted bytes ------------------------------------


def packed_payload(record: Record, compact: bool) -> int:
    """The length of an approval's payload as packed (compact or canonical): the packed record less
    its flags, uid, project, digest and the payload's length."""
    return len(pack([record], compact=compact)) - (1 + 32 + 32 + 32 + 2)


@pytest.mark.parametrize("compact", [True, False])
def test_a_truncated_packed_record_reverts_the_input(h: Harness, compact: bool) -> None:
    records = approvals(h, 2)
    seal = h.group_seal(records, "auth")
    packed = pack(records, compact=compact)
    # inside the payload, the digest, the flags byte
    for cut in (1, 40, packed_payload(records[1], compact) + 3):
        call = h.packed_call(packed[:-cut], [0, 0], [seal])
        assert h.expect_revert(h.relayer, call, "LedgerMalformedRecords") == (1,)
    nothing_written(h, records)
    assert unpack(packed[:-1], 2) is None  # the indexer reads no records from such an input either


@pytest.mark.parametrize("compact", [True, False])
def test_a_payload_length_pointing_past_the_end_reverts_the_input(h: Harness, compact: bool) -> None:
    (record,) = approvals(h, 1)
    packed = bytearray(pack([record], compact=compact))
    at = 1 + 32 + 32 + 32  # flags, uid, project, digest: then the payload's length
    length = packed_payload(record, compact)
    assert int.from_bytes(packed[at : at + 2], "big") == length
    assert (length < len(record.payload)) == compact
    packed[at : at + 2] = (length + 1).to_bytes(2, "big")
    call = h.packed_call(bytes(packed), [0], [h.group_seal([record], "auth")])
    assert h.expect_revert(h.relayer, call, "LedgerMalformedRecords") == (0,)
    packed[at : at + 2] = b"\xff\xff"
    call = h.packed_call(bytes(packed), [0], [h.group_seal([record], "auth")])
    assert h.expect_revert(h.relayer, call, "LedgerMalformedRecords") == (0,)
    nothing_written(h, [record])
    assert unpack(bytes(packed), 1) is None


def test_a_record_smuggled_between_groups_or_after_the_last_reverts_the_input(h: Harness) -> None:
    ours = approvals(h, 2)
    theirs = h.record(Kind.EVENT, P, event_fields(1))
    smuggled = approvals(h, 1)[0]
    seals = [h.group_seal(ours, "auth"), h.group_seal([theirs], "sup")]
    # Between the groups: the input names three records, but four lie in the bytes.
    between = pack([ours[0], ours[1]]) + pack([smuggled]) + pack([theirs])
    call = h.packed_call(between, [0, 0, 1], seals)
    assert h.expect_revert(h.relayer, call, "LedgerMalformedRecords") == (3,)
    # After the last record: a whole record, or a few bytes.
    for tail in (pack([smuggled]), b"\x00"):
        call = h.packed_call(pack([*ours, theirs]) + tail, [0, 0, 1], seals)
        assert h.expect_revert(h.relayer, call, "LedgerMalformedRecords") == (3,)
    nothing_written(h, [*ours, theirs, smuggled])
    assert unpack(between, 3) is None


def test_flags_that_lie_about_the_fields_change_the_record_so_its_seal_fails(h: Harness) -> None:
    records = approvals(h, 2)
    seal = h.group_seal(records, "auth")
    packed = bytearray(pack(records))
    # The first record says a ref follows: its digest is read as the ref, and every later byte
    # shifts; what is left no longer fills the bytes as two records.
    packed[0] |= HAS_REF
    call = h.packed_call(bytes(packed), [0, 0], [seal])
    assert h.revert_of(h.relayer, call) is not None
    # A project left out although the record has one: another record (project 0), not the sealed one.
    bare = Record(
        records[0].uid, records[0].kind, ZERO32, records[0].ref, records[0].digest, records[0].payload
    )
    receipt = h.transact(h.relayer, h.packed_call(pack([bare]), [0], [h.group_seal(records[:1], "auth")]))
    assert rejected(h, receipt) == {bare.uid: "LedgerInvalidSeal"}
    nothing_written(h, records)


def test_packed_records_read_back_as_the_ledger_applied_them(h: Harness) -> None:
    """Every kind of field: a project and no ref, a ref, neither (an anchor); the indexer's reading
    of the input gives back exactly the records the ledger accepted."""
    approval = h.record(Kind.APPROVAL, P, approval_fields())
    revocation = h.record(Kind.REVOCATION, P, reason(), ref=approval.uid)
    anchor = h.record(Kind.ANCHOR, ZERO32, {"tree_size": 7})
    records = [approval, revocation, anchor]
    packed = pack(records)
    short = compact_approval(approval.payload)
    assert short is not None and len(short) < len(approval.payload)
    assert [packed[0], len(packed)] == [
        Kind.APPROVAL | COMPACT | HAS_PROJECT,
        sum(67 + len(r.payload) for r in records) + 96 - len(approval.payload) + len(short),
    ]

    receipt = h.transact(h.relayer, h.grouped(records, ["auth"] * 3))

    assert not h.events(receipt, "RecordRejected")
    added = h.added(receipt)
    carried = h.carried(receipt)
    for record, event in zip(records, added, strict=True):
        ((copy, _proof),) = carried[record.uid]  # type: ignore[misc]
        assert copy == record
        assert event["recordHash"] == h.sealer.digest(copy)
    assert h.entry(approval.uid)["status"] == Status.REVOKED


def test_bytes_after_the_group_bytes_are_not_read_as_groups(h: Harness) -> None:
    # A crafted input whose ABI padding after `groupOf` is not zero: only `groupOf.length` bytes count.
    records = approvals(h, 33)
    call = h.groups_call(records, [0] * 33, [h.group_seal(records, "auth")])
    data = bytearray(bytes.fromhex(call._encode_transaction_data()[2:]))
    at = 4 + int.from_bytes(data[4 + 32 : 4 + 64], "big")  # groupOf: its length word, then its bytes
    assert int.from_bytes(data[at : at + 32], "big") == 33
    data[at + 32 + 33 : at + 32 + 64] = b"\xff" * 31
    signer = TransactionSigner(h.relayer.key, h.chain_id)
    nonce = h.w3.eth.get_transaction_count(h.relayer.address)
    raw = signer.sign(nonce, 0, 15_000_000, h.ledger.address, 0, bytes(data)).raw
    receipt = h.w3.eth.wait_for_transaction_receipt(h.w3.eth.send_raw_transaction(raw))
    assert receipt["status"] == 1
    assert len(h.events(receipt, "RecordAdded")) == 33
