"""秒批秒办 filing: one request checks an owner's 备案, allocates its code, registers it, records the filing
approval and the project's 一张清单, waits for the chain and renders the 备案证 (docs/filings.md).

The order is what keeps a code unique and a filing whole: nothing is written before every check
passed; the registration goes first and alone, so that a code another node registered in the
meantime (LedgerProjectExists) is retried with a fresh one before any approval could land on
that other project; then the filing approval and the checklist go together.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from node_api.domain.catalogue import ITEM_COMMITMENT_NAMES, ItemVersion, item_key, item_ref
from node_api.domain.filing import (
    DEFAULT_TYPE_CODE,
    RandomDigits,
    beijing_today,
    check_industry,
    check_region,
    checklist_items,
    new_code,
    parts,
    random_digits,
)
from node_api.domain.records import DECISIONS, PROJECT_TYPES, STAGES, Kind, Status, decode_payload
from node_api.errors import ConflictError, ForbiddenError, NotFoundError, ProjchainError
from node_api.ledger.catalogue import Catalogue
from node_api.ledger.certificates import (
    CertificateFont,
    ChainReference,
    FilingCertificate,
    render_filing_certificate,
)
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.membership import Membership, Organization
from node_api.ledger.reader import Reader
from node_api.ledger.writer import Accepted, Writer
from node_api.store.filings import FilingRow, FilingTable
from node_api.store.outbox import OutboxState

log = logging.getLogger("projchain.filings")

MAX_CODE_ATTEMPTS = 5  # fresh codes tried when the ledger says the code is taken
# A filing that claimed an Idempotency-Key this long ago and never ended died with its process (a
# filing waits at most MAX_CODE_ATTEMPTS + 1 confirmation timeouts, 180 s by default): the key is free.
CLAIM_STALE = 600.0
_GRANTED = {DECISIONS["approved"], DECISIONS["approved_on_commitment"]}


class FilingFailedError(ProjchainError):
    """A filing whose records the chain refused or did not confirm in time (502 ``filing_failed``)."""

    code = "filing_failed"
    status = 502


@dataclass(frozen=True)
class FilingFacts:
    """What an owner files (the API body, checked for shape by its schema)."""

    name: str
    owner_uscc: str
    owner_name: str
    region_code: str
    industry_code: str
    total_investment_fen: int
    construction_content: str
    pledge_digest: bytes  # SHA-256 of the owner's 承诺书 (docs/commitment-letter.schema.json)
    type_code: str = DEFAULT_TYPE_CODE


@dataclass(frozen=True)
class Filed:
    """A filing confirmed on chain."""

    code: str
    registration: dict[str, Any]
    acceptance: dict[str, Any]
    filing: dict[str, Any]
    checklist: list[dict[str, Any]]
    attempts: int


class Filings:
    """The filing service and the checklist's read side."""

    def __init__(
        self,
        writer: Writer,
        catalogue: Catalogue,
        confirmations: Confirmations,
        reader: Reader,
        membership: Membership,
        table: FilingTable,
        filing_item: str,
        chain_id: int,
        ledger_address: str,
        base_url: str,
        font: CertificateFont,
        rand: RandomDigits = random_digits,
    ) -> None:
        self.writer = writer
        self.catalogue = catalogue
        self.confirmations = confirmations
        self.reader = reader
        self.membership = membership
        self.table = table
        self.filing_item = filing_item
        self.chain_id = chain_id
        self.ledger_address = ledger_address
        self.base_url = base_url
        self.font = font
        self.rand = rand  # the allocator's random source (a test forces a collision through it)

    # -- filing ------------------------------------------------------------------------------
    def check(self, org: Organization, facts: FilingFacts) -> tuple[ItemVersion, list[ItemVersion]]:
        """Every check before anything is written: the filing item and its department, the facts."""
        check_region(facts.region_code)
        check_industry(facts.industry_code)
        item = self.catalogue.current(self.filing_item)
        if item is None or item.retired:
            raise ConflictError(f"the filing item {self.filing_item} is not in force in the catalogue")
        if item.department != org.id:
            department = self.membership.get(item.department)
            raise ForbiddenError(
                f"{org.name} is not the filing authority: {self.filing_item} ({item.name}) is decided by "
                f"{department.name if department else f'organisation {item.department}'}"
            )
        return item, checklist_items(self.catalogue.in_force(), self.filing_item)

    async def file_once(
        self, org: Organization, facts: FilingFacts, key: str | None, fingerprint: str
    ) -> tuple[Filed, bool]:
        """``file`` under an Idempotency-Key: (the filing, whether it is a replay of an earlier one).

        The same key with the same request answers the first filing's facts again (nothing new is
        written); while that filing runs it is 409; after it failed, the key may be used again. The
        same key with another request is 409. Without a key every request files anew.
        """
        if key is None:
            return await self.file(org, facts), False
        now = time.time()
        held = self.table.claim(org.id, key, fingerprint, now, now - CLAIM_STALE)
        if held is not None:
            if held["fingerprint"] != fingerprint:
                raise ConflictError("this Idempotency-Key was used for a different filing request")
            if held["answer"] is None:
                raise ConflictError(
                    "a filing with this Idempotency-Key is still in progress; ask again once it has finished"
                )
            return Filed(**json.loads(held["answer"])), True
        try:
            filed = await self.file(org, facts)
        except BaseException as e:
            self.table.settle(org.id, key, None, type(e).__name__)
            raise
        self.table.settle(org.id, key, json.dumps(dataclasses.asdict(filed), ensure_ascii=False), None)
        return filed, False

    async def file(self, org: Organization, facts: FilingFacts) -> Filed:
        """Files a project: checks, code, registration, filing approval, checklist, 备案证 (module doc)."""
        submitted = time.time()  # the 受理 instant: 秒批 is measured from it (docs/filings.md)
        item, checklist = self.check(org, facts)
        today = beijing_today(submitted)
        # Each filing's records have uids of their own, even where two filings say the same thing.
        nonce = secrets.token_hex(16)
        code, registration, attempts = await self._register(org, facts, today, nonce)
        acceptance = await self.writer.write(
            org, Kind.ACCEPTANCE, code,
            {"item": item.code, "item_version": item.version, "accepted_at": int(submitted), "note": "秒批秒办备案"},
            idempotency_key=f"filing/{nonce}/acceptance",
        )  # fmt: skip
        filing = await self.writer.write(
            org, Kind.APPROVAL, code,
            {"stage": item.stage, "decision": DECISIONS["approved"], "item": item.code, "item_version": item.version,
             "document_no": f"备案 {code}", "issued_at": _epoch(today), "valid_until": 0,
             "note": "秒批秒办备案：项目单位信用承诺书的摘要为本记录的 digest"},
            digest=facts.pledge_digest, idempotency_key=f"filing/{nonce}/approval",
        )  # fmt: skip
        lists = [
            await self.writer.write(
                org,
                Kind.CHECKLIST,
                code,
                _checklist_fields(part, n, len(chunks)),
                idempotency_key=f"filing/{nonce}/checklist/{n}",
            )
            for chunks in [parts(checklist)]
            for n, part in enumerate(chunks, start=1)
            if part
        ]
        await self._confirmed([acceptance, filing, *lists])
        refs = {a.uid: self._reference(a.uid) for a in (registration, acceptance, filing, *lists)}
        certificate = FilingCertificate(
            project_code=code, project_name=facts.name, owner_name=facts.owner_name, owner_uscc=facts.owner_uscc,
            region_code=facts.region_code, total_investment_fen=facts.total_investment_fen,
            filing_authority=org.name, filed_on=today, chain_id=self.chain_id, ledger_address=self.ledger_address,
            registration=refs[registration.uid], filing=refs[filing.uid], base_url=self.base_url,
        )  # fmt: skip
        pdf = await asyncio.to_thread(render_filing_certificate, certificate, self.font)
        self.table.add(
            FilingRow(code, org.id, facts.owner_name, registration.uid, filing.uid, [a.uid for a in lists], pdf,
                      time.time())
        )  # fmt: skip
        return Filed(
            code=code,
            registration=_view(refs[registration.uid]),
            acceptance=_view(refs[acceptance.uid]),
            filing=_view(refs[filing.uid]),
            checklist=[_view(refs[a.uid]) for a in lists],
            attempts=attempts,
        )

    async def _register(
        self, org: Organization, facts: FilingFacts, today: dt.date, nonce: str
    ) -> tuple[str, Accepted, int]:
        """Registers the project under a fresh code; a code the ledger says is taken is retried."""
        for attempt in range(1, MAX_CODE_ATTEMPTS + 1):
            code = new_code(facts.region_code, today, facts.type_code, self.rand)
            if self.reader.project_id(code) is not None:
                log.info("filing: code %s is taken here already, drawing another", code)
                continue
            fields = {
                "code": code, "name": facts.name, "owner_uscc": facts.owner_uscc,
                "project_type": PROJECT_TYPES["filing"], "region_code": facts.region_code,
                "industry_code": facts.industry_code, "total_investment_fen": facts.total_investment_fen,
                "note": facts.construction_content,
            }  # fmt: skip
            try:
                accepted = await self.writer.write(
                    org, Kind.PROJECT, code, fields, idempotency_key=f"filing/{nonce}/project/{attempt}"
                )
            except ConflictError:  # pending here already (another request drew the same code)
                continue
            state = await self.confirmations.wait_for(accepted.uid, self.confirmations.wait_timeout)
            if state == OutboxState.CONFIRMED:
                return code, accepted, attempt
            error = self.confirmations.outbox.error(accepted.uid) or state
            if "LedgerProjectExists" not in error:
                raise FilingFailedError(
                    f"the registration of {code} was not confirmed: {error}; nothing was filed"
                )
            log.info("filing: code %s was registered by someone else first, drawing another", code)
        raise FilingFailedError(f"no free project code after {MAX_CODE_ATTEMPTS} attempts; nothing was filed")

    async def _confirmed(self, accepted: list[Accepted]) -> None:
        states = await self.confirmations.wait_for_many(
            [a.uid for a in accepted], self.confirmations.wait_timeout
        )
        bad = {uid: states.get(uid, "pending") for uid in (a.uid for a in accepted)}
        bad = {uid: s for uid, s in bad.items() if s != OutboxState.CONFIRMED}
        if bad:
            errors = "; ".join(
                f"{uid}: {self.confirmations.outbox.error(uid) or s}" for uid, s in bad.items()
            )
            raise FilingFailedError(
                f"the project is registered but its filing records were not confirmed: {errors}"
            )

    def _reference(self, uid: str) -> ChainReference:
        row = self.reader.chain_row(uid)
        if row is None:
            raise FilingFailedError(f"record {uid} is confirmed but not in the index")
        return ChainReference(uid=uid, tx_hash=str(row["tx_hash"]), block_number=int(row["block_number"]))

    def certificate(self, code: str) -> FilingRow:
        """The filing of ``code`` made through this node (404 otherwise)."""
        row = self.table.get(code)
        if row is None:
            raise NotFoundError(f"no filing of {code} was made through this node")
        return row

    # -- the checklist (read side) -------------------------------------------------------------
    def checklist(self, code: str) -> dict[str, Any]:
        """The project's 一张清单 (its live checklist records) with each item done or pending.

        Derived at read time: an item is done when a live (active) approval of the project names it
        with a granting decision (approved, approved_on_commitment); the earliest such approval ticks it.
        """
        pid = self.reader.project_id(code)
        if pid is None:
            raise NotFoundError(f"project {code} is not registered")
        rows = self.reader.canonical_rows(pid)
        ticks: dict[str, str] = {}
        lists: list[tuple[str, dict[str, Any]]] = []
        for r in rows:
            kind, uid = int(r["kind"]), str(r["uid"])
            if kind not in (Kind.APPROVAL, Kind.CHECKLIST) or r["problem"] is not None:
                continue
            if self.reader.status(uid, kind) != Status.ACTIVE:
                continue
            fields = decode_payload(kind, bytes(r["payload"]))
            if kind == Kind.CHECKLIST:
                lists.append((uid, fields))
            elif int(fields["decision"]) in _GRANTED and (key := item_ref(fields)) is not None:
                ticks.setdefault(key, uid)  # an item whose code is not a text ticks nothing it would read as
        items = []
        for uid, fields in lists:
            for key, version in zip(fields["items"], fields["versions"], strict=True):
                items.append(self._item_view(key, int(version, 16), uid, ticks.get(key)))
        items.sort(key=lambda i: (i["stage"] or 0, i["code"]))
        done = sum(1 for i in items if i["status"] == "done")
        return {"code": code, "records": [uid for uid, _ in lists], "items": items,
                "done": done, "pending": len(items) - done}  # fmt: skip

    def _item_view(self, key: str, version: int, record: str, approval: str | None) -> dict[str, Any]:
        code = self.catalogue.code_of(key)
        item = None if code is None else self.catalogue.version(code, version)
        department = None if item is None else self.membership.get(item.department)
        return {
            "code": code or key,
            "version": version,
            "name": None if item is None else item.name,
            "stage": None if item is None else item.stage,
            "stage_name": None if item is None else STAGES.get(item.stage, ""),
            "department": None if item is None else {"id": item.department,
                                                      "name": department.name if department else None},
            "time_limit_days": None if item is None else item.time_limit_days,
            "on_the_spot": None if item is None else item.on_the_spot,
            "commitment": None if item is None else ITEM_COMMITMENT_NAMES.get(item.commitment),
            "status": "pending" if approval is None else "done",
            "approval": approval,
            "checklist_record": record,
        }  # fmt: skip


def _checklist_fields(items: list[ItemVersion], part: int, count: int) -> dict[str, Any]:
    return {
        "part": part,
        "parts": count,
        "items": [item_key(it.code) for it in items],
        "versions": [it.version.to_bytes(32, "big") for it in items],
    }


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _view(ref: ChainReference) -> dict[str, Any]:
    return {"uid": ref.uid, "tx_hash": ref.tx_hash, "block_number": ref.block_number}
