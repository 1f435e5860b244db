"""Status changes are new records the contract checks: who may make them, from which status, when."""

from __future__ import annotations

from node_api.domain.records import Kind, Status
from tests.contracts.conftest import P
from tests.contracts.harness import DAY, Harness
from tests.contracts.payloads import approval_fields, commitment_fields, event_fields, reason


def approve(h: Harness, org: str = "auth") -> bytes:
    """An active approval on P issued by ``org``; returns its uid."""
    record = h.record(Kind.APPROVAL, P, approval_fields())
    h.submit(record, org)
    return record.uid


def report(h: Harness, severity: int) -> bytes:
    """An open event on P reported by the supervisor; returns its uid."""
    record = h.record(Kind.EVENT, P, event_fields(severity))
    h.submit(record, "sup")
    return record.uid


def change(h: Harness, kind: Kind, target: bytes, org: str) -> bytes:
    """Applies a status change to ``target``; asserts its StatusChanged event; returns the change's uid."""
    record = h.record(kind, P, reason(), ref=target, org=org)
    receipt = h.submit(record, org)
    changed = h.events(receipt, "StatusChanged")
    assert [(c["uid"], c["cause"]) for c in changed] == [(target, record.uid)]
    assert h.entry(record.uid)["status"] == Status.RECORDED
    return record.uid


def test_issuer_revokes_active_approval_with_status_changed_event(h: Harness) -> None:
    approval = approve(h)
    revocation = h.record(Kind.REVOCATION, P, reason(), ref=approval)

    receipt = h.submit(revocation, "auth")

    assert h.events(receipt, "StatusChanged") == [
        {"uid": approval, "status": Status.REVOKED, "cause": revocation.uid}
    ]
    assert h.entry(approval)["status"] == Status.REVOKED


def test_revoking_twice_reverts_illegal_transition(h: Harness) -> None:
    approval = approve(h)
    change(h, Kind.REVOCATION, approval, "auth")

    args = h.refused(h.record(Kind.REVOCATION, P, reason(), ref=approval), "auth", "LedgerIllegalTransition")

    assert args == (approval, Kind.REVOCATION, Status.REVOKED)


def test_revocation_by_another_organisation_reverts_not_issuer(h: Harness) -> None:
    approval = approve(h)

    args = h.refused(
        h.record(Kind.REVOCATION, P, reason(), ref=approval, org="auth2"), "auth2", "LedgerNotIssuer"
    )

    assert args == (approval, h.orgs["auth2"].id)
    assert h.entry(approval)["status"] == Status.ACTIVE


def test_fulfilling_an_approval_reverts_illegal_transition(h: Harness) -> None:
    approval = approve(h)

    args = h.refused(h.record(Kind.FULFILMENT, P, reason(), ref=approval), "auth", "LedgerIllegalTransition")

    assert args == (approval, Kind.FULFILMENT, Status.ACTIVE)


def test_commitment_is_fulfilled_once(h: Harness) -> None:
    commitment = h.record(Kind.COMMITMENT, P, commitment_fields())
    h.submit(commitment, "auth")
    assert h.entry(commitment.uid)["status"] == Status.PENDING

    change(h, Kind.FULFILMENT, commitment.uid, "sup")
    args = h.refused(
        h.record(Kind.BREACH, P, reason(), ref=commitment.uid), "auth", "LedgerIllegalTransition"
    )

    assert h.entry(commitment.uid)["status"] == Status.FULFILLED
    assert args == (commitment.uid, Kind.BREACH, Status.FULFILLED)


def test_slight_event_goes_open_objected_open_resolved_repaired(h: Harness) -> None:
    event = report(h, severity=1)
    seen = [h.entry(event)["status"]]

    # The objection is decided by another supervisor than the objector.
    for kind, org in (
        (Kind.OBJECTION, "sup"),
        (Kind.OBJECTION_REJECTED, "sup2"),
        (Kind.RESOLUTION, "sup"),
        (Kind.REPAIR, "sup"),
    ):
        change(h, kind, event, org)
        seen.append(h.entry(event)["status"])

    assert seen == [Status.OPEN, Status.OBJECTED, Status.OPEN, Status.RESOLVED, Status.REPAIRED]


def test_upheld_objection_annuls_event_and_nothing_follows(h: Harness) -> None:
    event = report(h, severity=1)
    change(h, Kind.OBJECTION, event, "sup")
    change(h, Kind.OBJECTION_UPHELD, event, "sup2")

    args = h.refused(h.record(Kind.RESOLUTION, P, reason(), ref=event), "sup", "LedgerIllegalTransition")

    assert h.entry(event)["status"] == Status.ANNULLED
    assert args == (event, Kind.RESOLUTION, Status.ANNULLED)


def test_repairing_unresolved_event_reverts_illegal_transition(h: Harness) -> None:
    event = report(h, severity=1)

    args = h.refused(h.record(Kind.REPAIR, P, reason(), ref=event), "sup", "LedgerIllegalTransition")

    assert args == (event, Kind.REPAIR, Status.OPEN)


def test_general_event_repair_before_90_days_reverts_then_succeeds_after_91(h: Harness) -> None:
    event = report(h, severity=2)
    recorded_at = h.entry(event)["recordedAt"]
    change(h, Kind.RESOLUTION, event, "sup")
    h.advance(89 * DAY)

    args = h.refused(h.record(Kind.REPAIR, P, reason(), ref=event), "sup", "LedgerRepairTooEarly")
    h.advance(2 * DAY)
    change(h, Kind.REPAIR, event, "sup")

    assert args == (event, recorded_at + 90 * DAY)
    assert h.entry(event)["status"] == Status.REPAIRED


def test_serious_event_still_too_early_after_91_days(h: Harness) -> None:
    event = report(h, severity=3)
    change(h, Kind.RESOLUTION, event, "sup")
    h.advance(91 * DAY)

    ref, allowed_from = h.refused(
        h.record(Kind.REPAIR, P, reason(), ref=event), "sup", "LedgerRepairTooEarly"
    )

    assert (ref, allowed_from) == (event, h.entry(event)["recordedAt"] + 365 * DAY)


def test_issuer_supersedes_own_approval(h: Harness) -> None:
    old = approve(h)
    correction = h.record(Kind.APPROVAL, P, approval_fields(decision=1), ref=old)

    receipt = h.submit(correction, "auth")

    assert h.events(receipt, "StatusChanged") == [
        {"uid": old, "status": Status.SUPERSEDED, "cause": correction.uid}
    ]
    assert (h.entry(old)["status"], h.entry(correction.uid)["status"]) == (Status.SUPERSEDED, Status.ACTIVE)


def test_supersede_by_different_organisation_reverts_not_issuer(h: Harness) -> None:
    old = approve(h)

    args = h.refused(
        # (an item of auth2's own: the item check comes before the supersession's)
        h.record(Kind.APPROVAL, P, approval_fields(org="auth2"), ref=old, org="auth2"),
        "auth2",
        "LedgerNotIssuer",
    )

    assert args == (old, h.orgs["auth2"].id)


def test_supersede_with_other_kind_reverts_illegal_transition(h: Harness) -> None:
    old = approve(h)

    args = h.refused(
        h.record(Kind.COMMITMENT, P, commitment_fields(), ref=old), "auth", "LedgerIllegalTransition"
    )

    assert args == (old, Kind.COMMITMENT, Status.ACTIVE)


def test_status_change_of_unknown_record_reverts_unknown_record(h: Harness) -> None:
    missing = h.uid()

    args = h.refused(h.record(Kind.REVOCATION, P, reason(), ref=missing), "auth", "LedgerUnknownRecord")

    assert args == (missing,)
