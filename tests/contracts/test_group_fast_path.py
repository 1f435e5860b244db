"""The ledger's fast path for grouped approvals decides every record as the general path does.

``submitGroups`` applies a run of approvals (a project, no ref, a key of an approval authority)
in one assembly loop (``ProjectLedger._applyApprovals``) and hands any record it does not
accept, unwritten, to the general path (``_applyPacked`` → ``_apply`` → ``_check``), which names
the refusal. The oracle here is ``submitBatch``, which applies every record through the general
path with its own seal: the same records, sealed by the same keys, sent both ways from the same
state at the same block time, must give the same logs (``RecordAdded``, ``RecordRejected`` with
the same reason bytes, ``StatusChanged``) in the same order and the same entries. The crafted
records break one rule each; the property test mutates an approval's payload, stage, decision,
item and version at random.

Every grouped input is sent twice: as the node packs it, each approval's payload in its compact
form where it has one (``packed.compact_approval``: every payload in the canonical ABI layout,
strings over MAX_STRING_BYTES included), which the ledger expands in memory (``_leaves`` to hash
it, the fast path reading it in place, ``_expandApproval`` for the general path); and with every
payload canonical. Both must decide exactly as ``submitBatch`` does.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.chain.packed import compact_approval
from node_api.domain.records import ZERO32, Kind, Record, encode_payload, project_id
from tests.contracts.conftest import P, Q
from tests.contracts.harness import Harness
from tests.contracts.payloads import approval_fields, catalogue_record, event_fields, project_record, reason
from tests.contracts.test_attacks import MALFORMED, mutated

CLOSED_CODE = "2026-620825-48-01-000071"


def outcome(h: Harness, call: Any, records: list[Record], timestamp: int) -> tuple[list[Any], list[Any]]:
    """The decoded logs and the records' entries after sending ``call`` at ``timestamp``; state put back."""
    snapshot = h.snapshot()
    try:
        h.next_block_at(timestamp)
        receipt = h.send(h.relayer, call)
        assert receipt["status"] == 1
        logs = [h.contracts.decode_log(dict(log)) for log in receipt["logs"]]
        return logs, [h.entry(r.uid) for r in records]
    finally:
        h.revert_to(snapshot)


def both_ways(h: Harness, records: list[Record], orgs: list[str]) -> tuple[Any, Any]:
    """The outcome of ``records`` (record i sealed by ``orgs[i]``) under group seals and with a seal each.
    Under group seals the input is sent with the approvals' payloads compact and with all canonical,
    which must give the same outcome (asserted here)."""
    timestamp = h.now() + 100
    grouped = outcome(h, h.grouped(records, orgs), records, timestamp)
    canonical = outcome(h, h.grouped(records, orgs, compact=False), records, timestamp)
    assert grouped == canonical, "the compact form decided otherwise than the canonical"
    alone = outcome(
        h,
        h.batch_call(records, [h.seal(r, o) for r, o in zip(records, orgs, strict=True)]),
        records,
        timestamp,
    )
    return grouped, alone


def approval(h: Harness, org: str = "auth", project: bytes = P, ref: bytes = ZERO32, **fields: Any) -> Record:
    """An approval with a fresh uid in ``org``'s namespace (of the world's item for an approval authority)."""
    item_org = org if org in ("auth", "auth2") else "auth"
    return h.record(Kind.APPROVAL, project, approval_fields(org=item_org, **fields), ref=ref, org=org)


def with_payload(h: Harness, payload: bytes, uid: bytes | None = None) -> Record:
    """An approval of auth's on P carrying ``payload`` as it is."""
    uid = uid or h.uid("auth")
    return Record(uid, Kind.APPROVAL, P, ZERO32, keccak(b"document" + uid), payload)


def test_every_refusal_of_an_approval_under_a_group_seal_is_the_general_paths(h: Harness) -> None:
    # The world: an approval on P to duplicate and to supersede, a closed project, a retired item.
    existing = approval(h)
    h.submit(existing, "auth")
    registration = project_record(h, CLOSED_CODE)
    h.submit(registration, "auth")
    h.submit(
        h.record(Kind.REVOCATION, project_id(CLOSED_CODE), reason("项目取消"), ref=registration.uid), "auth"
    )
    h.submit(catalogue_record(h, "T-S2", version=2, stage=2, retired=1), "cat")

    good = approval(h)
    zero_namespace = b"\x00" * 4 + h.uid()[4:]
    cases: list[tuple[Record, str]] = [
        (good, "auth"),
        (approval(h, decision=1), "auth"),  # approved on commitment: the credit item
        (approval(h, decision=2), "auth"),  # accepted with deficiencies
        (approval(h, decision=3), "auth"),  # rejected
        (approval(h, stage=4), "auth"),
        (existing, "auth"),  # already on chain
        (good, "auth"),  # twice in the input
        (approval(h, org="auth2"), "auth"),  # a uid of auth2's namespace in auth's group
        (with_payload(h, encode_payload(Kind.APPROVAL, approval_fields()), uid=zero_namespace), "auth"),
        (approval(h, project=project_id("2026-620825-48-01-000999")), "auth"),  # no such project
        (approval(h, project=ZERO32), "auth"),  # no project
        (approval(h, project=project_id(CLOSED_CODE)), "auth"),
        (approval(h, stage=0), "auth"),
        (approval(h, stage=5, item="T-S1"), "auth"),
        (approval(h, decision=4, item="T-S1"), "auth"),
        (approval(h, decision=255, item="T-S1"), "auth"),
        (approval(h, item="NO-SUCH-ITEM"), "auth"),
        (approval(h, item="T-S1" + "x" * 1000), "auth"),
        (approval(h, stage=2, item_version=2), "auth"),  # T-S2's version in force is retired
        (approval(h, stage=2), "auth"),  # and version 1 is no longer in force
        (approval(h, item_version=2), "auth"),
        (approval(h, item_version=0), "auth"),
        (approval(h, item="T2-S1"), "auth"),  # auth2's item
        (approval(h, stage=2, item="T-S1"), "auth"),  # T-S1 is a stage-1 item
        (approval(h, decision=1, item="T-S1"), "auth"),  # T-S1 takes no commitment
        (approval(h, decision=2, item="T-S1-CREDIT"), "auth"),
        (approval(h, ref=existing.uid), "auth"),  # a correction: supersedes, by the general path
        (approval(h, ref=keccak(b"nothing")), "auth"),
        (approval(h, org="sup"), "sup"),  # the supervisor is no approval authority
        (approval(h, org="auth2"), "auth2"),  # a second organisation's group
        (h.record(Kind.EVENT, Q, event_fields(1)), "sup"),  # another kind between the approvals
        (approval(h, project=Q), "auth"),
    ]
    for kind, make in MALFORMED.values():
        if kind == Kind.APPROVAL:
            cases.append((with_payload(h, make()), "auth"))
    for document_no in ("x" * 1024, "x" * 1025, "", "x" * 31, "x" * 33):  # the longest allowed, one more
        payload = encode_payload(Kind.APPROVAL, {**approval_fields(), "document_no": document_no})
        cases.append((with_payload(h, payload), "auth"))
    # Strings the compact form carries at its edges: an item over MAX_STRING_BYTES (refused, the
    # general path), an empty item, an item of a whole word, multi-byte characters.
    for item in ("T-S1" + "x" * 1021, "", "T-S1" + "x" * 28, "T-S1" + "\u5ba1" * 11):
        payload = encode_payload(Kind.APPROVAL, {**approval_fields(), "item": item})
        cases.append((with_payload(h, payload), "auth"))
    # Times at the compact form's edge (5 bytes) and past it (the payload travels canonical).
    for times in ({"valid_until": 2**40 - 1}, {"issued_at": 2**40}, {"valid_until": 2**64 - 1}):
        payload = encode_payload(Kind.APPROVAL, {**approval_fields(), **times})
        cases.append((with_payload(h, payload), "auth"))
    records, orgs = [r for r, _ in cases], [o for _, o in cases]
    compact = [r for r in records if r.kind == Kind.APPROVAL and compact_approval(r.payload) is not None]
    assert len(compact) > len(records) - len(MALFORMED) - 4, "the node's packing makes most of them compact"

    grouped, alone = both_ways(h, records, orgs)

    assert grouped == alone
    logs, entries = grouped
    accepted = sum(1 for name, _ in logs if name == "RecordAdded")
    # the five good ones, the correction, auth2's, the event, Q's, four document numbers, three times
    assert accepted == 16
    assert entries[0]["kind"] == Kind.APPROVAL


def test_a_suspended_organisations_group_is_refused_as_the_general_path_refuses_it(h: Harness) -> None:
    h.admin_execute("suspend", h.orgs["auth2"].id)
    records = [approval(h), approval(h, org="auth2"), approval(h)]

    grouped, alone = both_ways(h, records, ["auth", "auth2", "auth"])

    assert grouped == alone
    assert [name for name, _ in grouped[0]] == ["RecordAdded", "RecordRejected", "RecordAdded"]


def test_a_grouped_input_that_runs_out_of_gas_reverts_naming_a_record(h: Harness) -> None:
    records = [approval(h) for _ in range(3)]

    (uid,) = h.expect_revert(h.relayer, h.grouped(records, ["auth"] * 3), "LedgerBatchOutOfGas", gas=250_000)

    assert uid in [r.uid for r in records]
    assert [h.entry(r.uid)["kind"] for r in records] == [0, 0, 0]


@settings(max_examples=60, deadline=None)
@given(
    changes=st.lists(
        st.tuples(
            st.sampled_from(["byte", "cut", "append", "word", "none"]),
            st.integers(min_value=0, max_value=2**16),
            st.one_of(
                st.integers(min_value=0, max_value=255),
                st.sampled_from(
                    [0, 1, 2, 3, 4, 5, 31, 32, 64, 224, 256, 1024, 1025, 2**32, 2**64, 2**256 - 1]
                ),
                st.integers(min_value=0, max_value=2**256 - 1),
            ),
            st.integers(min_value=0, max_value=5),
            st.integers(min_value=0, max_value=4),
            st.sampled_from(["T-S1", "T-S1-CREDIT", "T-S1-DEF", "T-S2", "T2-S1", "T-S3-DEF", "T-S4"]),
            st.integers(min_value=0, max_value=2),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_approvals_are_decided_alike_by_both_paths(
    world: Harness, changes: list[tuple[str, int, int, int, int, str, int]]
) -> None:
    h = world
    records = []
    for how, at, value, stage, decision, item, version in changes:
        fields = approval_fields(stage=stage, decision=decision, item=item, item_version=version)
        payload = encode_payload(Kind.APPROVAL, fields)
        if how != "none":
            payload = mutated(payload, how, at, value)
        records.append(with_payload(h, payload))

    grouped, alone = both_ways(h, records, ["auth"] * len(records))

    assert grouped == alone
