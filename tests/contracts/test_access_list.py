"""The submitter's EIP-2930 access list names the ledger slots its records read.

``node_api.chain.ledger_layout`` computes a record's entry slot and its project's slot from the
ledger's storage layout; if the layout moved (a new state variable before the mappings, another
base contract), the list would name slots nobody reads, and cost gas instead of saving it. These
tests read the chain's storage at the computed slots, and send a batch with the list.
"""

from __future__ import annotations

from node_api.chain.ledger_layout import access_list, entry_slot, project_slot
from node_api.domain.records import Kind
from tests.contracts.conftest import P
from tests.contracts.harness import Harness
from tests.contracts.payloads import approval_fields, reason


def storage(h: Harness, slot: bytes) -> int:
    return int.from_bytes(h.w3.eth.get_storage_at(h.ledger.address, slot), "big")


def test_the_computed_slots_hold_the_ledgers_entry_and_project(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    h.submit(record, "auth")
    entry = h.entry(record.uid)

    word = storage(h, entry_slot(record.uid))

    # `Entry` packed from the low end: kind, status, level, issuer, project, recordedAt, subject, expiresAt
    widths = (8, 8, 8, 32, 32, 40, 32, 40)
    fields = ("kind", "status", "level", "issuer", "project", "recordedAt", "subject", "expiresAt")
    unpacked, shift = {}, 0
    for name, width in zip(fields, widths, strict=True):
        unpacked[name] = (word >> shift) & ((1 << width) - 1)
        shift += width
    assert unpacked == entry and entry["kind"] == Kind.APPROVAL
    number, registrant = h.ledger.functions.project(P).call()
    assert number != 0
    assert storage(h, project_slot(P)) & 0xFFFFFFFFFFFFFFFF == number | registrant << 32
    assert storage(h, entry_slot(h.uid())) == 0


def test_a_batch_sent_with_the_list_is_applied_alike_and_costs_less(h: Harness) -> None:
    records = [h.record(Kind.APPROVAL, P, approval_fields()) for _ in range(30)]
    revocation = h.record(Kind.REVOCATION, P, reason(), ref=records[0].uid)
    records.append(revocation)
    orgs = ["auth"] * len(records)
    access = access_list(h.ledger.address, records)
    assert access is not None

    snapshot = h.snapshot()
    plain = h.transact(h.relayer, h.grouped(records, orgs))
    plain_entries = [h.entry(r.uid) for r in records]
    h.revert_to(snapshot)
    listed = h.transact(h.relayer, h.grouped(records, orgs), access)

    assert h.w3.eth.get_transaction(listed["transactionHash"])["type"] == 1
    assert [h.entry(r.uid)["status"] for r in records] == [e["status"] for e in plain_entries]
    assert [log["topics"] for log in listed["logs"]] == [log["topics"] for log in plain["logs"]]
    assert [log["data"] for log in listed["logs"]] == [log["data"] for log in plain["logs"]]
    # 32 slots named (31 entries, P; the revoked approval's entry once): each read first at 100
    # instead of 2,100, for 1,900 up front, and 2,400 paid for the address
    ((_, slots),) = access
    assert len(slots) == 32
    assert listed["gasUsed"] == plain["gasUsed"] - 32 * 100 + 2_400
