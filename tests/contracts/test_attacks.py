"""A dishonest member with its own relayer key sends crafted records: the ledger refuses each.

Every test here is an attack a consortium member can mount on its own, with a valid seal
key and a registered relayer; what the rules refuse the contract must refuse, whatever
the member's node software would have sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from node_api.chain.packed import pack
from node_api.domain.records import ZERO32, Kind, Record, Status, encode_payload, project_id
from tests.contracts.conftest import P
from tests.contracts.harness import DAY, Harness, account
from tests.contracts.payloads import (
    approval_fields,
    event_fields,
    grant_fields,
    project_fields,
    project_record,
    reason,
)

CODE = "2026-620825-84-01-000077"
WORD = 32


def words(payload: bytes) -> list[bytes]:
    """A payload cut into its 32-byte words."""
    assert len(payload) % WORD == 0
    return [payload[i : i + WORD] for i in range(0, len(payload), WORD)]


def word(value: int) -> bytes:
    """One ABI word."""
    return value.to_bytes(WORD, "big")


def added(h: Harness, receipt: object) -> list[dict[str, object]]:
    """The RecordAdded events of a receipt, with the copy each names and what follows from it."""
    return h.added(receipt)  # type: ignore[arg-type]


def names(h: Harness, receipt: object) -> list[str]:
    """The names of the ledger's RecordAdded / RecordRejected logs of a receipt, in order."""
    out = []
    for log in receipt["logs"]:  # type: ignore[index]
        decoded = h.contracts.decode_log(dict(log))
        if decoded is not None and decoded[0] in ("RecordAdded", "RecordRejected"):
            out.append(decoded[0])
    return out


# 1. RecordAdded names uid and project; the input holds the rest ------------------------------
# The consumers (indexer, verify-bundle, the certificate check: ``h.added`` does as they do) take
# the k-th copy of a uid in the input for the k-th RecordAdded / RecordRejected naming it.


def test_record_added_is_uid_and_project_and_its_copy_hashes_as_the_seal_signs(h: Harness) -> None:
    record = h.record(Kind.APPROVAL, P, approval_fields())

    receipt = h.submit(record, "auth")

    (log,) = [lg for lg in receipt["logs"] if h.contracts.decode_log(dict(lg))[0] == "RecordAdded"]  # type: ignore[index]
    assert [bytes(t) for t in log["topics"][1:]] == [record.uid, P]
    assert bytes(log["data"]) == b"", "RecordAdded carries no data"
    (event,) = added(h, receipt)
    assert event["copy"][0] == record  # type: ignore[index]
    assert event["recordHash"] == h.sealer.digest(record)
    assert event["recordHash"] == h.ledger.functions.hashRecord(record.as_tuple()).call()
    assert (event["issuer"], event["sealer"]) == (h.orgs["auth"].id, h.orgs["auth"].seal.address)


def test_batch_repeating_a_uid_names_the_first_copy_and_refuses_the_second(h: Harness) -> None:
    first = h.record(Kind.APPROVAL, P, approval_fields(stage=1))
    # Same uid, other content, validly sealed: the copy an indexer must never take.
    second = dataclasses.replace(first, payload=encode_payload(Kind.APPROVAL, approval_fields(stage=4)))

    receipt = h.transact(
        h.relayer, h.batch_call([first, second], [h.seal(first, "auth"), h.seal(second, "auth")])
    )

    assert names(h, receipt) == ["RecordAdded", "RecordRejected"]
    (event,) = added(h, receipt)
    assert event["uid"] == first.uid
    assert event["copy"][0] == first  # type: ignore[index]
    assert event["recordHash"] == h.sealer.digest(first) != h.sealer.digest(second)
    (rejected,) = h.events(receipt, "RecordRejected")
    decoded = h.contracts.decode_revert(rejected["reason"])
    assert decoded is not None and decoded.name == "LedgerDuplicateRecord"
    assert h.entry(first.uid)["level"] == 1


@pytest.mark.parametrize("grouped", [False, True], ids=["sealed one by one", "grouped"])
def test_a_refused_first_copy_makes_the_second_the_one_named(h: Harness, grouped: bool) -> None:
    # The first copy is refused by a rule (an item version not in force), the second, other
    # content, accepted: the RecordAdded is the uid's second log, and names the second copy.
    good = h.record(Kind.APPROVAL, P, approval_fields(stage=2))
    bad = dataclasses.replace(
        good, payload=encode_payload(Kind.APPROVAL, approval_fields(stage=2, item_version=7))
    )
    if grouped:
        call = h.groups_call([bad, good], [0, 1], [h.group_seal([bad], "auth"), h.group_seal([good], "auth")])
    else:
        call = h.batch_call([bad, good], [h.seal(bad, "auth"), h.seal(good, "auth")])

    receipt = h.transact(h.relayer, call)

    assert names(h, receipt) == ["RecordRejected", "RecordAdded"]
    (event,) = added(h, receipt)
    assert event["copy"][0] == good  # type: ignore[index]
    assert event["recordHash"] == h.sealer.digest(good)
    assert event["sealer"] == h.orgs["auth"].seal.address


@pytest.mark.parametrize("grouped", [False, True], ids=["sealed one by one", "grouped"])
@pytest.mark.parametrize("second_first", [False, True], ids=["first key first", "second key first"])
def test_same_content_sealed_by_two_keys_of_one_organisation(
    h: Harness, grouped: bool, second_first: bool
) -> None:
    # Two copies with the same hash, sealed by two live keys of one organisation: the ledger
    # accepts the first and names its key nowhere; the consumers recover it from the first copy.
    other = account("auth-seal-second")
    h.admin_execute("addSealKey", h.orgs["auth"].id, other.address)
    record = h.record(Kind.APPROVAL, P, approval_fields())
    keys = [other, h.orgs["auth"].seal] if second_first else [h.orgs["auth"].seal, other]
    if grouped:
        call = h.groups_call([record, record], [0, 1], [h.group_seal([record], k) for k in keys])
    else:
        call = h.batch_call([record, record], [h.seal(record, k) for k in keys])

    receipt = h.transact(h.relayer, call)

    assert names(h, receipt) == ["RecordAdded", "RecordRejected"]
    (event,) = added(h, receipt)
    assert event["sealer"] == keys[0].address != keys[1].address
    assert event["issuer"] == h.orgs["auth"].id


def test_a_copy_of_a_kind_the_node_does_not_know_keeps_its_place(h: Harness) -> None:
    # A first copy of an unknown kind (the ledger refuses it; the node cannot even read it) must
    # still count, or the second copy would be looked for at the first's place.
    good = h.record(Kind.APPROVAL, P, approval_fields())
    # (the packed form holds kinds up to 31: bit 5 marks a compact payload)
    unknown = dataclasses.replace(good, kind=31)  # type: ignore[arg-type]
    call = h.packed_call(
        pack([unknown, good]), [0, 1], [h.group_seal([unknown], "auth"), h.group_seal([good], "auth")]
    )

    receipt = h.transact(h.relayer, call)

    assert names(h, receipt) == ["RecordRejected", "RecordAdded"]
    assert h.carried(receipt)[good.uid][0] is None
    (event,) = added(h, receipt)
    assert event["copy"][0] == good  # type: ignore[index]


# 2. A uid lies in its issuer's namespace ----------------------------------------------------


def test_uid_in_another_organisations_namespace_is_refused(h: Harness) -> None:
    # auth2 takes (front-runs) a uid of auth's namespace, e.g. one auth's node derived.
    record = h.record(Kind.APPROVAL, P, approval_fields(), org="auth")

    args = h.refused(record, "auth2", "LedgerUidNotIssuers")

    assert args == (record.uid, h.orgs["auth2"].id)
    h.submit(record, "auth")  # the rightful issuer still has it
    assert h.entry(record.uid)["issuer"] == h.orgs["auth"].id


def test_uid_outside_every_namespace_is_refused(h: Harness) -> None:
    record = dataclasses.replace(
        h.record(Kind.APPROVAL, P, approval_fields()), uid=b"\x00" * 4 + keccak(b"no org")[4:]
    )

    args = h.refused(record, "auth", "LedgerUidNotIssuers")

    assert args == (record.uid, h.orgs["auth"].id)


# 3. Anchors carry no project and no ref, and exactly one uint64 ------------------------------


def anchor(h: Harness, project: bytes = ZERO32, ref: bytes = ZERO32, payload: bytes | None = None) -> Record:
    """An access-log anchor of ``auth``."""
    record = h.record(Kind.ANCHOR, project, {"tree_size": 1_000}, ref=ref)
    return record if payload is None else dataclasses.replace(record, payload=payload)


def test_canonical_anchor_is_recorded(h: Harness) -> None:
    record = anchor(h)

    h.submit(record, "auth")

    assert h.entry(record.uid)["status"] == Status.RECORDED


@pytest.mark.parametrize("field", ["project", "ref"])
def test_anchor_naming_a_project_or_ref_is_refused(h: Harness, field: str) -> None:
    record = anchor(h, **{field: P})

    args = h.refused(record, "auth", "LedgerAnchorFields")

    assert args == (record.uid,)


@pytest.mark.parametrize(
    "payload",
    [b"", word(1_000) + word(0), word(2**64), word(1_000)[:31]],
    ids=["empty", "extra-word", "beyond-uint64", "short"],
)
def test_anchor_payload_other_than_one_uint64_is_refused(h: Harness, payload: bytes) -> None:
    record = anchor(h, payload=payload)

    assert h.refused(record, "auth", "LedgerMalformedPayload") == (record.uid,)


# 4. Every payload is exactly the canonical ABI encoding of its kind's fields -----------------


def registration_payload(**changes: object) -> bytes:
    return encode_payload(Kind.PROJECT, {**project_fields(CODE), **changes})


def approval_payload(**changes: object) -> bytes:
    return encode_payload(Kind.APPROVAL, {**approval_fields(), **changes})


def event_payload(**changes: object) -> bytes:
    return encode_payload(Kind.EVENT, {**event_fields(severity=1), **changes})


def with_word(payload: bytes, index: int, value: int) -> bytes:
    """``payload`` with word ``index`` replaced."""
    w = words(payload)
    w[index] = word(value)
    return b"".join(w)


# Where an approval's fields sit (SHAPE_APPROVAL "bbsisllw"): the head's words, item and
# document number being offsets to their strings.
HEAD, ITEM, DOC, ISSUED = 8, 2, 4, 5


def gap_before_item(payload: bytes) -> bytes:
    """An approval whose strings start one word late: 32 hidden bytes after the head."""
    w = words(payload)
    head = w[:HEAD]
    head[ITEM] = word(int.from_bytes(head[ITEM], "big") + WORD)
    head[DOC] = word(int.from_bytes(head[DOC], "big") + WORD)
    return b"".join(head) + keccak(b"smuggled") + b"".join(w[HEAD:])


def strings_swapped(payload: bytes) -> bytes:
    """An approval whose document number is stored before its item (offsets out of order)."""
    w = words(payload)
    item_at, doc_at = (int.from_bytes(w[i], "big") // WORD for i in (ITEM, DOC))
    item, doc = w[item_at:doc_at], w[doc_at:]
    w[ITEM], w[DOC] = word(WORD * (item_at + len(doc))), word(WORD * item_at)
    return b"".join(w[:item_at]) + b"".join(doc) + b"".join(item)


def aliased_strings(payload: bytes) -> bytes:
    """An approval whose document number points at its item's bytes (one string read twice)."""
    w = words(payload)
    doc_at = int.from_bytes(w[DOC], "big") // WORD
    w[DOC] = w[ITEM]
    return b"".join(w[:doc_at])


def dirty_padding(payload: bytes) -> bytes:
    """An approval with a non-zero byte in the padding after its last string."""
    assert payload[-1] == 0
    return payload[:-1] + b"\x01"


def dirty_item_padding(payload: bytes) -> bytes:
    """An approval with a non-zero byte in the padding after its first string (the item)."""
    w = words(payload)
    doc_at = int.from_bytes(w[DOC], "big") // WORD
    w[doc_at - 1] = w[doc_at - 1][:-1] + b"\x01"
    return b"".join(w)


def string_length_past_end(payload: bytes) -> bytes:
    """An approval whose last string claims more bytes than the payload has."""
    w = words(payload)
    doc_at = int.from_bytes(w[DOC], "big") // WORD
    w[doc_at] = word(int.from_bytes(w[doc_at], "big") + 64)
    return b"".join(w)


MALFORMED: dict[str, tuple[Kind, Callable[[], bytes]]] = {
    "approval-trailing-byte": (Kind.APPROVAL, lambda: approval_payload() + b"\x00"),
    "approval-trailing-word": (Kind.APPROVAL, lambda: approval_payload() + word(0)),
    "approval-cut-by-a-word": (Kind.APPROVAL, lambda: approval_payload()[:-WORD]),
    "approval-decision-beyond-uint8": (Kind.APPROVAL, lambda: with_word(approval_payload(), 1, 256)),
    "approval-issued-at-beyond-uint64": (Kind.APPROVAL, lambda: with_word(approval_payload(), ISSUED, 2**64)),
    "approval-item-version-beyond-uint32": (
        Kind.APPROVAL,
        lambda: with_word(approval_payload(), 3, 2**32 + 1),
    ),
    "approval-gap-after-head": (Kind.APPROVAL, lambda: gap_before_item(approval_payload())),
    "approval-strings-out-of-order": (Kind.APPROVAL, lambda: strings_swapped(approval_payload())),
    "approval-strings-aliased": (Kind.APPROVAL, lambda: aliased_strings(approval_payload())),
    "approval-dirty-padding": (Kind.APPROVAL, lambda: dirty_padding(approval_payload())),
    "approval-dirty-padding-after-2-bytes": (
        Kind.APPROVAL,
        lambda: dirty_padding(approval_payload(document_no="ab")),
    ),
    "approval-dirty-padding-after-30-bytes": (
        Kind.APPROVAL,
        lambda: dirty_padding(approval_payload(document_no="x" * 30)),
    ),
    "approval-dirty-padding-after-item": (
        Kind.APPROVAL,
        lambda: dirty_item_padding(approval_payload(item="ab")),
    ),
    "approval-string-past-end": (Kind.APPROVAL, lambda: string_length_past_end(approval_payload())),
    "approval-item-1025-bytes": (Kind.APPROVAL, lambda: approval_payload(item="x" * 1025)),
    "approval-old-schema-with-note": (
        Kind.APPROVAL,
        lambda: abi_encode(
            ["uint8", "uint8", "string", "string", "uint64", "uint64", "string"],
            [1, 0, "项目审批", "庄发改发〔2026〕23号", 1_772_409_600, 0, "密"],
        ),
    ),
    "registration-type-beyond-uint8": (Kind.PROJECT, lambda: with_word(registration_payload(), 3, 257)),
    "registration-trailing-word": (Kind.PROJECT, lambda: registration_payload() + word(0)),
    "event-33-evidence-digests": (
        Kind.EVENT,
        lambda: event_payload(evidence=[keccak(bytes([i])) for i in range(33)]),
    ),
    "event-occurred-at-beyond-uint64": (Kind.EVENT, lambda: with_word(event_payload(), 2, 2**64)),
    "commitment-old-schema-with-summary": (
        Kind.COMMITMENT,
        lambda: abi_encode(["uint8", "uint64", "string", "string"], [1, 1_780_000_000, "承诺", ""]),
    ),
    "grant-grantee-beyond-uint32": (
        Kind.GRANT,
        lambda: with_word(encode_payload(Kind.GRANT, grant_fields(4, 2_000_000_000)), 0, 2**32 + 4),
    ),
    "status-change-empty": (Kind.REVOCATION, lambda: b""),
    "status-change-old-reason-string": (Kind.REVOCATION, lambda: abi_encode(["string"], ["依法撤销"])),
}


@pytest.fixture
def approval_uid(h: Harness) -> bytes:
    """An active approval on P for the status changes to refer to."""
    record = h.record(Kind.APPROVAL, P, approval_fields())
    h.submit(record, "auth")
    return record.uid


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_payload_not_in_canonical_shape_is_refused_malformed(
    h: Harness, approval_uid: bytes, case: str
) -> None:
    kind, make = MALFORMED[case]
    project = project_id(CODE) if kind == Kind.PROJECT else P
    ref = approval_uid if kind == Kind.REVOCATION else ZERO32
    org = "sup" if kind == Kind.EVENT else "auth"
    record = Record(h.uid(org), kind, project, ref, keccak(b"document"), make())

    args = h.refused(record, org, "LedgerMalformedPayload")

    assert args == (record.uid,)
    assert h.entry(record.uid)["kind"] == 0


# The oracle for any payload: canonical exactly when eth_abi decodes it (strings read as bytes,
# so that UTF-8 is not in question) and re-encodes it to the same bytes within the limits.
ORACLE_TYPES = {
    Kind.APPROVAL: ["uint8", "uint8", "bytes", "uint32", "bytes", "uint64", "uint64", "bytes32"],
    Kind.EVENT: ["uint8", "bytes", "uint64", "uint64", "bytes32[]", "bytes32"],
}


ALLOWED_REFUSALS = {
    "LedgerInvalidValue",
    "LedgerUnknownItem",
    "LedgerCatalogueVersion",
    "LedgerItemStage",
    "LedgerDecisionNotAllowed",
}


def canonical(kind: Kind, payload: bytes) -> bool:
    types = ORACLE_TYPES[kind]
    try:
        values = abi_decode(types, payload)
    except Exception:
        return False
    within = all(
        len(v) <= (1024 if t == "bytes" else 32)
        for t, v in zip(types, values, strict=True)
        if t in ("bytes", "bytes32[]")
    )
    return within and abi_encode(types, values) == payload


def mutated(payload: bytes, how: str, at: int, value: int) -> bytes:
    """``payload`` with one crafted change (``at`` and ``value`` chosen by hypothesis)."""
    at %= len(payload)
    if how == "byte":
        return payload[:at] + bytes([value % 256]) + payload[at + 1 :]
    if how == "cut":
        return payload[:at]
    if how == "append":
        return payload + value.to_bytes(32, "big")[: 1 + at % 32]
    word_at = at - at % WORD
    return payload[:word_at] + word(value) + payload[word_at + WORD :]


@settings(max_examples=120, deadline=None)
@given(
    kind=st.sampled_from([Kind.APPROVAL, Kind.EVENT]),
    how=st.sampled_from(["byte", "cut", "append", "word"]),
    at=st.integers(min_value=0, max_value=2**16),
    value=st.one_of(
        st.integers(min_value=0, max_value=255),
        st.sampled_from([0, 1, 31, 32, 64, 224, 256, 1024, 1025, 2**64, 2**256 - 1]),
        st.integers(min_value=0, max_value=2**256 - 1),
    ),
)
def test_payload_is_accepted_exactly_when_canonical(
    world: Harness, kind: Kind, how: str, at: int, value: int
) -> None:
    h, org = world, ("sup" if kind == Kind.EVENT else "auth")
    base = approval_payload(document_no="ab") if kind == Kind.APPROVAL else event_payload()
    payload = mutated(base, how, at, value)
    record = Record(h.uid(org), kind, P, ZERO32, keccak(b"document"), payload)

    refused = h.revert_of(h.relayer, h.submit_call(record, h.seal(record, org)))

    if canonical(kind, payload):
        # a canonical payload may still be refused for what it says: a value out of range, or
        # (approvals) an item, version, stage or decision the catalogue does not allow
        assert refused is None or refused.name in ALLOWED_REFUSALS, refused.describe()
    else:
        assert refused is not None and refused.name == "LedgerMalformedPayload", payload.hex()


def test_strings_of_1024_bytes_and_32_evidence_digests_are_accepted(h: Harness) -> None:
    approval = h.record(Kind.APPROVAL, P, {**approval_fields(), "document_no": "x" * 1024})
    event = h.record(Kind.EVENT, P, {**event_fields(1), "evidence": [keccak(bytes([i])) for i in range(32)]})

    h.submit(approval, "auth")
    h.submit(event, "sup")

    assert h.entry(approval.uid)["status"] == Status.ACTIVE
    assert h.entry(event.uid)["status"] == Status.OPEN


@pytest.mark.parametrize("project_type", [0, 4])
def test_project_type_out_of_range_is_refused_invalid_value(h: Harness, project_type: int) -> None:
    record = h.record(Kind.PROJECT, project_id(CODE), {**project_fields(CODE), "project_type": project_type})

    args = h.refused(record, "auth", "LedgerInvalidValue")

    assert args == (record.uid, 3, project_type)


def test_grant_carrying_a_ref_is_refused(h: Harness) -> None:
    first = h.record(Kind.GRANT, P, grant_fields(h.orgs["bank"].id, h.now() + DAY))
    h.submit(first, "auth")
    # A grant supersedes nothing: a ref would only mislead a reader of the record.
    second = h.record(Kind.GRANT, P, grant_fields(h.orgs["bank"].id, h.now() + 2 * DAY), ref=first.uid)

    args = h.refused(second, "auth", "LedgerIllegalTransition")

    assert args == (first.uid, Kind.GRANT, Status.ACTIVE)


# 5. Supersession keeps an event's severity and its repair clock -------------------------------


def report(h: Harness, severity: int, ref: bytes = ZERO32) -> Record:
    record = h.record(Kind.EVENT, P, event_fields(severity), ref=ref)
    h.submit(record, "sup")
    return record


def test_serious_event_superseded_by_slight_one_to_repair_same_day_is_refused(h: Harness) -> None:
    serious = report(h, severity=3)
    slight = h.record(Kind.EVENT, P, event_fields(1), ref=serious.uid)

    args = h.refused(slight, "sup", "LedgerSeverityLowered")

    assert args == (serious.uid, 3, 1)
    assert h.entry(serious.uid)["status"] == Status.OPEN


def test_superseding_event_keeps_the_original_repair_clock(h: Harness) -> None:
    original = report(h, severity=2)
    started = h.entry(original.uid)["recordedAt"]
    h.advance(60 * DAY)
    correction = report(h, severity=2, ref=original.uid)
    h.submit(h.record(Kind.RESOLUTION, P, reason(), ref=correction.uid), "sup")
    h.advance(31 * DAY)  # 91 days after the original report, 31 after the correction

    h.submit(h.record(Kind.REPAIR, P, reason(), ref=correction.uid), "sup")

    assert h.entry(correction.uid)["expiresAt"] == started
    assert h.entry(correction.uid)["status"] == Status.REPAIRED


def test_raising_severity_keeps_the_clock_and_waits_the_longer_period(h: Harness) -> None:
    original = report(h, severity=1)
    started = h.entry(original.uid)["recordedAt"]
    h.advance(10 * DAY)
    serious = report(h, severity=3, ref=original.uid)
    h.submit(h.record(Kind.RESOLUTION, P, reason(), ref=serious.uid), "sup")

    args = h.refused(h.record(Kind.REPAIR, P, reason(), ref=serious.uid), "sup", "LedgerRepairTooEarly")

    assert args == (serious.uid, started + 365 * DAY)


# 6. An objection is decided by another organisation than the objector ----------------------


@pytest.mark.parametrize("decision", [Kind.OBJECTION_UPHELD, Kind.OBJECTION_REJECTED])
def test_objector_deciding_its_own_objection_is_refused(h: Harness, decision: Kind) -> None:
    event = report(h, severity=3)
    h.submit(h.record(Kind.OBJECTION, P, reason(), ref=event.uid), "sup")

    args = h.refused(h.record(decision, P, reason(), ref=event.uid), "sup", "LedgerSelfDecision")

    assert args == (event.uid, h.orgs["sup"].id)
    assert h.entry(event.uid)["status"] == Status.OBJECTED


def test_objection_is_upheld_by_a_second_supervisor(h: Harness) -> None:
    event = report(h, severity=3)
    h.submit(h.record(Kind.OBJECTION, P, reason(), ref=event.uid), "sup")

    h.submit(h.record(Kind.OBJECTION_UPHELD, P, reason(), ref=event.uid, org="sup2"), "sup2")

    assert h.entry(event.uid)["status"] == Status.ANNULLED
    assert h.entry(event.uid)["subject"] == h.orgs["sup"].id


# 7. A closed project's grants are no longer held ---------------------------------------------


def test_grant_is_not_held_once_its_project_is_closed(h: Harness) -> None:
    registration = project_record(h, CODE)
    h.submit(registration, "auth")
    grant = h.record(Kind.GRANT, project_id(CODE), grant_fields(h.orgs["bank"].id, h.now() + 30 * DAY))
    h.submit(grant, "auth")
    assert h.ledger.functions.hasGrant(grant.uid, project_id(CODE), h.orgs["bank"].id).call() is True

    h.submit(h.record(Kind.REVOCATION, project_id(CODE), reason("项目取消"), ref=registration.uid), "auth")

    assert h.ledger.functions.hasGrant(grant.uid, project_id(CODE), h.orgs["bank"].id).call() is False
    assert h.entry(grant.uid)["status"] == Status.ACTIVE  # the grant itself was not revoked


# 1b. An input the ledger reads that eth_abi would not ----------------------------------------
# Solidity follows a tail offset wherever it points (a negative one too), never reads ABI padding
# and reads a field only when it uses it; the consumers read an input the same way
# (``node_api.chain.calldata``), so a relayer cannot have records accepted that no reader finds.


def _batch_input(tuples: list[bytes], seals: list[bytes], before: int = 0) -> bytes:
    """``submitBatch`` of Record tuples given as bytes and 65-byte seals: the first ``before`` tuples
    laid out ahead of the array that names them (negative offsets, in two's complement), the others
    after its offsets, as the standard encoding lays them all."""
    from node_api.chain.contracts import SUBMIT_BATCH, compact_seal

    ahead = b"".join(tuples[:before])
    items = 0x40 + len(ahead) + WORD  # where the array's offsets begin (they count from there)
    offsets, at = [], 0x40
    for t in tuples[:before]:
        offsets.append(at - items)
        at += len(t)
    at = WORD * len(tuples)
    for t in tuples[before:]:
        offsets.append(at)
        at += len(t)
    array = word(len(tuples)) + b"".join(word(o % 2**256) for o in offsets) + b"".join(tuples[before:])
    seals_part = word(len(seals)) + b"".join(b"".join(compact_seal(s)) for s in seals)
    head = word(0x40 + len(ahead)) + word(0x40 + len(ahead) + len(array))
    return keccak(text=SUBMIT_BATCH)[:4] + head + ahead + array + seals_part


def _tuple(record: Record, kind_word: int | None = None, payload_offset: int = 0xC0) -> bytes:
    """A Record tuple: the standard encoding, or with another kind word or payload offset."""
    kind = word(int(record.kind) if kind_word is None else kind_word)
    tail = word(len(record.payload)) + record.payload + bytes(-len(record.payload) % WORD)
    return (
        record.uid + kind + record.project + record.ref + record.digest + word(payload_offset % 2**256) + tail
    )


@pytest.mark.parametrize("broken", ["kind word beyond uint8", "payload offset beyond the input"])
def test_a_refused_copy_the_ledger_never_read_leaves_the_accepted_copy_readable(
    h: Harness, broken: str
) -> None:
    # The second copy, a duplicate, carries a field no decoder can read: the ledger refuses it by
    # its uid alone, without reading the rest (eth_abi refuses the whole input for it).
    record = h.record(Kind.APPROVAL, P, approval_fields())
    seal = h.seal(record, "auth")
    if broken.startswith("kind"):
        duplicate = _tuple(record, kind_word=0x100 + int(Kind.APPROVAL))
    else:
        duplicate = _tuple(record, payload_offset=2**64)
    data = _batch_input([_tuple(record), duplicate], [seal, seal])

    receipt = h.send_input(h.relayer, data)

    assert receipt["status"] == 1
    assert names(h, receipt) == ["RecordAdded", "RecordRejected"]
    assert h.carried(receipt)[record.uid] == [(record, seal), None]
    (event,) = added(h, receipt)
    assert event["copy"] == (record, seal)
    assert event["sealer"] == h.orgs["auth"].seal.address


def test_a_record_tuple_named_by_a_negative_offset_is_read_where_the_ledger_read_it(h: Harness) -> None:
    # The first record's tuple lies ahead of the array that names it: its offset is negative, which
    # Solidity follows (eth_abi refuses the input: no record of it would be found).
    first, second = (h.record(Kind.APPROVAL, P, approval_fields(stage=s)) for s in (1, 2))
    seals = [h.seal(first, "auth"), h.seal(second, "auth")]

    receipt = h.send_input(h.relayer, _batch_input([_tuple(first), _tuple(second)], seals, before=1))

    assert receipt["status"] == 1
    assert names(h, receipt) == ["RecordAdded", "RecordAdded"]
    events = added(h, receipt)
    assert [e["copy"] for e in events] == [(first, seals[0]), (second, seals[1])]
    assert [e["sealer"] for e in events] == [h.orgs["auth"].seal.address] * 2
