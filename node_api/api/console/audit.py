"""The auditor's screens: a project's full timeline, its evidence bundle, and the access log whose
inclusion proofs the browser checks itself (``static/console.js``) against the anchored roots."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from node_api.api.console.session import CheckedForm, ConsoleSession
from node_api.api.console.views import render
from node_api.api.deps import (
    AccessDep,
    AnchorerDep,
    ConfirmationsDep,
    EvidenceDep,
    OfficersDep,
    PeersDep,
    ReaderDep,
)
from node_api.api.params import CodePath, checked_code
from node_api.api.routes import audit as audit_route
from node_api.api.routes import projects as projects_route
from node_api.errors import ValidationError

router = APIRouter(prefix="/console/audit", include_in_schema=False)


@router.get("/projects/{code}")
async def timeline(
    request: Request, code: CodePath, session: ConsoleSession, reader: ReaderDep, access: AccessDep,
    peers: PeersDep, officers: OfficersDep,
) -> Response:  # fmt: skip
    """Every record of a project with block, tx, issuer, sealer (and the officer behind it)."""
    code = checked_code(code)
    history = await projects_route.project_history(code, session.officer.org, reader, access, peers)
    records = history["records"]
    return render(
        request, "timeline.html", session, nav="audit", code=code, records=records,
        by_officer=officers.attributions([r["uid"] for r in records]),
    )  # fmt: skip


@router.get("/projects/{code}/bundle")
async def bundle(
    code: CodePath, session: ConsoleSession, evidence: EvidenceDep, access: AccessDep
) -> Response:
    """The evidence bundle download (GET /v1/audit/projects/{code}/bundle)."""
    return await audit_route.project_bundle(checked_code(code), session.officer.org, evidence, access)


@router.get("/access-log")
async def access_log(
    request: Request, session: ConsoleSession, anchorer: AnchorerDep, access: AccessDep,
    project_code: str = "", from_index: str = "0",
) -> Response:  # fmt: skip
    """The access log with each entry's proof, checked in the browser against the anchored root."""
    code = checked_code(project_code) if project_code.strip() else None
    if not from_index.isdigit() or int(from_index) > 2**53:
        raise ValidationError("from_index", "a leaf index (0 or more)")
    log = await audit_route.access_log(
        session.officer.org, anchorer, access, code, None, None, int(from_index), 200
    )
    for e in log["entries"]:
        e["proof_json"] = json.dumps(e["inclusion_proof"])
        e["fields"] = json.loads(e["entry"])
    return render(
        request, "access_log.html", session, nav="access-log", log=log, project_code=code or "",
        from_index=int(from_index), anchors={a["tree_size"]: a for a in log["anchors"]},
    )  # fmt: skip


@router.post("/access-log/anchor")
async def anchor(
    session: ConsoleSession, form: CheckedForm, anchorer: AnchorerDep, confirmations: ConfirmationsDep
) -> Response:
    """Anchors the access log's root on chain now (auditor), then back to the log."""
    await audit_route.anchor_access_log(session.officer.org, anchorer, confirmations)
    return RedirectResponse("/console/audit/access-log", status_code=303)
