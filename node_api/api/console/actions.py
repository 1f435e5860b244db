"""Console writes on a project: 受理, 批复 with its document, events, grants and status changes.

Each goes through the API route of the same write (``add_acceptance``, ``add_approval``,
``add_event``, ``grant_access``, ``change_status``) with ``?wait=true`` semantics, then back
to the project page, which shows the record confirmed on chain (or still pending).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Generic

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from node_api.api.console.forms import M, fields, model, sealed, text, upload
from node_api.api.console.session import CheckedForm, ConsoleSession
from node_api.api.deps import (
    ConfirmationsDep,
    DocumentsDep,
    IndexDep,
    MembershipDep,
    OfficersDep,
    ReaderDep,
    SettingsDep,
    WriterDep,
)
from node_api.api.params import CodePath, checked_code
from node_api.api.routes import grants as grants_route
from node_api.api.routes import projects as projects_route
from node_api.api.routes import records as records_route
from node_api.api.schemas import AcceptanceIn, ActionIn, ApprovalIn, CommitmentIn, EventIn, GrantIn
from node_api.config import Settings
from node_api.domain.records import ACTION_KINDS
from node_api.errors import PayloadTooLargeError, ValidationError
from node_api.ledger.documents import Documents
from node_api.ledger.officers import Officers, Session

router = APIRouter(prefix="/console/projects/{code}", include_in_schema=False)


async def _done(
    code: str, officers: Officers, session: Session, action: str, call: Awaitable[Response]
) -> Response:
    """Sends the write through its API route and names the officer beside its record (``sealed``), then
    back to the project page, at that record."""
    uid = (await sealed(officers, session, action, call))["uid"]
    return RedirectResponse(f"/console/projects/{code}?record={uid}#done", status_code=303)


@dataclass(frozen=True)
class DocumentForm(Generic[M]):
    """A form that carries a document: its file field, the digest the browser computed and showed, and
    the API model it stands for, whose ``digest_field`` (and list ``also``) is the uploaded file's
    digest and whose other fields are the form's ``names``."""

    file: str
    declared: str
    cls: type[M]
    digest_field: str
    names: tuple[str, ...]
    also: str | None = None

    async def store(self, form: FormData, session: Session, documents: Documents, limit: int) -> str:
        """Stores the uploaded file; its SHA-256 must be the digest shown before sealing (422 otherwise)."""
        file = upload(form, self.file)
        if file is None:
            raise ValidationError(self.file, "choose the document to upload")
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLargeError(f"document exceeds {limit} bytes")
        if not data:
            raise ValidationError(self.file, "the file is empty")
        digest = "0x" + hashlib.sha256(data).hexdigest()
        declared = text(form, self.declared).lower()
        if not hmac.compare_digest(declared.encode(), digest.encode()):
            raise ValidationError(
                self.declared,
                f"the file's SHA-256 is {digest}, not the digest shown before sealing ({declared or '—'})",
            )
        return documents.upload(session.officer.org, data, file.content_type or "application/octet-stream")

    async def body(self, form: FormData, session: Session, documents: Documents, settings: Settings) -> M:
        """The API model of the form, the uploaded file's digest in it.

        The other fields are checked first, so a bad form stores no file.
        """
        data = fields(form, self.names)
        model(self.cls, {**data, self.digest_field: "0x" + "00" * 32})
        digest = await self.store(form, session, documents, settings.max_document_bytes)
        also = {self.also: [digest]} if self.also else {}
        return model(self.cls, {**data, self.digest_field: digest, **also})


APPROVAL_FORM = DocumentForm(
    "document", "document_digest", ApprovalIn, "document_digest",
    ("stage", "item", "decision", "document_no", "issued_at", "valid_until"),
)  # fmt: skip
EVENT_FORM = DocumentForm(
    "evidence", "evidence_digest", EventIn, "description_digest", ("category", "severity", "occurred_at"),
    also="evidence_digests",
)  # fmt: skip
COMMITMENT_FORM = DocumentForm(
    "letter", "letter_digest", CommitmentIn, "content_digest", ("commitment_type", "due_date", "summary")
)


@router.post("/acceptances")
async def accept(
    code: CodePath, session: ConsoleSession, form: CheckedForm, officers: OfficersDep, writer: WriterDep,
    confirmations: ConfirmationsDep,
) -> Response:  # fmt: skip
    """受理 of a catalogue item: its approval clock starts."""
    code = checked_code(code)
    data = fields(form, ("item", "accepted_at", "note"))
    if "accepted_at" in data and len(data["accepted_at"]) == 16:  # <input type=datetime-local>: Beijing time
        data["accepted_at"] += ":00+08:00"
    body = model(AcceptanceIn, data)
    call = projects_route.add_acceptance(code, body, session.officer.org, writer, confirmations, wait=True)
    return await _done(code, officers, session, "acceptance", call)


@router.post("/approvals")
async def approve(
    code: CodePath, session: ConsoleSession, form: CheckedForm, officers: OfficersDep, writer: WriterDep,
    confirmations: ConfirmationsDep, documents: DocumentsDep, settings: SettingsDep,
) -> Response:  # fmt: skip
    """批复 of a catalogue item with its document, uploaded here and bound by the digest shown."""
    code = checked_code(code)
    body = await APPROVAL_FORM.body(form, session, documents, settings)
    call = projects_route.add_approval(code, body, session.officer.org, writer, confirmations, wait=True)
    return await _done(code, officers, session, "approval", call)


@router.post("/events")
async def report_event(
    code: CodePath, session: ConsoleSession, form: CheckedForm, officers: OfficersDep, writer: WriterDep,
    confirmations: ConfirmationsDep, documents: DocumentsDep, settings: SettingsDep,
) -> Response:  # fmt: skip
    """An abnormal construction event with its evidence (supervisor)."""
    code = checked_code(code)
    body = await EVENT_FORM.body(form, session, documents, settings)
    call = projects_route.add_event(code, body, session.officer.org, writer, confirmations, wait=True)
    return await _done(code, officers, session, "event", call)


@router.post("/commitments")
async def commit(
    code: CodePath, session: ConsoleSession, form: CheckedForm, officers: OfficersDep, writer: WriterDep,
    confirmations: ConfirmationsDep, documents: DocumentsDep, settings: SettingsDep,
) -> Response:  # fmt: skip
    """A credit commitment (信用承诺) with the owner's 承诺书 uploaded (approval authority)."""
    code = checked_code(code)
    body = await COMMITMENT_FORM.body(form, session, documents, settings)
    call = projects_route.add_commitment(code, body, session.officer.org, writer, confirmations, wait=True)
    return await _done(code, officers, session, "commitment", call)


@router.post("/grants")
async def grant(
    code: CodePath, session: ConsoleSession, form: CheckedForm, officers: OfficersDep, writer: WriterDep,
    confirmations: ConfirmationsDep, membership: MembershipDep,
) -> Response:  # fmt: skip
    """Authorises an organisation (a bank) to read the project, for the owner (registering authority)."""
    code = checked_code(code)
    data = fields(form, ("grantee_org", "scope", "expires_at", "authorisation_digest"))
    if "expires_at" in data and len(data["expires_at"]) == 10:  # <input type=date>: end of that day, Beijing
        data["expires_at"] += "T23:59:59+08:00"
    body = model(GrantIn, data)
    call = grants_route.grant_access(
        code, body, session.officer.org, membership, writer, confirmations, wait=True
    )
    return await _done(code, officers, session, "grant", call)


@router.post("/records/{uid}/{action}")
async def change_status(
    code: CodePath, uid: str, action: str, session: ConsoleSession, form: CheckedForm, officers: OfficersDep,
    reader: ReaderDep, index: IndexDep, writer: WriterDep, confirmations: ConfirmationsDep,
) -> Response:  # fmt: skip
    """Pause/resume a 受理, resolve/object/repair an event, fulfil/breach a commitment, revoke."""
    code = checked_code(code)
    if action not in ACTION_KINDS:
        raise ValidationError("action", f"one of {', '.join(ACTION_KINDS)}")
    uid = uid.lower()
    if not (len(uid) == 66 and uid.startswith("0x") and all(c in "0123456789abcdef" for c in uid[2:])):
        raise ValidationError("uid", "a record uid (0x + 64 hex)")
    body = model(ActionIn, fields(form, ("reason",)))
    call = records_route.change_status(
        uid, action, body, session.officer.org, reader, index, writer, confirmations, wait=True
    )
    return await _done(code, officers, session, action, call)
