"""Record kinds, statuses and their on-chain payload encodings.

A record on chain is ``(uid, kind, project, ref, digest, payload)``; ``payload`` is
the ABI encoding of the kind's fields below. The same tables drive encoding in the
gateway, decoding in the indexer and the evidence bundle's documentation.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode

from node_api.domain import canonical
from node_api.domain.hashing import keccak256

ZERO32 = b"\x00" * 32
# The decoded fields' marker: the names of the string fields whose bytes on chain are not UTF-8
# (read with U+FFFD in place of each invalid sequence); absent when every string is UTF-8.
INVALID_UTF8 = "invalid_utf8"
# Decoded payloads kept per process (≈ 1 KB each): a county's hot projects' records.
DECODED_PAYLOADS = 32_768


class Kind(IntEnum):
    """Record kinds; values are the contract's KIND_* constants."""

    PROJECT = 1
    APPROVAL = 2
    EVENT = 3
    COMMITMENT = 4
    GRANT = 5
    ANCHOR = 6
    CATALOGUE = 7
    ACCEPTANCE = 8  # 受理 of a catalogue item
    CHECKLIST = 9
    REVOCATION = 10
    RESOLUTION = 11
    REPAIR = 12
    OBJECTION = 13
    OBJECTION_UPHELD = 14
    OBJECTION_REJECTED = 15
    FULFILMENT = 16
    BREACH = 17
    PAUSE = 18  # 暂停计时 of an acceptance
    RESUME = 19  # 恢复计时


class Status(IntEnum):
    """Record statuses; values are the contract's STATUS_* constants."""

    NONE = 0
    ACTIVE = 1
    REVOKED = 2
    SUPERSEDED = 3
    OPEN = 4
    OBJECTED = 5
    RESOLVED = 6
    REPAIRED = 7
    ANNULLED = 8
    PENDING = 9
    FULFILLED = 10
    BREACHED = 11
    RECORDED = 12
    PAUSED = 13  # an acceptance whose clock is paused (a running one is OPEN)


INITIAL_STATUS = {
    Kind.PROJECT: Status.ACTIVE,
    Kind.APPROVAL: Status.ACTIVE,
    Kind.EVENT: Status.OPEN,
    Kind.COMMITMENT: Status.PENDING,
    Kind.GRANT: Status.ACTIVE,
    Kind.ACCEPTANCE: Status.OPEN,
    Kind.CHECKLIST: Status.ACTIVE,
}

# Status-change kinds by the API verb that creates them.
ACTION_KINDS = {
    "revoke": Kind.REVOCATION,
    "resolve": Kind.RESOLUTION,
    "repair": Kind.REPAIR,
    "object": Kind.OBJECTION,
    "uphold-objection": Kind.OBJECTION_UPHELD,
    "reject-objection": Kind.OBJECTION_REJECTED,
    "fulfil": Kind.FULFILMENT,
    "breach": Kind.BREACH,
    "pause": Kind.PAUSE,
    "resume": Kind.RESUME,
}
# 暂停/恢复计时 name their reason on chain (the clock must be provable); the note stays restricted.
CLOCK_ACTIONS = frozenset({Kind.PAUSE, Kind.RESUME})

PROJECT_TYPES = {"approval": 1, "ratification": 2, "filing": 3}  # 审批 / 核准 / 备案
STAGES = {1: "立项用地规划许可", 2: "工程建设许可", 3: "施工许可", 4: "竣工验收"}
DECISIONS = {"approved": 0, "approved_on_commitment": 1, "accepted_with_deficiencies": 2, "rejected": 3}
# The catalogue (事项库, kind CATALOGUE): the three lists (三个清单) and the 承诺制 types of an item.
CATALOGUE_LISTS = {"approval": 1, "intermediary": 2, "technical_review": 3}  # 审批 / 中介服务 / 技术审查
ITEM_COMMITMENTS = {
    "none": 0,
    "deficiency": 1,
    "credit": 2,
    "self_acceptance": 3,
}  # 负面清单 / 容缺受理 / 信用承诺制 / 企业自主验收
SEVERITIES = {"slight": 1, "general": 2, "serious": 3}  # 轻微 / 一般 / 严重
COMMITMENT_TYPES = {
    "approval_substitute": 1,  # 审批替代型
    "deficiency_acceptance": 2,  # 容缺受理型
    "self_discipline": 3,  # 行业自律型
    "credit_repair": 4,  # 信用修复型
}
GRANT_SCOPES = {"documents": 1, "restricted_fields": 2, "all": 3}

# Every kind that carries restricted content ends its on-chain payload with this field:
# keccak256(salt ‖ content), where ``content`` is the ABI encoding of the kind's
# RESTRICTED_SCHEMAS fields and ``salt`` 32 random bytes (so the commitment reveals nothing
# and cannot be guessed from a short text). The content itself stays off chain, in the
# issuing node's encrypted store (ARCHITECTURE principle 1).
COMMITMENT_FIELD = ("restricted", "bytes32")

# On-chain payloads: what every member may see. The contract checks each one's full
# canonical ABI shape (contracts/ProjectLedger.sol) — keep the two in step.
PAYLOAD_SCHEMAS: dict[Kind, tuple[tuple[str, str], ...]] = {
    Kind.PROJECT: (
        ("code", "string"),
        ("name", "string"),
        ("owner_uscc", "string"),
        ("project_type", "uint8"),
        ("region_code", "string"),
        ("industry_code", "string"),
        COMMITMENT_FIELD,
    ),
    Kind.APPROVAL: (
        ("stage", "uint8"),
        ("decision", "uint8"),
        ("item", "string"),  # the catalogue item's code
        ("item_version", "uint32"),  # the item's version in force when decided
        ("document_no", "string"),
        ("issued_at", "uint64"),
        ("valid_until", "uint64"),
        COMMITMENT_FIELD,
    ),
    Kind.EVENT: (
        ("severity", "uint8"),
        ("category", "string"),
        ("occurred_at", "uint64"),
        ("publish_until", "uint64"),
        ("evidence", "bytes32[]"),
        COMMITMENT_FIELD,
    ),
    Kind.COMMITMENT: (
        ("commitment_type", "uint8"),
        ("approval", "bytes32"),  # the approval it is bound to (its uid), zero for a free-standing one
        ("due_at", "uint64"),
        COMMITMENT_FIELD,
    ),
    Kind.GRANT: (("grantee", "uint32"), ("scope", "uint8"), ("expires_at", "uint64")),
    Kind.ACCEPTANCE: (
        ("item", "string"),  # the catalogue item's code
        ("item_version", "uint32"),  # its version in force when accepted
        ("accepted_at", "uint64"),  # unix time of the 受理
        COMMITMENT_FIELD,
    ),
    Kind.ANCHOR: (("tree_size", "uint64"),),
    Kind.CATALOGUE: (  # public: no restricted content
        ("code", "string"),
        ("version", "uint32"),
        ("name", "string"),
        ("stage", "uint8"),
        ("list", "uint8"),
        ("department", "uint32"),
        ("time_limit_days", "uint32"),
        ("on_the_spot", "uint8"),
        ("commitment", "uint8"),
        ("retired", "uint8"),
        ("depends_on", "bytes32[]"),  # keccak256 of each prerequisite item's code
        ("guide", "bytes32"),  # SHA-256 of the 服务指南 / materials list, zero for none
    ),
    Kind.CHECKLIST: (  # a part of a project's 一张清单; public: no restricted content
        ("part", "uint8"),  # 1 .. parts: a list longer than MAX_CHECKLIST_ITEMS is split
        ("parts", "uint8"),
        ("items", "bytes32[]"),  # keccak256 of each item's code (catalogue.item_key)
        ("versions", "bytes32[]"),  # each item's version in force, one word each
    ),
}
MAX_CHECKLIST_ITEMS = 32  # the contract's MAX_ARRAY_ITEMS
# Restricted content: off chain, bound to its record by the commitment above, read only by
# role or under a live on-chain grant.
RESTRICTED_SCHEMAS: dict[Kind, tuple[tuple[str, str], ...]] = {
    Kind.PROJECT: (("total_investment_fen", "uint256"), ("note", "string")),
    Kind.APPROVAL: (("note", "string"),),
    Kind.EVENT: (("note", "string"),),
    Kind.COMMITMENT: (("summary", "string"), ("missing", "string[]"), ("note", "string")),
    Kind.ACCEPTANCE: (("note", "string"),),
}
for _k in ACTION_KINDS.values():
    PAYLOAD_SCHEMAS[_k] = (
        (("reason", "string"), COMMITMENT_FIELD) if _k in CLOCK_ACTIONS else (COMMITMENT_FIELD,)
    )
    RESTRICTED_SCHEMAS[_k] = (("note", "string"),) if _k in CLOCK_ACTIONS else (("reason", "string"),)
# The reasons a clock may be paused for (行政许可法 第四十五条; seed task 10, 1+X).
PAUSE_REASONS = ("专家评审", "公示", "听证", "招标", "拍卖", "检验", "检测", "检疫", "鉴定", "现场踏勘")


@dataclass(frozen=True)
class Record:
    """A record as sealed: the EIP-712 ``Record`` struct."""

    uid: bytes
    kind: Kind
    project: bytes
    ref: bytes
    digest: bytes
    payload: bytes

    def as_tuple(self) -> tuple[bytes, int, bytes, bytes, bytes, bytes]:
        """The struct as the contract ABI expects it."""
        return (self.uid, int(self.kind), self.project, self.ref, self.digest, self.payload)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Record:
        """A record from a stored row: 0x-hex uid, project, ref and digest, int kind, bytes payload."""
        return cls(
            uid=bytes.fromhex(str(row["uid"])[2:]),
            kind=Kind(int(row["kind"])),
            project=bytes.fromhex(str(row["project"])[2:]),
            ref=bytes.fromhex(str(row["ref"])[2:]),
            digest=bytes.fromhex(str(row["digest"])[2:]),
            payload=bytes(row["payload"]),
        )


@dataclass(frozen=True)
class Opening:
    """A record's restricted content and the salt that opens its on-chain commitment."""

    salt: bytes
    content: bytes

    @property
    def commitment(self) -> bytes:
        """keccak256(salt ‖ content): the value of the payload's ``restricted`` field."""
        return keccak256(self.salt + self.content)

    def matches(self, payload_commitment: bytes) -> bool:
        """Whether this opening is the one the record committed to."""
        return len(self.salt) == 32 and self.commitment == payload_commitment


def project_id(code: str) -> bytes:
    """On-chain id of a project: keccak256 of its code."""
    return keccak256(code.encode())


def _encode(schema: tuple[tuple[str, str], ...], fields: dict[str, Any]) -> bytes:
    types = tuple(t for _, t in schema)
    values = [fields[name] for name, _ in schema]
    # Plain values are written at their canonical places; anything else takes eth_abi's answer.
    encoded = canonical.write(types, values)
    return encoded if encoded is not None else abi_encode(list(types), values)


def encode_payload(kind: Kind, fields: dict[str, Any]) -> bytes:
    """ABI-encodes a kind's on-chain fields (missing fields are a programming error)."""
    return _encode(PAYLOAD_SCHEMAS[kind], fields)


def seal_payload(
    kind: Kind, fields: dict[str, Any], salt: bytes | None = None
) -> tuple[bytes, Opening | None]:
    """Splits a kind's fields into the on-chain payload and the opening of its restricted part.

    ``fields`` holds the public and the restricted fields; the payload's ``restricted`` word
    is the commitment of the opening (a fresh random salt unless one is given: a client that
    seals on its own device chooses it).
    """
    schema = RESTRICTED_SCHEMAS.get(kind)
    if schema is None:
        return encode_payload(kind, fields), None
    opening = Opening(
        salt=salt if salt is not None else secrets.token_bytes(32), content=_encode(schema, fields)
    )
    return encode_payload(kind, {**fields, "restricted": opening.commitment}), opening


def invalid_utf8(fields: Mapping[str, Any], name: str) -> bool:
    """Whether decoded ``fields`` read ``name`` with U+FFFD for bytes that are not UTF-8: its text
    is not the value on chain, so it is shown, never used as a key (a code, a document number)."""
    return name in fields.get(INVALID_UTF8, ())


def key_text(fields: Mapping[str, Any], name: str) -> str | None:
    """The text of ``name`` as a key (a project code, an item code): None when it read with U+FFFD
    (``invalid_utf8``). The one place that rule is applied; a valid text that holds a real U+FFFD
    is another value (docs/records.md, "A replaced text is shown, never used as a key")."""
    return None if invalid_utf8(fields, name) else str(fields[name])


def _named(schema: tuple[tuple[str, str], ...], data: bytes) -> dict[str, Any]:
    types = tuple(t for _, t in schema)
    # Payloads on chain are canonical (the ledger refuses any other): read at fixed places; any
    # other bytes (a client's presealed payload, restricted content) take eth_abi's answer.
    # The ledger does not check that strings are UTF-8: a canonical one that is not reads with
    # U+FFFD, and the fields say which (``INVALID_UTF8``); eth_abi refuses such bytes.
    marked = canonical.read_marked(types, data)
    values, invalid = (abi_decode(list(types), data), ()) if marked is None else marked
    out: dict[str, Any] = {}
    for (name, _), value in zip(schema, values, strict=True):
        if isinstance(value, bytes):
            out[name] = "0x" + value.hex()
        elif isinstance(value, tuple):
            out[name] = ["0x" + v.hex() if isinstance(v, bytes) else v for v in value]
        else:
            out[name] = value
    if invalid:
        out[INVALID_UTF8] = [schema[i][0] for i in invalid]
    return out


def decode_payload(kind: int, payload: bytes) -> dict[str, Any]:
    """Decodes an on-chain payload into named fields; bytes32 values become 0x-hex strings.

    Raises ``PayloadError`` when the bytes are not a payload of that kind. A canonical payload
    (what the ledger accepts) whose strings are not all UTF-8 decodes, those strings read with
    U+FFFD and named in ``fields[INVALID_UTF8]``. The answer is a fresh dict (lists copied too)
    that the caller may change.
    """
    return {k: list(v) if isinstance(v, list) else v for k, v in _decoded(kind, bytes(payload)).items()}


@functools.lru_cache(maxsize=DECODED_PAYLOADS)
def _decoded(kind: int, payload: bytes) -> dict[str, Any]:
    """``decode_payload``'s work, kept for the most recent payloads: a payload's fields are a pure
    function of its bytes, and a record's bytes never change (the ledger is append-only), so the
    index, supervision and reads decode each record once, not once per look at its project."""
    try:
        return _named(PAYLOAD_SCHEMAS[Kind(kind)], payload)
    except Exception as e:  # eth_abi raises several types (and ValueError for bad UTF-8)
        raise PayloadError(f"not a valid payload of kind {kind}: {type(e).__name__}") from e


def payload_uint(kind: Kind, payload: bytes, name: str) -> int:
    """One unsigned-integer field of a payload, read from its head word without decoding the rest.

    Every field of a payload takes one 32-byte word of the ABI head, in schema order (a value, or an
    offset for a string or an array), so a uint field is at the same place in any encoding the
    ledger or eth_abi reads. ``PayloadError`` when the payload is shorter than its head or the word
    holds more bits than the field's type (both refused by a full decode too; the rest of the
    payload is not looked at). ``KeyError`` for a name that is not a uint field of the kind."""
    schema = PAYLOAD_SCHEMAS[kind]
    index = {n: i for i, (n, _) in enumerate(schema)}[name]
    bits = canonical.UINT_BITS[schema[index][1]]
    word = payload[32 * index : 32 * index + 32]
    value = int.from_bytes(word, "big")
    if len(word) != 32 or value >> bits or len(payload) < 32 * len(schema):
        raise PayloadError(f"not a valid payload of kind {int(kind)}: no {name} in its head")
    return value


def decode_restricted(kind: int, content: bytes) -> dict[str, Any]:
    """Decodes an opening's content into the kind's restricted fields (``PayloadError`` if it does not)."""
    try:
        return _named(RESTRICTED_SCHEMAS[Kind(kind)], content)
    except Exception as e:
        raise PayloadError(f"not valid restricted content of kind {kind}: {type(e).__name__}") from e


class PayloadError(ValueError):
    """Bytes that do not decode as the payload (or restricted content) of their kind."""


UID_ORG_BYTES = 4  # a uid begins with its issuer's organisation id (the contract checks it)


def derive_uid(org_id: int, kind: Kind, key: bytes) -> bytes:
    """A record uid from the issuing organisation, the kind and an idempotency key.

    Retrying the same request (same key, or same content when no key is given)
    derives the same uid, which the contract accepts only once. The first four bytes
    are the organisation id: the contract refuses a uid outside its sealer's namespace,
    so no member can take (or front-run) another organisation's uid.
    """
    digest = keccak256(b"projchain/uid/v1" + org_id.to_bytes(4, "big") + bytes([int(kind)]) + key)
    return org_id.to_bytes(UID_ORG_BYTES, "big") + digest[UID_ORG_BYTES:]


def uid_org(uid: bytes) -> int:
    """The organisation whose namespace a uid lies in."""
    return int.from_bytes(uid[:UID_ORG_BYTES], "big")


# Role an organisation needs to issue each kind (the contract enforces the same).
REQUIRED_ROLE: dict[Kind, set[str]] = {
    Kind.PROJECT: {"approval_authority"},
    Kind.APPROVAL: {"approval_authority"},
    Kind.COMMITMENT: {"approval_authority"},
    Kind.GRANT: {"approval_authority"},
    Kind.CATALOGUE: {"catalogue"},
    Kind.CHECKLIST: {"approval_authority"},
    Kind.EVENT: {"supervisor"},
    Kind.RESOLUTION: {"supervisor"},
    Kind.REPAIR: {"supervisor"},
    Kind.OBJECTION: {"supervisor"},
    Kind.OBJECTION_UPHELD: {"supervisor"},
    Kind.OBJECTION_REJECTED: {"supervisor"},
    Kind.FULFILMENT: {"approval_authority", "supervisor"},
    Kind.BREACH: {"approval_authority", "supervisor"},
    Kind.ACCEPTANCE: {"approval_authority"},
    Kind.PAUSE: {"approval_authority"},
    Kind.RESUME: {"approval_authority"},
}

# Legal status changes: change kind -> (target kinds, statuses it may leave, status it enters).
TRANSITIONS: dict[Kind, tuple[set[Kind], set[Status], Status]] = {
    Kind.REVOCATION: ({Kind.APPROVAL, Kind.GRANT, Kind.PROJECT}, {Status.ACTIVE}, Status.REVOKED),
    Kind.RESOLUTION: ({Kind.EVENT}, {Status.OPEN}, Status.RESOLVED),
    Kind.OBJECTION: ({Kind.EVENT}, {Status.OPEN}, Status.OBJECTED),
    Kind.OBJECTION_UPHELD: ({Kind.EVENT}, {Status.OBJECTED}, Status.ANNULLED),
    Kind.OBJECTION_REJECTED: ({Kind.EVENT}, {Status.OBJECTED}, Status.OPEN),
    Kind.REPAIR: ({Kind.EVENT}, {Status.RESOLVED}, Status.REPAIRED),
    Kind.FULFILMENT: ({Kind.COMMITMENT}, {Status.PENDING}, Status.FULFILLED),
    Kind.BREACH: ({Kind.COMMITMENT}, {Status.PENDING}, Status.BREACHED),
    Kind.PAUSE: ({Kind.ACCEPTANCE}, {Status.OPEN}, Status.PAUSED),
    Kind.RESUME: ({Kind.ACCEPTANCE}, {Status.PAUSED}, Status.OPEN),
}

# Kinds a record may supersede (same kind, issuer's own, still live).
SUPERSEDABLE: dict[Kind, Status] = {
    Kind.PROJECT: Status.ACTIVE,
    Kind.APPROVAL: Status.ACTIVE,
    Kind.EVENT: Status.OPEN,
    Kind.COMMITMENT: Status.PENDING,
    Kind.CHECKLIST: Status.ACTIVE,
}

# Minimum publication before 信用修复 (seconds), by severity value.
REPAIR_WAIT = {1: 0, 2: 90 * 86400, 3: 365 * 86400}
# Longest publication window (公示截止期) by severity value: 3 months, 1 year, 3 years.
PUBLISH_WINDOW_DAYS = {1: 91, 2: 365, 3: 3 * 365}
