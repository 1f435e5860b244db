"""Verification certificates (信用核查报告 / 项目核验凭证): the format, its statements and its seal.

A certificate says, as of one block (number and hash): this project has these approvals per
stage, these open abnormal events, these commitments — each with its chain reference (uid,
block, block hash, transaction, log index, EIP-712 record hash) — and, when the node grades
owners, the owner's grade under a rules version. The issuing organisation seals it with its
seal key (EIP-712, the records' domain, primary type ``Certificate``) over the keccak-256 of
the certificate's canonical JSON without its ``seal``. The issuing node builds it from its
index (``node_api.ledger.verification_certificates``); ``certificate_check`` checks one against
the chain alone. Every statement is derived from on-chain data by the functions here, which
both sides share, so the verifier recomputes exactly what the issuer stated. Format:
docs/verification-certificate.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from node_api.chain.seal import DOMAIN_NAME, DOMAIN_VERSION, EIP712_DOMAIN_TYPE
from node_api.domain.records import (
    COMMITMENT_TYPES,
    DECISIONS,
    INITIAL_STATUS,
    PROJECT_TYPES,
    SEVERITIES,
    STAGES,
    Kind,
    Status,
    decode_payload,
)
from node_api.errors import ValidationError

FORMAT = "projchain-verification-certificate"
VERSION = 1
ATTACHMENT = "certificate.json"  # the JSON's name inside the PDF
ID_PATTERN = re.compile(r"^vc-[0-9a-f]{32}$")
CERTIFICATE_TYPE: list[dict[str, str]] = [
    {"name": "id", "type": "string"},
    {"name": "issuer", "type": "uint32"},
    {"name": "project", "type": "bytes32"},
    {"name": "asOfBlock", "type": "uint64"},
    {"name": "asOfBlockHash", "type": "bytes32"},
    {"name": "statement", "type": "bytes32"},
]
# Statuses of an event that make it "open" on a certificate (as on the public page).
OPEN_EVENT = ("open", "objected")
_GRANTED = {"approved", "approved_on_commitment"}
_BEIJING = dt.timezone(dt.timedelta(hours=8))
_NAMES: dict[str, dict[int, str]] = {
    "decision": {v: k for k, v in DECISIONS.items()},
    "severity": {v: k for k, v in SEVERITIES.items()},
    "commitment_type": {v: k for k, v in COMMITMENT_TYPES.items()},
    "project_type": {v: k for k, v in PROJECT_TYPES.items()},
}
_DATES = ("issued_at", "valid_until", "occurred_at", "publish_until", "due_at")
_ZERO = "0x" + "00" * 32
STATED_KINDS = (Kind.PROJECT, Kind.APPROVAL, Kind.EVENT, Kind.COMMITMENT)


# -- statements from on-chain data ----------------------------------------------------------
def statement_fields(kind: int, payload: bytes) -> dict[str, Any]:
    """A record's public on-chain fields as a certificate states them (enums named, dates ISO).

    Raises ``PayloadError`` when the payload does not decode.
    """
    f = decode_payload(kind, payload)
    f.pop("restricted", None)
    f.pop("evidence", None)  # digests of evidence files: not a statement a lender reads
    for name, table in _NAMES.items():
        if name in f:
            f[name] = table.get(int(f[name]), str(f[name]))
    for name in _DATES:
        if name in f:
            ts = int(f[name])
            f[name] = None if ts == 0 else dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()
    if kind == Kind.APPROVAL:
        f["stage_name"] = STAGES.get(int(f["stage"]), "")
    if f.get("approval") == _ZERO:
        f["approval"] = None  # a free-standing commitment
    return f


def chain_status(kind: int, changes: Iterable[int]) -> str:
    """A record's status on chain after its StatusChanged values (in chain order)."""
    last = None
    for value in changes:
        last = value
    status = Status(last) if last is not None else INITIAL_STATUS.get(Kind(kind), Status.RECORDED)
    return status.name.lower()


def beijing_day(timestamp: int) -> dt.date:
    """The day (Beijing time) of a block's timestamp: the day dates are compared with."""
    return dt.datetime.fromtimestamp(timestamp, _BEIJING).date()


def shown_status(kind: int, status: str, fields: Mapping[str, Any], day: dt.date) -> str:
    """The status a reader sees on ``day``: an active approval past ``valid_until`` is ``expired``,
    a pending commitment past ``due_at`` is ``overdue`` (derived, as the node's views derive them)."""
    if kind == Kind.APPROVAL and status == "active" and fields.get("decision") != "rejected":
        until = fields.get("valid_until")
        if until and dt.date.fromisoformat(str(until)) < day:
            return "expired"
    if kind == Kind.COMMITMENT and status == "pending":
        due = fields.get("due_at")
        if due and dt.date.fromisoformat(str(due)) < day:
            return "overdue"
    return status


def stage_status(approvals: Iterable[tuple[str, str]]) -> str:
    """A stage's status from its approvals' (shown status, decision) pairs.

    Only live approvals (``active`` or ``expired``) count: none → ``not_started``; only rejections →
    ``rejected``; an active granting one → ``approved``; an expired granting one → ``expired``; else
    ``in_progress``.
    """
    live = [(s, d) for s, d in approvals if s in ("active", "expired")]
    if not live:
        return "not_started"
    if {d for _, d in live} <= {"rejected"}:
        return "rejected"
    if any(s == "active" and d in _GRANTED for s, d in live):
        return "approved"
    if any(s == "expired" and d in _GRANTED for s, d in live):
        return "expired"
    return "in_progress"


# -- canonical form and seal ------------------------------------------------------------------
def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes the seal covers: the certificate without ``seal``, as sorted compact UTF-8 JSON."""
    body = {k: v for k, v in document.items() if k != "seal"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def statement_hash(document: Mapping[str, Any]) -> str:
    """keccak-256 of the canonical JSON (0x-hex): the ``statement`` the seal signs."""
    return "0x" + keccak(canonical(document)).hex()


def typed_data(document: Mapping[str, Any]) -> dict[str, Any]:
    """The EIP-712 typed data a certificate's seal signs (standard JSON, any EIP-712 library)."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "Certificate": CERTIFICATE_TYPE},
        "primaryType": "Certificate",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": int(document["chain_id"]),
            "verifyingContract": str(document["contracts"]["ledger"]),
        },
        "message": {
            "id": str(document["id"]),
            "issuer": int(document["issuer"]["org_id"]),
            "project": str(document["project"]["project_id"]),
            "asOfBlock": int(document["as_of"]["block_number"]),
            "asOfBlockHash": str(document["as_of"]["block_hash"]),
            "statement": statement_hash(document),
        },
    }


def seal(document: dict[str, Any], key: LocalAccount) -> dict[str, Any]:
    """The certificate with its ``seal``: the EIP-712 signature of ``key`` over its typed data."""
    signed = key.sign_message(encode_typed_data(full_message=typed_data(document)))
    return {**document, "seal": {"sealer": key.address, "signature": "0x" + bytes(signed.signature).hex()}}


def seal_signer(document: Mapping[str, Any]) -> str:
    """The address that made the certificate's seal over its content as it is now (checksummed).

    Raises ValueError when the signature is not one.
    """
    signature = bytes.fromhex(str(document["seal"]["signature"])[2:])
    message = encode_typed_data(full_message=typed_data(document))
    return str(Account.recover_message(message, signature=signature))


# -- reading one ------------------------------------------------------------------------------
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_REF = ("uid", "block_number", "block_hash", "tx_hash", "log_index", "record_hash", "issuer")


def entries(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every record the certificate states: registration, approvals by stage, open events, commitments."""
    out = [document["project"]["registration"]]
    for stage in document["stages"]:
        out += stage["approvals"]
    return out + list(document["open_events"]) + list(document["commitments"])


def check_shape(document: Any) -> None:
    """ValidationError naming the first thing that makes ``document`` no certificate of this format."""

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValidationError("certificate", what)

    need(isinstance(document, dict), "is not a JSON object")
    need(document.get("format") == FORMAT, f"format is not {FORMAT!r}")
    need(document.get("version") == VERSION, f"version is not {VERSION}")
    need(isinstance(document.get("id"), str) and bool(ID_PATTERN.match(document["id"])), "id is malformed")
    for key in ("issuer", "contracts", "as_of", "project", "seal"):
        need(isinstance(document.get(key), dict), f"{key} is missing")
    need(isinstance(document.get("chain_id"), int), "chain_id is missing")
    need(isinstance(document["issuer"].get("org_id"), int), "issuer.org_id is missing")
    for key in ("ledger", "consortium"):
        need(bool(_ADDRESS.match(str(document["contracts"].get(key)))), f"contracts.{key} is malformed")
    need(isinstance(document["as_of"].get("block_number"), int), "as_of.block_number is missing")
    need(bool(_HEX32.match(str(document["as_of"].get("block_hash")))), "as_of.block_hash is malformed")
    need(bool(_HEX32.match(str(document["project"].get("project_id")))), "project.project_id is malformed")
    need(isinstance(document["project"].get("registration"), dict), "project.registration is missing")
    for key in ("stages", "open_events", "commitments"):
        need(isinstance(document.get(key), list), f"{key} is missing")
    for stage in document["stages"]:
        need(isinstance(stage, dict) and isinstance(stage.get("approvals"), list), "a stage has no approvals")
    for entry in entries(document):
        need(isinstance(entry, dict), "a record is not an object")
        for key in _REF:
            need(key in entry, f"a record has no {key}")
        need(isinstance(entry.get("fields"), dict), f"record {entry.get('uid')} has no fields")
    need(bool(_ADDRESS.match(str(document["seal"].get("sealer")))), "seal.sealer is malformed")
    need(bool(re.match(r"^0x[0-9a-fA-F]{130}$", str(document["seal"].get("signature")))),
         "seal.signature is not 65 bytes")  # fmt: skip
