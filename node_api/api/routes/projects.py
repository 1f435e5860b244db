"""Projects: registration, summary, history, and the records filed under a project."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response

from node_api.api.deps import CurrentOrg, NodeDep, OptionalOrg
from node_api.api.openings import fetch_project_openings
from node_api.api.responses import accepted
from node_api.api.schemas import Accepted, ApprovalIn, CommitmentIn, ErrorOut, EventIn, ProjectIn, SealIn
from node_api.domain.project_code import parse_project_code
from node_api.domain.records import (
    COMMITMENT_TYPES,
    DECISIONS,
    PROJECT_TYPES,
    PUBLISH_WINDOW_DAYS,
    SEVERITIES,
    Kind,
)
from node_api.errors import NotFoundError
from node_api.ledger.writer import PreSeal

router = APIRouter(prefix="/v1/projects", tags=["projects"])

CodePath = Annotated[str, Path(description="project code, e.g. 2026-620825-44-01-000123")]
Wait = Annotated[bool, Query(description="answer once the record is confirmed on chain")]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
ERRORS: dict[int | str, dict[str, Any]] = {
    c: {"model": ErrorOut} for c in (400, 401, 403, 404, 409, 413, 422, 429)
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"model": Accepted, "description": "confirmed on chain (?wait=true)"},
}


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


def checked_code(code: str) -> str:
    """A well-formed project code or 422."""
    return parse_project_code(code.strip(), "code").code


@router.post("", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def register_project(
    body: ProjectIn, org: CurrentOrg, node: NodeDep, wait: Wait = False, idempotency_key: IdemKey = None
) -> Response:
    """Register a project and its code (approval authority)."""
    fields = {
        "code": body.code,
        "name": body.name,
        "owner_uscc": body.owner_uscc,
        "project_type": PROJECT_TYPES[body.project_type],
        "region_code": body.region_code,
        "industry_code": body.industry_code,
        "total_investment_fen": int(body.total_investment * 100),
        "note": "",
    }
    result = await node.writer.write(
        org, Kind.PROJECT, body.code, fields, idempotency_key=idempotency_key, preseal=preseal(body.seal)
    )
    return await accepted(node, result, wait)


@router.get("/{code}", responses=ERRORS)
async def get_project(code: CodePath, node: NodeDep, org: OptionalOrg) -> dict[str, Any]:
    """Project summary with status per stage: public fields for anyone, more for members."""
    code = checked_code(code)
    pid = node.reader.project_id(code)
    basis = None if org is None or pid is None else node.access.project_basis(org, pid, "fields")
    if org is not None and pid is not None and basis is not None:
        await fetch_project_openings(node, org, pid)
    summary = node.reader.project_summary(code, detailed=basis is not None)
    if summary is None:
        raise NotFoundError(f"project {code} is not registered")
    if org is not None and basis is not None:
        await node.access.log(org, "project.summary", code, code, basis)
    return summary


@router.get("/{code}/history", responses=ERRORS)
async def project_history(code: CodePath, node: NodeDep, org: CurrentOrg) -> dict[str, Any]:
    """Every record of the project in chain order with tx hash, block, issuer and seal signer."""
    code = checked_code(code)
    pid = node.reader.project_id(code)
    if pid is None:
        raise NotFoundError(f"project {code} is not registered")
    basis = node.access.require_project(org, pid, code)
    await fetch_project_openings(node, org, pid)
    await node.access.log(org, "project.history", code, code, basis)
    return {"code": code, "records": node.reader.project_records(pid)}


@router.post("/{code}/approvals", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def add_approval(
    code: CodePath, body: ApprovalIn, org: CurrentOrg, node: NodeDep, wait: Wait = False,
    idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Record a 批复 with its approval document's digest (approval authority)."""
    fields = approval_fields(body)
    digest = bytes.fromhex(body.document_digest[2:])
    result = await node.writer.write(
        org, Kind.APPROVAL, checked_code(code), fields, digest=digest,
        idempotency_key=idempotency_key, preseal=preseal(body.seal),
    )  # fmt: skip
    return await accepted(node, result, wait)


def approval_fields(body: ApprovalIn, note: str = "") -> dict[str, Any]:
    """Payload fields of an approval."""
    return {
        "stage": body.stage,
        "decision": DECISIONS[body.decision],
        "item": body.item,
        "document_no": body.document_no,
        "issued_at": epoch(body.issued_at),
        "valid_until": epoch(body.valid_until),
        "note": note,
    }


def event_fields(body: EventIn, note: str = "") -> dict[str, Any]:
    """Payload fields of an abnormal event; 公示截止期 follows from the severity."""
    severity = SEVERITIES[body.severity]
    publish_until = body.occurred_at + dt.timedelta(days=PUBLISH_WINDOW_DAYS[severity])
    return {
        "severity": severity,
        "category": body.category,
        "occurred_at": epoch(body.occurred_at),
        "publish_until": epoch(publish_until),
        "evidence": [bytes.fromhex(d[2:]) for d in body.evidence_digests],
        "note": note,
    }


def commitment_fields(body: CommitmentIn, note: str = "") -> dict[str, Any]:
    """Payload fields of a credit commitment."""
    return {
        "commitment_type": COMMITMENT_TYPES[body.commitment_type],
        "due_at": epoch(body.due_date),
        "summary": body.summary,
        "note": note,
    }


@router.post("/{code}/events", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def add_event(
    code: CodePath, body: EventIn, org: CurrentOrg, node: NodeDep, wait: Wait = False,
    idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Report an abnormal construction event with evidence digests (supervisor)."""
    result = await node.writer.write(
        org, Kind.EVENT, checked_code(code), event_fields(body), digest=bytes.fromhex(body.description_digest[2:]),
        idempotency_key=idempotency_key, preseal=preseal(body.seal),
    )  # fmt: skip
    return await accepted(node, result, wait)


@router.post("/{code}/commitments", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def add_commitment(
    code: CodePath, body: CommitmentIn, org: CurrentOrg, node: NodeDep, wait: Wait = False,
    idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Record a credit commitment (信用承诺) made by the owner (approval authority)."""
    result = await node.writer.write(
        org, Kind.COMMITMENT, checked_code(code), commitment_fields(body),
        digest=bytes.fromhex(body.content_digest[2:]), idempotency_key=idempotency_key, preseal=preseal(body.seal),
    )  # fmt: skip
    return await accepted(node, result, wait)
