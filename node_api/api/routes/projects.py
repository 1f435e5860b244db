"""Projects: registration, summary, history, and the records filed under a project."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from node_api.api.deps import (
    AccessDep,
    ConfirmationsDep,
    CurrentOrg,
    OptionalOrg,
    PeersDep,
    ReaderDep,
    SearchDep,
    WriterDep,
)
from node_api.api.direct import Handler
from node_api.api.params import ERRORS, WRITE_RESPONSES, CodePath, IdemKey, Wait, checked_code
from node_api.api.payloads import RecordBody, acceptance_payload, attachment, preseal, record_payload
from node_api.api.responses import accepted, approval_extra
from node_api.api.schemas import (
    AcceptanceIn,
    Accepted,
    ApprovalAccepted,
    ApprovalIn,
    CommitmentIn,
    EventIn,
    ProjectIn,
)
from node_api.domain.search import parse_query
from node_api.errors import NotFoundError
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.membership import Organization
from node_api.ledger.search import MAX_PAGE
from node_api.ledger.writer import Writer

router = APIRouter(prefix="/v1/projects", tags=["projects"])


async def _write(
    writer: Writer, org: Organization, code: str, body: RecordBody, idempotency_key: str | None
) -> Any:
    kind, fields, digest = record_payload(body)
    return await writer.write(
        org, kind, code, fields, digest=digest, idempotency_key=idempotency_key, preseal=preseal(body.seal),
        attachment=attachment(body),
    )  # fmt: skip


async def record_answer(
    writer: Writer, confirmations: Confirmations, org: Organization, code: str, body: RecordBody, wait: bool,
    idempotency_key: str | None,
) -> Response:  # fmt: skip
    """A record filed under project ``code``: written, then answered (an approval with its item version)."""
    result = await _write(writer, org, checked_code(code), body, idempotency_key)
    return await accepted(confirmations, result, wait, approval_extra(result))


@router.post("", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def register_project(
    body: ProjectIn, org: CurrentOrg, writer: WriterDep, confirmations: ConfirmationsDep,
    wait: Wait = False, idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Register a project and its code (approval authority)."""
    result = await _write(writer, org, body.code, body, idempotency_key)
    return await accepted(confirmations, result, wait)


@router.get("", responses=ERRORS)
async def search_projects(
    org: CurrentOrg,
    search: SearchDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="words of the name, owner USCC or code "
            "(all must match; 1–2 characters: substring scan)",
        ),
    ] = None,
    owner_uscc: Annotated[str | None, Query(max_length=32, description="the owner's USCC, exactly")] = None,
    region: Annotated[str | None, Query(max_length=16, description="division code or its prefix")] = None,
    stage: Annotated[int | None, Query(description="highest stage reached, 0 (none) to 4")] = None,
    status: Annotated[str | None, Query(max_length=16, description="active | revoked")] = None,
    registered_from: Annotated[str | None, Query(max_length=16, description="YYYY-MM-DD, Beijing")] = None,
    registered_to: Annotated[str | None, Query(max_length=16, description="YYYY-MM-DD, inclusive")] = None,
    cursor: Annotated[int | None, Query(ge=1, description="next_cursor of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> JSONResponse:
    """Search projects (members; docs/search.md): public fields for every member, restricted ones (and
    matches on them) by role or live grant. Newest registration first; no totals. Access-logged."""
    query = parse_query(q, owner_uscc, region, stage, status, registered_from, registered_to)
    # Plain JSON values already: skip FastAPI's encoder (≈ 4 ms for a page of 50 on a busy 2-core machine).
    return JSONResponse(await search.search(org, query, cursor, limit))


@router.get("/{code}", responses=ERRORS)
async def get_project(
    code: CodePath, org: OptionalOrg, reader: ReaderDep, access: AccessDep, peers: PeersDep
) -> dict[str, Any]:
    """Project summary with status per stage: public fields for anyone, more for members."""
    code = checked_code(code)
    pid = reader.project_id(code)
    basis = None if org is None or pid is None else access.project_basis(org, pid, "fields")
    if org is not None and pid is not None and basis is not None:
        await peers.fetch_project_openings(org, pid)
    summary = reader.project_summary(code, detailed=basis is not None)
    if summary is None:
        raise NotFoundError(f"project {code} is not registered")
    if org is not None and basis is not None:
        await access.log(org, "project.summary", code, code, basis)
    return summary


@router.get("/{code}/history", responses=ERRORS)
async def project_history(
    code: CodePath, org: CurrentOrg, reader: ReaderDep, access: AccessDep, peers: PeersDep
) -> dict[str, Any]:
    """Every record of the project in chain order with tx hash, block, issuer and seal signer."""
    code = checked_code(code)
    pid = reader.project_id(code)
    if pid is None:
        raise NotFoundError(f"project {code} is not registered")
    basis = access.require_project(org, pid, code)
    await peers.fetch_project_openings(org, pid)
    await access.log(org, "project.history", code, code, basis)
    return {"code": code, "records": reader.project_records(pid)}


@router.post(
    "/{code}/approvals", status_code=202, response_model=ApprovalAccepted,
    responses={**WRITE_RESPONSES, 200: {"model": ApprovalAccepted, "description": "confirmed on chain (?wait=true)"}},
)  # fmt: skip
async def add_approval(
    code: CodePath, body: ApprovalIn, org: CurrentOrg, writer: WriterDep, confirmations: ConfirmationsDep,
    wait: Wait = False, idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Record a 批复 of a catalogue item with its approval document's digest (the item's department).

    The item must be in the catalogue, not retired, of this stage, decided by the caller, and
    allow the decision; the node names the item's version in force (``item_version``).
    approved_on_commitment and accepted_with_deficiencies carry the owner's ``commitment``,
    recorded with the approval and bound to it (``commitment_uid``).
    """
    return await record_answer(writer, confirmations, org, code, body, wait, idempotency_key)


@router.post("/{code}/events", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def add_event(
    code: CodePath, body: EventIn, org: CurrentOrg, writer: WriterDep, confirmations: ConfirmationsDep,
    wait: Wait = False, idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Report an abnormal construction event with evidence digests (supervisor)."""
    return await record_answer(writer, confirmations, org, code, body, wait, idempotency_key)


@router.post("/{code}/commitments", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def add_commitment(
    code: CodePath, body: CommitmentIn, org: CurrentOrg, writer: WriterDep, confirmations: ConfirmationsDep,
    wait: Wait = False, idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Record a credit commitment (信用承诺) made by the owner (approval authority)."""
    return await record_answer(writer, confirmations, org, code, body, wait, idempotency_key)


@router.post("/{code}/acceptances", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def add_acceptance(
    code: CodePath, body: AcceptanceIn, org: CurrentOrg, writer: WriterDep, confirmations: ConfirmationsDep,
    wait: Wait = False, idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Record the 受理 of a catalogue item's application: its approval clock starts (the item's department).

    The item must be in the catalogue, not retired, and handled by the caller. ``POST
    /v1/records/{uid}/pause`` and ``/resume`` stop and restart its clock (暂停/恢复计时, with the
    reason on chain); the item's 批复 closes it.
    """
    kind, fields, digest = acceptance_payload(body)
    result = await writer.write(
        org, kind, checked_code(code), fields, digest=digest, idempotency_key=idempotency_key,
        preseal=preseal(body.seal),
    )  # fmt: skip
    return await accepted(confirmations, result, wait)


# The routes answered by node_api.api.direct ahead of FastAPI: the body's model and the handler.
DIRECT: dict[str, tuple[type[BaseModel], Handler]] = {
    "/v1/projects/{code}/approvals": (ApprovalIn, record_answer),
    "/v1/projects/{code}/events": (EventIn, record_answer),
    "/v1/projects/{code}/commitments": (CommitmentIn, record_answer),
}
