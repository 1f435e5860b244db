"""Verification certificates (项目核验凭证 / 信用核查报告): issued to an organisation that may read the project.

A bank asks its node for a certificate on a project: the node reads its index as of the last
block it indexed, states the project's approvals per stage, its open abnormal events and its
commitments with each record's chain reference (and the owner's grade, when the node grades
owners), seals the statement with the organisation's seal key (EIP-712), renders the PDF with
the sealed JSON inside, logs the issuance in the access log and keeps both by id for the public
page. Issuing needs what reading the project needs (``Access.require_project``, one rule). The
format and its statements live in ``node_api.verify.certificate``; docs/verification-certificate.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount

from node_api.chain.contracts import Deployment
from node_api.domain.credit import Grade
from node_api.domain.links import certificate_url
from node_api.domain.records import SEVERITIES, STAGES, Kind, PayloadError, decode_payload
from node_api.errors import ConflictError, NotFoundError
from node_api.ledger.access import Access
from node_api.ledger.certificates import CertificateFont
from node_api.ledger.membership import Membership, Organization
from node_api.ledger.reader import Reader
from node_api.ledger.verification_pdf import render_verification_certificate
from node_api.store.certificates import CertificateRow, CertificateTable
from node_api.store.index import IndexTable
from node_api.verify.certificate import (
    FORMAT,
    ID_PATTERN,
    OPEN_EVENT,
    STATED_KINDS,
    VERSION,
    beijing_day,
    chain_status,
    entries,
    seal,
    seal_signer,
    shown_status,
    stage_status,
    statement_fields,
)
from node_api.verify.trust import LaterRecord


@dataclass(frozen=True)
class OwnerGrade:
    """The owner's grade as a certificate states it."""

    grade: str  # A (best) … D
    rules_version: int
    basis: str  # which facts it was computed over: full | granted | public
    causes: list[dict[str, Any]]  # each {"rule", "grade", "facts": [record uids]}, worst first


class OwnerGrader(Protocol):
    """The owner's grade as ``viewer`` may see it at block ``as_of`` (over the facts it may see)."""

    def __call__(self, viewer: Organization, owner_uscc: str, as_of: int) -> Awaitable[OwnerGrade]: ...


class _ProfileGrade(Protocol):
    """``Profiles.grade`` (ledger/profiles.py): the owner's grade as of a block, scoped to the viewer."""

    def __call__(
        self, uscc: str, *, as_of_block: int | None = None, viewer: Organization | None = None
    ) -> Awaitable[Grade]: ...


def profile_grader(grade: _ProfileGrade) -> OwnerGrader:
    """The certificate's grader from the credit profile's grade (docs/credit.md): the same rules, block and scope."""

    async def graded(viewer: Organization, owner_uscc: str, as_of: int) -> OwnerGrade:
        g = await grade(owner_uscc, as_of_block=as_of, viewer=viewer)
        causes = [{"rule": c.rule, "grade": c.grade, "facts": list(c.facts)} for c in g.causes]
        return OwnerGrade(g.letter, g.rules_version, g.basis, causes)

    return graded


@dataclass(frozen=True)
class Standing:
    """Whether an issued certificate still holds, as this node's index sees the chain now."""

    row: CertificateRow
    document: dict[str, Any]
    verdict: str  # current | stale | invalid
    later: list[LaterRecord] = field(default_factory=list)  # records of the project after as_of, worst first
    problems: list[str] = field(default_factory=list)
    indexed_block: int = 0


class VerificationCertificates:
    """Issues, keeps and re-checks verification certificates."""

    def __init__(
        self,
        reader: Reader,
        access: Access,
        membership: Membership,
        index: IndexTable,
        table: CertificateTable,
        deployment: Deployment,
        checkpoint: Callable[[], tuple[int, str | None]],
        seal_key: Callable[[Organization], Awaitable[LocalAccount]],
        base_url: str,
        font: CertificateFont,
        grader: OwnerGrader | None = None,
    ) -> None:
        self.reader = reader
        self.access = access
        self.membership = membership
        self.index = index
        self.table = table
        self.deployment = deployment
        self.checkpoint = checkpoint
        self.seal_key = seal_key
        self.base_url = base_url
        self.font = font
        self.grader = grader

    # -- issuing ---------------------------------------------------------------------------------
    async def issue(self, org: Organization, code: str) -> CertificateRow:
        """A new sealed certificate on ``code`` for ``org`` (403 without the grant reading it needs)."""
        pid = self.reader.project_id(code)
        if pid is None:
            raise NotFoundError(f"project {code} is not registered")
        basis = self.access.require_project(org, pid, code)
        key = await self.seal_key(org)
        if not self.membership.active_seal_key(org.id, key.address):
            raise ConflictError(
                f"the seal key {key.address} this node holds is not an active seal key of {org.name}"
            )
        document = seal(await self.statement(org, code, pid), key)
        text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        row = CertificateRow(
            document["id"], org.id, pid, code, document["as_of"]["block_number"], text, time.time()
        )
        await self.access.log(org, "certificate.issue", row.id, code, basis)
        self.table.add(row)
        return row

    async def statement(self, org: Organization, code: str, pid: str) -> dict[str, Any]:
        """The unsealed certificate: the project as of the last block this node indexed."""
        as_of, block_hash = self.checkpoint()
        timestamp = self.index.block_timestamp(block_hash) if block_hash else None
        if block_hash is None or timestamp is None:
            raise ConflictError("the node has not indexed a block yet; try again shortly")
        day = beijing_day(timestamp)
        stated = [self._entry(r, as_of, day) for r in self.reader.canonical_rows(pid)
                  if int(r["block_number"]) <= as_of and int(r["kind"]) in STATED_KINDS and r["problem"] is None]  # fmt: skip
        registration = next((e for e in stated if e["kind"] == "project" and e["ref"] is None), None)
        if registration is None:
            raise NotFoundError(f"project {code} is not registered as of block {as_of}")
        p = registration["fields"]
        approvals = [e for e in stated if e["kind"] == "approval"]
        certificate_id = "vc-" + secrets.token_hex(16)
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "id": certificate_id,
            "issued_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "issuer": {"org_id": org.id, "name": org.name, "uscc": org.uscc},
            "chain_id": self.deployment.chain_id,
            "contracts": {"consortium": self.deployment.consortium, "ledger": self.deployment.ledger},
            "as_of": {
                "block_number": as_of,
                "block_hash": block_hash,
                "block_time": dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(),
            },
            "project": {
                "code": p["code"],
                "project_id": pid,
                "name": p["name"],
                "owner_uscc": p["owner_uscc"],
                "project_type": p["project_type"],
                "region_code": p["region_code"],
                "industry_code": p["industry_code"],
                "registration": registration,
            },
            "stages": [
                {
                    "stage": n,
                    "name": name,
                    "status": stage_status((a["status"], a["fields"]["decision"]) for a in of_stage),
                    "approvals": of_stage,
                }
                for n, name in STAGES.items()
                for of_stage in [[a for a in approvals if a["fields"]["stage"] == n]]
            ],
            "open_events": [e for e in stated if e["kind"] == "event" and e["chain_status"] in OPEN_EVENT],
            "commitments": [e for e in stated if e["kind"] == "commitment"],
            "verify_url": certificate_url(self.base_url, certificate_id),
        }
        if self.grader is not None:
            grade = await self.grader(org, str(p["owner_uscc"]), as_of)
            document["owner"] = {"uscc": p["owner_uscc"], "grade": {
                "grade": grade.grade, "rules_version": grade.rules_version, "basis": grade.basis,
                "causes": grade.causes}}  # fmt: skip
        return document

    def _entry(self, row: Any, as_of: int, day: dt.date) -> dict[str, Any]:
        kind = int(row["kind"])
        fields = statement_fields(kind, bytes(row["payload"]))
        changes = [int(c["status"]) for c in self.index.status_changes(str(row["uid"]))
                   if int(c["block_number"]) <= as_of]  # fmt: skip
        status = chain_status(kind, changes)
        issuer = self.membership.get(int(row["issuer"]))
        return {
            "uid": row["uid"],
            "kind": Kind(kind).name.lower(),
            "ref": None if int(row["ref"], 16) == 0 else row["ref"],
            "issuer": int(row["issuer"]),
            "issuer_name": issuer.name if issuer else None,
            "block_number": int(row["block_number"]),
            "block_hash": row["block_hash"],
            "tx_hash": row["tx_hash"],
            "log_index": int(row["log_index"]),
            "record_hash": row["record_hash"],
            "chain_status": status,
            "status": shown_status(kind, status, fields, day),
            "fields": fields,
        }

    # -- reading ---------------------------------------------------------------------------------
    def stored(self, certificate_id: str) -> CertificateRow:
        """A certificate this node issued (404 otherwise, and for a malformed id)."""
        row = self.table.get(certificate_id) if ID_PATTERN.match(certificate_id) else None
        if row is None:
            raise NotFoundError(f"no certificate {certificate_id[:40]!r} was issued by this node")
        return row

    async def read(self, org: Organization, certificate_id: str) -> CertificateRow:
        """A stored certificate for ``org``: the reader needs the grant reading its project needs; logged."""
        row = self.stored(certificate_id)
        basis = self.access.require_project(org, row.project, row.project_code)
        await self.access.log(org, "certificate.read", row.id, row.project_code, basis)
        return row

    async def pdf(self, org: Organization, certificate_id: str) -> tuple[CertificateRow, bytes]:
        """A stored certificate's PDF for ``org`` (as ``read``), rendered from its sealed JSON the first time.

        Rendering is deterministic (the PDF's dates are the certificate's), so rendering on first
        request gives the bytes rendering at issue would have.
        """
        row = await self.read(org, certificate_id)
        pdf = self.table.pdf(row.id)
        if pdf is None:
            pdf = await asyncio.to_thread(
                render_verification_certificate, json.loads(row.document), row.document, self.font
            )
            self.table.add_pdf(row.id, pdf)
        return row, pdf

    def standing(self, certificate_id: str) -> Standing:
        """Whether a certificate this node issued still holds: its seal, its records still where it
        says on the canonical chain, and no record of the project after its block (else stale)."""
        row = self.stored(certificate_id)
        document: dict[str, Any] = json.loads(row.document)
        problems: list[str] = []
        try:
            if seal_signer(document).lower() != str(document["seal"]["sealer"]).lower():
                problems.append("the seal does not match the stored content")
        except (ValueError, KeyError) as why:
            problems.append(f"the seal cannot be checked: {why}")
        for entry in entries(document):
            found = self.reader.chain_row(str(entry["uid"]))
            if found is None or str(found["block_hash"]).lower() != str(entry["block_hash"]).lower():
                problems.append(
                    f"record {entry['uid']} is no longer in block {entry['block_number']} of the chain"
                )
        indexed, _ = self.checkpoint()
        later = self._later(row.project, row.as_of_block)
        verdict = "invalid" if problems else ("stale" if later else "current")
        return Standing(row, document, verdict, later, problems, indexed)

    def _later(self, project: str, as_of: int) -> list[LaterRecord]:
        severities = {v: k for k, v in SEVERITIES.items()}
        out: list[LaterRecord] = []
        for r in self.reader.canonical_rows(project):
            if int(r["block_number"]) <= as_of:
                continue
            kind, severity = int(r["kind"]), None
            if kind == Kind.EVENT:
                try:
                    severity = severities.get(int(decode_payload(kind, bytes(r["payload"]))["severity"]))
                except PayloadError:
                    severity = None
            out.append(LaterRecord(str(r["uid"]), self.reader.kind_name(kind), int(r["block_number"]),
                                   str(r["tx_hash"]), severity))  # fmt: skip
        return sorted(out, key=lambda r: (r.weight, r.block))
