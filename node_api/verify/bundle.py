"""Evidence bundles (证据包): every record of a project, checkable against the chain alone.

``build_bundle`` writes the document from plain data (the node's evidence service,
``node_api.ledger.evidence``, gathers it from the read model); checking one against the
chain alone lives in ``bundle_check.py``. The format is documented in docs/bundle.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from node_api.chain.contracts import Deployment
from node_api.domain.records import Kind, Opening, PayloadError, Record, decode_payload, decode_restricted

FORMAT = "projchain-evidence-bundle"
VERSION = 1

# Event and function signatures, spelled out so the verifier needs no compiled artifacts.
# RecordAdded(uid, project) names an accepted record; the record and its seal are in the input
# of the transaction that carried it, a call of SUBMIT, SUBMIT_BATCH or SUBMIT_GROUPS
# (node_api.chain.contracts decodes them, for the indexer and the verifier alike), and its issuer
# and sealer follow from it (node_api.verify.record_added). The bundle's format is unchanged:
# its records' sealer and issuer were always the record's, checked against the seal and the uid.
STATUS_CHANGED = "StatusChanged(bytes32,uint8,bytes32)"
ORG_EVENTS = (
    "OrganizationAdmitted(uint32,string,string,uint8)",
    "RolesChanged(uint32,uint8)",
    "OrganizationSuspended(uint32)",
    "OrganizationReinstated(uint32)",
    "SealKeyRevoked(uint32,address)",
)
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_LOG_CHUNK = 5000  # blocks per eth_getLogs when a node refuses a wider range (Besu's default)


def topic(signature: str) -> str:
    """topic0 of an event signature."""
    return "0x" + keccak(text=signature).hex()


def selector(signature: str) -> str:
    """4-byte selector of a function signature, 0x-hex."""
    return "0x" + keccak(text=signature)[:4].hex()


# -- building ----------------------------------------------------------------------
@dataclass(frozen=True)
class BundleEntry:
    """One indexed record and what the node knows of it, as plain data."""

    row: Mapping[str, Any]  # the canonical chain_records row
    issuer_name: str | None
    issuer_uscc: str | None
    status: str  # the record's current status, lower case
    typed_data: dict[str, Any] | None  # the EIP-712 typed data its seal signs (None: content unknown)
    # A record sealed with its group: the group's seal, size, relayer, the record's index and
    # path, the root, and the RecordGroup typed data the group seal signs (None: its own seal).
    group: dict[str, Any] | None
    opening: Opening | None  # its restricted content, when this node holds it


def build_bundle(
    *,
    code: str,
    project_id: str,
    generated_by: str,
    deployment: Deployment,
    as_of: int,
    entries: list[BundleEntry],
) -> dict[str, Any]:
    """The evidence bundle of a project from its canonical records (in chain order)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generated_by": generated_by,
        "chain_id": deployment.chain_id,
        "contracts": {"consortium": deployment.consortium, "ledger": deployment.ledger},
        "as_of_block": as_of,
        "project_code": code,
        "project_id": project_id,
        "records": [_bundle_record(e) for e in entries],
    }


def _bundle_record(entry: BundleEntry) -> dict[str, Any]:
    row = entry.row
    out: dict[str, Any] = {
        "uid": row["uid"],
        "sealer": row["sealer"],
        "issuer_org": {"id": int(row["issuer"]), "name": entry.issuer_name, "uscc": entry.issuer_uscc},
        "tx_hash": row["tx_hash"],
        "block_number": int(row["block_number"]),
        "block_hash": row["block_hash"],
        "log_index": int(row["log_index"]),
    }
    if int(row["kind"]) == 0:
        # Accepted on chain, content unknown to the index: listed, never guessed.
        return {**out, "kind": "unknown", "problem": row["problem"]}
    record = Record.from_row(row)
    try:
        fields: dict[str, Any] | None = decode_payload(record.kind, record.payload)
    except PayloadError:
        fields = None
    out.update(
        kind=record.kind.name.lower(),
        typed_data=entry.typed_data,
        seal="0x" + bytes(row["seal"]).hex(),
        **({"group": entry.group} if entry.group is not None else {}),
        status=entry.status,
        fields=fields,
        document_digests=document_digests(record) if fields is not None else [],
    )
    opening = entry.opening
    if fields is None:
        out["problem"] = row["problem"] or "the payload does not decode"
    elif opening is not None and "restricted" in fields:
        # The opened restricted content: the verifier checks keccak256(salt ‖ content) against
        # the payload's `restricted` commitment, which the seal covers.
        try:
            opened: dict[str, Any] | None = decode_restricted(record.kind, opening.content)
        except PayloadError:
            opened = None
        out["restricted"] = {"salt": "0x" + opening.salt.hex(), "content": "0x" + opening.content.hex(),
                             "fields": opened}  # fmt: skip
    return out


def document_digests(record: Record) -> list[str]:
    """The SHA-256 digests of off-chain documents a record binds: its digest, and an event's evidence."""
    out = ["0x" + record.digest.hex()] if any(record.digest) else []
    if record.kind == Kind.EVENT:
        out += [d for d in decode_payload(Kind.EVENT, record.payload)["evidence"] if int(d, 16)]
    return out
