"""受理 and 暂停/恢复计时 on chain: an acceptance is checked like an approval's item (in the catalogue,
not retired, its version in force, issued by its department); a pause only of a running acceptance, a
resume only of a paused one, each by the department that accepted it. Every refusal is the ledger's
custom error, as a dishonest member's own relayer would see it."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from node_api.domain.records import Kind, Status, decode_payload
from tests.contracts.conftest import P, Q
from tests.contracts.harness import Harness
from tests.contracts.payloads import catalogue_record, item_code, project_record, reason


def acceptance_fields(item: str | None = None, item_version: int = 1, org: str = "auth") -> dict[str, Any]:
    return {
        "item": item_code(1, 0, org) if item is None else item,
        "item_version": item_version,
        "accepted_at": 1_772_409_600,
        "restricted": keccak(b"restricted acceptance content"),
    }


def pause_fields(why: str = "专家评审") -> dict[str, Any]:
    return {"reason": why, "restricted": keccak(text=why)}


def accept(h: Harness, org: str = "auth", project: bytes = P, **fields: Any) -> bytes:
    record = h.record(Kind.ACCEPTANCE, project, acceptance_fields(org=org, **fields), org=org)
    h.submit(record, org)
    return record.uid


def change(h: Harness, kind: Kind, ref: bytes, org: str = "auth", project: bytes = P) -> Any:
    return h.record(kind, project, pause_fields(), ref=ref, org=org)


def test_acceptance_runs_and_keeps_stage_and_version(h: Harness) -> None:
    uid = accept(h, item=item_code(3, 0))
    entry = h.entry(uid)
    assert (entry["kind"], entry["status"], entry["level"], entry["subject"]) == (
        Kind.ACCEPTANCE,
        Status.OPEN,
        3,
        1,
    )
    assert entry["issuer"] == h.orgs["auth"].id


def test_pause_then_resume_then_pause_again(h: Harness) -> None:
    uid = accept(h)
    pause = change(h, Kind.PAUSE, uid)
    h.submit(pause, "auth")
    assert h.entry(uid)["status"] == Status.PAUSED
    assert decode_payload(Kind.PAUSE, pause.payload)["reason"] == "专家评审"
    h.submit(change(h, Kind.RESUME, uid), "auth")
    assert h.entry(uid)["status"] == Status.OPEN
    h.submit(change(h, Kind.PAUSE, uid), "auth")
    assert h.entry(uid)["status"] == Status.PAUSED


def test_acceptance_of_an_unknown_item_is_refused(h: Harness) -> None:
    record = h.record(Kind.ACCEPTANCE, P, acceptance_fields(item="ZL-NOPE-1"))
    assert h.refused(record, "auth", "LedgerUnknownItem") == (keccak(text="ZL-NOPE-1"),)
    assert h.entry(record.uid)["kind"] == 0


def test_acceptance_of_another_version_is_refused(h: Harness) -> None:
    record = h.record(Kind.ACCEPTANCE, P, acceptance_fields(item_version=2))
    assert h.refused(record, "auth", "LedgerCatalogueVersion") == (keccak(text=item_code()), 2, 1)


def test_acceptance_by_another_department_is_refused(h: Harness) -> None:
    record = h.record(Kind.ACCEPTANCE, P, acceptance_fields(item=item_code(1, 0, "auth")), org="auth2")
    assert h.refused(record, "auth2", "LedgerNotItemDepartment") == (
        keccak(text=item_code()),
        h.orgs["auth2"].id,
    )


def test_acceptance_of_a_retired_item_is_refused(h: Harness) -> None:
    h.submit(catalogue_record(h, "T-RET", stage=1), "cat")
    h.submit(catalogue_record(h, "T-RET", version=2, stage=1, retired=1), "cat")
    record = h.record(Kind.ACCEPTANCE, P, acceptance_fields(item="T-RET", item_version=2))
    assert h.refused(record, "auth", "LedgerItemRetired") == (keccak(text="T-RET"),)


def test_acceptance_needs_the_approval_authority_role(h: Harness) -> None:
    record = h.record(Kind.ACCEPTANCE, P, acceptance_fields(), org="sup")
    h.refused(record, "sup", "LedgerMissingRole")


def test_acceptance_with_a_ref_is_refused(h: Harness) -> None:
    uid = accept(h)
    record = h.record(Kind.ACCEPTANCE, P, acceptance_fields(), ref=uid)
    h.refused(record, "auth", "LedgerIllegalTransition")


def test_acceptance_in_a_closed_project_is_refused(h: Harness) -> None:
    registration = project_record(h, "2026-620825-44-01-000077")
    h.submit(registration, "auth")
    h.submit(h.record(Kind.REVOCATION, registration.project, reason(), ref=registration.uid), "auth")
    record = h.record(Kind.ACCEPTANCE, registration.project, acceptance_fields())
    h.refused(record, "auth", "LedgerProjectClosed")


def test_resume_of_a_running_acceptance_is_refused(h: Harness) -> None:
    uid = accept(h)
    args = h.refused(change(h, Kind.RESUME, uid), "auth", "LedgerIllegalTransition")
    assert args == (uid, Kind.RESUME, Status.OPEN)


def test_pause_of_a_paused_acceptance_is_refused(h: Harness) -> None:
    uid = accept(h)
    h.submit(change(h, Kind.PAUSE, uid), "auth")
    args = h.refused(change(h, Kind.PAUSE, uid), "auth", "LedgerIllegalTransition")
    assert args == (uid, Kind.PAUSE, Status.PAUSED)


def test_pause_by_another_department_is_refused(h: Harness) -> None:
    uid = accept(h)
    args = h.refused(change(h, Kind.PAUSE, uid, org="auth2"), "auth2", "LedgerNotIssuer")
    assert args == (uid, h.orgs["auth2"].id)
    h.submit(change(h, Kind.PAUSE, uid), "auth")
    h.refused(change(h, Kind.RESUME, uid, org="auth2"), "auth2", "LedgerNotIssuer")


def test_pause_of_something_else_than_an_acceptance_is_refused(h: Harness) -> None:
    from tests.contracts.test_catalogue import approve

    approval = approve(h)
    args = h.refused(change(h, Kind.PAUSE, approval), "auth", "LedgerIllegalTransition")
    assert args == (approval, Kind.PAUSE, Status.ACTIVE)


def test_pause_across_projects_is_refused(h: Harness) -> None:
    uid = accept(h)
    h.refused(change(h, Kind.PAUSE, uid, project=Q), "auth", "LedgerCrossProject")


def test_pause_without_a_reason_field_is_malformed(h: Harness) -> None:
    uid = accept(h)
    record = h.record(Kind.REVOCATION, P, reason(), ref=uid)  # a status change's shape under kind 18
    bad = record.__class__(record.uid, Kind.PAUSE, P, uid, record.digest, record.payload)
    h.refused(bad, "auth", "LedgerMalformedPayload")
