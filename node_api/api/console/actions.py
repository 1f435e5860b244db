"""Console writes on a project: 受理, 批复 with its document, events, grants and status changes.

Each goes through the API route of the same write (``add_acceptance``, ``add_approval``,
``add_event``, ``grant_access``, ``change_status``) with ``?wait=true`` semantics, then back
to the project page, which shows the record confirmed on chain (or still pending).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

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
from node_api.domain.records import ACTION_KINDS
from node_api.errors import PayloadTooLargeError, ValidationError
from node_api.ledger.documents import Documents
from node_api.ledger.officers import Session

router = APIRouter(prefix="/console/projects/{code}", include_in_schema=False)


def _back(code: str, uid: str) -> Response:
    return RedirectResponse(f"/console/projects/{code}?record={uid}#done", status_code=303)


@dataclass(frozen=True)
class Upload:
    """A form's document: the file field, the digest the browser computed and showed, where it is kept."""

    file: str
    declared: str
    documents: Documents
    limit: int

    async def store(self, form: FormData, session: Session) -> str:
        """Stores the uploaded file; its SHA-256 must be the digest shown before sealing (422 otherwise)."""
        file = upload(form, self.file)
        if file is None:
            raise ValidationError(self.file, "choose the document to upload")
        data = await file.read(self.limit + 1)
        if len(data) > self.limit:
            raise PayloadTooLargeError(f"document exceeds {self.limit} bytes")
        if not data:
            raise ValidationError(self.file, "the file is empty")
        digest = "0x" + hashlib.sha256(data).hexdigest()
        declared = text(form, self.declared).lower()
        if not hmac.compare_digest(declared.encode(), digest.encode()):
            raise ValidationError(
                self.declared,
                f"the file's SHA-256 is {digest}, not the digest shown before sealing ({declared or '—'})",
            )
        return self.documents.upload(
            session.officer.org, data, file.content_type or "application/octet-stream"
        )

    async def into(
        self, cls: type[M], digest_field: str, form: FormData, names: tuple[str, ...], session: Session,
        also: str | None = None,
    ) -> M:  # fmt: skip
        """The API model of a form whose ``digest_field`` (and list ``also``) is the uploaded file's digest.

        The other fields are checked first, so a bad form stores no file.
        """
        data = fields(form, names)
        model(cls, {**data, digest_field: "0x" + "00" * 32})
        digest = await self.store(form, session)
        return model(cls, {**data, digest_field: digest, **({also: [digest]} if also else {})})


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
    return _back(code, (await sealed(officers, session, "acceptance", call))["uid"])


@router.post("/approvals")
async def approve(
    code: CodePath, session: ConsoleSession, form: CheckedForm, officers: OfficersDep, writer: WriterDep,
    confirmations: ConfirmationsDep, documents: DocumentsDep, settings: SettingsDep,
) -> Response:  # fmt: skip
    """批复 of a catalogue item with its document, uploaded here and bound by the digest shown."""
    code = checked_code(code)
    names = ("stage", "item", "decision", "document_no", "issued_at", "valid_until")
    doc = Upload("document", "document_digest", documents, settings.max_document_bytes)
    body = await doc.into(ApprovalIn, "document_digest", form, names, session)
    call = projects_route.add_approval(code, body, session.officer.org, writer, confirmations, wait=True)
    return _back(code, (await sealed(officers, session, "approval", call))["uid"])


@router.post("/events")
async def report_event(
    code: CodePath, session: ConsoleSession, form: CheckedForm, officers: OfficersDep, writer: WriterDep,
    confirmations: ConfirmationsDep, documents: DocumentsDep, settings: SettingsDep,
) -> Response:  # fmt: skip
    """An abnormal construction event with its evidence (supervisor)."""
    code = checked_code(code)
    doc = Upload("evidence", "evidence_digest", documents, settings.max_document_bytes)
    names = ("category", "severity", "occurred_at")
    body = await doc.into(EventIn, "description_digest", form, names, session, also="evidence_digests")
    call = projects_route.add_event(code, body, session.officer.org, writer, confirmations, wait=True)
    return _back(code, (await sealed(officers, session, "event", call))["uid"])


@router.post("/commitments")
async def commit(
    code: CodePath, session: ConsoleSession, form: CheckedForm, officers: OfficersDep, writer: WriterDep,
    confirmations: ConfirmationsDep, documents: DocumentsDep, settings: SettingsDep,
) -> Response:  # fmt: skip
    """A credit commitment (信用承诺) with the owner's 承诺书 uploaded (approval authority)."""
    code = checked_code(code)
    doc = Upload("letter", "letter_digest", documents, settings.max_document_bytes)
    body = await doc.into(
        CommitmentIn, "content_digest", form, ("commitment_type", "due_date", "summary"), session
    )
    call = projects_route.add_commitment(code, body, session.officer.org, writer, confirmations, wait=True)
    return _back(code, (await sealed(officers, session, "commitment", call))["uid"])


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
    return _back(code, (await sealed(officers, session, "grant", call))["uid"])


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
    return _back(code, (await sealed(officers, session, action, call))["uid"])
