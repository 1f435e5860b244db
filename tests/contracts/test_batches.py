"""submitBatch: a refused record is reported and skipped, the others land, the transaction succeeds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from node_api.domain.records import ZERO32, Kind, Record, Status, project_id
from tests.contracts.conftest import P
from tests.contracts.harness import Harness, account
from tests.contracts.payloads import approval_fields, event_fields, project_fields, project_record, reason

CODE = "2026-620825-84-01-000003"
OTHER_CODE = "2026-620825-84-01-000004"


def approvals(h: Harness, n: int) -> list[Record]:
    """``n`` fresh approvals on P."""
    return [h.record(Kind.APPROVAL, P, approval_fields()) for _ in range(n)]


def stage_5(h: Harness) -> tuple[Record, bytes, str]:
    """An approval out of range; each maker returns (record, seal, the error it must raise)."""
    record = h.record(Kind.APPROVAL, P, approval_fields(stage=5))
    return record, h.seal(record, "auth"), "LedgerInvalidValue"


def forged(h: Harness) -> tuple[Record, bytes, str]:
    """An approval sealed by a key no member holds."""
    record = h.record(Kind.APPROVAL, P, approval_fields())
    return record, h.seal(record, account("forger")), "LedgerInvalidSeal"


def wrong_role(h: Harness) -> tuple[Record, bytes, str]:
    """An abnormal event sealed by an approval authority."""
    record = h.record(Kind.EVENT, P, event_fields(severity=1), org="auth")
    return record, h.seal(record, "auth"), "LedgerMissingRole"


@pytest.mark.parametrize("make_bad", [stage_5, forged, wrong_role], ids=lambda f: f.__name__)
def test_batch_lands_good_records_and_reports_bad_one_with_its_error(
    h: Harness, make_bad: Callable[[Harness], tuple[Record, bytes, str]]
) -> None:
    first, last = approvals(h, 2)
    bad, bad_seal, error = make_bad(h)
    records = [first, bad, last]
    seals = [h.seal(first, "auth"), bad_seal, h.seal(last, "auth")]
    call = h.batch_call(records, seals)

    accepted = call.call({"from": h.relayer.address})
    receipt = h.transact(h.relayer, call)

    assert accepted == 2
    assert [e["uid"] for e in h.events(receipt, "RecordAdded")] == [first.uid, last.uid]
    (rejected,) = h.events(receipt, "RecordRejected")
    assert rejected["uid"] == bad.uid
    decoded = h.contracts.decode_revert(rejected["reason"])
    assert decoded is not None and decoded.name == error
    assert decoded.args[0] == bad.uid
    assert [h.entry(r.uid)["kind"] for r in records] == [Kind.APPROVAL, 0, Kind.APPROVAL]


def test_rejected_record_leaves_no_partial_state(h: Harness) -> None:
    registration = project_record(h, CODE)
    h.submit(registration, "auth")
    # Both fail their code check only after writing: the correction has already superseded
    # the registration, the new registration has already taken a project number.
    correction = h.record(Kind.PROJECT, project_id(CODE), project_fields(OTHER_CODE), ref=registration.uid)
    misnumbered = project_record(h, OTHER_CODE, pid=project_id(OTHER_CODE + "9"))
    records = [correction, misnumbered]

    receipt = h.transact(h.relayer, h.batch_call(records, [h.seal(r, "auth") for r in records]))
    h.submit(project_record(h, OTHER_CODE), "auth")

    reasons = [h.contracts.decode_revert(e["reason"]) for e in h.events(receipt, "RecordRejected")]
    assert [r.name if r else None for r in reasons] == ["LedgerProjectCodeMismatch"] * 2
    assert h.events(receipt, "StatusChanged") == []
    assert h.entry(registration.uid)["status"] == Status.ACTIVE
    assert h.ledger.functions.project(project_id(OTHER_CODE + "9")).call() == [0, 0]
    assert h.ledger.functions.project(project_id(OTHER_CODE)).call()[0] == 4  # P, Q, CODE, then this


def test_later_record_of_batch_sees_earlier_one(h: Harness) -> None:
    approval = approvals(h, 1)[0]
    revocation = h.record(Kind.REVOCATION, P, reason(), ref=approval.uid)

    receipt = h.transact(
        h.relayer,
        h.batch_call([approval, revocation], [h.seal(approval, "auth"), h.seal(revocation, "auth")]),
    )

    assert h.events(receipt, "RecordRejected") == []
    assert h.entry(approval.uid)["status"] == Status.REVOKED


def test_same_record_twice_in_one_batch_lands_once(h: Harness) -> None:
    record = approvals(h, 1)[0]
    seal = h.seal(record, "auth")

    receipt = h.transact(h.relayer, h.batch_call([record, record], [seal, seal]))

    assert len(h.events(receipt, "RecordAdded")) == 1
    (rejected,) = h.events(receipt, "RecordRejected")
    decoded = h.contracts.decode_revert(rejected["reason"])
    assert decoded is not None and decoded.name == "LedgerDuplicateRecord"


def test_batch_with_fewer_seals_than_records_reverts_length_mismatch(h: Harness) -> None:
    records = approvals(h, 2)

    args = h.expect_revert(
        h.relayer, h.batch_call(records, [h.seal(records[0], "auth")]), "LedgerLengthMismatch"
    )

    assert args == (2, 1)


def test_batch_from_unregistered_account_reverts_unauthorized_relayer(h: Harness) -> None:
    records = approvals(h, 1)
    stranger = account("stranger")

    args = h.expect_revert(
        stranger, h.batch_call(records, [h.seal(records[0], "auth")]), "LedgerUnauthorizedRelayer"
    )

    assert args == (stranger.address,)


def test_batch_short_of_gas_reverts_whole_with_batch_out_of_gas(h: Harness) -> None:
    records = approvals(h, 3)
    call = h.batch_call(records, [h.seal(r, "auth") for r in records])

    # Room for a record or two, not for the reserve the ledger keeps before each one.
    (uid,) = h.expect_revert(h.relayer, call, "LedgerBatchOutOfGas", gas=250_000)

    assert uid in [r.uid for r in records[1:]]
    assert [h.entry(r.uid)["kind"] for r in records] == [0, 0, 0]


def test_refused_project_payload_that_abi_decode_would_reject_is_reported_not_fatal(h: Harness) -> None:
    # A string offset pointing past the payload: checked without abi.decode's bare revert,
    # which in a batch would look like running out of gas.
    offset_past_end = (2**64).to_bytes(32, "big") * 2
    broken = Record(h.uid(), Kind.PROJECT, project_id(OTHER_CODE), ZERO32, ZERO32, offset_past_end)
    good = approvals(h, 1)[0]

    receipt = h.transact(
        h.relayer, h.batch_call([broken, good], [h.seal(broken, "auth"), h.seal(good, "auth")])
    )

    (rejected,) = h.events(receipt, "RecordRejected")
    decoded = h.contracts.decode_revert(rejected["reason"])
    assert decoded is not None and decoded.name == "LedgerMalformedPayload"
    assert [e["uid"] for e in h.events(receipt, "RecordAdded")] == [good.uid]
