"""Records: read one, and change a status (each change is a new record)."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Path, Response

from node_api.api.deps import CurrentOrg, NodeDep
from node_api.api.openings import fetch_openings
from node_api.api.responses import accepted
from node_api.api.routes.projects import (
    ERRORS,
    WRITE_RESPONSES,
    IdemKey,
    Wait,
    approval_fields,
    commitment_fields,
    event_fields,
    preseal,
)
from node_api.api.schemas import Accepted, ActionIn, ApprovalIn, CommitmentIn, EventIn, ProjectIn, SupersedeIn
from node_api.domain.records import ACTION_KINDS, PROJECT_TYPES, ZERO32, Kind
from node_api.errors import ConflictError, NotFoundError, ValidationError

router = APIRouter(prefix="/v1/records", tags=["records"])

Uid = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="record uid (0x + 64 hex)")]
Action = Annotated[
    str,
    Path(pattern="^(" + "|".join(ACTION_KINDS) + ")$", description="revoke, resolve, repair, object, "
         "uphold-objection, reject-objection, fulfil or breach"),
]  # fmt: skip


@router.get("/{uid}", responses=ERRORS)
async def get_record(uid: Uid, org: CurrentOrg, node: NodeDep) -> dict[str, Any]:
    """One record: content, status, state (pending / confirmed / failed), tx hash and block."""
    uid = uid.lower()
    found = node.reader.record_and_project(uid)
    if found is None:
        raise NotFoundError(f"record {uid} does not exist")
    view, project = found
    code = view["project_code"] or ""
    basis = node.access.require_project(org, project, code) if project else "member"
    if view["state"] == "confirmed" and uid in await fetch_openings(node, org, [uid]):
        view = node.reader.record(uid) or view  # with the restricted content now held
    await node.access.log(org, "record.read", uid, code or None, basis)
    return view


def _target(node: Any, uid: str) -> Any:
    row = node.reader.chain_row(uid)
    if row is None:
        if node.db.scalar("SELECT 1 FROM outbox WHERE uid = ? AND state != 'failed'", (uid,)):
            raise ConflictError(f"record {uid} is not confirmed on chain yet; retry once it is")
        raise NotFoundError(f"record {uid} does not exist")
    return row


def _code_of(node: Any, project: str) -> str:
    code = node.db.scalar("SELECT code FROM chain_projects WHERE project = ?", (project,))
    if code is None:
        raise NotFoundError("the record's project is unknown")
    return str(code)


@router.post("/{uid}/supersede", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def supersede(
    uid: Uid,
    body: SupersedeIn,
    org: CurrentOrg,
    node: NodeDep,
    wait: Wait = False,
    idempotency_key: IdemKey = None,
) -> Response:
    """Replace a record by a corrected one of the same kind; the old one becomes superseded."""
    uid = uid.lower()
    target = _target(node, uid)
    kind = Kind(int(target["kind"]))
    code = _code_of(node, target["project"])
    digest = ZERO32
    try:
        if kind == Kind.APPROVAL:
            a = ApprovalIn.model_validate(body.replacement)
            fields, digest = approval_fields(a, body.reason), bytes.fromhex(a.document_digest[2:])
        elif kind == Kind.EVENT:
            e = EventIn.model_validate(body.replacement)
            fields, digest = event_fields(e, body.reason), bytes.fromhex(e.description_digest[2:])
        elif kind == Kind.COMMITMENT:
            c = CommitmentIn.model_validate(body.replacement)
            fields, digest = commitment_fields(c, body.reason), bytes.fromhex(c.content_digest[2:])
        elif kind == Kind.PROJECT:
            p = ProjectIn.model_validate(body.replacement)
            if p.code != code:
                raise ValidationError("replacement.code", "a correction keeps the project code")
            fields = {
                "code": p.code, "name": p.name, "owner_uscc": p.owner_uscc,
                "project_type": PROJECT_TYPES[p.project_type], "region_code": p.region_code,
                "industry_code": p.industry_code, "total_investment_fen": int(p.total_investment * 100),
                "note": body.reason,
            }  # fmt: skip
        else:
            raise ConflictError(f"a {kind.name.lower()} record cannot be superseded")
    except pydantic.ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"replacement.{where}", first["msg"]) from e
    result = await node.writer.write(
        org, kind, code, fields, digest=digest, ref=uid, idempotency_key=idempotency_key
    )
    return await accepted(node, result, wait)


@router.post("/{uid}/{action}", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def change_status(
    uid: Uid, action: Action, body: ActionIn, org: CurrentOrg, node: NodeDep, wait: Wait = False,
    idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Revoke, resolve, repair (信用修复), object (异议), uphold/reject an objection, fulfil or breach."""
    uid = uid.lower()
    target = _target(node, uid)
    kind = ACTION_KINDS[action]
    digest = bytes.fromhex(body.document_digest[2:]) if body.document_digest else ZERO32
    result = await node.writer.write(
        org, kind, _code_of(node, target["project"]), {"reason": body.reason}, digest=digest, ref=uid,
        idempotency_key=idempotency_key, preseal=preseal(body.seal),
    )  # fmt: skip
    return await accepted(node, result, wait)
