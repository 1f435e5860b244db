"""Gas per record of approvals alone and in batches of 100, written to test-artifacts/gas.json.

Two batch shapes: 100 approvals of one project (the project slot is warm after the first
record), and 100 approvals spread over 100 projects with the benchmark's payloads
(``node_api/bench/workload.py``: Chinese item and document number, a document digest), where
every record reads a cold project slot as the benchmark's records spread over ~1,000 projects
do. The project target is <= 40,000 gas per record in batches; the bound asserted for both
shapes (receipts' gasUsed over the records the batch's RecordAdded events name) is 41,500
for now: the ledger's check of each payload's full canonical ABI shape costs ~1,550 gas a
record (7-field approval), which put the measured figures at 39,344 (one project) and
41,018 (100 projects), from 37,865 and 39,543 before it. Cutting that back under 40,000 is
left to a later change.

The catalogue (issue #11) raised the bound to 42,300, by what its check costs: an approval
names a catalogue item (its code, now the item field) and the item's version, and the ledger
reads the item's slot (cold once per item and transaction) to check version, department,
stage and decision. With this module's payloads the figures went from 39,344 and 41,016 to
39,838 (one project, one item) and 42,095 (100 projects, the benchmark's 11 items); the same
contract without the item check measured 39,373 and 41,331 (so the check costs ≈ 470 gas with
the item's slot warm, ≈ 760 a record over the benchmark's items).

Issue #15 set the target to 32,000 and added the third shape, a batch formed from single writes:
the three approval authorities' approvals interleaved, each on its own project (44,096 a record,
1,900 more than one organisation's, for the consortium look-up at every change of seal key; the
ledger now keeps each key's answer for the transaction: 42,783). Where the rest goes, opcode by
opcode, and what reaching 32,000 takes: docs/benchmark.md, "Gas per record".

Each shape is also measured under one seal per organisation (``submitGroups``: the ledger
recomputes the Merkle root of each organisation's records from calldata and recovers one
group seal), new approvals on the same projects: 36,409 (one project), 38,667 (100 projects)
and 38,947 (three organisations interleaved), from 40,055 / 42,311 / 42,882 with a seal per
record; asserted: at least 2,500 less than ``submitBatch`` and at most 39,000. The 32,000
target is reported (``meets_target``), not met.

Then ``submitGroups`` took its records packed (``node_api/chain/packed.py``: no ABI padding,
an absent project or ref left out; calldata 4,737 -> 4,076 gas a record in the mixed shape),
the rules read a record's fixed fields from memory, the approval's canonical-payload check was
unrolled (the loop over the shape's letters cost ≈ 1,400 gas more) and the group bytes are
read in assembly: 34,481 (one project), 36,738 (100 projects) and 37,016 (three
organisations interleaved) under group seals; with a seal per record (``submitBatch``, whose
records are ABI as before) 38,426 / 40,682 / 41,251. Asserted: 37,500 under group seals, 41,000
(41,700 interleaved) with a seal per record. The 32,000 target is still reported, not met:
what is left is in docs/benchmark.md ("Gas per record").

Then (branch ``gas2``) the ledger applies runs of grouped approvals in one assembly loop
(``_applyApprovals``: every rule of the general path, which decides any other record and names
every refusal; tests/contracts/test_group_fast_path.py holds the two equal), and the submitter
sends each transaction whose records read more than 24 ledger slots with an EIP-2930 access list
naming them (entry, project and ref slots, ``node_api.chain.ledger_layout``): grouped batches are measured
here as the submitter sends them (the list from ``access_list``, signed by its
``TransactionSigner``), and from the same state without the list; a single group's bytes are
checked a word at a time. 31,350 (one project), 33,508 (100 projects) and 33,906 (three
organisations interleaved) with the list, 31,427 / 33,684 / 34,082 without; ``submitBatch`` (no
list) 38,300 / 40,557 / 41,126. Asserted: 34,200 under group seals, and that the list saves gas
in both shapes. The 32,000 target is still reported, not met.

Then (branch ``event``) ``RecordAdded`` lost its data: ``RecordAdded(uid, project)``, a LOG3 of
1,500 gas instead of 2,268 (issuer, sealer and record hash follow from the input: see
``node_api.verify.record_added``), and ``submitGroups`` no longer computes each record's EIP-712
hash, which only the event used: 30,407 (one project), 32,565 (100 projects) and 32,961 (three
organisations interleaved) with the list, 30,484 / 32,741 / 33,137 without; ``submitBatch``
37,446 / 39,702 / 40,273; ``submit`` 78,789 -> 77,941. Asserted: 33,000 under group seals, 40,000
(40,500 interleaved) with a seal per record. The 32,000 target is still reported, not met by this
change alone (the compact payload encoding is the rest).

Then (branch ``compact``, after ``event``) an approval's payload travels in ``submitGroups``' packed
input in a compact form (``packed.compact_approval``: 86 bytes of the benchmark's 384, the numbers
big-endian, the two strings as the item's length, the item and the document number), which the
ledger expands into the canonical ABI payload in memory to hash it (``_leaves``) and reads in place
in the fast path; the general path reads every payload from memory. Calldata 4,047 -> 2,796 gas a
record in the bulk shape, the expansion ≈ +460, the fast path's check of a compact payload ≈ -250:
with the list 29,288 (one project), 31,466 (100 projects) and 31,863 (three organisations
interleaved), from 30,407 / 32,565 / 32,961; the same inputs with every payload canonical 30,502 /
32,660 / 33,056. ``submitBatch``, whose rules now read the payload from memory, 37,566 / 39,822 /
40,392 (+120). Asserted: the 32,000 target under group seals (met), and at least 1,000 a record less
than the same input with canonical payloads, from the same state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from web3.types import TxReceipt

from bench.workload import APPROVERS, ITEMS, approval_body, approver, project_code
from node_api.api.payloads import record_payload
from node_api.api.schemas import ApprovalIn
from node_api.chain.ledger_layout import access_list
from node_api.domain.records import ZERO32, Kind, Record, project_id, seal_payload
from tests.contracts.conftest import P
from tests.contracts.harness import Harness
from tests.contracts.payloads import approval_fields, catalogue_record, project_record

BATCH = 100
TARGET_PER_RECORD = 32_000  # the project's target since issue #15 (was 40,000), reported in gas.json
# What is asserted meanwhile (see the module docstring); 42,300 until submitGroups joined the
# ledger's functions, 42,400 until the approval's canonical check was unrolled.
# 41,000 until RecordAdded lost its data (branch ``event``).
BOUND_PER_RECORD = 40_000
# A batch formed from single writes interleaves three organisations' seal keys: 44,096 a record
# before the ledger kept each key's consortium answer for the transaction, 42,783 after, 41,252
# with the unrolled check.
# 41,700 until RecordAdded lost its data.
BOUND_PER_RECORD_MIXED = 40_500
# Records under one seal per organisation and batch (submitGroups, packed): see the module docstring
# (37,500 until the ledger's fast path for grouped approvals and the submitter's access list,
# 34,200 until RecordAdded lost its data, 33,000 until the compact approval payload: now the target).
BOUND_PER_RECORD_GROUPS = TARGET_PER_RECORD
# What the compact approval payload saves a grouped record at least, against the same input with
# every payload canonical.
COMPACT_SAVES = 1_000
BENCH_RUN = 7  # any run id: it only shapes codes and digests as the benchmark's


def calldata_gas(h: Harness, receipt: TxReceipt) -> int:
    """Gas the transaction's input costs (EIP-2028: 4 per zero byte, 16 per other byte)."""
    data = bytes(h.w3.eth.get_transaction(receipt["transactionHash"])["input"])
    return sum(4 if b == 0 else 16 for b in data)


def figures(h: Harness, receipt: TxReceipt, records: int) -> dict[str, Any]:
    """Total and per-record gas of a mined transaction, with its calldata share."""
    assert receipt["status"] == 1
    assert len(h.events(receipt, "RecordAdded")) == records
    used, data = int(receipt["gasUsed"]), calldata_gas(h, receipt)
    return {
        "records": records,
        "gas_used": used,
        "per_record": used // records,
        "calldata_gas": data,
        "calldata_per_record": data // records,
    }


def grouped_figures(
    h: Harness, records: list[Record], orgs: list[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The figures of ``submitGroups`` of ``records`` (record i in ``orgs[i]``'s group) as the node's
    submitter sends it — approvals' payloads compact, with the access list ``ledger_layout.access_list``
    gives, signed by its ``TransactionSigner`` — and, from the same state, without an access list,
    and with the list but every payload canonical."""
    call = h.grouped(records, orgs)
    access = access_list(h.ledger.address, records)
    assert access is not None, "the submitter sends a list when the records read more than 24 slots"
    snapshot = h.snapshot()
    without = figures(h, h.transact(h.relayer, call), len(records))
    h.revert_to(snapshot)
    snapshot = h.snapshot()  # a snapshot serves one revert
    canonical = figures(
        h, h.transact(h.relayer, h.grouped(records, orgs, compact=False), access), len(records)
    )
    h.revert_to(snapshot)
    return figures(h, h.transact(h.relayer, call, access), len(records)), without, canonical


def approvals(h: Harness, n: int) -> tuple[list[Record], list[bytes]]:
    records = [h.record(Kind.APPROVAL, P, approval_fields()) for _ in range(n)]
    return records, [h.seal(r, "auth") for r in records]


def bench_approval(h: Harness, n: int, code: str) -> Record:
    """Approval ``n`` of the benchmark, encoded as the gateway encodes it, on project ``code``."""
    body = approval_body(BENCH_RUN, n)
    _kind, fields, digest = record_payload(ApprovalIn.model_validate(body))
    fields["item_version"] = 1  # what the node fills in: the item's version in force
    payload, _opening = seal_payload(Kind.APPROVAL, {"note": "", **fields})  # a salted commitment
    return Record(h.uid("auth"), Kind.APPROVAL, project_id(code), ZERO32, digest, payload)


def bench_catalogue(h: Harness) -> None:
    """The benchmark's catalogue items (the demo catalogue's codes and stages), all decided by ``auth``."""
    items = [
        catalogue_record(h, code, stage=stage) for org_items in ITEMS.values() for code, stage in org_items
    ]
    h.transact(h.relayer, h.batch_call(items, [h.seal(r, "cat") for r in items]))


def spread_approvals(h: Harness, n: int) -> tuple[list[Record], list[bytes]]:
    """``n`` benchmark approvals, one on each of ``n`` projects registered (in one batch) first."""
    bench_catalogue(h)
    codes = [project_code(10_000 + i, BENCH_RUN) for i in range(n)]
    registrations = [project_record(h, code) for code in codes]
    h.transact(h.relayer, h.batch_call(registrations, [h.seal(r, "auth") for r in registrations]))
    records = [bench_approval(h, 12_345 + i, code) for i, code in enumerate(codes)]
    return records, [h.seal(r, "auth") for r in records]


def test_gas_per_record_is_within_target_for_one_project_and_spread_over_projects(
    h: Harness, artifacts_dir: Path
) -> None:
    (one,), (one_seal,) = approvals(h, 1)
    alone = figures(h, h.transact(h.relayer, h.submit_call(one, one_seal)), 1)
    records, seals = approvals(h, 1)
    batch_of_one = figures(h, h.transact(h.relayer, h.batch_call(records, seals)), 1)
    records, seals = approvals(h, BATCH)
    same = figures(h, h.transact(h.relayer, h.batch_call(records, seals)), BATCH)
    registration = figures(h, h.submit(project_record(h, "2026-620825-84-01-000009"), "auth"), 1)
    records, seals = spread_approvals(h, BATCH)
    spread = figures(h, h.transact(h.relayer, h.batch_call(records, seals)), BATCH)
    # The same shapes under one group seal (submitGroups): the spread approvals are new ones on
    # the same 100 projects, whose slots are cold again in a new transaction.
    records, _ = approvals(h, 1)
    group_of_one = figures(h, h.transact(h.relayer, h.grouped(records, ["auth"])), 1)
    records, _ = approvals(h, BATCH)
    same_grouped, same_grouped_plain, same_grouped_canonical = grouped_figures(h, records, ["auth"] * BATCH)
    codes = [project_code(10_000 + i, BENCH_RUN) for i in range(BATCH)]
    records = [bench_approval(h, 22_345 + i, code) for i, code in enumerate(codes)]
    spread_grouped, spread_grouped_plain, spread_grouped_canonical = grouped_figures(
        h, records, ["auth"] * BATCH
    )
    report = {
        "evm": h.w3.provider.make_request("anvil_nodeInfo", [])["result"]["hardFork"],  # type: ignore[arg-type]
        "payload_bytes": len(one.payload),
        "bench_payload_bytes": len(records[0].payload),
        "submit_approval": alone,
        "submit_batch_1_approval": batch_of_one,
        f"submit_batch_{BATCH}_approvals": same,
        f"submit_batch_{BATCH}_approvals_{BATCH}_projects": spread,
        "marginal_per_record_in_batch": (same["gas_used"] - batch_of_one["gas_used"]) // (BATCH - 1),
        "submit_project_registration": registration,
        "submit_groups_1_approval": group_of_one,
        f"submit_groups_{BATCH}_approvals": same_grouped,
        f"submit_groups_{BATCH}_approvals_{BATCH}_projects": spread_grouped,
        f"submit_groups_{BATCH}_approvals_without_access_list": same_grouped_plain,
        f"submit_groups_{BATCH}_approvals_{BATCH}_projects_without_access_list": spread_grouped_plain,
        f"submit_groups_{BATCH}_approvals_canonical_payloads": same_grouped_canonical,
        f"submit_groups_{BATCH}_approvals_{BATCH}_projects_canonical_payloads": spread_grouped_canonical,
        "target_per_record_in_batch": TARGET_PER_RECORD,
        "meets_target": max(same_grouped["per_record"], spread_grouped["per_record"]) <= TARGET_PER_RECORD,
    }
    (artifacts_dir / "gas.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\ngas:", json.dumps(report, indent=2))

    # Sanity: a record costs at least its new storage slot (22,100) and batching amortises
    # the 21,000 transaction base; anything outside means the measurement itself is wrong.
    assert 22_100 < same["per_record"] < alone["per_record"] < 1_000_000
    assert same["per_record"] < batch_of_one["per_record"]
    assert same["per_record"] < spread["per_record"], "a cold project slot costs 2,100 more"
    assert same["per_record"] <= BOUND_PER_RECORD, f"{same['per_record']} gas per record, one project"
    assert spread["per_record"] <= BOUND_PER_RECORD, f"{spread['per_record']} gas per record, 100 projects"
    # One seal per group instead of one per record: no ecrecover and no seal in the calldata.
    assert same_grouped["per_record"] < same["per_record"] - 2_500
    assert spread_grouped["per_record"] < spread["per_record"] - 2_500
    assert same_grouped["per_record"] <= BOUND_PER_RECORD_GROUPS, f"{same_grouped['per_record']}, one project"
    assert spread_grouped["per_record"] <= BOUND_PER_RECORD_GROUPS, (
        f"{spread_grouped['per_record']}, 100 projects"
    )
    # The access list pays for its address and saves 100 a slot named.
    assert same_grouped["gas_used"] < same_grouped_plain["gas_used"]
    assert spread_grouped["per_record"] < spread_grouped_plain["per_record"] - 100
    # The compact approval payload, against the same input with canonical payloads.
    assert same_grouped["per_record"] <= same_grouped_canonical["per_record"] - COMPACT_SAVES
    assert spread_grouped["per_record"] <= spread_grouped_canonical["per_record"] - COMPACT_SAVES


ORG_NAMES = dict(zip(APPROVERS, ("auth", "auth2", "auth3"), strict=True))


def mixed_approvals(h: Harness, n: int) -> tuple[list[Record], list[bytes]]:
    """``n`` benchmark approvals as a batch formed from single writes has them: the three approval
    authorities' records interleaved in acceptance order (``bench.workload.approver``), each on its own
    project and sealed by its own organisation's key, each naming one of its department's items."""
    org_names = ORG_NAMES
    h.admit("auth3", "11620825013920563D", ["approval_authority"])
    items = [
        catalogue_record(h, code, stage=stage, department=h.orgs[org_names[who]].id)
        for who, org_items in ITEMS.items()
        for code, stage in org_items
    ]
    h.transact(h.relayer, h.batch_call(items, [h.seal(r, "cat") for r in items]))
    codes = [project_code(20_000 + i, BENCH_RUN) for i in range(n)]
    registrations = [project_record(h, code) for code in codes]
    h.transact(h.relayer, h.batch_call(registrations, [h.seal(r, "auth") for r in registrations]))
    records = mixed_records(h, codes, 12_345)
    return records, [h.seal(r, issuer(h, r)) for r in records]


def mixed_records(h: Harness, codes: list[str], first: int) -> list[Record]:
    """One approval on each project of ``codes``, by the approver of ``first`` + i as the benchmark has it."""
    records = []
    for i, code in enumerate(codes):
        number = first + i
        org = ORG_NAMES[approver(number)]
        body = approval_body(BENCH_RUN, number)
        _kind, fields, digest = record_payload(ApprovalIn.model_validate(body))
        fields["item_version"] = 1
        payload, _opening = seal_payload(Kind.APPROVAL, {"note": "", **fields})
        records.append(Record(h.uid(org), Kind.APPROVAL, project_id(code), ZERO32, digest, payload))
    return records


def issuer(h: Harness, record: Record) -> str:
    """The name of the approver whose namespace ``record``'s uid is in."""
    org_id = int.from_bytes(record.uid[:4], "big")
    # Only the approvers: h.orgs also remembers organisations of earlier tests, whose ids the
    # reverted chain gives out again.
    return next(name for name in ORG_NAMES.values() if h.orgs[name].id == org_id)


def test_gas_per_record_of_a_batch_formed_from_single_writes_of_three_organisations(
    h: Harness, artifacts_dir: Path
) -> None:
    records, seals = mixed_approvals(h, BATCH)
    assert len({bytes(r.uid[:4]) for r in records}) == 3  # three issuers, interleaved
    mixed = figures(h, h.transact(h.relayer, h.batch_call(records, seals)), BATCH)
    # The same shape under group seals, one per organisation: new approvals on the same projects.
    codes = [project_code(20_000 + i, BENCH_RUN) for i in range(BATCH)]
    records = mixed_records(h, codes, 32_345)
    mixed_grouped, mixed_grouped_plain, mixed_grouped_canonical = grouped_figures(
        h, records, [issuer(h, r) for r in records]
    )
    report = {
        "submit_batch": mixed,
        "submit_groups": mixed_grouped,
        "submit_groups_without_access_list": mixed_grouped_plain,
        "submit_groups_canonical_payloads": mixed_grouped_canonical,
        "target_per_record": TARGET_PER_RECORD,
        "meets_target": mixed_grouped["per_record"] <= TARGET_PER_RECORD,
    }
    (artifacts_dir / "gas-mixed.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\ngas (three organisations interleaved):", json.dumps(report, indent=2))
    assert 22_100 < mixed["per_record"] <= BOUND_PER_RECORD_MIXED, (
        f"{mixed['per_record']} gas per record, mixed"
    )
    assert mixed_grouped["per_record"] < mixed["per_record"] - 2_500
    assert mixed_grouped["per_record"] <= BOUND_PER_RECORD_GROUPS, (
        f"{mixed_grouped['per_record']}, mixed groups"
    )
    assert mixed_grouped["per_record"] < mixed_grouped_plain["per_record"] - 100
    assert mixed_grouped["per_record"] <= mixed_grouped_canonical["per_record"] - COMPACT_SAVES
