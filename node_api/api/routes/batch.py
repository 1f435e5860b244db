"""Bulk writes: ``POST /v1/records:batch`` — up to 1,000 records in one request.

Semantics are **per item**, not all-or-nothing: every item is validated with the
same model as its single-record endpoint and checked as ``Writer.write`` checks it (``Writer.write_many``);
an invalid or refused item gets an error entry (by index) and nothing is written
for it, while the valid items are accepted (durably, in the outbox) and go to the
chain. This suits a county system syncing a day's approvals: one bad row does not
hold back the others, and re-sending the whole batch is safe because a record uid
is derived from its content (or from the item's ``idempotency_key``), so items
accepted before come back as ``duplicate`` instead of being written twice (a project
registration sent again is refused as a ``conflict``, exactly as ``POST /v1/projects``).

Project registrations in a batch are accepted before its other items, so one batch
may register a project and file records under it. The whole batch shares one
outbox commit (one fsync) per phase, which is what makes bulk writes cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pydantic
from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from node_api.api.deps import ConfirmationsDep, CurrentOrg, WriterDep
from node_api.api.params import ERRORS, checked_code
from node_api.api.payloads import attachment, preseal, record_payload
from node_api.api.schemas import ApprovalIn, CommitmentIn, EventIn, ProjectIn, SealIn
from node_api.domain.records import Kind
from node_api.errors import ConflictError, ProjchainError, ValidationError
from node_api.ledger.membership import Organization
from node_api.ledger.writer import Accepted, Attachment, PreSeal, Write, Writer

router = APIRouter(tags=["records"])

MAX_BATCH = 1000
_TYPES = ("approval", "event", "commitment", "project")
_MODELS: dict[str, type[BaseModel]] = {
    "approval": ApprovalIn,
    "event": EventIn,
    "commitment": CommitmentIn,
    "project": ProjectIn,
}


class BatchIn(BaseModel):
    """Up to 1,000 records; each item is ``{"type": ..., "project_code": ..., ...fields}``.

    ``type`` is ``approval``, ``event`` or ``commitment`` (with ``project_code`` and
    the fields of the single-record endpoint) or ``project`` (the fields of
    ``POST /v1/projects``, whose ``code`` is the project code). An item may carry an
    ``idempotency_key`` (what the ``Idempotency-Key`` header is for single writes).
    Items are validated one by one, so a malformed item is reported by index.
    """

    records: Annotated[list[Any], Field(min_length=1, max_length=MAX_BATCH)]


class BatchItemOut(BaseModel):
    """Result of one item: ``uid`` and ``state`` (an approval's commitment: ``commitment_uid``), or
    ``error`` and ``detail``."""

    index: int
    uid: str | None = None
    commitment_uid: str | None = None
    state: Literal["pending", "confirmed", "failed"] | None = None
    duplicate: bool | None = None
    error: str | None = None
    detail: str | None = None


class BatchOut(BaseModel):
    """Per-item results in request order, and counts."""

    accepted: int
    rejected: int
    results: list[BatchItemOut]


@dataclass(frozen=True)
class _Item:
    """A validated item, ready for ``Writer.write``."""

    index: int
    kind: Kind
    code: str
    fields: dict[str, Any]
    digest: bytes
    idempotency_key: str | None
    preseal: PreSeal | None
    attachment: Attachment | None


def _error(index: int, code: str, detail: str) -> dict[str, Any]:
    return {"index": index, "error": code, "detail": detail}


def _first_error(e: pydantic.ValidationError) -> str:
    parts = []
    for err in e.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc or 'item'}: {msg}")
    return "; ".join(parts)


def _parse(index: int, raw: Any, checked: dict[str, str]) -> _Item:
    """One raw item to a validated write; raises ValidationError with a field path."""
    if not isinstance(raw, dict):
        raise ValidationError(f"records.{index}", "must be an object")
    data = dict(raw)
    kind_name = data.pop("type", None)
    if kind_name not in _MODELS:
        raise ValidationError(f"records.{index}.type", f"must be one of {', '.join(_TYPES)}")
    key = data.pop("idempotency_key", None)
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 200):
        raise ValidationError(f"records.{index}.idempotency_key", "must be a string of 1-200 characters")
    code = data.pop("project_code", None) if kind_name != "project" else None
    try:
        body = _MODELS[kind_name].model_validate(data)
    except pydantic.ValidationError as e:
        raise ValidationError(f"records.{index}", _first_error(e)) from e
    seal: SealIn | None = getattr(body, "seal", None)
    if not isinstance(body, ProjectIn):
        if not isinstance(code, str):
            raise ValidationError(
                f"records.{index}.project_code", "required for approval, event and commitment"
            )
        if code in checked:  # a day's batch names few projects: parse each code once
            code = checked[code]
        else:
            try:
                checked[code] = code = checked_code(code)
            except ValidationError as e:
                raise ValidationError(f"records.{index}.project_code", e.detail) from e
    assert isinstance(body, ProjectIn | ApprovalIn | EventIn | CommitmentIn)
    kind, fields, digest = record_payload(body)
    return _Item(index, kind, body.code if isinstance(body, ProjectIn) else str(code), fields, digest, key,
                 preseal(seal), attachment(body))  # fmt: skip


async def _write_all(
    writer: Writer, org: Organization, items: list[_Item], results: list[dict[str, Any] | None]
) -> list[tuple[int, Accepted]]:
    """Writes items in one outbox commit; errors go to ``results``."""
    writes = [
        Write(it.kind, it.code, it.fields, it.digest, None, it.idempotency_key, it.preseal, it.attachment)
        for it in items
    ]
    done: list[tuple[int, Accepted]] = []
    for item, outcome in zip(items, await writer.write_many(org, writes), strict=True):
        if isinstance(outcome, ProjchainError):
            results[item.index] = _error(item.index, outcome.code, outcome.detail)
        else:
            done.append((item.index, outcome))
    return done


@router.post(
    "/v1/records:batch",
    status_code=202,
    response_model=BatchOut,
    responses={**ERRORS, 200: {"model": BatchOut}},
)
async def write_batch(
    body: BatchIn,
    org: CurrentOrg,
    writer: WriterDep,
    confirmations: ConfirmationsDep,
    wait: Annotated[bool, Query(description="answer once every accepted record is confirmed")] = False,
) -> Response:
    """Write up to 1,000 records at once with per-item results (invalid items do not sink the others).

    202 when at least one item was accepted (200 with ``?wait=true`` once all accepted
    items are confirmed or failed); 422 when no item was accepted. Per-item results
    are ``{index, uid, state, duplicate}`` or ``{index, error, detail}``.
    """
    results: list[dict[str, Any] | None] = [None] * len(body.records)
    projects: list[_Item] = []
    others: list[_Item] = []
    codes: set[str] = set()
    checked: dict[str, str] = {}
    for i, raw in enumerate(body.records):
        try:
            item = _parse(i, raw, checked)
        except ProjchainError as e:
            results[i] = _error(i, e.code, e.detail)
            continue
        if item.kind == Kind.PROJECT:
            if item.code in codes:
                results[i] = _error(
                    i, ConflictError.code, f"project {item.code} is registered twice in this batch"
                )
                continue
            codes.add(item.code)
            projects.append(item)
        else:
            others.append(item)
    accepted: list[tuple[int, Accepted]] = []
    if projects:
        accepted += await _write_all(writer, org, projects, results)
    if others:
        accepted += await _write_all(writer, org, others, results)
    if wait and accepted:
        attached = [a.attached.uid for _, a in accepted if a.attached is not None]  # an approval's commitment
        known = await confirmations.wait_for_many(
            [a.uid for _, a in accepted] + attached, confirmations.wait_timeout
        )
    else:
        known = dict(confirmations.final_states([a.uid for _, a in accepted if not a.created]))
    states = [known.get(a.uid, "pending") for _, a in accepted]
    for (index, a), state in zip(accepted, states, strict=True):
        result: dict[str, Any] = {"index": index, "uid": a.uid, "state": state, "duplicate": not a.created}
        if a.attached is not None:
            result["commitment_uid"] = a.attached.uid
        results[index] = result
    out = [r for r in results if r is not None]
    n_ok = len(accepted)
    payload = {"accepted": n_ok, "rejected": len(out) - n_ok, "results": out}
    if n_ok == 0:
        return JSONResponse(
            {"error": "invalid_input", "detail": "no record of the batch was accepted", **payload},
            status_code=422,
        )
    pending = any(s == "pending" for s in states)
    return JSONResponse(payload, status_code=200 if wait and not pending else 202)
