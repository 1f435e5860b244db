"""API bodies to record payloads: the one mapping every write route uses (single, batch, correction)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from node_api.api.schemas import (
    AcceptanceIn,
    ApprovalIn,
    CatalogueItemIn,
    CommitmentIn,
    EventIn,
    FilingIn,
    ProjectIn,
    SealIn,
)
from node_api.domain.catalogue import BOUND_COMMITMENT_TYPE, ItemVersion, item_key
from node_api.domain.records import (
    CATALOGUE_LISTS,
    COMMITMENT_TYPES,
    DECISIONS,
    ITEM_COMMITMENTS,
    PROJECT_TYPES,
    PUBLISH_WINDOW_DAYS,
    SEVERITIES,
    ZERO32,
    Kind,
)
from node_api.ledger.filings import FilingFacts
from node_api.ledger.writer import Attachment, PreSeal

RecordBody = ProjectIn | ApprovalIn | EventIn | CommitmentIn


def epoch(day: dt.date | None) -> int:
    """A date as unix seconds at 00:00 UTC (0 for none)."""
    if day is None:
        return 0
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def preseal(seal: SealIn | None) -> PreSeal | None:
    """API seal object to the writer's."""
    if seal is None:
        return None
    return PreSeal(
        uid=bytes.fromhex(seal.uid[2:]),
        seal=bytes.fromhex(seal.signature.removeprefix("0x")),
        salt=None if seal.salt is None else bytes.fromhex(seal.salt[2:]),
    )


def _digest(hex_digest: str) -> bytes:
    return bytes.fromhex(hex_digest[2:])


def record_payload(body: RecordBody, note: str = "") -> tuple[Kind, dict[str, Any], bytes]:
    """(kind, payload fields, digest) of a project registration, 批复, abnormal event or commitment.

    ``note`` is the reason a correction (``/supersede``) gives; new records carry none.
    """
    if isinstance(body, ProjectIn):
        fields = {
            "code": body.code,
            "name": body.name,
            "owner_uscc": body.owner_uscc,
            "project_type": PROJECT_TYPES[body.project_type],
            "region_code": body.region_code,
            "industry_code": body.industry_code,
            "total_investment_fen": int(body.total_investment * 100),
            "note": note,
        }
        return Kind.PROJECT, fields, ZERO32
    if isinstance(body, ApprovalIn):
        fields = {
            "stage": body.stage,
            "decision": DECISIONS[body.decision],
            "item": body.item,
            "item_version": body.item_version,  # None: the writer fills in the version in force
            "document_no": body.document_no,
            "issued_at": epoch(body.issued_at),
            "valid_until": epoch(body.valid_until),
            "note": note,
        }
        return Kind.APPROVAL, fields, _digest(body.document_digest)
    if isinstance(body, EventIn):
        # 公示截止期 follows from the severity.
        severity = SEVERITIES[body.severity]
        publish_until = body.occurred_at + dt.timedelta(days=PUBLISH_WINDOW_DAYS[severity])
        fields = {
            "severity": severity,
            "category": body.category,
            "occurred_at": epoch(body.occurred_at),
            "publish_until": epoch(publish_until),
            "evidence": [_digest(d) for d in body.evidence_digests],
            "note": note,
        }
        return Kind.EVENT, fields, _digest(body.description_digest)
    fields = {
        "commitment_type": COMMITMENT_TYPES[body.commitment_type],
        "approval": ZERO32,  # free-standing; an approval's own commitment comes with it (attachment)
        "due_at": epoch(body.due_date),
        "summary": body.summary,
        "missing": [],
        "note": note,
    }
    return Kind.COMMITMENT, fields, _digest(body.content_digest)


def acceptance_payload(body: AcceptanceIn) -> tuple[Kind, dict[str, Any], bytes]:
    """(kind, payload fields, digest) of a 受理: the item, its version (None: the writer fills it in), the time."""
    fields = {
        "item": body.item,
        "item_version": body.item_version,
        "accepted_at": int(body.accepted_at.timestamp()),
        "note": body.note,
    }
    return Kind.ACCEPTANCE, fields, _digest(body.application_digest) if body.application_digest else ZERO32


def attachment(body: RecordBody, note: str = "") -> Attachment | None:
    """The commitment record an approval on commitment / with deficiencies carries (None otherwise).

    Its type follows from the decision (审批替代型 / 容缺受理型); the writer binds it to the
    approval's uid. ``note`` as for ``record_payload``.
    """
    if not isinstance(body, ApprovalIn) or body.commitment is None:
        return None
    c = body.commitment
    fields = {
        "commitment_type": BOUND_COMMITMENT_TYPE[DECISIONS[body.decision]],
        "due_at": epoch(c.due_date),
        "summary": c.summary,
        "missing": list(c.missing),
        "note": note,
    }
    return Attachment(fields=fields, digest=_digest(c.pledge_digest), preseal=preseal(c.seal))


def catalogue_item(body: CatalogueItemIn) -> ItemVersion:
    """A catalogue item body as the item's next version (its number, 0 here, is the writer's to fill)."""
    return ItemVersion(
        code=body.code,
        version=0,
        name=body.name,
        stage=body.stage,
        list=CATALOGUE_LISTS[body.list],
        department=body.department,
        time_limit_days=body.time_limit_days,
        on_the_spot=body.on_the_spot,
        commitment=ITEM_COMMITMENTS[body.commitment],
        retired=body.retired,
        depends_on=tuple("0x" + item_key(code).hex() for code in body.depends_on),
        guide=body.guide_digest,
    )


def filing_facts(body: FilingIn) -> FilingFacts:
    """A filing body as the facts the filing service checks and records."""
    return FilingFacts(
        name=body.name,
        owner_uscc=body.owner_uscc,
        owner_name=body.owner_name,
        region_code=body.region_code,
        industry_code=body.industry_code,
        total_investment_fen=int(body.total_investment * 100),
        construction_content=body.construction_content,
        pledge_digest=_digest(body.pledge_digest),
        type_code=body.project_type_code,
    )
