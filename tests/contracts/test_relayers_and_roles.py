"""Who may send transactions, and which organisation may seal which kind of record."""

from __future__ import annotations

from node_api.domain.records import Kind, Status
from tests.contracts.conftest import P
from tests.contracts.harness import Harness, account
from tests.contracts.payloads import approval_fields, event_fields

ROLE_APPROVAL_AUTHORITY = 1
ROLE_SUPERVISOR = 2


def test_direct_submit_from_unregistered_account_reverts_unauthorized_relayer(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    stranger = account("stranger")

    args = h.expect_revert(
        stranger, h.submit_call(record, h.seal(record, "auth")), "LedgerUnauthorizedRelayer"
    )

    assert args == (stranger.address,)
    assert h.entry(record.uid)["kind"] == 0


def test_seal_key_cannot_relay_its_own_records(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())
    sealer = h.orgs["auth"].seal

    h.expect_revert(sealer, h.submit_call(record, h.seal(record, "auth")), "LedgerUnauthorizedRelayer")


def test_relayer_of_suspended_organisation_is_refused(h: Harness) -> None:
    h.admin_execute("suspend", h.orgs["auth"].id)
    record = h.record(Kind.APPROVAL, P, approval_fields())

    args = h.expect_revert(
        h.relayer, h.submit_call(record, h.seal(record, "auth")), "LedgerUnauthorizedRelayer"
    )

    assert args == (h.relayer.address,)


def test_registered_relayer_submits_approval_sealed_by_authority(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields(stage=2))

    receipt = h.submit(record, "auth")

    (added,) = h.added(receipt)
    assert (added["uid"], added["project"]) == (record.uid, P)
    assert added["issuer"] == h.orgs["auth"].id
    assert added["sealer"] == h.orgs["auth"].seal.address
    assert added["recordHash"] == h.sealer.digest(record)
    [(carried, _seal)] = h.carried(receipt)[record.uid]
    assert carried == record
    stored = h.entry(record.uid)
    assert (stored["status"], stored["level"], stored["project"]) == (Status.ACTIVE, 2, 1)


def test_financial_institution_sealing_approval_reverts_missing_role(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields(), org="bank")

    args = h.refused(record, "bank", "LedgerMissingRole")

    assert args == (record.uid, h.orgs["bank"].id, ROLE_APPROVAL_AUTHORITY)


def test_supervisor_only_org_sealing_approval_reverts_missing_role(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields(), org="sup")

    args = h.refused(record, "sup", "LedgerMissingRole")

    assert args == (record.uid, h.orgs["sup"].id, ROLE_APPROVAL_AUTHORITY)


def test_approval_authority_reporting_event_reverts_missing_role(h: Harness) -> None:
    record = h.record(Kind.EVENT, P, event_fields(severity=1), org="auth")

    args = h.refused(record, "auth", "LedgerMissingRole")

    assert args == (record.uid, h.orgs["auth"].id, ROLE_SUPERVISOR)


def test_supervisor_reports_event_as_open(h: Harness) -> None:
    record = h.record(Kind.EVENT, P, event_fields(severity=3))

    h.submit(record, "sup")

    stored = h.entry(record.uid)
    assert (stored["kind"], stored["status"], stored["level"]) == (Kind.EVENT, Status.OPEN, 3)
