"""Project registration, field ranges, project boundaries and access grants."""

from __future__ import annotations

import dataclasses

from node_api.domain.records import Kind, Status, project_id
from tests.contracts.conftest import PROJECT_CODE, P, Q
from tests.contracts.harness import DAY, Harness
from tests.contracts.payloads import approval_fields, grant_fields, project_record, reason

NEW_CODE = "2026-620825-84-01-000003"


def test_registration_numbers_project_and_records_registrant(h: Harness) -> None:
    record = project_record(h, NEW_CODE, org="auth2")

    h.submit(record, "auth2")

    assert h.ledger.functions.project(project_id(NEW_CODE)).call() == [3, h.orgs["auth2"].id]
    assert h.entry(record.uid)["status"] == Status.ACTIVE


def test_registering_same_project_twice_reverts_project_exists(h: Harness) -> None:
    args = h.refused(project_record(h, PROJECT_CODE, org="auth2"), "auth2", "LedgerProjectExists")

    assert args == (P,)


def test_project_id_not_hash_of_code_reverts_code_mismatch(h: Harness) -> None:
    wrong_id = project_id(NEW_CODE + "0")

    args = h.refused(project_record(h, NEW_CODE, pid=wrong_id), "auth", "LedgerProjectCodeMismatch")

    assert args == (wrong_id,)
    assert h.ledger.functions.project(wrong_id).call() == [0, 0]


def test_approval_for_unregistered_project_reverts_unknown_project(h: Harness) -> None:
    unknown = project_id(NEW_CODE)

    args = h.refused(h.record(Kind.APPROVAL, unknown, approval_fields()), "auth", "LedgerUnknownProject")

    assert args == (unknown,)


def test_approval_stage_5_reverts_invalid_value(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields(stage=5))

    args = h.refused(record, "auth", "LedgerInvalidValue")

    assert args == (record.uid, 0, 5)


def test_approval_with_truncated_payload_reverts_malformed_payload(h: Harness) -> None:
    stage_only = (1).to_bytes(32, "big") + b"\x00" * 8  # a valid stage, then a cut-off decision
    record = dataclasses.replace(h.record(Kind.APPROVAL, P, approval_fields()), payload=stage_only)

    args = h.refused(record, "auth", "LedgerMalformedPayload")

    assert args == (record.uid,)


def test_status_change_referring_to_other_projects_record_reverts_cross_project(h: Harness) -> None:
    approval = h.record(Kind.APPROVAL, P, approval_fields())
    h.submit(approval, "auth")

    args = h.refused(h.record(Kind.REVOCATION, Q, reason(), ref=approval.uid), "auth", "LedgerCrossProject")

    assert args == (approval.uid,)


def test_grant_by_non_registrant_reverts_not_issuer(h: Harness) -> None:
    grant = h.record(Kind.GRANT, P, grant_fields(h.orgs["bank"].id, h.now() + DAY), org="auth2")

    args = h.refused(grant, "auth2", "LedgerNotIssuer")

    assert args == (P, h.orgs["auth2"].id)


def test_grant_to_unknown_organisation_reverts_invalid_value(h: Harness) -> None:
    grant = h.record(Kind.GRANT, P, grant_fields(99, h.now() + DAY))

    args = h.refused(grant, "auth", "LedgerInvalidValue")

    assert args == (grant.uid, 0, 99)


def grant_to_bank(h: Harness, lifetime: int) -> bytes:
    """A grant on P from its registrant to the bank; returns the grant's uid."""
    grant = h.record(Kind.GRANT, P, grant_fields(h.orgs["bank"].id, h.now() + lifetime))
    h.submit(grant, "auth")
    return grant.uid


def test_grant_is_live_for_grantee_on_its_project_only(h: Harness) -> None:
    grant = grant_to_bank(h, lifetime=DAY)
    bank, sup = h.orgs["bank"].id, h.orgs["sup"].id

    assert h.ledger.functions.hasGrant(grant, P, bank).call() is True
    assert h.ledger.functions.hasGrant(grant, P, sup).call() is False
    assert h.ledger.functions.hasGrant(grant, Q, bank).call() is False


def test_grant_lapses_after_expiry(h: Harness) -> None:
    grant = grant_to_bank(h, lifetime=DAY)

    h.advance(DAY + 1)

    assert h.ledger.functions.hasGrant(grant, P, h.orgs["bank"].id).call() is False


def test_revoked_grant_is_no_longer_held(h: Harness) -> None:
    grant = grant_to_bank(h, lifetime=30 * DAY)
    assert h.ledger.functions.hasGrant(grant, P, h.orgs["bank"].id).call() is True

    h.submit(h.record(Kind.REVOCATION, P, reason(), ref=grant), "auth")

    assert h.ledger.functions.hasGrant(grant, P, h.orgs["bank"].id).call() is False
    assert h.entry(grant)["status"] == Status.REVOKED
