"""The catalogue (事项库) on chain: items and their versions, approvals bound to them, commitments bound to approvals.

Every refusal is the ledger's custom error, as a dishonest member's own relayer would see it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from node_api.domain.records import ZERO32, Kind, Record, Status, decode_payload, encode_payload
from tests.contracts.conftest import P, Q
from tests.contracts.harness import Harness, Org
from tests.contracts.payloads import (
    approval_fields,
    catalogue_fields,
    catalogue_record,
    commitment_fields,
    event_fields,
    reason,
)

ROLE_CATALOGUE = 16
APPROVED, ON_COMMITMENT, WITH_DEFICIENCIES, REJECTED = 0, 1, 2, 3
SUBSTITUTE, DEFICIENCY_ACCEPTANCE = 1, 2  # commitment types bound to decisions 1 and 2
NONE, DEFICIENCY, CREDIT, SELF_ACCEPTANCE = 0, 1, 2, 3  # an item's 承诺制 type


def key(code: str) -> bytes:
    return keccak(text=code)


def put(h: Harness, code: str, **fields: Any) -> bytes:
    """Writes a catalogue version (sealed by ``cat``); its uid."""
    record = catalogue_record(h, code, **fields)
    h.submit(record, "cat")
    return record.uid


def approve(h: Harness, org: str = "auth", project: bytes = P, **fields: Any) -> bytes:
    """An accepted approval (by ``org``, of the world's item for its stage and decision); its uid."""
    record = h.record(Kind.APPROVAL, project, approval_fields(org=org, **fields), org=org)
    h.submit(record, org)
    return record.uid


def refused_approval(h: Harness, error: str, org: str = "auth", **fields: Any) -> tuple[Any, ...]:
    """Asserts an approval by ``org`` is refused with ``error`` and left no entry; the error's arguments."""
    record = h.record(Kind.APPROVAL, P, approval_fields(org=org, **fields), org=org)
    args = h.refused(record, org, error)
    assert h.entry(record.uid)["kind"] == 0
    return args


# 1. Items and their versions -------------------------------------------------------------------


def test_catalogue_item_is_recorded_with_its_version_in_force(h: Harness) -> None:
    uid = put(h, "ZL-S1-005", stage=1, commitment=NONE, time_limit_days=10)

    entry = h.entry(uid)
    assert (entry["kind"], entry["status"], entry["project"]) == (Kind.CATALOGUE, Status.RECORDED, 0)
    assert (entry["issuer"], entry["level"], entry["subject"]) == (h.orgs["cat"].id, 1, 1)
    assert h.item("ZL-S1-005") == {
        "version": 1, "department": h.orgs["auth"].id, "timeLimit": 10, "stage": 1, "list": 1,
        "commitment": NONE, "flags": 0,
    }  # fmt: skip


def test_item_flags_say_on_the_spot_and_retired(h: Harness) -> None:
    put(h, "ZL-S4-006", stage=4, on_the_spot=1, commitment=SELF_ACCEPTANCE)
    assert h.item("ZL-S4-006")["flags"] == 1
    put(h, "ZL-S4-006", version=2, stage=4, on_the_spot=1, commitment=SELF_ACCEPTANCE, retired=1)
    assert h.item("ZL-S4-006")["flags"] == 3 and h.item("ZL-S4-006")["version"] == 2


def test_unknown_item_reads_version_zero(h: Harness) -> None:
    assert h.item("ZL-S9-999")["version"] == 0


@pytest.mark.parametrize("org", ["auth", "sup", "bank"])
def test_only_the_catalogue_role_writes_items(h: Harness, org: str) -> None:
    record = catalogue_record(h, "ZL-S1-099", org=org)

    args = h.refused(record, org, "LedgerMissingRole")

    assert args == (record.uid, h.orgs[org].id, ROLE_CATALOGUE)
    assert h.item("ZL-S1-099")["version"] == 0


def test_a_consortium_granting_the_catalogue_role_lets_an_authority_write_items(h: Harness) -> None:
    h.admin_execute("setRoles", h.orgs["auth2"].id, 1 | ROLE_CATALOGUE)

    record = catalogue_record(h, "ZL-S1-098", org="auth2")
    h.submit(record, "auth2")

    assert h.item("ZL-S1-098")["version"] == 1


def test_consortium_refuses_a_role_bit_beyond_the_catalogue(h: Harness) -> None:
    with pytest.raises(Exception, match="ConsortiumInvalidRoles"):
        h.admin_execute("setRoles", h.orgs["auth2"].id, 32)


@pytest.mark.parametrize(("given", "current"), [(2, 0), (0, 0)])
def test_a_new_item_starts_at_version_1(h: Harness, given: int, current: int) -> None:
    record = catalogue_record(h, "ZL-S2-099", version=given)

    args = h.refused(record, "cat", "LedgerCatalogueVersion")

    assert args == (key("ZL-S2-099"), given, current)


@pytest.mark.parametrize("given", [1, 2, 4, 2**32 - 1])
def test_versions_are_append_only_one_at_a_time(h: Harness, given: int) -> None:
    put(h, "ZL-S2-099")
    put(h, "ZL-S2-099", version=2, time_limit_days=7)

    args = h.refused(catalogue_record(h, "ZL-S2-099", version=given), "cat", "LedgerCatalogueVersion")

    assert args == (key("ZL-S2-099"), given, 2)
    assert h.item("ZL-S2-099")["version"] == 2
    put(h, "ZL-S2-099", version=3)
    assert h.item("ZL-S2-099")["version"] == 3


def test_catalogue_record_has_no_project_and_no_ref(h: Harness) -> None:
    record = catalogue_record(h, "ZL-S1-097")
    for crafted in (dataclasses.replace(record, project=P), dataclasses.replace(record, ref=keccak(b"x"))):
        args = h.refused(crafted, "cat", "LedgerCatalogueFields")
        assert args == (crafted.uid,)


@pytest.mark.parametrize(
    ("field", "index", "value"),
    [
        ("stage", 3, 0), ("stage", 3, 5), ("list", 4, 0), ("list", 4, 4), ("department", 5, 0),
        ("department", 5, 99), ("on_the_spot", 7, 2), ("commitment", 8, 4), ("retired", 9, 2),
    ],
)  # fmt: skip
def test_catalogue_values_out_of_range_are_refused(h: Harness, field: str, index: int, value: int) -> None:
    record = catalogue_record(h, "ZL-S3-099", **{field: value})

    args = h.refused(record, "cat", "LedgerInvalidValue")

    assert args == (record.uid, index, value)


@pytest.mark.parametrize(("code", "length"), [("", 0), ("Z" * 65, 65)])
def test_item_code_is_1_to_64_bytes(h: Harness, code: str, length: int) -> None:
    record = h.record(Kind.CATALOGUE, ZERO32, catalogue_fields(code, h.orgs["auth"].id), org="cat")

    args = h.refused(record, "cat", "LedgerInvalidValue")

    assert args == (record.uid, 0, length)


def test_item_needs_a_name(h: Harness) -> None:
    record = catalogue_record(h, "ZL-S3-098", name="")

    assert h.refused(record, "cat", "LedgerInvalidValue") == (record.uid, 2, 0)


def test_malformed_catalogue_payload_is_refused(h: Harness) -> None:
    record = catalogue_record(h, "ZL-S3-097")
    crafted = dataclasses.replace(record, payload=record.payload + bytes(32))

    assert h.refused(crafted, "cat", "LedgerMalformedPayload") == (crafted.uid,)


# 2. Approvals are of catalogue items -------------------------------------------------------------


def test_approval_of_an_item_is_active_and_keeps_its_decision(h: Harness) -> None:
    for decision in (APPROVED, ON_COMMITMENT, WITH_DEFICIENCIES, REJECTED):
        uid = approve(h, decision=decision)
        entry = h.entry(uid)
        assert (entry["status"], entry["level"], entry["subject"]) == (Status.ACTIVE, 1, decision + 1)


def test_approval_of_an_unknown_item_is_refused(h: Harness) -> None:
    assert refused_approval(h, "LedgerUnknownItem", item="ZL-S9-999") == (key("ZL-S9-999"),)


def test_approval_of_a_retired_item_is_refused(h: Harness) -> None:
    put(h, "T-S1", version=2, retired=1)

    assert refused_approval(h, "LedgerItemRetired", item_version=2) == (key("T-S1"),)


@pytest.mark.parametrize("given", [0, 2])
def test_approval_naming_another_version_than_the_one_in_force_is_refused(h: Harness, given: int) -> None:
    assert refused_approval(h, "LedgerCatalogueVersion", item_version=given) == (key("T-S1"), given, 1)


def test_approval_by_another_department_than_the_items_is_refused(h: Harness) -> None:
    args = refused_approval(h, "LedgerNotItemDepartment", org="auth2", item="T-S1")

    assert args == (key("T-S1"), h.orgs["auth2"].id)


def test_approval_in_another_stage_than_the_items_is_refused(h: Harness) -> None:
    assert refused_approval(h, "LedgerItemStage", stage=2, item="T-S1") == (key("T-S1"), 2)


@pytest.mark.parametrize(
    ("decision", "item", "allowed"),
    [
        (ON_COMMITMENT, "T-S1", False), (ON_COMMITMENT, "T-S1-DEF", False), (ON_COMMITMENT, "T-S1-CREDIT", True),
        (WITH_DEFICIENCIES, "T-S1", False), (WITH_DEFICIENCIES, "T-S1-CREDIT", False),
        (WITH_DEFICIENCIES, "T-S1-DEF", True),
        (APPROVED, "T-S1", True), (APPROVED, "T-S1-DEF", True), (APPROVED, "T-S1-CREDIT", True),
        (REJECTED, "T-S1", True), (REJECTED, "T-S1-CREDIT", True),
    ],
)  # fmt: skip
def test_decision_must_be_allowed_by_the_items_commitment_type(
    h: Harness, decision: int, item: str, allowed: bool
) -> None:
    if allowed:
        assert h.entry(approve(h, decision=decision, item=item))["status"] == Status.ACTIVE
    else:
        args = refused_approval(h, "LedgerDecisionNotAllowed", decision=decision, item=item)
        assert args == (key(item), decision)


def test_a_self_acceptance_item_takes_only_plain_decisions(h: Harness) -> None:
    put(h, "ZL-S4-003", stage=4, commitment=SELF_ACCEPTANCE, on_the_spot=1)

    approve(h, stage=4, item="ZL-S4-003", decision=APPROVED)
    for decision in (ON_COMMITMENT, WITH_DEFICIENCIES):
        refused_approval(h, "LedgerDecisionNotAllowed", stage=4, item="ZL-S4-003", decision=decision)


def test_refusals_come_in_the_order_of_the_rules(h: Harness) -> None:
    # retired, stale version, other department, other stage, disallowed decision: retired says it first
    put(h, "T-S1", version=2, retired=1)
    assert refused_approval(h, "LedgerItemRetired", org="auth2", item="T-S1", stage=2, decision=1)
    put(h, "T-S1", version=3)
    args = refused_approval(h, "LedgerCatalogueVersion", org="auth2", item="T-S1", stage=2, decision=1)
    assert args == (key("T-S1"), 1, 3)


def test_a_correction_of_an_approval_names_the_version_in_force(h: Harness) -> None:
    old = approve(h)
    put(h, "T-S1", version=2, time_limit_days=5)

    stale = h.record(Kind.APPROVAL, P, approval_fields(item_version=1), ref=old)
    assert h.refused(stale, "auth", "LedgerCatalogueVersion") == (key("T-S1"), 1, 2)
    h.submit(h.record(Kind.APPROVAL, P, approval_fields(item_version=2), ref=old), "auth")

    assert h.entry(old)["status"] == Status.SUPERSEDED


# 3. A catalogue change leaves earlier approvals as they are --------------------------------------


def test_new_versions_and_retirement_leave_earlier_approvals_unchanged(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields(stage=1, item="T-S1", item_version=1))
    receipt = h.submit(record, "auth")
    before = h.entry(record.uid)

    put(h, "T-S1", version=2, stage=2, department=h.orgs["auth2"].id, commitment=CREDIT)
    put(h, "T-S1", version=3, stage=2, department=h.orgs["auth2"].id, retired=1)

    assert h.entry(record.uid) == before  # status, stage, issuer, decision: as recorded
    [(carried, _seal)] = h.carried(receipt)[record.uid]
    named = decode_payload(Kind.APPROVAL, carried.payload)
    assert (named["item"], named["item_version"], named["stage"]) == ("T-S1", 1, 1)
    assert h.item("T-S1")["version"] == 3
    # the approval lives on: its issuer can still revoke it, whatever the item became
    h.submit(h.record(Kind.REVOCATION, P, reason(), ref=record.uid), "auth")
    assert h.entry(record.uid)["status"] == Status.REVOKED


def test_after_a_new_version_approvals_follow_it(h: Harness) -> None:
    approve(h, item="T-S1")
    put(h, "T-S1", version=2, department=h.orgs["auth2"].id)

    refused_approval(h, "LedgerCatalogueVersion", item="T-S1", item_version=1)
    refused_approval(h, "LedgerNotItemDepartment", item="T-S1", item_version=2)
    approve(h, org="auth2", item="T-S1", item_version=2)


# 4. Commitments bound to their approval ----------------------------------------------------------


def commitment(
    h: Harness, approval: bytes, commitment_type: int, project: bytes = P, org: str = "auth"
) -> Record:
    return h.record(Kind.COMMITMENT, project, commitment_fields(commitment_type, approval), org=org)


@pytest.mark.parametrize(
    ("decision", "commitment_type"), [(ON_COMMITMENT, SUBSTITUTE), (WITH_DEFICIENCIES, DEFICIENCY_ACCEPTANCE)]
)
def test_commitment_bound_to_its_approval_is_pending(h: Harness, decision: int, commitment_type: int) -> None:
    approval = approve(h, decision=decision)
    record = commitment(h, approval, commitment_type)

    h.submit(record, "auth")

    entry = h.entry(record.uid)
    assert (entry["status"], entry["level"]) == (Status.PENDING, commitment_type)


def test_free_standing_commitment_is_still_accepted(h: Harness) -> None:
    record = h.record(Kind.COMMITMENT, P, commitment_fields(3))
    h.submit(record, "auth")
    assert h.entry(record.uid)["status"] == Status.PENDING


def test_approval_and_its_commitment_in_one_batch(h: Harness) -> None:
    approval = h.record(Kind.APPROVAL, P, approval_fields(decision=WITH_DEFICIENCIES))
    bound = h.record(Kind.COMMITMENT, P, commitment_fields(DEFICIENCY_ACCEPTANCE, approval.uid))

    receipt = h.transact(
        h.relayer, h.batch_call([approval, bound], [h.seal(approval, "auth"), h.seal(bound, "auth")])
    )

    assert [e["uid"] for e in h.events(receipt, "RecordAdded")] == [approval.uid, bound.uid]


def test_commitment_before_its_approval_in_a_batch_is_refused(h: Harness) -> None:
    approval = h.record(Kind.APPROVAL, P, approval_fields(decision=WITH_DEFICIENCIES))
    bound = h.record(Kind.COMMITMENT, P, commitment_fields(DEFICIENCY_ACCEPTANCE, approval.uid))

    receipt = h.transact(
        h.relayer, h.batch_call([bound, approval], [h.seal(bound, "auth"), h.seal(approval, "auth")])
    )

    (rejected,) = h.events(receipt, "RecordRejected")
    decoded = h.contracts.decode_revert(rejected["reason"])
    assert decoded is not None and (decoded.name, decoded.args) == (
        "LedgerCommitmentApproval",
        (approval.uid,),
    )


def test_commitment_of_the_wrong_type_for_the_decision_is_refused(h: Harness) -> None:
    on_commitment = approve(h, decision=ON_COMMITMENT)
    with_deficiencies = approve(h, decision=WITH_DEFICIENCIES)

    for approval, wrong in (
        (on_commitment, DEFICIENCY_ACCEPTANCE),
        (on_commitment, 3),
        (with_deficiencies, SUBSTITUTE),
    ):
        args = h.refused(commitment(h, approval, wrong), "auth", "LedgerCommitmentApproval")
        assert args == (approval,)


@pytest.mark.parametrize("decision", [APPROVED, REJECTED])
def test_commitment_bound_to_an_approval_that_needs_none_is_refused(h: Harness, decision: int) -> None:
    approval = approve(h, decision=decision)
    for commitment_type in (SUBSTITUTE, DEFICIENCY_ACCEPTANCE):
        assert h.refused(commitment(h, approval, commitment_type), "auth", "LedgerCommitmentApproval") == (
            approval,
        )


def test_commitment_bound_to_another_projects_approval_is_refused(h: Harness) -> None:
    approval = approve(h, decision=ON_COMMITMENT, project=Q)

    assert h.refused(commitment(h, approval, SUBSTITUTE), "auth", "LedgerCommitmentApproval") == (approval,)


def test_commitment_bound_to_another_organisations_approval_is_refused(h: Harness) -> None:
    approval = approve(h, org="auth2", decision=ON_COMMITMENT)

    assert h.refused(commitment(h, approval, SUBSTITUTE), "auth", "LedgerCommitmentApproval") == (approval,)


def test_commitment_bound_to_a_revoked_or_superseded_approval_is_refused(h: Harness) -> None:
    revoked = approve(h, decision=ON_COMMITMENT)
    h.submit(h.record(Kind.REVOCATION, P, reason(), ref=revoked), "auth")
    superseded = approve(h, decision=ON_COMMITMENT)
    h.submit(h.record(Kind.APPROVAL, P, approval_fields(decision=ON_COMMITMENT), ref=superseded), "auth")

    for approval in (revoked, superseded):
        assert h.refused(commitment(h, approval, SUBSTITUTE), "auth", "LedgerCommitmentApproval") == (
            approval,
        )


def test_commitment_bound_to_no_approval_is_refused(h: Harness) -> None:
    event = h.record(Kind.EVENT, P, event_fields(1))
    h.submit(event, "sup")
    for approval in (event.uid, keccak(b"no such record")):
        assert h.refused(commitment(h, approval, SUBSTITUTE), "auth", "LedgerCommitmentApproval") == (
            approval,
        )


# 5. A dishonest member, with its own relayer -----------------------------------------------------


@pytest.fixture
def rogue(h: Harness) -> Org:
    """An approval authority with its own relayer, that crafts what its node software would not send."""
    return h.admit("rogue", "116208250139206070", ["approval_authority"], relayer=True)


def via_own_relayer(h: Harness, org: Org, record: Record, sealer: str, error: str) -> tuple[Any, ...]:
    """Asserts ``record``, sealed by ``sealer``, sent by ``org``'s own relayer, is refused with ``error``."""
    assert org.relayer is not None
    return h.expect_revert(org.relayer, h.submit_call(record, h.seal(record, sealer)), error)


def test_dishonest_member_cannot_write_the_catalogue(h: Harness, rogue: Org) -> None:
    # an item that makes the rogue the department of the approvals it wants to record
    record = catalogue_record(h, "T-S1", org="rogue", version=2, department=rogue.id)

    args = via_own_relayer(h, rogue, record, "rogue", "LedgerMissingRole")

    assert args == (record.uid, rogue.id, ROLE_CATALOGUE)
    assert h.item("T-S1")["department"] == h.orgs["auth"].id


def test_dishonest_member_cannot_approve_outside_the_catalogue_or_its_department(
    h: Harness, rogue: Org
) -> None:
    outside = h.record(Kind.APPROVAL, P, approval_fields(item="自拟事项"), org="rogue")
    assert via_own_relayer(h, rogue, outside, "rogue", "LedgerUnknownItem") == (key("自拟事项"),)
    others = h.record(Kind.APPROVAL, P, approval_fields(item="T-S1"), org="rogue")
    assert via_own_relayer(h, rogue, others, "rogue", "LedgerNotItemDepartment") == (key("T-S1"), rogue.id)
    # the item's version of its choosing: 0 (none) or a future one
    for version in (0, 2):
        crafted = h.record(Kind.APPROVAL, P, approval_fields(item="T-S1", item_version=version), org="rogue")
        via_own_relayer(h, rogue, crafted, "rogue", "LedgerCatalogueVersion")


def test_dishonest_catalogue_member_cannot_rewrite_a_version(h: Harness) -> None:
    cat = h.admit("cat-relay", "11620825013920551W", ["catalogue"], relayer=True)
    for version in (1, 3):  # rewrite version 1 of T-S1, or skip to version 3
        record = catalogue_record(h, "T-S1", org="cat-relay", version=version, department=cat.id)
        via_own_relayer(h, cat, record, "cat-relay", "LedgerCatalogueVersion")
    # nor approve: the catalogue role is not an approval authority
    approval = h.record(Kind.APPROVAL, P, approval_fields(), org="cat-relay")
    via_own_relayer(h, cat, approval, "cat-relay", "LedgerMissingRole")


def test_dishonest_member_cannot_bind_its_commitment_to_anothers_approval(h: Harness, rogue: Org) -> None:
    approval = approve(h, decision=ON_COMMITMENT)
    crafted = h.record(Kind.COMMITMENT, P, commitment_fields(SUBSTITUTE, approval), org="rogue")

    assert via_own_relayer(h, rogue, crafted, "rogue", "LedgerCommitmentApproval") == (approval,)


def test_crafted_approval_payload_of_the_old_shape_is_malformed(h: Harness, rogue: Org) -> None:
    old = {k: v for k, v in approval_fields().items() if k != "item_version"}
    payload = abi_encode(
        ["uint8", "uint8", "string", "string", "uint64", "uint64", "bytes32"], list(old.values())
    )
    record = dataclasses.replace(h.record(Kind.APPROVAL, P, approval_fields(), org="rogue"), payload=payload)

    assert via_own_relayer(h, rogue, record, "rogue", "LedgerMalformedPayload") == (record.uid,)
    assert encode_payload(Kind.APPROVAL, approval_fields()) != payload
