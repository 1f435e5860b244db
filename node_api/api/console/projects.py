"""The project page everyone shares, project look-up, registration and document download.

Each read goes through the API's route function for it (``get_project``, ``project_history``,
``project_warnings``, ``download_document``): the same access rules, the same access-log
entries — now naming the officer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from node_api.api.console.forms import fields, model, sealed
from node_api.api.console.session import CheckedForm, ConsoleSession
from node_api.api.console.views import render
from node_api.api.deps import (
    AccessDep,
    CatalogueDep,
    ConfirmationsDep,
    DocumentsDep,
    FilingsDep,
    MembershipDep,
    OfficersDep,
    PeersDep,
    ReaderDep,
    SupervisionDep,
    WriterDep,
)
from node_api.api.params import CodePath, checked_code
from node_api.api.routes import documents as documents_route
from node_api.api.routes import projects as projects_route
from node_api.api.routes import records as records_route
from node_api.api.routes import warnings as warnings_route
from node_api.api.schemas import ProjectIn
from node_api.domain.catalogue import ItemVersion
from node_api.domain.records import REPAIR_WAIT
from node_api.domain.warnings import RULES
from node_api.errors import ForbiddenError, NotFoundError
from node_api.ledger.catalogue import Catalogue

router = APIRouter(prefix="/console", include_in_schema=False)

PROJECT_FIELDS = (
    "code",
    "name",
    "owner_uscc",
    "project_type",
    "region_code",
    "industry_code",
    "total_investment",
)
STATUS_ACTIONS: dict[str, list[tuple[str, str, str]]] = {  # record kind -> (action, 中文, English)
    "acceptance": [("pause", "暂停计时", "Pause clock"), ("resume", "恢复计时", "Resume clock")],
    "event": [("resolve", "整改完成", "Resolve"), ("object", "提出异议", "Object"),
              ("uphold-objection", "异议成立", "Uphold objection"),
              ("reject-objection", "异议不成立", "Reject objection"), ("repair", "信用修复", "Credit repair")],
    "commitment": [("fulfil", "已履约", "Fulfilled"), ("breach", "未履约", "Breached")],
    "approval": [("revoke", "撤销", "Revoke")],
}  # fmt: skip
REPAIR_DAYS = {
    "slight": REPAIR_WAIT[1] // 86400,
    "general": REPAIR_WAIT[2] // 86400,
    "serious": REPAIR_WAIT[3] // 86400,
}


@router.get("")
async def home(request: Request, session: ConsoleSession) -> Response:
    """The officer's start page: what their organisation's roles let them do."""
    return render(request, "home.html", session, nav="home")


@router.get("/projects")
async def find_project(request: Request, session: ConsoleSession, code: str = "") -> Response:
    """Look a project up by its code."""
    return RedirectResponse(f"/console/projects/{checked_code(code[:64])}", status_code=303)


@router.get("/projects/new")
async def register_form(request: Request, session: ConsoleSession) -> Response:
    """The registration form (赋码 of a project)."""
    return render(request, "register.html", session, nav="register", values={})


@router.post("/projects/new")
async def register(
    request: Request, session: ConsoleSession, form: CheckedForm, officers: OfficersDep,
    writer: WriterDep, confirmations: ConfirmationsDep,
) -> Response:  # fmt: skip
    """Registers a project through POST /v1/projects (approval authority)."""
    body = model(ProjectIn, fields(form, PROJECT_FIELDS))
    call = projects_route.register_project(body, session.officer.org, writer, confirmations, wait=True)
    done = await sealed(officers, session, "project.register", call)
    return RedirectResponse(f"/console/projects/{body.code}?record={done['uid']}", status_code=303)


async def _optional(call: Any) -> Any:
    """A read the officer may be refused (a bank without a grant): None then, the page still shows."""
    try:
        return await call
    except ForbiddenError:
        return None


@router.get("/projects/{code}")
async def project_page(
    request: Request, code: CodePath, session: ConsoleSession, reader: ReaderDep, access: AccessDep,
    peers: PeersDep, supervision: SupervisionDep, filings: FilingsDep, officers: OfficersDep,
    catalogue: CatalogueDep, membership: MembershipDep, record: str = "",
) -> Response:  # fmt: skip
    """The project page: stages as a timeline, the 一张清单, clocks, warnings, events, commitments, documents."""
    code = checked_code(code)
    org = session.officer.org
    summary = await projects_route.get_project(code, org, reader, access, peers)
    history = await _optional(projects_route.project_history(code, org, reader, access, peers))
    warnings = await _optional(warnings_route.project_warnings(code, org, reader, access, supervision))
    pid = reader.project_id(code)
    clock = supervision.clock(pid) if pid is not None and history is not None else None
    records = (history or {}).get("records", [])
    done = None
    if record:
        done = await _optional(records_route.get_record(record.lower()[:66], org, reader, access, peers))
    return render(
        request, "project.html", session, nav="project", s=summary, checklist=filings.checklist(code),
        records=records, by_officer=officers.attributions([r["uid"] for r in records]),
        warnings=None if warnings is None else warnings["warnings"], clock=clock, done=done,
        actions=STATUS_ACTIONS, repair_days=REPAIR_DAYS, rules=RULES,
        items=catalogue_items(catalogue, org.id), members=[m for m in membership.all() if m.id != org.id],
        documents=_documents(records),
    )  # fmt: skip


def catalogue_items(catalogue: Catalogue, org_id: int) -> list[ItemVersion]:
    """The catalogue items in force that this organisation decides (its 受理 and 批复 choices)."""
    return [i for i in catalogue.in_force() if i.department == org_id and not i.retired]


def _documents(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every document digest a record binds (approval documents, evidence, letters), once."""
    seen: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.get("digest"):
            seen.setdefault(r["digest"], {"digest": r["digest"], "kind": r["kind"], "uid": r["uid"],
                                          "no": r["fields"].get("document_no")})  # fmt: skip
    return list(seen.values())


@router.get("/documents/{digest}")
async def document(
    digest: str, session: ConsoleSession, access: AccessDep, documents: DocumentsDep
) -> Response:
    """Downloads a document through GET /v1/documents/{digest} (uploader, role or a live grant; logged)."""
    digest = digest.lower()[:66]
    if not (
        len(digest) == 66 and digest.startswith("0x") and all(c in "0123456789abcdef" for c in digest[2:])
    ):
        raise NotFoundError("no such document")
    response = await documents_route.download_document(digest, session.officer.org, access, documents)
    response.headers["Content-Disposition"] = f'attachment; filename="{digest[2:18]}"'
    return response
