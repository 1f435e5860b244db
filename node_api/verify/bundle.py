"""Evidence bundles (证据包): every record of a project, checkable against the chain alone.

``build_bundle`` writes the document from the node's read model; checking one
against the chain alone lives in ``bundle_check.py``. The format is documented in
docs/bundle.md.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from eth_utils.crypto import keccak

from node_api.domain.records import Kind, Opening, PayloadError, Record, decode_payload, decode_restricted

if TYPE_CHECKING:
    from node_api.node import Node

FORMAT = "projchain-evidence-bundle"
VERSION = 1

# Event and function signatures, spelled out so the verifier needs no compiled artifacts.
# RecordAdded(uid, project, issuer, sealer, recordHash) names an accepted record; the record
# and its seal are in the input of the transaction that carried it, a call of SUBMIT or
# SUBMIT_BATCH (node_api.chain.contracts decodes both, for the indexer and the verifier alike).
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
def build_bundle(node: Node, code: str) -> dict[str, Any] | None:
    """The evidence bundle of a project from the read model (canonical records only); None if unknown."""
    pid = node.reader.project_id(code)
    deployment = node.contracts.deployment if node.contracts else None
    if pid is None or deployment is None:
        return None
    as_of, _ = node.indexer.checkpoint()
    rows = node.reader.canonical_rows(pid)
    openings = node.openings.get_many([r["uid"] for r in rows])
    records = [_bundle_record(node, row, openings.get(row["uid"])) for row in rows]
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "generated_by": node.settings.node_name,
        "chain_id": deployment.chain_id,
        "contracts": {"consortium": deployment.consortium, "ledger": deployment.ledger},
        "as_of_block": as_of,
        "project_code": code,
        "project_id": pid,
        "records": records,
    }


def _bundle_record(node: Node, row: Any, opening: Opening | None) -> dict[str, Any]:
    issuer = node.membership.get(int(row["issuer"]))
    out: dict[str, Any] = {
        "uid": row["uid"],
        "sealer": row["sealer"],
        "issuer_org": {
            "id": int(row["issuer"]),
            "name": issuer.name if issuer else None,
            "uscc": issuer.uscc if issuer else None,
        },
        "tx_hash": row["tx_hash"],
        "block_number": int(row["block_number"]),
        "block_hash": row["block_hash"],
        "log_index": int(row["log_index"]),
    }
    if int(row["kind"]) == 0:
        # Accepted on chain, content unknown to the index: listed, never guessed.
        return {**out, "kind": "unknown", "problem": row["problem"]}
    h = {k: bytes.fromhex(str(row[k])[2:]) for k in ("uid", "project", "ref", "digest")}
    record = Record(
        h["uid"], Kind(int(row["kind"])), h["project"], h["ref"], h["digest"], bytes(row["payload"])
    )
    try:
        fields: dict[str, Any] | None = decode_payload(record.kind, record.payload)
    except PayloadError:
        fields = None
    out.update(
        kind=record.kind.name.lower(),
        typed_data=node.sealer.typed_data(record),
        seal="0x" + bytes(row["seal"]).hex(),
        status=node.reader.status(row["uid"], record.kind).name.lower(),
        fields=fields,
        document_digests=document_digests(record) if fields is not None else [],
    )
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
