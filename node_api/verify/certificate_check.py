"""Checking a verification certificate against the chain alone (``projchain verify-certificate``).

The seal first: the certificate's content, as it is now, must be what its sealer signed
(EIP-712), and the sealer must be a seal key the pinned consortium registered for the issuing
organisation, valid at the certificate's block. Anything changed in the file after sealing —
or a certificate made up by someone without the key — fails here: INVALID. Then every statement
against the chain: the block and its hash; each record by its RecordAdded log (uid, project,
block; the issuer is the uid's namespace) and its content in the transaction's input (the copy
the log names, ``record_added``, whose EIP-712 hash is the record hash); its status at the block
from the ledger's StatusChanged logs; each stage's status; and completeness (no approval,
commitment or then-open event of the project up to the block left out). Finally what changed
since: records of the project after the block make it STALE (it held then; it is no longer
current), not INVALID. It never asks a projchain node anything.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from node_api.chain.rpc import RpcClient
from node_api.chain.seal import Sealer
from node_api.domain.records import Kind, PayloadError
from node_api.errors import ChainError, ValidationError
from node_api.verify import record_added
from node_api.verify.bundle_check import carried_by_uid, receipt_log, status_changes_until
from node_api.verify.certificate import (
    ATTACHMENT,
    OPEN_EVENT,
    beijing_day,
    chain_status,
    check_shape,
    entries,
    seal_signer,
    shown_status,
    stage_status,
    statement_fields,
)
from node_api.verify.chain_reader import ChainReader, word
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

# Exit status per verdict; 2 is an unreadable file, an unusable pin or an unreachable chain.
VERDICT_EXIT = {"VALID": 0, "INVALID": 1, "STALE": 3, "UNPINNED": 4}
_ENTRY = "(uint8,uint8,uint8,uint32,uint32,uint40,uint32,uint40)"  # ProjectLedger.entry(uid)


@dataclass
class CertificateCheck:
    """What checking a certificate found."""

    problems: list[str] = field(default_factory=list)  # any → INVALID
    notes: list[str] = field(default_factory=list)
    later: list[LaterRecord] = field(default_factory=list)  # records of the project after its block
    pin: Pin | None = None
    head: int | None = None
    records: int = 0

    @property
    def verdict(self) -> str:
        """INVALID if anything failed; else UNPINNED without a pin; else STALE if the chain holds
        records of the project after the certificate's block; else VALID."""
        return verdict_of(
            bool(self.problems), self.pin, self.later, ("INVALID", "UNPINNED", "STALE", "VALID")
        )

    @property
    def exit_code(self) -> int:
        """The CLI's exit status for the verdict."""
        return VERDICT_EXIT[self.verdict]


def read_certificate(path: Path) -> Any:
    """The certificate JSON of a file: the JSON itself, or the ``certificate.json`` a PDF carries.

    Raises OSError when the file cannot be read and ValueError when it holds no JSON certificate.
    """
    data = path.read_bytes()
    if data.startswith(b"%PDF-"):
        from pypdf import PdfReader  # only for PDFs

        try:
            attached = PdfReader(io.BytesIO(data)).attachments.get(ATTACHMENT)
        except Exception as e:  # pypdf raises many kinds on a damaged file
            raise ValueError(f"the PDF cannot be read ({type(e).__name__}: {e})") from e
        if not attached:
            raise ValueError(f"the PDF carries no {ATTACHMENT}")
        data = attached[0]
    return json.loads(data.decode("utf-8"))


def verify_certificate(document: Any, rpc_url: str, *, pin: Pin | None) -> CertificateCheck:
    """Checks a certificate against the chain at ``rpc_url`` and the pinned deployment (module doc)."""
    result = CertificateCheck(pin=pin)
    try:
        check_shape(document)
    except ValidationError as e:
        result.problems.append(f"not a well-formed certificate ({e.detail}): damaged or altered")
        return result
    _check_seal_content(document, result)
    asyncio.run(_check_chain(document, rpc_url, pin, result))
    return result


def _check_seal_content(d: dict[str, Any], result: CertificateCheck) -> None:
    sealer = str(d["seal"]["sealer"])
    try:
        signer = seal_signer(d)
    except (ValueError, TypeError) as e:
        result.problems.append(f"FORGED OR ALTERED: the seal is no valid signature ({e})")
        return
    if signer.lower() != sealer.lower():
        result.problems.append(
            f"FORGED OR ALTERED: the seal does not cover this content — it was changed after sealing, or "
            f"never sealed by {sealer} (the signature recovers to {signer})"
        )
    if "0x" + keccak(text=str(d["project"].get("code"))).hex() != str(d["project"]["project_id"]).lower():
        result.problems.append("project.project_id is not keccak256 of project.code")


async def _check_chain(d: dict[str, Any], rpc_url: str, pin: Pin | None, result: CertificateCheck) -> None:
    rpc = RpcClient(rpc_url)
    try:
        chain = ChainReader(rpc)
        contracts, problems = await pinned_contracts(chain, d, pin)
        result.problems += problems
        actual = await rpc.chain_id()
        if actual != d["chain_id"]:
            result.problems.append(
                f"the RPC endpoint serves chain {actual}, the certificate is for {d['chain_id']}"
            )
            return
        result.head = await rpc.block_number()
        as_of = int(d["as_of"]["block_number"])
        block = await rpc.block(as_of) if as_of <= result.head else None
        if block is None or str(block.get("hash", "")).lower() != str(d["as_of"]["block_hash"]).lower():
            result.problems.append(
                f"block {as_of} of the chain is {block.get('hash') if block else 'not there'}, "
                f"not the certificate's {d['as_of']['block_hash']}"
            )
            return
        day = beijing_day(int(str(block["timestamp"]), 16))
        await _check_sealer(chain, d, contracts["consortium"], as_of, result)
        await _check_records(chain, d, contracts, as_of, day, result)
        await _check_grade(chain, d, contracts["ledger"], result)
        result.later = sorted(
            await later_records(chain, contracts["ledger"], d["project"]["project_id"], as_of, result.head),
            key=lambda r: (r.weight, r.block),
        )
    finally:
        await rpc.close()


async def _check_sealer(
    chain: ChainReader, d: dict[str, Any], consortium: str, as_of: int, result: CertificateCheck
) -> None:
    """Is the sealer a seal key of the issuing organisation at the certificate's block, and is it who it says?"""
    sealer, issuer = str(d["seal"]["sealer"]), int(d["issuer"]["org_id"])
    (key_view,) = await chain.views(
        consortium, "sealKey(address)", ["0x" + abi_encode(["address"], [sealer]).hex()]
    )
    (org_view,) = await chain.views(consortium, "organization(uint32)", [word(issuer)])
    if key_view is None or org_view is None:
        result.problems.append(
            f"the consortium {consortium} does not answer for seal key {sealer} / organisation {issuer}"
        )
        return
    key_org, valid_from, valid_until = (int(v) for v in abi_decode(["uint32", "uint64", "uint64"], key_view))
    if key_org != issuer:
        result.problems.append(
            f"FORGED: seal key {sealer} is not registered for organisation {issuer} in the consortium"
            + (f" (it belongs to organisation {key_org})" if key_org else "")
        )
    elif valid_from > as_of:
        result.problems.append(f"seal key {sealer} became valid at block {valid_from}, after block {as_of}")
    elif valid_until != 0 and valid_until <= as_of:
        result.problems.append(f"seal key {sealer} was revoked at block {valid_until}, before block {as_of}")
    elif valid_until != 0:
        result.notes.append(
            f"seal key {sealer} was revoked at block {valid_until}, after the certificate's block"
        )
    name, uscc, *_ = abi_decode(["(string,string,uint8,bool,uint64)"], org_view)[0]
    stated = d["issuer"]
    if stated.get("name") != name or stated.get("uscc") != uscc:
        result.problems.append(f"issuer differs from the consortium's organisation {issuer} ({name}, {uscc})")


async def _check_records(
    chain: ChainReader,
    d: dict[str, Any],
    contracts: dict[str, str],
    as_of: int,
    day: Any,
    result: CertificateCheck,
) -> None:
    ledger = contracts["ledger"]
    stated = entries(d)
    result.records = len(stated)
    pid = str(d["project"]["project_id"]).lower()
    receipts = await chain.many("eth_getTransactionReceipt", ([str(e["tx_hash"])] for e in stated))
    hashes = sorted({str(e["tx_hash"]) for e in stated})
    txs = dict(zip(hashes, await chain.many("eth_getTransactionByHash", ([h] for h in hashes)), strict=True))
    changes = await status_changes_until(chain, ledger, [str(e["uid"]) for e in stated], as_of)
    names = await _org_names(chain, contracts["consortium"], {int(e["issuer"]) for e in stated})
    for e, receipt in zip(stated, receipts, strict=True):
        where = f"record {e['uid']}"
        try:
            problems = _record_problems(
                e, receipt, txs.get(str(e["tx_hash"])), ledger, pid, int(d["chain_id"]), as_of
            )
        except (KeyError, TypeError, ValueError, PayloadError) as why:
            problems = [f"malformed ({why})"]
        if not problems:
            kind = Kind[str(e["kind"]).upper()]
            status = chain_status(kind, changes.get(str(e["uid"]).lower(), []))
            if status != e["chain_status"]:
                problems.append(
                    f"its status at block {as_of} was {status}, the certificate says {e['chain_status']}"
                )
            elif shown_status(kind, status, e["fields"], day) != e["status"]:
                problems.append(f"its status on the day of block {as_of} reads {shown_status(kind, status, e['fields'], day)}, "
                                f"the certificate says {e['status']}")  # fmt: skip
        if e.get("issuer_name") != names.get(int(e["issuer"])):
            problems.append(f"its issuer {e['issuer']} is {names.get(int(e['issuer']))!r} in the consortium, "
                            f"not {e.get('issuer_name')!r}")  # fmt: skip
        result.problems += [f"{where}: {p}" for p in problems]
    for stage in d["stages"]:
        if any(a["fields"].get("stage") != stage.get("stage") for a in stage["approvals"]):
            result.problems.append(f"stage {stage.get('stage')} lists an approval of another stage")
        computed = stage_status((a["status"], a["fields"].get("decision")) for a in stage["approvals"])
        if computed != stage.get("status"):
            result.problems.append(
                f"stage {stage.get('stage')} is {computed} by its approvals, the certificate says {stage.get('status')}"
            )
    registered = d["project"]["registration"]["fields"]
    for name in ("code", "name", "owner_uscc", "project_type", "region_code", "industry_code"):
        if d["project"].get(name) != registered.get(name):
            result.problems.append(
                f"project.{name} is {d['project'].get(name)!r}, its registration says {registered.get(name)!r}"
            )
    if any(e["chain_status"] not in OPEN_EVENT for e in d["open_events"]):
        result.problems.append("open_events lists an event that was not open")
    await _check_complete(chain, d, ledger, as_of, result)


async def _org_names(chain: ChainReader, consortium: str, orgs: set[int]) -> dict[int, str]:
    """The consortium's name of each organisation."""
    ids = sorted(orgs)
    views = await chain.views(consortium, "organization(uint32)", [word(o) for o in ids])
    return {
        o: str(abi_decode(["(string,string,uint8,bool,uint64)"], v)[0][0])
        for o, v in zip(ids, views, strict=True)
        if v
    }


def _record_problems(
    e: dict[str, Any], receipt: Any, tx: Any, ledger: str, pid: str, chain_id: int, as_of: int
) -> list[str]:
    """One stated record against its RecordAdded log and the transaction that carried it."""
    log = receipt_log(receipt, int(e["log_index"]))
    if log is None or str(log.get("address", "")).lower() != ledger.lower():
        return [f"transaction {e['tx_hash']} has no log {e['log_index']} of the ledger {ledger}"]
    added = record_added.in_receipt(receipt, int(e["log_index"]), ledger)
    if added is None or "0x" + added.uid.hex() != str(e["uid"]).lower():
        return [f"log {e['log_index']} of transaction {e['tx_hash']} is no RecordAdded of this record"]
    problems = []
    checks = [
        ("project", "0x" + added.project.hex(), pid),
        ("issuer", str(int.from_bytes(added.uid[:4], "big")), str(e["issuer"])),  # the uid's namespace
        ("block", str(int(log["blockNumber"], 16)), str(e["block_number"])),
        ("block hash", str(log.get("blockHash", "")).lower(), str(e["block_hash"]).lower()),
    ]
    problems += [f"its {name} on chain is {chain}, the certificate says {stated}" for name, chain, stated in checks
                 if chain != stated]  # fmt: skip
    if int(e["block_number"]) > as_of:
        problems.append(f"block {e['block_number']} is after the certificate's block {as_of}")
    copies = carried_by_uid(tx) if isinstance(tx, dict) else None
    found, why = (None, "is not a submit call") if copies is None else record_added.accepted_copy(
        copies, added.uid, added)  # fmt: skip
    if found is None:
        return [*problems, f"transaction {e['tx_hash']} {why}"]
    record = found[0]
    record_hash = "0x" + _sealer(chain_id, ledger).digest(record).hex()
    if record_hash != str(e["record_hash"]).lower():
        problems.append(f"its record hash on chain is {record_hash}, the certificate says {e['record_hash']}")
    if record.kind.name.lower() != e["kind"]:
        problems.append(f"it is a {record.kind.name.lower()} on chain, the certificate says {e['kind']}")
        return problems
    fields = statement_fields(record.kind, record.payload)
    differ = sorted(k for k in fields.keys() | e["fields"].keys() if fields.get(k) != e["fields"].get(k))
    if differ:
        problems.append(
            "its "
            + ", ".join(f"{k} is {fields.get(k)!r} on chain, not {e['fields'].get(k)!r}" for k in differ)
        )
    return problems


@functools.cache
def _sealer(chain_id: int, ledger: str) -> Sealer:
    """The EIP-712 hashing of one ledger's records (the record hash a certificate states)."""
    return Sealer(chain_id, ledger)


async def _check_complete(
    chain: ChainReader, d: dict[str, Any], ledger: str, as_of: int, result: CertificateCheck
) -> None:
    """Every approval, commitment and then-open event of the project up to the block is on the certificate."""
    start = int(d["project"]["registration"]["block_number"])
    logs = await chain.logs(ledger, [record_added.topics(), None, d["project"]["project_id"]], start, as_of)
    listed = {str(e["uid"]).lower() for e in entries(d)}
    unlisted = [(str(lg["topics"][1]).lower(), int(lg["blockNumber"], 16)) for lg in logs]
    unlisted = [(uid, block) for uid, block in unlisted if uid not in listed]
    if not unlisted:
        return
    views = await chain.views(ledger, "entry(bytes32)", [uid for uid, _ in unlisted])
    kinds = {
        uid: abi_decode([_ENTRY], v)[0][0] if v else 0 for (uid, _), v in zip(unlisted, views, strict=True)
    }
    events = [uid for uid, _ in unlisted if kinds[uid] == Kind.EVENT]
    changes = await status_changes_until(chain, ledger, events, as_of) if events else {}
    for uid, block in unlisted:
        kind = kinds[uid]
        left_out = kind in (Kind.APPROVAL, Kind.COMMITMENT) or (
            kind == Kind.EVENT and chain_status(Kind.EVENT, changes.get(uid, [])) in OPEN_EVENT
        )
        if left_out:
            result.problems.append(
                f"the certificate leaves out {Kind(kind).name.lower()} {uid} (block {block}), on chain by its block"
            )


async def _check_grade(chain: ChainReader, d: dict[str, Any], ledger: str, result: CertificateCheck) -> None:
    """The grade is the issuer's sealed statement under its rules version; the records it cites must exist."""
    grade = (d.get("owner") or {}).get("grade")
    if not isinstance(grade, dict):
        return
    cited = sorted({str(u) for c in grade.get("causes", []) for u in c.get("facts", [])})
    views = await chain.views(ledger, "entry(bytes32)", cited) if cited else []
    for uid, v in zip(cited, views, strict=True):
        if v is None or abi_decode([_ENTRY], v)[0][0] == 0:
            result.problems.append(f"the grade cites record {uid}, which the ledger does not hold")
    result.notes.append(
        f"owner grade {grade.get('grade')} under credit rules version {grade.get('rules_version')} "
        f"({grade.get('basis')} basis) is the issuer's sealed statement; the {len(cited)} records it cites are on chain"
    )


# -- the command -----------------------------------------------------------------------------
def later_line(later: LaterRecord) -> str:
    """``a serious event 0x… was recorded at block M after the certificate``."""
    severity = f"{later.severity} " if later.severity else ""
    return f"a {severity}{later.kind} {later.uid} was recorded at block {later.block} after the certificate"


def verify_certificate_cli(
    path: str,
    rpc_url: str,
    deployment: str | None = None,
    ledger: str | None = None,
    consortium: str | None = None,
) -> int:
    """``projchain verify-certificate``: findings and a verdict; the exit status is VERDICT_EXIT's."""
    try:
        document = read_certificate(Path(path))
    except OSError as e:
        print(f"cannot read {path}: {e.strerror}", file=sys.stderr)
        return 2
    except ValueError as e:
        document = None
        unreadable = str(e)
    try:
        pin = load_pin(deployment, ledger, consortium)
    except ValidationError as e:
        print(f"unusable pin: {e.detail}", file=sys.stderr)
        return 2
    if document is None:
        print(f"INVALID: {path} holds no readable certificate ({unreadable}): damaged or altered")
        return VERDICT_EXIT["INVALID"]
    try:
        result = verify_certificate(document, rpc_url, pin=pin)
    except ChainError as e:
        print(f"cannot check against the chain: {e.detail}", file=sys.stderr)
        return 2
    _report(document, result)
    return result.exit_code


def _report(d: Any, result: CertificateCheck) -> None:
    if isinstance(d, dict) and isinstance(d.get("project"), dict):
        print(f"verification certificate {d.get('id')} of project {d['project'].get('code')}, issued by "
              f"{(d.get('issuer') or {}).get('name')}, as of block {(d.get('as_of') or {}).get('block_number')}")  # fmt: skip
    for p in result.problems:
        print(f"FAIL {p}")
    for n in result.notes:
        print(f"NOTE {n}")
    for r in result.later:
        print(f"LATER {later_line(r)} (transaction {r.tx_hash})")
    verdict = result.verdict
    as_of = int(d["as_of"]["block_number"]) if verdict != "INVALID" else 0
    if verdict == "INVALID":
        print(f"INVALID: {len(result.problems)} problem(s) above: the certificate is forged or altered, "
              "or does not state what the chain holds")  # fmt: skip
    elif verdict == "UNPINNED":
        print(f"UNPINNED: the seal and {result.records} records check out against the contracts the certificate "
              f"names, which nothing pinned: not verified; rerun with {PIN_FLAGS}")  # fmt: skip
    elif verdict == "STALE":
        print(f"STALE: valid as of block {as_of}, no longer current: {later_line(result.later[0])}; "
              f"{stale_line(result.later, as_of, 'certificate')}; ask for a new certificate")  # fmt: skip
    else:
        print(f"VALID: sealed by {d['issuer'].get('name')} ({d['seal']['sealer']}), {result.records} records "
              f"match the chain as of block {as_of}, and nothing was recorded on the project since "
              f"(chain head {result.head})")  # fmt: skip
