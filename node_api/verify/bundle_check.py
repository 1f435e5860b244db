"""Checking an evidence bundle against the chain alone (``projchain verify-bundle``).

Recomputes each seal with a standard EIP-712 library (for a record sealed with its group:
its leaf, its path to the group's root, and the group seal over that root), finds each record's
RecordAdded log by its transaction receipt and the record itself, field by field and
with its seal, in that transaction's input (``submit`` / ``submitBatch``), replays the Consortium's events to
decide whether the sealing key and its organisation were entitled to seal that
record at that block, and checks the bundle is complete. The contracts are the ones the
verifier pins (``trust.py``), never just the bundle's word, and records the chain
accepted after ``as_of_block`` make the bundle STALE. It never asks a projchain node
anything. The format is documented in docs/bundle.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from node_api.chain.consortium import ROLE_BITS
from node_api.chain.contracts import Copy, copies_by_uid
from node_api.chain.contracts import carried_copies as chain_carried_copies
from node_api.chain.group import GroupProof
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import DOMAIN_NAME, DOMAIN_VERSION, EIP712_TYPES, GROUP_EIP712_TYPES
from node_api.domain.records import (
    INITIAL_STATUS,
    REQUIRED_ROLE,
    Kind,
    Opening,
    Record,
    Status,
    decode_payload,
    decode_restricted,
)
from node_api.errors import ChainError, ValidationError
from node_api.verify import record_added
from node_api.verify.bundle import (
    _ADDRESS,
    _HEX32,
    FORMAT,
    ORG_EVENTS,
    STATUS_CHANGED,
    VERSION,
    document_digests,
    topic,
)
from node_api.verify.chain_reader import ChainReader, position, word
from node_api.verify.trust import (
    PIN_FLAGS,
    LaterRecord,
    Pin,
    later_records,
    load_pin,
    pinned_contracts,
    stale_line,
    verdict_of,
)


# -- findings ----------------------------------------------------------------------
@dataclass
class Finding:
    """What verification found about one record (or about the bundle as a whole: subject "bundle")."""

    subject: str
    kind: str = ""
    block: int | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing failed."""
        return not self.problems

    def line(self) -> str:
        """One line: ``OK <uid> <kind> block N`` or ``FAIL <uid>: <reasons>``."""
        if self.ok:
            return f"OK {self.subject} {self.kind} block {self.block}".rstrip()
        return f"FAIL {self.subject}: " + "; ".join(self.problems)


@dataclass(frozen=True)
class BundleRecord:
    """A bundle record after its shape was checked: the values the checks compare."""

    raw: dict[str, Any]
    uid: str
    message: dict[str, Any]
    record: Record
    seal: bytes
    sealer: str
    issuer: int
    block: int
    log_index: int

    @property
    def position(self) -> tuple[int, int]:
        """(block, log index): the order of events on chain."""
        return (self.block, self.log_index)


def check_shape(bundle: Any) -> None:
    """Raises ValidationError when the document is not a bundle this verifier understands."""
    if not isinstance(bundle, dict):
        raise ValidationError("bundle", "is not a JSON object")
    if bundle.get("format") != FORMAT:
        raise ValidationError("format", f"is {bundle.get('format')!r}, expected {FORMAT!r}")
    if bundle.get("version") != VERSION:
        raise ValidationError(
            "version", f"is {bundle.get('version')!r}; this verifier reads version {VERSION}"
        )
    for key, kind in (("chain_id", int), ("as_of_block", int), ("project_code", str), ("records", list)):
        if not isinstance(bundle.get(key), kind):
            raise ValidationError(key, f"is missing or not a{'n' if kind is int else ''} {kind.__name__}")
    contracts = bundle.get("contracts")
    if not isinstance(contracts, dict) or not all(
        isinstance(contracts.get(k), str) and _ADDRESS.match(contracts[k]) for k in ("consortium", "ledger")
    ):
        raise ValidationError("contracts", "needs the consortium and ledger addresses")
    if not isinstance(bundle.get("project_id"), str) or not _HEX32.match(bundle["project_id"]):
        raise ValidationError("project_id", "must be 0x + 64 hex")


def parse_record(raw: Any) -> BundleRecord:
    """Reads one bundle record; ValueError/KeyError/TypeError describe what is malformed."""
    m = raw["typed_data"]["message"]
    h = {k: _b32(m[k], f"typed_data.message.{k}") for k in ("uid", "project", "ref", "digest")}
    payload = _hex_bytes(m["payload"], "typed_data.message.payload")
    record = Record(h["uid"], Kind(int(m["kind"])), h["project"], h["ref"], h["digest"], payload)
    return BundleRecord(
        raw=raw,
        uid=str(raw["uid"]).lower(),
        message=m,
        record=record,
        seal=_hex_bytes(raw["seal"], "seal"),
        sealer=str(raw["sealer"]),
        issuer=int(raw["issuer_org"]["id"]),
        block=int(raw["block_number"]),
        log_index=int(raw["log_index"]),
    )


def _hex_bytes(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"{name} is not 0x-hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as e:
        raise ValueError(f"{name} is not valid hex") from e


def _b32(value: Any, name: str) -> bytes:
    raw = _hex_bytes(value, name)
    if len(raw) != 32:
        raise ValueError(f"{name} is not 32 bytes")
    return raw


def _differs(name: str, chain: bytes, bundle: bytes) -> str | None:
    if chain == bundle:
        return None
    at = next(
        (i for i, (a, b) in enumerate(zip(chain, bundle, strict=False)) if a != b),
        min(len(chain), len(bundle)),
    )
    return f"{name} differs from the chain at byte {at} (chain {len(chain)} bytes, bundle {len(bundle)})"


# -- checks that need no chain -------------------------------------------------------
def seal_problems(r: BundleRecord, chain_id: int, ledger: str, project_id: str) -> list[str]:
    """EIP-712 domain and type, the seal's signer (recovered by eth_account), uid, kind, project, fields."""
    problems: list[str] = []
    td = r.raw["typed_data"]
    domain = td.get("domain", {})
    expected_domain = {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id}
    for key, value in expected_domain.items():
        if domain.get(key) != value:
            problems.append(f"typed_data.domain.{key} is {domain.get(key)!r}, expected {value!r}")
    if str(domain.get("verifyingContract", "")).lower() != ledger.lower():
        problems.append(f"typed_data.domain.verifyingContract is not the ledger {ledger}")
    if td.get("primaryType") != "Record" or td.get("types") != EIP712_TYPES:
        problems.append("typed_data.types / primaryType are not the projchain Record type")
    proof = GroupProof.decode(r.seal) if len(r.seal) != 65 else None
    try:
        if proof is None:
            signer = Account.recover_message(encode_typed_data(full_message=td), signature=r.seal)
        else:
            signer = _group_signer(r, td, proof, problems)
    except Exception as e:  # any library error means the seal cannot be checked
        problems.append(f"seal cannot be recovered ({type(e).__name__}: {e})")
    else:
        if signer is not None and signer.lower() != r.sealer.lower():
            problems.append(f"seal was made by {signer}, not by the stated sealer {r.sealer}")
    if r.uid != r.message["uid"].lower():
        problems.append(f"uid differs from typed_data.message.uid {r.message['uid']}")
    if r.raw.get("kind") != r.record.kind.name.lower():
        problems.append(f"kind {r.raw.get('kind')!r} differs from typed_data kind {int(r.record.kind)}")
    if "0x" + r.record.project.hex() != project_id.lower():
        problems.append("typed_data.message.project is not the bundle's project")
    try:
        fields = decode_payload(r.record.kind, r.record.payload)
    except Exception:
        problems.append(f"payload is not a valid ABI encoding of the {r.record.kind.name.lower()} fields")
    else:
        if "fields" in r.raw and r.raw["fields"] != fields:
            problems.append("fields differ from the decoded payload")
        if [d.lower() for d in r.raw.get("document_digests", [])] != document_digests(r.record):
            problems.append("document_digests differ from the digests the record binds")
    return problems


def _group_signer(r: BundleRecord, td: dict[str, Any], proof: GroupProof, problems: list[str]) -> str | None:
    """The key that sealed the record's group: leaf (the record's EIP-712 struct hash, as a
    standard library computes it) → path → root → the group seal over ``RecordGroup(root,
    count, relayer)`` in the record's own domain. None (with the problem noted) when the path
    does not lead to the group's stated root or the group's typed data is not that message."""
    group = r.raw.get("group")
    if not isinstance(group, dict):
        problems.append("the seal is a group seal with a path, but the record has no group")
        return None
    root = proof.root(bytes(encode_typed_data(full_message=td).body))
    if root is None:
        problems.append("the group path does not fit the record's position in its group")
        return None
    stated = {k: v for k, v in group.items() if k != "typed_data"}
    if json.dumps(stated, sort_keys=True).lower() != json.dumps(proof.as_json(root), sort_keys=True).lower():
        problems.append(
            "the record's leaf and path do not lead to its group's root (or group differs from seal)"
        )
        return None
    gtd = group.get("typed_data")
    expected = {"root": "0x" + root.hex(), "count": proof.count, "relayer": proof.relayer.lower()}
    if (
        not isinstance(gtd, dict)
        or gtd.get("primaryType") != "RecordGroup"
        or gtd.get("types") != GROUP_EIP712_TYPES
        or gtd.get("domain") != td.get("domain")
        or {k: str(v).lower() if k != "count" else v for k, v in dict(gtd.get("message", {})).items()}
        != expected
    ):
        problems.append("group.typed_data is not the projchain RecordGroup of this root, count and relayer")
        return None
    return str(Account.recover_message(encode_typed_data(full_message=gtd), signature=proof.seal))


def restricted_problems(r: BundleRecord) -> list[str]:
    """The opened restricted content, if the bundle has it, against the payload's commitment.

    ``restricted`` = {salt, content, fields}: keccak256(salt ‖ content) must be the payload's
    ``restricted`` word (which the seal covers), and ``fields`` what the content decodes to.
    """
    opened = r.raw.get("restricted")
    if opened is None:
        return []
    try:
        salt, content = (
            _b32(opened["salt"], "restricted.salt"),
            _hex_bytes(opened["content"], "restricted.content"),
        )
        committed = _b32(decode_payload(r.record.kind, r.record.payload)["restricted"], "payload restricted")
    except (KeyError, TypeError, ValueError) as e:
        return [f"restricted content cannot be checked: {e}"]
    if not Opening(salt, content).matches(committed):
        return ["restricted content does not open the payload's commitment (keccak256(salt ‖ content))"]
    try:
        fields = decode_restricted(r.record.kind, content)
    except ValueError:
        return ["restricted content is not a valid ABI encoding of the kind's restricted fields"]
    if opened.get("fields") is not None and opened["fields"] != fields:
        return ["restricted.fields differ from the opened content"]
    return []


def document_findings(r: BundleRecord, documents_dir: Path | None) -> tuple[list[str], list[str]]:
    """(problems, notes) for the record's documents found in ``documents_dir`` by hex digest."""
    problems: list[str] = []
    notes: list[str] = []
    if documents_dir is None:
        return problems, notes
    for digest in document_digests(r.record):
        bare = digest[2:]
        path = next((p for p in (documents_dir / bare, documents_dir / digest) if p.is_file()), None)
        if path is None:
            notes.append(f"document {digest} not provided")
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != bare:
            problems.append(
                f"document {path.name} does not match its digest (the file's SHA-256 is 0x{actual})"
            )
        else:
            notes.append(f"document {digest} matches")
    return problems, notes


def event_problems(r: BundleRecord, receipt: Any, ledger: str) -> list[str]:
    """The record against its transaction receipt: block, log position, emitter, the RecordAdded
    fields (uid, project) and the issuer (the uid's namespace; the sealer is the seal's, which
    ``input_problems`` finds in the input and ``seal_problems`` recovers)."""
    if not isinstance(receipt, dict):
        return [f"transaction {r.raw.get('tx_hash')} is not on the chain"]
    problems: list[str] = []
    if int(receipt.get("status", "0x0"), 16) != 1:
        problems.append(f"transaction {r.raw.get('tx_hash')} reverted")
    if int(receipt["blockNumber"], 16) != r.block:
        problems.append(f"transaction is in block {int(receipt['blockNumber'], 16)}, bundle says {r.block}")
    if str(receipt["blockHash"]).lower() != str(r.raw.get("block_hash", "")).lower():
        problems.append(f"block hash is {receipt['blockHash']}, bundle says {r.raw.get('block_hash')}")
    log = receipt_log(receipt, r.log_index)
    if log is None:
        return [*problems, f"the transaction has no log at index {r.log_index}"]
    if str(log["address"]).lower() != ledger.lower():
        problems.append(f"log {r.log_index} was emitted by {log['address']}, not the ledger {ledger}")
    added = record_added.decode(log)
    if added is None:
        return [*problems, f"log {r.log_index} is not a RecordAdded event"]
    problems += [
        p for name, chain, ours in (("uid", added.uid, r.record.uid), ("project", added.project, r.record.project))
        if (p := _differs(name, chain, ours))
    ]  # fmt: skip
    namespace = int.from_bytes(added.uid[:4], "big")
    if namespace != r.issuer:
        problems.append(f"the uid is in organisation {namespace}'s namespace, bundle says issuer {r.issuer}")
    return problems


def receipt_log(receipt: Any, log_index: int) -> dict[str, Any] | None:
    """The receipt's log at ``log_index`` (an index within the block), if it has one."""
    if not isinstance(receipt, dict):
        return None
    return next((lg for lg in receipt.get("logs", []) if int(lg["logIndex"], 16) == log_index), None)


def carried_records(tx: Any) -> dict[bytes, tuple[Record, bytes]] | None:
    """The records a transaction's input carries, by uid, with 65-byte seals (None: not a ledger call).

    A uid carried twice keeps its first copy; ``carried_by_uid`` keeps every copy, and
    ``record_added.accepted_copy`` picks the one a log names.
    """
    copies = carried_copies(tx)
    if copies is None:
        return None
    out: dict[bytes, tuple[Record, bytes]] = {}
    for record, seal in copies:
        out.setdefault(record.uid, (record, seal))
    return out


def carried_copies(tx: Any) -> list[Copy] | None:
    """Every (record, seal) a transaction's ``submit`` / ``submitBatch`` / ``submitGroups`` input
    carries: a 65-byte seal, or a group member's proof (its group's seal and its path)."""
    sender = tx.get("from")
    return chain_carried_copies(str(tx.get("input", "0x")), str(sender) if sender else None)


def carried_by_uid(tx: Any) -> dict[bytes, list[Copy | None]] | None:
    """``carried_copies`` by uid, every copy in input order (``copies_by_uid``; None: not a ledger call)."""
    sender = tx.get("from")
    return copies_by_uid(str(tx.get("input", "0x")), str(sender) if sender else None)


def input_problems(
    r: BundleRecord,
    tx: Any,
    carried: dict[bytes, list[Copy | None]] | None,
    ledger: str,
    logged: record_added.RecordAdded | None = None,
) -> list[str]:
    """The record against the input of the transaction that carried it: every field and the seal.

    The copy compared is the one the ledger accepted: the one the RecordAdded log ``logged``
    names (``record_added.in_receipt``: the k-th copy of the uid), when the ledger logs one;
    otherwise the transaction's only copy of the uid.
    """
    if not isinstance(tx, dict):
        return [f"transaction {r.raw.get('tx_hash')} is not on the chain"]
    if str(tx.get("to")).lower() != ledger.lower():
        return [f"transaction {r.raw.get('tx_hash')} is not a call of the ledger {ledger}"]
    if carried is None:
        return [f"transaction {r.raw.get('tx_hash')} is not a submit / submitBatch call"]
    found, why = record_added.accepted_copy(carried, r.record.uid, logged)
    if found is None:
        return [f"transaction {r.raw.get('tx_hash')} {why}"]
    chain, seal = found
    ours = r.record
    checks = [
        ("kind", bytes([int(chain.kind)]), bytes([int(ours.kind)])),
        ("project", chain.project, ours.project),
        ("ref", chain.ref, ours.ref),
        ("digest", chain.digest, ours.digest),
        ("payload", chain.payload, ours.payload),
        ("seal", seal, r.seal),
    ]
    return [p for name, on_chain, bundled in checks if (p := _differs(name, on_chain, bundled))]


@dataclass
class OrgHistory:
    """One organisation's Consortium events, in chain order, and its seal keys' views."""

    events: list[tuple[tuple[int, int], str, dict[str, Any]]] = field(default_factory=list)

    def state_before(self, position: tuple[int, int]) -> tuple[int | None, bool]:
        """(roles bits, suspended) just before ``position``; roles None if not yet admitted."""
        roles: int | None = None
        suspended = False
        for at, name, args in self.events:
            if at >= position:
                break
            if name in ("OrganizationAdmitted", "RolesChanged"):
                roles = int(args["roles"])
            elif name in ("OrganizationSuspended", "OrganizationReinstated"):
                suspended = name == "OrganizationSuspended"
        return roles, suspended

    def revoked_at(self, key: str) -> tuple[int, int] | None:
        """Where ``key`` was revoked, if it was."""
        return next(
            (at for at, n, a in self.events if n == "SealKeyRevoked" and a["key"] == key.lower()), None
        )


def authority_problems(r: BundleRecord, history: OrgHistory, key_view: tuple[int, int, int]) -> list[str]:
    """Was the seal key valid and its organisation admitted, not suspended and in the needed role then?"""
    problems: list[str] = []
    key_org, valid_from, valid_until = key_view
    if key_org != r.issuer:
        problems.append(f"seal key {r.sealer} belongs to organisation {key_org}, not {r.issuer}")
    if valid_from > r.block:
        problems.append(f"seal key {r.sealer} became valid at block {valid_from}, after block {r.block}")
    revoked = history.revoked_at(r.sealer)
    if valid_until != 0 and (r.block > valid_until or (revoked is not None and revoked < r.position)):
        problems.append(f"seal key {r.sealer} was revoked at block {valid_until}, before this record")
    roles, suspended = history.state_before(r.position)
    if roles is None:
        problems.append(f"organisation {r.issuer} was not admitted before block {r.block}")
        return problems
    if suspended:
        problems.append(f"organisation {r.issuer} was suspended at block {r.block}")
    needed = REQUIRED_ROLE.get(r.record.kind)
    if needed and not roles & sum(ROLE_BITS[n] for n in needed):
        problems.append(
            f"organisation {r.issuer} did not hold role {' or '.join(sorted(needed))} at block {r.block}"
        )
    return problems


def status_at(kind: Kind, changes: list[int]) -> Status:
    """A record's status after the given StatusChanged values (in order)."""
    return Status(changes[-1]) if changes else INITIAL_STATUS.get(kind, Status.RECORDED)


def _name(enum: type[Kind] | type[Status], value: int) -> str:
    try:
        return enum(value).name.lower()
    except ValueError:
        return f"unknown ({value})"


# -- checks against the chain ---------------------------------------------------------
@dataclass
class ChainFacts:
    """What the chain says about the bundle's records, gathered in a few batched reads."""

    receipts: list[Any]
    transactions: dict[str, Any]
    carried: dict[str, dict[bytes, list[Copy | None]] | None]
    blocks: list[Any]
    entries: list[bytes | None]
    key_views: dict[str, bytes | None]
    org_views: dict[int, bytes | None]
    histories: dict[int, OrgHistory]
    changes: dict[str, list[int]]


async def _gather(chain: ChainReader, bundle: dict[str, Any], parsed: list[BundleRecord]) -> ChainFacts:
    ledger, consortium = bundle["contracts"]["ledger"], bundle["contracts"]["consortium"]
    sealers = sorted({r.sealer.lower() for r in parsed})
    orgs = sorted({r.issuer for r in parsed})
    encoded_keys = ["0x" + abi_encode(["address"], [s]).hex() for s in sealers]
    hashes = sorted({str(r.raw.get("tx_hash")) for r in parsed})
    transactions = dict(
        zip(hashes, await chain.many("eth_getTransactionByHash", ([h] for h in hashes)), strict=True)
    )
    return ChainFacts(
        receipts=await chain.many("eth_getTransactionReceipt", ([r.raw.get("tx_hash")] for r in parsed)),
        transactions=transactions,
        carried={h: carried_by_uid(tx) if isinstance(tx, dict) else None for h, tx in transactions.items()},
        blocks=await chain.many("eth_getBlockByNumber", ([hex(r.block), False] for r in parsed)),
        entries=await chain.views(ledger, "entry(bytes32)", [r.uid for r in parsed]),
        key_views=dict(
            zip(sealers, await chain.views(consortium, "sealKey(address)", encoded_keys), strict=True)
        ),
        org_views=dict(
            zip(
                orgs,
                await chain.views(consortium, "organization(uint32)", [word(o) for o in orgs]),
                strict=True,
            )
        ),
        histories=await _org_histories(chain, consortium, orgs, max((r.block for r in parsed), default=0)),
        changes=await status_changes_until(
            chain, ledger, [r.uid for r in parsed], int(bundle["as_of_block"])
        ),
    )


async def _org_histories(
    chain: ChainReader, consortium: str, orgs: list[int], end: int
) -> dict[int, OrgHistory]:
    out: dict[int, OrgHistory] = {}
    topics0 = [topic(s) for s in ORG_EVENTS]
    names = {topic(s): s.split("(")[0] for s in ORG_EVENTS}
    for org in orgs:
        history = OrgHistory()
        for lg in await chain.logs(consortium, [topics0, word(org)], 0, end):
            name = names[lg["topics"][0]]
            data = bytes.fromhex(lg["data"][2:])
            args: dict[str, Any] = {}
            if name == "OrganizationAdmitted":
                args["roles"] = abi_decode(["string", "string", "uint8"], data)[2]
            elif name == "RolesChanged":
                args["roles"] = abi_decode(["uint8"], data)[0]
            elif name == "SealKeyRevoked":
                args["key"] = "0x" + lg["topics"][2][-40:].lower()
            history.events.append((position(lg), name, args))
        out[org] = history
    return out


async def _trust_problems(chain: ChainReader, bundle: dict[str, Any]) -> list[str]:
    """Is this the bundle's chain, and is the ledger governed by the bundle's consortium?"""
    ledger, consortium = bundle["contracts"]["ledger"], bundle["contracts"]["consortium"]
    actual = await chain.rpc.chain_id()
    if actual != bundle["chain_id"]:
        return [f"the RPC endpoint serves chain {actual}, the bundle is for chain {bundle['chain_id']}"]
    (trusted,) = await chain.views(ledger, "consortium()", ["0x"])
    if trusted is None or len(trusted) != 32 or "0x" + trusted[12:].hex() != consortium.lower():
        return [f"{ledger} is not a projchain ledger governed by the consortium {consortium}"]
    head = await chain.rpc.block_number()
    if bundle["as_of_block"] > head:
        return [f"as_of_block {bundle['as_of_block']} is beyond the chain head {head}"]
    return []


async def _check_chain(
    bundle: dict[str, Any], records: list[tuple[Finding, BundleRecord]], summary: Finding, chain: ChainReader
) -> tuple[list[LaterRecord], int | None]:
    """Records and completeness against the chain; (records added after as_of_block, chain head)."""
    trust = await _trust_problems(chain, bundle)
    summary.problems += trust
    if trust:
        for finding, _ in records:
            finding.problems.append("not checked against the chain (see the bundle-level failure)")
        return [], None
    parsed = [r for _, r in records]
    facts = await _gather(chain, bundle, parsed)
    for i, (finding, r) in enumerate(records):
        finding.problems += _record_chain_problems(r, i, facts, bundle, finding.notes)
    as_of = int(bundle["as_of_block"])
    await _check_complete(bundle, parsed, summary, chain, as_of)
    head = await chain.rpc.block_number()
    later = await later_records(chain, bundle["contracts"]["ledger"], bundle["project_id"], as_of, head)
    return later, head


def _record_chain_problems(
    r: BundleRecord, i: int, facts: ChainFacts, bundle: dict[str, Any], notes: list[str]
) -> list[str]:
    as_of = int(bundle["as_of_block"])
    ledger = bundle["contracts"]["ledger"]
    p = event_problems(r, facts.receipts[i], ledger)
    logged = record_added.in_receipt(facts.receipts[i], r.log_index, ledger)
    tx_hash = str(r.raw.get("tx_hash"))
    p += input_problems(r, facts.transactions.get(tx_hash), facts.carried.get(tx_hash), ledger, logged)
    block = facts.blocks[i]
    if (
        not isinstance(block, dict)
        or str(block.get("hash", "")).lower() != str(r.raw.get("block_hash")).lower()
    ):
        p.append(f"block {r.block} of the chain is not the bundle's block {r.raw.get('block_hash')}")
    if r.block > as_of:
        p.append(f"block {r.block} is after the bundle's as_of_block {as_of}")
    view = facts.key_views.get(r.sealer.lower())
    if view is None:
        p.append(f"the consortium does not answer for seal key {r.sealer}")
    else:
        key = tuple(int(v) for v in abi_decode(["uint32", "uint64", "uint64"], view))
        p += authority_problems(r, facts.histories[r.issuer], (key[0], key[1], key[2]))
    p += _identity_problems(r, facts.org_views.get(r.issuer))
    p += _status_problems(r, facts.entries[i], facts.changes.get(r.uid, []), notes)
    return p


def _identity_problems(r: BundleRecord, view: bytes | None) -> list[str]:
    if view is None:
        return [f"organisation {r.issuer} is unknown to the consortium"]
    name, uscc, *_ = abi_decode(["(string,string,uint8,bool,uint64)"], view)[0]
    stated = r.raw.get("issuer_org", {})
    if stated.get("name") not in (None, name) or stated.get("uscc") not in (None, uscc):
        return [f"issuer_org differs from the consortium's organisation {r.issuer} ({name}, {uscc})"]
    return []


def _status_problems(r: BundleRecord, entry: bytes | None, changes: list[int], notes: list[str]) -> list[str]:
    if entry is None or len(entry) < 32 * 8:
        return ["the ledger does not answer entry(uid)"]
    kind, status_now, _, issuer, *_ = abi_decode(
        ["(uint8,uint8,uint8,uint32,uint32,uint40,uint32,uint40)"], entry
    )[0]
    if kind == 0:
        return ["the ledger holds no record with this uid"]
    problems: list[str] = []
    if kind != int(r.record.kind) or issuer != r.issuer:
        problems.append(f"the ledger holds kind {kind} by organisation {issuer} under this uid")
    then = _name(Status, changes[-1]) if changes else status_at(r.record.kind, []).name.lower()
    if r.raw.get("status") != then:
        problems.append(f"status was {then} at the bundle's as_of_block, bundle says {r.raw.get('status')!r}")
    now = _name(Status, status_now)
    if now != then:
        notes.append(f"status has changed since the bundle was made: now {now}")
    return problems


async def status_changes_until(
    chain: ChainReader, ledger: str, uids: list[str], as_of: int
) -> dict[str, list[int]]:
    """Each uid's StatusChanged values (lower-case uid → statuses in chain order) up to block ``as_of``."""
    out: dict[str, list[int]] = {}
    for i in range(0, len(uids), 100):
        logs = await chain.logs(ledger, [topic(STATUS_CHANGED), uids[i : i + 100]], 0, as_of)
        for lg in logs:
            out.setdefault(lg["topics"][1].lower(), []).append(int(lg["data"][2:], 16))
    return out


async def _check_complete(
    bundle: dict[str, Any], parsed: list[BundleRecord], summary: Finding, chain: ChainReader, as_of: int
) -> None:
    registration = [r for r in parsed if r.record.kind == Kind.PROJECT and not any(r.record.ref)]
    if not registration:
        summary.problems.append("the project's registration record is missing")
    start = min((r.block for r in registration), default=0)
    logs = await chain.logs(
        bundle["contracts"]["ledger"], [record_added.topics(), None, bundle["project_id"]], start, as_of
    )
    # Listed counts as present: a listed record that does not verify fails on its own line.
    ours = {str(raw.get("uid")).lower() for raw in bundle["records"] if isinstance(raw, dict)}
    for lg in logs:
        uid = str(lg["topics"][1]).lower()
        if uid not in ours:
            summary.problems.append(
                f"record {uid} (block {int(lg['blockNumber'], 16)}, transaction {lg['transactionHash']}) "
                f"is on chain but missing from the bundle"
            )


# -- entry points --------------------------------------------------------------------
# Exit status per verdict; 2 is an unusable input (bundle, pin) or an unreachable chain.
VERDICT_EXIT = {"VERIFIED": 0, "FAILED": 1, "STALE": 3, "UNPINNED": 4}


@dataclass
class Verification:
    """What verification found: one finding per record after the bundle's own, the pin, later records."""

    findings: list[Finding]
    pin: Pin | None
    contracts: dict[str, str]  # the contracts checked against: the pinned ones when pinned
    later: list[LaterRecord] = field(default_factory=list)
    head: int | None = None  # the chain head the bundle was compared with (None if not reached)

    @property
    def verdict(self) -> str:
        """FAILED if anything failed; else UNPINNED if no deployment was pinned; else STALE if the
        chain holds records of the project after as_of_block; else VERIFIED."""
        failed = not all(f.ok for f in self.findings)
        return verdict_of(failed, self.pin, self.later, ("FAILED", "UNPINNED", "STALE", "VERIFIED"))

    @property
    def exit_code(self) -> int:
        """The CLI's exit status for the verdict."""
        return VERDICT_EXIT[self.verdict]


def verify_bundle(
    bundle: dict[str, Any], rpc_url: str, documents_dir: Path | None = None, *, pin: Pin | None
) -> Verification:
    """Checks a bundle against the chain at ``rpc_url`` alone, and against the pinned deployment.

    ``pin`` is the consortium's real deployment (``trust.load_pin``): every check uses its
    contracts, and a bundle naming others fails. Without one (None) the bundle's own
    contracts are used and the verdict is at best UNPINNED: a look-alike pair deployed on
    the same chain would pass every other check.
    """
    check_shape(bundle)
    return asyncio.run(_verify(bundle, rpc_url, documents_dir, pin))


async def _verify(
    bundle: dict[str, Any], rpc_url: str, documents_dir: Path | None, pin: Pin | None
) -> Verification:
    summary = Finding("bundle", block=int(bundle["as_of_block"]))
    findings: list[Finding] = [summary]
    rpc = RpcClient(rpc_url)
    try:
        chain = ChainReader(rpc)
        contracts, problems = await pinned_contracts(chain, bundle, pin)
        summary.problems += problems
        checked = {**bundle, "contracts": contracts}
        records = _check_offline(checked, documents_dir, summary, findings)
        later, head = await _check_chain(checked, records, summary, chain)
    finally:
        await rpc.close()
    return Verification(findings, pin, contracts, later, head)


def _check_offline(
    bundle: dict[str, Any], documents_dir: Path | None, summary: Finding, findings: list[Finding]
) -> list[tuple[Finding, BundleRecord]]:
    """The checks that need no chain; appends a finding per record and returns the parsed ones."""
    records: list[tuple[Finding, BundleRecord]] = []
    if str(keccak(text=bundle["project_code"]).hex()) != bundle["project_id"].lower()[2:]:
        summary.problems.append("project_id is not keccak256 of project_code")
    for i, raw in enumerate(bundle["records"]):
        finding = Finding(str(raw.get("uid")) if isinstance(raw, dict) else f"records[{i}]")
        findings.append(finding)
        if isinstance(raw, dict) and raw.get("kind") == "unknown":
            finding.kind, finding.block = "unknown", raw.get("block_number")
            finding.problems.append(
                f"the bundle holds no content for this record ({raw.get('problem')}): it cannot be verified"
            )
            continue
        try:
            r = parse_record(raw)
        except KeyError as e:
            finding.problems.append(f"malformed record: {e} is missing")
            continue
        except (TypeError, ValueError, AttributeError) as e:
            finding.problems.append(f"malformed record: {e}")
            continue
        finding.kind, finding.block = r.record.kind.name.lower(), r.block
        finding.problems += seal_problems(
            r, bundle["chain_id"], bundle["contracts"]["ledger"], bundle["project_id"]
        )
        finding.problems += restricted_problems(r)
        problems, notes = document_findings(r, documents_dir)
        finding.problems += problems
        finding.notes += notes
        records.append((finding, r))
    return records


def verify_bundle_cli(
    path: str,
    rpc_url: str,
    documents_dir: str | None,
    deployment: str | None = None,
    ledger: str | None = None,
    consortium: str | None = None,
) -> int:
    """``projchain verify-bundle``: one line per record and a verdict; the exit status is VERDICT_EXIT's."""
    try:
        bundle = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        print(f"cannot read {path}: {e.strerror}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"{path} is not JSON: {e}", file=sys.stderr)
        return 2
    docs = Path(documents_dir) if documents_dir else None
    if docs is not None and not docs.is_dir():
        print(f"--documents {documents_dir} is not a directory", file=sys.stderr)
        return 2
    try:
        pin = load_pin(deployment, ledger, consortium)
    except ValidationError as e:
        print(f"unusable pin: {e.detail}", file=sys.stderr)
        return 2
    try:
        result = verify_bundle(bundle, rpc_url, docs, pin=pin)
    except ValidationError as e:
        print(f"unusable bundle: {e.detail}", file=sys.stderr)
        return 2
    except ChainError as e:
        print(f"cannot check against the chain: {e.detail}", file=sys.stderr)
        return 2
    _report(bundle, result)
    return result.exit_code


_UNPINNED = (
    "UNPINNED: nothing pinned the consortium's deployment, so the contracts checked are the ones the "
    "bundle names, and anyone can deploy a look-alike pair on the same chain; pass " + PIN_FLAGS
)


def _report(bundle: dict[str, Any], result: Verification) -> None:
    c = bundle["contracts"]
    print(
        f"evidence bundle of project {bundle['project_code']}: {len(bundle['records'])} records, "
        f"chain {bundle['chain_id']}, ledger {c['ledger']}, consortium {c['consortium']}"
    )
    as_of = int(bundle["as_of_block"])
    stale = stale_line(result.later, as_of) if result.later else ""
    if stale:
        print(f"STALE: {stale}")
    if result.pin is None:
        print(_UNPINNED)
    summary, records = result.findings[0], result.findings[1:]
    if summary.ok:
        pinned = f"pinned to {result.pin.describe()}; " if result.pin else ""
        head = (
            f", no later record up to the chain head {result.head}"
            if result.head is not None and not stale
            else ""
        )
        print(f"OK bundle: {pinned}chain id, contracts and completeness up to block {as_of}{head}")
    else:
        print(summary.line())
    for f in records:
        print(f.line())
        for note in f.notes:
            print(f"   {note}")
    for later in result.later:
        print(f"LATER {later.uid} {later.kind} block {later.block} transaction {later.tx_hash}")
    failed = sum(1 for f in records if not f.ok)
    matched = sum(1 for f in records for n in f.notes if n.endswith(" matches"))
    missing = sum(1 for f in records for n in f.notes if n.endswith("not provided"))
    verdict = result.verdict
    counts = (
        f"{len(records) - failed} of {len(records)} records verified, {failed} failed"
        + ("" if summary.ok else ", bundle-level problems above")
        + (f"; documents: {matched} matched, {missing} not provided" if matched or missing else "")
    )
    if verdict == "UNPINNED":
        counts = (
            f"{len(records) - failed} of {len(records)} records check out against the contracts the bundle "
            f"names, which nothing pinned: not verified; rerun with {PIN_FLAGS}"
        )
    elif verdict == "STALE":
        counts += f"; up to block {as_of} only: {stale}; ask for a fresh bundle"
    print(f"{verdict}: {counts}")
