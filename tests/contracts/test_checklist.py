"""The 一张清单 on chain (KIND_CHECKLIST): a project's registrant lists catalogue items at their versions in force.

Every refusal is the ledger's custom error, as a dishonest member's own relayer would see it.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from node_api.domain.records import MAX_CHECKLIST_ITEMS, ZERO32, Kind, Status, project_id
from tests.contracts.conftest import P
from tests.contracts.harness import Harness
from tests.contracts.payloads import catalogue_record, item_code, project_record, reason

CODES = [item_code(stage, decision) for stage in (1, 2, 3, 4) for decision in (0, 1, 2)]


def key(code: str) -> bytes:
    return keccak(text=code)


def fields(codes: list[str] | None = None, versions: list[int] | None = None, **over: Any) -> dict[str, Any]:
    codes = CODES if codes is None else codes
    versions = [1] * len(codes) if versions is None else versions
    out = {"part": 1, "parts": 1, "items": [key(c) for c in codes],
           "versions": [v.to_bytes(32, "big") for v in versions]}  # fmt: skip
    out.update(over)
    return out


def refused(h: Harness, error: str, org: str = "auth", project: bytes = P, **over: Any) -> tuple[Any, ...]:
    record = h.record(Kind.CHECKLIST, project, fields(**over), org=org)
    args = h.refused(record, org, error)
    assert h.entry(record.uid)["kind"] == 0
    return args


def test_the_registrant_records_a_checklist(h: Harness) -> None:
    record = h.record(Kind.CHECKLIST, P, fields())
    h.submit(record, "auth")

    entry = h.entry(record.uid)
    assert (entry["kind"], entry["status"], entry["issuer"]) == (
        Kind.CHECKLIST,
        Status.ACTIVE,
        h.orgs["auth"].id,
    )
    assert (entry["level"], entry["subject"]) == (1, len(CODES))


def test_a_long_checklist_is_split_in_parts_of_at_most_32_items(h: Harness) -> None:
    first = h.record(Kind.CHECKLIST, P, fields(CODES * 2 + CODES[:8], part=1, parts=2))
    h.submit(first, "auth")
    assert len(CODES * 2 + CODES[:8]) == MAX_CHECKLIST_ITEMS
    refused(h, "LedgerMalformedPayload", codes=CODES * 2 + CODES[:9], part=2, parts=2)
    refused(h, "LedgerInvalidValue", part=3, parts=2)
    refused(h, "LedgerInvalidValue", part=0, parts=2)
    refused(h, "LedgerInvalidValue", part=1, parts=0)


def test_a_correction_supersedes_the_registrants_own_checklist(h: Harness) -> None:
    first = h.record(Kind.CHECKLIST, P, fields())
    h.submit(first, "auth")
    second = h.record(Kind.CHECKLIST, P, fields(CODES[:3]), ref=first.uid)
    h.submit(second, "auth")
    assert h.entry(first.uid)["status"] == Status.SUPERSEDED


def test_an_unknown_item_is_refused(h: Harness) -> None:
    args = refused(h, "LedgerUnknownItem", codes=[*CODES[:2], "ZL-S9-999"])
    assert args == (key("ZL-S9-999"),)


def test_a_retired_item_is_refused(h: Harness) -> None:
    h.submit(catalogue_record(h, CODES[0], version=2, department=h.orgs["auth"].id, retired=1), "cat")
    assert refused(h, "LedgerItemRetired", versions=[2] + [1] * (len(CODES) - 1)) == (key(CODES[0]),)


def test_a_version_other_than_the_one_in_force_is_refused(h: Harness) -> None:
    args = refused(h, "LedgerCatalogueVersion", codes=CODES[:2], versions=[1, 2])
    assert args == (key(CODES[1]), 2, 1)


def test_an_empty_list_and_versions_that_do_not_match_the_items_are_refused(h: Harness) -> None:
    assert refused(h, "LedgerInvalidValue", codes=[], versions=[])[1:] == (2, 0)
    assert refused(h, "LedgerInvalidValue", codes=CODES[:2], versions=[1])[1:] == (3, 1)


def test_only_the_registrant_with_the_approval_role_lists_a_project(h: Harness) -> None:
    assert refused(h, "LedgerNotIssuer", org="auth2") == (P, h.orgs["auth2"].id)
    assert refused(h, "LedgerMissingRole", org="sup")[1:] == (h.orgs["sup"].id, 1)


def test_an_unknown_or_closed_project_takes_no_checklist(h: Harness) -> None:
    refused(h, "LedgerUnknownProject", project=project_id("2026-620825-44-01-999999"))
    code = "2026-620825-44-01-999998"
    registration = project_record(h, code)
    h.submit(registration, "auth")
    h.submit(h.record(Kind.REVOCATION, project_id(code), reason(), ref=registration.uid, org="auth"), "auth")
    refused(h, "LedgerProjectClosed", project=project_id(code))


def test_a_checklist_record_carries_no_ref_to_another_kind(h: Harness) -> None:
    record = h.record(Kind.CHECKLIST, P, fields(), ref=ZERO32)
    h.submit(record, "auth")
    approval_like = h.record(Kind.CHECKLIST, P, fields(), ref=keccak(b"nothing"))
    h.refused(approval_like, "auth", "LedgerUnknownRecord")
