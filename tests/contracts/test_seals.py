"""Electronic seals: only a live seal key of an active member seals, and a seal binds one record."""

from __future__ import annotations

import dataclasses

import pytest

from node_api.chain.contracts import compact_seal
from node_api.domain.records import Kind, Status, encode_payload
from tests.contracts.conftest import P
from tests.contracts.harness import Harness, account
from tests.contracts.payloads import approval_fields, event_fields

UNRECOVERABLE = (b"\x00" * 32, (1).to_bytes(32, "big"))  # r = 0: ecrecover finds no key


def test_forged_seal_from_random_key_reverts_invalid_seal(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    forger = account("forger")

    args = h.refused(record, forger, "LedgerInvalidSeal")

    assert args == (record.uid, forger.address)


def test_seal_from_revoked_key_reverts_invalid_seal(h: Harness) -> None:
    key = h.orgs["auth"].seal
    h.admin_execute("revokeSealKey", key.address)
    record = h.record(Kind.APPROVAL, P, approval_fields())

    args = h.refused(record, "auth", "LedgerInvalidSeal")

    assert args == (record.uid, key.address)


def test_after_rotation_old_key_is_refused_and_new_key_seals(h: Harness) -> None:
    old, new = h.orgs["auth"].seal, account("auth-seal-2026")
    h.admin_execute("rotateSealKey", old.address, new.address)
    sealed_by_old = h.record(Kind.APPROVAL, P, approval_fields())
    sealed_by_new = h.record(Kind.APPROVAL, P, approval_fields())

    args = h.refused(sealed_by_old, old, "LedgerInvalidSeal")
    receipt = h.transact(h.relayer, h.submit_call(sealed_by_new, h.seal(sealed_by_new, new)))

    assert args == (sealed_by_old.uid, old.address)
    (added,) = h.added(receipt)
    assert (added["sealer"], added["issuer"]) == (new.address, h.orgs["auth"].id)
    assert h.entry(sealed_by_new.uid)["status"] == Status.ACTIVE


def test_seal_from_suspended_organisation_reverts_invalid_seal(h: Harness) -> None:
    h.admin_execute("suspend", h.orgs["sup"].id)
    record = h.record(Kind.EVENT, P, event_fields(severity=1))

    args = h.refused(record, "sup", "LedgerInvalidSeal")

    assert args == (record.uid, h.orgs["sup"].seal.address)


def test_reinstated_organisation_seals_again(h: Harness) -> None:
    h.admin_execute("suspend", h.orgs["sup"].id)
    h.admin_execute("reinstate", h.orgs["sup"].id)
    record = h.record(Kind.EVENT, P, event_fields(severity=1))

    h.submit(record, "sup")

    assert h.entry(record.uid)["status"] == Status.OPEN


def test_replayed_sealed_record_reverts_duplicate_record(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    seal = h.seal(record, "auth")
    h.transact(h.relayer, h.submit_call(record, seal))

    args = h.expect_revert(h.relayer, h.submit_call(record, seal), "LedgerDuplicateRecord")

    assert args == (record.uid,)


def test_seal_reused_on_changed_payload_reverts_invalid_seal_with_other_signer(h: Harness) -> None:
    original = h.record(Kind.APPROVAL, P, approval_fields(stage=1))
    seal = h.seal(original, "auth")
    altered = dataclasses.replace(original, payload=encode_payload(Kind.APPROVAL, approval_fields(stage=4)))

    uid, signer = h.expect_revert(h.relayer, h.submit_call(altered, seal), "LedgerInvalidSeal")

    assert uid == altered.uid
    assert signer != h.orgs["auth"].seal.address
    assert h.entry(original.uid)["kind"] == 0


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_malleated_twin_of_valid_seal_has_no_compact_form(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    seal = h.seal(record, "auth")
    r, s, v = seal[:32], int.from_bytes(seal[32:64], "big"), seal[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # same signer for bare ecrecover

    with pytest.raises(ValueError, match="canonical"):
        compact_seal(twin)


def test_compact_seal_with_high_s_is_refused(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    high_s = (SECP256K1_N // 2 + 1).to_bytes(32, "big")  # top bit clear: the recovery bit says v = 27
    call = h.ledger.functions.submit(record.as_tuple(), (h.seal(record, "auth")[:32], high_s))

    args = h.expect_revert(h.relayer, call, "ECDSAInvalidSignatureS")

    assert args == (high_s,)


def test_seal_that_recovers_no_key_is_refused(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    call = h.ledger.functions.submit(record.as_tuple(), UNRECOVERABLE)

    h.expect_revert(h.relayer, call, "ECDSAInvalidSignature")


def test_unrecoverable_seal_in_batch_is_rejected_and_the_rest_land(h: Harness) -> None:
    bad, good = h.record(Kind.APPROVAL, P, approval_fields()), h.record(Kind.APPROVAL, P, approval_fields())
    seals = [UNRECOVERABLE, compact_seal(h.seal(good, "auth"))]
    call = h.ledger.functions.submitBatch([bad.as_tuple(), good.as_tuple()], seals)

    receipt = h.transact(h.relayer, call)

    (rejected,) = h.events(receipt, "RecordRejected")
    assert rejected["uid"] == bad.uid
    assert h.contracts.decode_revert(rejected["reason"]).name == "ECDSAInvalidSignature"  # type: ignore[union-attr]
    assert [e["uid"] for e in h.events(receipt, "RecordAdded")] == [good.uid]
    assert h.entry(bad.uid)["kind"] == 0


def test_seal_of_wrong_length_has_no_compact_form(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())

    with pytest.raises(ValueError, match="65 bytes"):
        compact_seal(h.seal(record, "auth")[:64])
