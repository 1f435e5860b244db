"""Evidence-bundle checks that need no chain: shape, seals, receipts, authority, documents."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.address import to_checksum_address

from node_api.chain.contracts import (
    RECORD_ADDED,
    RECORD_REJECTED,
    RECORD_TUPLE,
    SEAL_TUPLE,
    SUBMIT_BATCH,
    Deployment,
    compact_seal,
)
from node_api.chain.seal import Sealer
from node_api.domain.records import (
    ZERO32,
    Kind,
    Record,
    Status,
    decode_payload,
    decode_restricted,
    project_id,
    seal_payload,
)
from node_api.errors import ValidationError
from node_api.verify import record_added
from node_api.verify.bundle import (
    FORMAT,
    document_digests,
    selector,
    topic,
)
from node_api.verify.bundle_check import (
    VERDICT_EXIT,
    BundleRecord,
    Finding,
    OrgHistory,
    Verification,
    _check_offline,
    authority_problems,
    carried_by_uid,
    carried_records,
    check_shape,
    document_findings,
    event_problems,
    input_problems,
    parse_record,
    restricted_problems,
    seal_problems,
    status_at,
)
from node_api.verify.trust import LaterRecord, Pin, load_pin, stale_line

CHAIN_ID = 620825
LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CODE = "2026-620825-48-01-000001"
PROJECT = "0x" + project_id(CODE).hex()
KEY = Account.from_key(b"\x07" * 32)
DOCUMENT = "批复文件".encode()
DIGEST = hashlib.sha256(DOCUMENT).digest()
ISSUER = 3
BLOCK, LOG_INDEX = 40, 2


SALT = b"\x5a" * 32  # of the restricted fields' commitment, fixed so that payloads repeat


def approval_payload(item: str = "ZL-S1-004") -> bytes:
    fields = {"stage": 1, "decision": 0, "item": item, "item_version": 1, "document_no": "庄发改发〔2026〕1号",
              "issued_at": 1_777_000_000, "valid_until": 0, "note": ""}  # fmt: skip
    return seal_payload(Kind.APPROVAL, fields, SALT)[0]


def approval_record() -> Record:
    return Record(
        ISSUER.to_bytes(4, "big") + b"\x42" * 28,
        Kind.APPROVAL,
        project_id(CODE),
        ZERO32,
        DIGEST,
        approval_payload(),
    )


def bundle_record(record: Record | None = None, key: Any = KEY) -> dict[str, Any]:
    """A bundle record as the node writes it, sealed by ``key``."""
    record = record or approval_record()
    sealer = Sealer(CHAIN_ID, LEDGER)
    return {
        "uid": "0x" + record.uid.hex(),
        "kind": record.kind.name.lower(),
        "typed_data": sealer.typed_data(record),
        "seal": "0x" + sealer.seal(record, key).hex(),
        "sealer": KEY.address,
        "issuer_org": {"id": ISSUER, "name": "庄浪县发展和改革局", "uscc": "11620825013920439X"},
        "tx_hash": "0x" + "aa" * 32,
        "block_number": BLOCK,
        "block_hash": "0x" + "bb" * 32,
        "log_index": LOG_INDEX,
        "status": "active",
        "fields": decode_payload(record.kind, record.payload),
        "document_digests": document_digests(record),
    }


def receipt_for(
    raw: dict[str, Any], before: list[dict[str, Any]] | None = None, **over: Any
) -> dict[str, Any]:
    """The receipt the chain would give for ``raw``'s transaction: its RecordAdded at LOG_INDEX,
    after the logs ``before`` (given their indexes from LOG_INDEX - len(before))."""
    log = {"logIndex": hex(LOG_INDEX), "address": LEDGER.lower(), "data": "0x",
           "topics": [topic(RECORD_ADDED), raw["uid"], PROJECT]}  # fmt: skip
    earlier = [
        {**lg, "logIndex": hex(LOG_INDEX - len(before or []) + i)} for i, lg in enumerate(before or [])
    ]
    receipt = {
        "status": "0x1",
        "blockNumber": hex(BLOCK),
        "blockHash": raw["block_hash"],
        "logs": [*earlier, log],
    }
    receipt.update(over)
    return receipt


def rejected(raw: dict[str, Any], address: str = LEDGER) -> dict[str, Any]:
    """A RecordRejected log naming ``raw``'s uid (a LedgerDuplicateRecord-shaped reason), from ``address``."""
    return {"address": address.lower(), "data": "0x" + abi_encode(["bytes"], [b"\x01\x02\x03\x04"]).hex(),
            "topics": [topic(RECORD_REJECTED), raw["uid"]]}  # fmt: skip


def transaction_for(*raws: dict[str, Any]) -> dict[str, Any]:
    """The ``submitBatch`` transaction that carried ``raws``' records (as the node sends it, or a forger)."""
    records = [parse_record(raw) for raw in raws]
    body = abi_encode(
        [RECORD_TUPLE + "[]", SEAL_TUPLE + "[]"],
        [[r.record.as_tuple() for r in records], [compact_seal(r.seal) for r in records]],
    )
    return {"hash": raws[0]["tx_hash"], "to": LEDGER.lower(), "input": selector(SUBMIT_BATCH) + body.hex()}


def input_check(
    r: BundleRecord, tx: dict[str, Any], logged: record_added.RecordAdded | None = None
) -> list[str]:
    return input_problems(r, tx, carried_by_uid(tx), LEDGER, logged)


def parsed(raw: dict[str, Any] | None = None) -> BundleRecord:
    return parse_record(raw or bundle_record())


# -- shape ---------------------------------------------------------------------------
def valid_bundle() -> dict[str, Any]:
    return {"format": FORMAT, "version": 1, "chain_id": CHAIN_ID, "as_of_block": 50, "project_code": CODE,
            "project_id": PROJECT, "contracts": {"consortium": "0x" + "22" * 20, "ledger": LEDGER},
            "records": [bundle_record()]}  # fmt: skip


def test_a_well_formed_bundle_passes_the_shape_check() -> None:
    check_shape(valid_bundle())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "something-else"}, "format"),
        ({"version": 2}, "version"),
        ({"chain_id": "620825"}, "chain_id"),
        ({"records": None}, "records"),
        ({"contracts": {"ledger": LEDGER}}, "contracts"),
        ({"project_id": "0x1234"}, "project_id"),
    ],
)
def test_an_unusable_bundle_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    bundle = {**valid_bundle(), **change}
    with pytest.raises(ValidationError) as e:
        check_shape(bundle)
    assert e.value.field == field


def test_a_record_with_broken_hex_is_malformed() -> None:
    raw = bundle_record()
    raw["seal"] = "0xzz"
    with pytest.raises(ValueError, match="seal"):
        parse_record(raw)


# -- seals -----------------------------------------------------------------------------
def test_a_genuine_record_has_no_seal_problems() -> None:
    assert seal_problems(parsed(), CHAIN_ID, LEDGER, PROJECT) == []


def test_a_changed_payload_changes_the_recovered_signer() -> None:
    raw = bundle_record()
    payload = raw["typed_data"]["message"]["payload"]
    raw["typed_data"]["message"]["payload"] = payload[:-2] + ("01" if payload[-2:] != "01" else "02")
    problems = seal_problems(parsed(raw), CHAIN_ID, LEDGER, PROJECT)
    assert any(p.startswith("seal was made by 0x") and KEY.address in p for p in problems)


def test_a_seal_by_another_key_is_named() -> None:
    other = Account.from_key(b"\x08" * 32)
    problems = seal_problems(parsed(bundle_record(key=other)), CHAIN_ID, LEDGER, PROJECT)
    assert problems == [f"seal was made by {other.address}, not by the stated sealer {KEY.address}"]


def test_the_domain_must_be_this_chain_and_ledger() -> None:
    assert any("chainId" in p for p in seal_problems(parsed(), 1, LEDGER, PROJECT))
    assert any("verifyingContract" in p for p in seal_problems(parsed(), CHAIN_ID, "0x" + "33" * 20, PROJECT))


def test_stated_fields_and_document_digests_must_match_the_payload() -> None:
    raw = bundle_record()
    raw["fields"]["item"] = "别的事项"
    raw["document_digests"] = []
    problems = seal_problems(parsed(raw), CHAIN_ID, LEDGER, PROJECT)
    assert "fields differ from the decoded payload" in problems
    assert "document_digests differ from the digests the record binds" in problems


def test_a_record_of_another_project_is_named() -> None:
    other = "0x" + project_id("2026-620825-48-01-000002").hex()
    assert "typed_data.message.project is not the bundle's project" in seal_problems(
        parsed(), CHAIN_ID, LEDGER, other
    )


def test_event_evidence_counts_as_documents() -> None:
    fields = {"severity": 1, "category": "质量安全", "occurred_at": 1, "publish_until": 2,
              "evidence": [b"\x01" * 32, b"\x02" * 32], "note": ""}  # fmt: skip
    event = Record(
        b"\x43" * 32, Kind.EVENT, project_id(CODE), ZERO32, DIGEST, seal_payload(Kind.EVENT, fields, SALT)[0]
    )
    assert document_digests(event) == ["0x" + DIGEST.hex(), "0x" + "01" * 32, "0x" + "02" * 32]


# -- the chain's receipt ---------------------------------------------------------------
def test_a_matching_receipt_has_no_problems() -> None:
    raw = bundle_record()
    assert event_problems(parsed(raw), receipt_for(raw), LEDGER) == []


def test_a_record_matching_its_transaction_input_has_no_problems() -> None:
    first, raw = bundle_record(), bundle_record(dataclasses.replace(approval_record(), uid=b"\x44" * 32))
    assert input_check(parsed(raw), transaction_for(first, raw)) == []


def test_a_payload_differing_from_the_transaction_input_is_located() -> None:
    raw = bundle_record()
    tx = transaction_for(raw)
    tampered = copy.deepcopy(raw)
    tampered["typed_data"]["message"]["payload"] = raw["typed_data"]["message"]["payload"][:-2] + "ff"
    problems = input_check(parsed(tampered), tx)
    assert len(problems) == 1 and problems[0].startswith("payload differs from the chain at byte ")


def test_a_seal_differing_from_the_transaction_input_is_located() -> None:
    raw = bundle_record()
    tx = transaction_for(raw)
    tampered = copy.deepcopy(raw)
    tampered["seal"] = raw["seal"][:10] + ("0" if raw["seal"][10] != "0" else "1") + raw["seal"][11:]
    problems = input_check(parsed(tampered), tx)
    assert len(problems) == 1 and problems[0].startswith("seal differs from the chain at byte 4 ")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"to": "0x" + "44" * 20}, "is not a call of the ledger"),
        ({"input": "0x12345678"}, "is not a submit / submitBatch call"),
    ],
)
def test_a_transaction_that_is_not_the_ledger_call_is_named(change: dict[str, Any], needle: str) -> None:
    raw = bundle_record()
    tx = {**transaction_for(raw), **change}
    assert any(needle in p for p in input_check(parsed(raw), tx))


def test_a_transaction_that_does_not_carry_the_record_is_named() -> None:
    raw = bundle_record()
    other = bundle_record(dataclasses.replace(approval_record(), uid=b"\x44" * 32))
    assert input_check(parsed(raw), transaction_for(other)) == [
        f"transaction {raw['tx_hash']} does not carry record {raw['uid']}"
    ]


def test_an_issuer_other_than_the_uids_namespace_is_named() -> None:
    raw = bundle_record()
    raw["issuer_org"]["id"] = ISSUER + 1
    assert event_problems(parsed(raw), receipt_for(raw), LEDGER) == [
        f"the uid is in organisation {ISSUER}'s namespace, bundle says issuer {ISSUER + 1}"
    ]


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"status": "0x0"}, "reverted"),
        ({"blockNumber": hex(BLOCK + 1)}, f"block {BLOCK + 1}, bundle says {BLOCK}"),
        ({"logs": []}, f"no log at index {LOG_INDEX}"),
    ],
)
def test_receipt_disagreements_are_named(over: dict[str, Any], needle: str) -> None:
    raw = bundle_record()
    problems = event_problems(parsed(raw), receipt_for(raw, **over), LEDGER)
    assert any(needle in p for p in problems), problems


def test_a_log_from_another_contract_is_refused() -> None:
    raw = bundle_record()
    receipt = receipt_for(raw)
    receipt["logs"][0]["address"] = "0x" + "44" * 20
    assert any("not the ledger" in p for p in event_problems(parsed(raw), receipt, LEDGER))


def test_a_missing_transaction_is_named() -> None:
    assert event_problems(parsed(), None, LEDGER) == ["transaction 0x" + "aa" * 32 + " is not on the chain"]


# -- authority at that block -------------------------------------------------------------
def history(*events: tuple[int, str, dict[str, Any]]) -> OrgHistory:
    return OrgHistory([((block, 0), name, args) for block, name, args in events])


ADMITTED_APPROVER = (5, "OrganizationAdmitted", {"roles": 1})
KEY_VIEW = (ISSUER, 5, 0)


def test_an_approver_with_a_valid_key_may_seal_an_approval() -> None:
    assert authority_problems(parsed(), history(ADMITTED_APPROVER), KEY_VIEW) == []


def test_roles_are_judged_at_the_records_block() -> None:
    lost_role = history(ADMITTED_APPROVER, (30, "RolesChanged", {"roles": 2}))
    assert authority_problems(parsed(), lost_role, KEY_VIEW) == [
        f"organisation {ISSUER} did not hold role approval_authority at block {BLOCK}"
    ]
    later_loss = history(ADMITTED_APPROVER, (BLOCK + 5, "RolesChanged", {"roles": 2}))
    assert authority_problems(parsed(), later_loss, KEY_VIEW) == []


def test_a_suspended_organisation_could_not_seal() -> None:
    suspended = history(ADMITTED_APPROVER, (20, "OrganizationSuspended", {}))
    assert f"organisation {ISSUER} was suspended at block {BLOCK}" in authority_problems(
        parsed(), suspended, KEY_VIEW
    )
    reinstated = history(
        ADMITTED_APPROVER, (20, "OrganizationSuspended", {}), (30, "OrganizationReinstated", {})
    )
    assert authority_problems(parsed(), reinstated, KEY_VIEW) == []


def test_seal_key_validity_window_is_checked() -> None:
    admitted = history(ADMITTED_APPROVER)
    assert any("revoked at block 30" in p for p in authority_problems(parsed(), admitted, (ISSUER, 5, 30)))
    assert any(
        "became valid at block 45" in p for p in authority_problems(parsed(), admitted, (ISSUER, 45, 0))
    )
    assert any("belongs to organisation 9" in p for p in authority_problems(parsed(), admitted, (9, 5, 0)))
    assert authority_problems(parsed(), admitted, (ISSUER, 5, BLOCK + 1)) == []


def test_an_organisation_not_yet_admitted_could_not_seal() -> None:
    assert authority_problems(parsed(), history((BLOCK + 1, *ADMITTED_APPROVER[1:])), KEY_VIEW) == [
        f"organisation {ISSUER} was not admitted before block {BLOCK}"
    ]


def test_status_follows_the_last_change_or_the_kinds_initial_status() -> None:
    assert status_at(Kind.EVENT, []) == Status.OPEN
    assert (
        status_at(Kind.EVENT, [int(Status.OBJECTED), int(Status.OPEN), int(Status.RESOLVED)])
        == Status.RESOLVED
    )
    assert status_at(Kind.REVOCATION, []) == Status.RECORDED


# -- documents ---------------------------------------------------------------------------
def test_documents_match_mismatch_or_are_not_provided(tmp_path: Path) -> None:
    r = parsed()
    assert document_findings(r, None) == ([], [])
    assert document_findings(r, tmp_path) == ([], [f"document 0x{DIGEST.hex()} not provided"])
    (tmp_path / ("0x" + DIGEST.hex())).write_bytes(DOCUMENT)
    assert document_findings(r, tmp_path) == ([], [f"document 0x{DIGEST.hex()} matches"])
    (tmp_path / ("0x" + DIGEST.hex())).unlink()
    (tmp_path / DIGEST.hex()).write_bytes(b"another file")
    problems, _ = document_findings(r, tmp_path)
    assert problems == [
        f"document {DIGEST.hex()} does not match its digest "
        f"(the file's SHA-256 is 0x{hashlib.sha256(b'another file').hexdigest()})"
    ]


def test_finding_lines() -> None:
    assert Finding("0xab", "approval", 7).line() == "OK 0xab approval block 7"
    assert Finding("0xab", problems=["one", "two"]).line() == "FAIL 0xab: one; two"


# -- RecordAdded, and the copy it names --------------------------------------------------
def test_a_record_added_log_decodes_and_no_other_shape_does() -> None:
    raw = bundle_record()
    logged = record_added.decode(receipt_for(raw)["logs"][0])
    assert logged == record_added.RecordAdded(bytes.fromhex(raw["uid"][2:]), project_id(CODE))
    assert record_added.decode({"topics": [topic("Other(bytes32)"), raw["uid"]], "data": "0x"}) is None
    # The earlier ledger's form (issuer, sealer and hash as data) is another event: not read.
    earlier = abi_encode(["uint32", "address", "bytes32"], [ISSUER, KEY.address, b"\x00" * 32])
    log = {"topics": [topic("RecordAdded(bytes32,bytes32,uint32,address,bytes32)"), raw["uid"], PROJECT],
           "data": "0x" + earlier.hex()}  # fmt: skip
    assert record_added.decode(log) is None
    # This event's topic with data appended is no RecordAdded of this ledger either.
    assert record_added.decode({**receipt_for(raw)["logs"][0], "data": "0x" + "00" * 32}) is None


def test_the_kth_log_naming_a_uid_names_its_kth_copy() -> None:
    raw = bundle_record()
    assert record_added.in_receipt(receipt_for(raw), LOG_INDEX, LEDGER) == record_added.RecordAdded(
        parsed(raw).record.uid, project_id(CODE), 0
    )
    after_a_refusal = receipt_for(raw, [rejected(raw)])
    assert record_added.in_receipt(after_a_refusal, LOG_INDEX, LEDGER).copy == 1  # type: ignore[union-attr]
    # Logs of another contract (a look-alike ledger) and of other events do not count, nor name a copy.
    look_alike = "0x" + "44" * 20
    other_event = {"address": LEDGER.lower(), "data": "0x",
                   "topics": [topic("StatusChanged(bytes32,uint8,bytes32)"), raw["uid"], raw["uid"]]}  # fmt: skip
    noise = receipt_for(raw, [rejected(raw, look_alike), other_event])
    assert record_added.in_receipt(noise, LOG_INDEX, LEDGER).copy == 0  # type: ignore[union-attr]
    assert record_added.in_receipt(receipt_for(raw), LOG_INDEX, look_alike) is None
    assert record_added.in_receipt(receipt_for(raw), LOG_INDEX - 1, LEDGER) is None


def test_the_copy_the_log_names_is_the_one_compared() -> None:
    """A batch carries one uid twice; a bundle may show either copy: only the accepted one verifies."""
    first = bundle_record()
    second = bundle_record(dataclasses.replace(approval_record(), payload=approval_payload("另一事项")))
    tx = transaction_for(first, second)
    # The ledger accepted the first (and refused the second as a duplicate): its log is the uid's first.
    accepted_first = record_added.in_receipt(receipt_for(first), LOG_INDEX, LEDGER)
    assert input_check(parsed(first), tx, accepted_first) == []
    problems = input_check(parsed(second), tx, accepted_first)
    assert [p.split(" differs")[0] for p in problems] == ["payload", "seal"]
    # The ledger refused the first (say, its item version) and accepted the second: the uid's second log.
    accepted_second = record_added.in_receipt(receipt_for(second, [rejected(second)]), LOG_INDEX, LEDGER)
    assert input_check(parsed(second), tx, accepted_second) == []
    assert [p.split(" differs")[0] for p in input_check(parsed(first), tx, accepted_second)] == [
        "payload",
        "seal",
    ]
    # A log counting more copies than the input carries names none.
    third = record_added.in_receipt(receipt_for(first, [rejected(first), rejected(first)]), LOG_INDEX, LEDGER)
    assert input_check(parsed(first), tx, third) == [
        f"transaction {first['tx_hash']} carries no readable copy 3 of the record (of project {PROJECT}), "
        "the one its log names"
    ]
    # Without a log naming the accepted copy the two cannot be told apart: neither verifies.
    for raw in (first, second):
        assert any("2 copies of this uid" in p for p in input_check(parsed(raw), tx, None))
    # carried_records (by uid) keeps the first copy.
    carried = carried_records(tx)
    assert carried is not None and carried[parsed(first).record.uid][0] == parsed(first).record


def test_the_same_copy_twice_needs_the_log_to_say_which() -> None:
    raw = bundle_record()
    assert (
        input_check(
            parsed(raw),
            transaction_for(raw, raw),
            record_added.in_receipt(receipt_for(raw), LOG_INDEX, LEDGER),
        )
        == []
    )


# -- the pin ------------------------------------------------------------------------------
def test_no_pin_flag_is_no_pin() -> None:
    assert load_pin(None, None, None) is None


def test_a_ledger_pin_is_checksummed() -> None:
    pin = load_pin(None, LEDGER.lower(), "0x" + "ab" * 20)
    assert pin == Pin(LEDGER, to_checksum_address("0x" + "ab" * 20))


def test_a_deployment_file_pins_chain_genesis_and_both_contracts(tmp_path: Path) -> None:
    path = tmp_path / "deployment.json"
    Deployment(CHAIN_ID, "0x" + "22" * 20, LEDGER.lower(), 7, "0x" + "AB" * 32).save(path)
    pin = load_pin(str(path), None, None)
    assert pin is not None
    assert (pin.ledger, pin.consortium, pin.chain_id, pin.genesis_hash) == (
        LEDGER,
        "0x" + "22" * 20,
        CHAIN_ID,
        "0x" + "ab" * 32,
    )
    assert str(path) in pin.describe()


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        ((None, "0x1234", None), "--ledger"),
        ((None, None, "0x" + "22" * 20), "--consortium"),
        (("deployment.json", LEDGER, None), "--deployment"),
        (("absent.json", None, None), "--deployment"),
        (("notjson.json", None, None), "--deployment"),
        (("partial.json", None, None), "--deployment"),
    ],
)
def test_an_unusable_pin_names_its_flag(
    args: tuple[str | None, str | None, str | None],
    flag: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notjson.json").write_text("{")
    (tmp_path / "partial.json").write_text(json.dumps({"ledger": LEDGER}))
    with pytest.raises(ValidationError) as e:
        load_pin(*args)
    assert e.value.field == flag


# -- staleness and the verdict ------------------------------------------------------------
def later(kind: str, block: int, severity: str | None = None) -> LaterRecord:
    return LaterRecord("0x" + f"{block:064x}", kind, block, "0x" + "cc" * 32, severity)


def test_a_stale_line_counts_every_later_record_and_names_the_weighty_first() -> None:
    records = [later("approval", 60), later("event", 61, "slight"), later("revocation", 62),
               later("event", 63, "serious")]  # fmt: skip
    line = stale_line(records, 57)
    assert line.startswith(
        f"the bundle is stale: 4 records since block 57, including event {records[3].uid} (serious, block 63), "
        f"revocation {records[2].uid} (block 62), "
    )
    assert all(r.uid in line for r in records)
    assert stale_line(records[:1], 57).startswith("the bundle is stale: 1 record since block 57")
    many = stale_line([later("approval", 100 + i) for i in range(12)], 57)
    assert many.endswith(" and 2 more")


def test_the_verdict_is_failed_then_unpinned_then_stale() -> None:
    pin = Pin(LEDGER)
    ok, bad = Finding("bundle"), Finding("bundle", problems=["x"])
    contracts = {"ledger": LEDGER, "consortium": "0x" + "22" * 20}
    cases = [
        (Verification([ok], pin, contracts), "VERIFIED"),
        (Verification([ok], pin, contracts, [later("event", 60)]), "STALE"),
        (Verification([ok], None, contracts, [later("event", 60)]), "UNPINNED"),
        (Verification([bad], None, contracts), "FAILED"),
        (Verification([bad], pin, contracts, [later("event", 60)]), "FAILED"),
    ]
    assert [v.verdict for v, _ in cases] == [verdict for _, verdict in cases]
    assert [v.exit_code for v, _ in cases] == [0, 3, 4, 1, 1]
    assert 2 not in VERDICT_EXIT.values()  # 2 stays "unusable input"


# -- restricted content and records the bundle cannot show -----------------------------------
def opened_record(note: str = "内部审查意见") -> dict[str, Any]:
    fields = {"stage": 1, "decision": 0, "item": "ZL-S1-004", "item_version": 1, "document_no": "庄发改发〔2026〕1号",
              "issued_at": 1_777_000_000, "valid_until": 0, "note": note}  # fmt: skip
    payload, opening = seal_payload(Kind.APPROVAL, fields, SALT)
    assert opening is not None
    raw = bundle_record(dataclasses.replace(approval_record(), payload=payload))
    raw["restricted"] = {"salt": "0x" + opening.salt.hex(), "content": "0x" + opening.content.hex(),
                         "fields": decode_restricted(Kind.APPROVAL, opening.content)}  # fmt: skip
    return raw


def test_opened_restricted_content_must_open_the_payloads_commitment() -> None:
    raw = opened_record()
    assert restricted_problems(parsed(raw)) == []
    assert restricted_problems(parsed(bundle_record())) == []  # nothing opened, nothing to check
    other_salt = copy.deepcopy(raw)
    other_salt["restricted"]["salt"] = "0x" + "01" * 32
    assert restricted_problems(parsed(other_salt)) == [
        "restricted content does not open the payload's commitment (keccak256(salt ‖ content))"
    ]
    other_content = copy.deepcopy(raw)
    other_content["restricted"]["content"] = opened_record("另一意见")["restricted"]["content"]
    assert "does not open" in restricted_problems(parsed(other_content))[0]
    restated = copy.deepcopy(raw)
    restated["restricted"]["fields"]["note"] = "另一意见"
    assert restricted_problems(parsed(restated)) == ["restricted.fields differ from the opened content"]


def test_a_record_the_bundle_holds_no_content_for_fails_on_its_own_line() -> None:
    bundle = valid_bundle()
    bundle["records"].append({"uid": "0x" + "43" * 32, "kind": "unknown", "problem": "payload does not decode",
                              "block_number": BLOCK + 1})  # fmt: skip
    summary, findings = Finding("bundle"), []
    parsed_records = _check_offline(bundle, None, summary, findings)
    assert len(parsed_records) == 1 and summary.ok and findings[0].ok
    assert findings[1].problems == [
        "the bundle holds no content for this record (payload does not decode): it cannot be verified"
    ]
