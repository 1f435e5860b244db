"""Records: read one, and change a status (each change is a new record)."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Path, Response

from node_api.api.deps import (
    AccessDep,
    ConfirmationsDep,
    CurrentOrg,
    IndexDep,
    PeersDep,
    ReaderDep,
    WriterDep,
)
from node_api.api.direct import ReadHandler
from node_api.api.params import ERRORS, WRITE_RESPONSES, IdemKey, Wait
from node_api.api.payloads import RecordBody, attachment, preseal, record_payload
from node_api.api.responses import accepted, approval_extra
from node_api.api.schemas import Accepted, ActionIn, ApprovalIn, CommitmentIn, EventIn, ProjectIn, SupersedeIn
from node_api.domain.records import ACTION_KINDS, CLOCK_ACTIONS, ZERO32, Kind
from node_api.errors import ConflictError, NotFoundError, ValidationError
from node_api.ledger.access import Access
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.membership import Organization
from node_api.ledger.peers import Peers
from node_api.ledger.reader import Reader
from node_api.store.index import IndexTable

router = APIRouter(prefix="/v1/records", tags=["records"])

Uid = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="record uid (0x + 64 hex)")]
Action = Annotated[
    str,
    Path(pattern="^(" + "|".join(ACTION_KINDS) + ")$", description="revoke, resolve, repair, object, "
         "uphold-objection, reject-objection, fulfil, breach, pause or resume"),
]  # fmt: skip


@router.get("/{uid}", responses=ERRORS)
async def get_record(
    uid: Uid, org: CurrentOrg, reader: ReaderDep, access: AccessDep, peers: PeersDep
) -> dict[str, Any]:
    """One record: content, status, state (pending / confirmed / failed), tx hash and block."""
    return await record_view(reader, access, peers, org, uid)


async def record_view(
    reader: Reader, access: Access, peers: Peers, org: Organization, uid: str
) -> dict[str, Any]:
    """``GET /v1/records/{uid}``'s answer, from FastAPI's route or the direct one (node_api/api/direct.py)."""
    uid = uid.lower()
    found = reader.record_and_project(uid)
    if found is None:
        raise NotFoundError(f"record {uid} does not exist")
    view, project = found
    code = view["project_code"] or ""
    basis = access.require_project(org, project, code) if project else "member"
    if view["state"] == "confirmed" and uid in await peers.fetch_openings(org, [uid]):
        view = reader.record(uid) or view  # with the restricted content now held
    await access.log(org, "record.read", uid, code or None, basis)
    return view


# The reads answered by node_api.api.direct ahead of FastAPI: the path parameter and the handler.
DIRECT_READS: dict[str, tuple[str, ReadHandler]] = {"/v1/records/{uid}": ("uid", record_view)}


def _target(reader: Reader, index: IndexTable, confirmations: Confirmations, uid: str) -> tuple[Any, str]:
    """The confirmed record a change refers to, and its project's code."""
    row = reader.chain_row(uid)
    if row is None:
        if confirmations.outbox.is_live(uid):
            raise ConflictError(f"record {uid} is not confirmed on chain yet; retry once it is")
        raise NotFoundError(f"record {uid} does not exist")
    code = index.project_code(str(row["project"]))
    if code is None:
        raise NotFoundError("the record's project is unknown")
    return row, code


def _replacement(kind: Kind, replacement: dict[str, Any]) -> RecordBody:
    """The corrected record's body, validated with the model of its kind's endpoint."""
    model = _MODELS.get(kind)
    if model is None:
        raise ConflictError(f"a {kind.name.lower()} record cannot be superseded")
    try:
        return model.model_validate(replacement)
    except pydantic.ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"replacement.{where}", first["msg"]) from e


_MODELS: dict[Kind, type[RecordBody]] = {
    Kind.APPROVAL: ApprovalIn, Kind.EVENT: EventIn, Kind.COMMITMENT: CommitmentIn, Kind.PROJECT: ProjectIn,
}  # fmt: skip


@router.post("/{uid}/supersede", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def supersede(
    uid: Uid, body: SupersedeIn, org: CurrentOrg, reader: ReaderDep, index: IndexDep, writer: WriterDep,
    confirmations: ConfirmationsDep, wait: Wait = False, idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Replace a record by a corrected one of the same kind; the old one becomes superseded."""
    uid = uid.lower()
    target, code = _target(reader, index, confirmations, uid)
    replacement = _replacement(Kind(int(target["kind"])), body.replacement)
    if isinstance(replacement, ProjectIn) and replacement.code != code:
        raise ValidationError("replacement.code", "a correction keeps the project code")
    kind, fields, digest = record_payload(replacement, note=body.reason)
    result = await writer.write(
        org, kind, code, fields, digest=digest, ref=uid, idempotency_key=idempotency_key,
        attachment=attachment(replacement, note=body.reason),
    )  # fmt: skip
    return await accepted(confirmations, result, wait, approval_extra(result))


@router.post("/{uid}/{action}", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def change_status(
    uid: Uid, action: Action, body: ActionIn, org: CurrentOrg, reader: ReaderDep, index: IndexDep,
    writer: WriterDep, confirmations: ConfirmationsDep, wait: Wait = False, idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Revoke, resolve, repair (信用修复), object (异议), uphold/reject an objection, fulfil or breach;
    pause or resume a 受理's clock (暂停/恢复计时: the reason, e.g. 专家评审, 公示, 听证, is on chain)."""
    uid = uid.lower()
    _, code = _target(reader, index, confirmations, uid)
    digest = bytes.fromhex(body.document_digest[2:]) if body.document_digest else ZERO32
    kind = ACTION_KINDS[action]
    fields = {"reason": body.reason, "note": ""} if kind in CLOCK_ACTIONS else {"reason": body.reason}
    result = await writer.write(
        org, kind, code, fields, digest=digest, ref=uid,
        idempotency_key=idempotency_key, preseal=preseal(body.seal),
    )  # fmt: skip
    return await accepted(confirmations, result, wait)
