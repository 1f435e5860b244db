"""Revoked projects, range checks on grants, and a batch that runs out of gas."""

from __future__ import annotations

import pytest

from node_api.domain.records import Kind, project_id
from node_api.errors import ChainRevertError
from tests.contracts.harness import DAY, Harness
from tests.contracts.payloads import approval_fields, grant_fields, project_record, reason

CODE = "2026-620825-48-01-000044"


def _revoked_project(h: Harness) -> bytes:
    registration = project_record(h, CODE)
    h.submit(registration, "auth")
    h.submit(h.record(Kind.REVOCATION, project_id(CODE), reason("项目取消"), ref=registration.uid), "auth")
    return project_id(CODE)


def test_revoked_project_takes_no_new_approval(h: Harness) -> None:
    pid = _revoked_project(h)

    args = h.refused(h.record(Kind.APPROVAL, pid, approval_fields()), "auth", "LedgerProjectClosed")

    assert args == (pid,)


def test_revoked_project_takes_no_new_grant(h: Harness) -> None:
    pid = _revoked_project(h)
    grant = h.record(Kind.GRANT, pid, grant_fields(h.orgs["bank"].id, h.now() + DAY))

    h.refused(grant, "auth", "LedgerProjectClosed")


def test_grant_scope_out_of_range_reverts_invalid_value(h: Harness) -> None:
    h.submit(project_record(h, CODE), "auth")
    fields = {**grant_fields(h.orgs["bank"].id, h.now() + DAY), "scope": 0}

    args = h.refused(h.record(Kind.GRANT, project_id(CODE), fields), "auth", "LedgerInvalidValue")

    assert args[1:] == (1, 0)


def test_grant_expiry_beyond_40_bits_reverts_invalid_value(h: Harness) -> None:
    h.submit(project_record(h, CODE), "auth")
    fields = grant_fields(h.orgs["bank"].id, 2**40)

    args = h.refused(h.record(Kind.GRANT, project_id(CODE), fields), "auth", "LedgerInvalidValue")

    assert args[1:] == (2, 2**40)


def test_removing_an_unknown_relayer_names_the_relayer(h: Harness) -> None:
    stranger = "0x000000000000000000000000000000000000dEaD"

    with pytest.raises(ChainRevertError) as refused:
        h.admin_execute("removeRelayer", stranger)

    assert refused.value.name == "ConsortiumUnknownRelayer"


def test_batch_without_enough_gas_reverts_whole_instead_of_rejecting_records(h: Harness) -> None:
    records = [
        h.record(Kind.APPROVAL, project_id("2026-620825-44-01-000001"), approval_fields()) for _ in range(5)
    ]
    seals = [h.seal(r, "auth") for r in records]

    receipt = h.send(h.relayer, h.batch_call(records, seals), gas=250_000)

    assert receipt["status"] == 0
    assert h.events(receipt, "RecordRejected") == []
    assert all(h.entry(r.uid)["kind"] == 0 for r in records)
