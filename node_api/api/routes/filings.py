"""秒批秒办 filing: file a project (the filing authority), its 备案证, and the project's 一张清单."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from node_api.api.deps import AccessDep, CurrentOrg, FilingsDep, ReaderDep
from node_api.api.params import ERRORS, WRITE_RESPONSES, CodePath, IdemKey, checked_code
from node_api.api.payloads import filing_facts
from node_api.api.schemas import FilingIn
from node_api.errors import ForbiddenError, NotFoundError

router = APIRouter(tags=["filings"])


@router.post("/v1/filings", status_code=201, responses=WRITE_RESPONSES)
async def file_project(
    body: FilingIn, org: CurrentOrg, filings: FilingsDep, idempotency_key: IdemKey = None
) -> Response:
    """File an owner's project (备案) in one request (the filing item's department, e.g. 发改局).

    Checks the facts (owner USCC, a division of 甘肃, an industry not on the negative list for
    备案), allocates the project code, registers the project, records the 受理 at the instant the
    request arrived (秒批 is measured from it), the filing approval and the
    project's 一张清单, waits until the chain confirmed them, and answers 201 with the code, the
    records and the 备案证 URL. Nothing is written when a check fails.

    With an ``Idempotency-Key``, asking again (a timeout, a lost answer) answers the first filing's
    201 again (``Idempotent-Replayed: true``) instead of filing the project twice; 409 while it is
    still running, or when the key was used for another request.
    """
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    filed, replayed = await filings.file_once(org, filing_facts(body), idempotency_key, fingerprint)
    url = f"/v1/filings/{filed.code}/certificate"
    return JSONResponse(
        {
            "code": filed.code,
            "registration": filed.registration,
            "acceptance": filed.acceptance,
            "filing": filed.filing,
            "checklist": filed.checklist,
            "certificate_url": url,
            "checklist_url": f"/v1/projects/{filed.code}/checklist",
            "code_attempts": filed.attempts,
        },
        status_code=201,
        headers={
            "Location": url,
            "Link": f'<{url}>; rel="alternate"; type="application/pdf"',
            **({"Idempotent-Replayed": "true"} if replayed else {}),
        },
    )


@router.get(
    "/v1/filings/{code}/certificate",
    responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "the 备案证"}},
)
async def filing_certificate(
    code: CodePath, org: CurrentOrg, filings: FilingsDep, reader: ReaderDep, access: AccessDep
) -> Response:
    """The 备案证 PDF of a filing made through this node: for the filing authority and those who may
    read the project's restricted fields (it shows the total investment and the owner's name)."""
    code = checked_code(code)
    row = filings.certificate(code)
    pid = reader.project_id(code)
    if pid is None:
        raise NotFoundError(f"project {code} is not registered")
    basis = "filing_authority" if org.id == row.org_id else access.project_basis(org, pid, "fields")
    if basis is None:
        raise ForbiddenError(f"{org.name} may not read the restricted fields of {code}")
    await access.log(org, "filing.certificate", code, code, basis)
    return Response(
        row.certificate,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="beianzheng-{code}.pdf"'},
    )


@router.get("/v1/projects/{code}/checklist", tags=["projects"], responses=ERRORS)
async def project_checklist(code: CodePath, filings: FilingsDep) -> dict[str, Any]:
    """The project's 一张清单 (public): the catalogue items it must pass, by stage, with departments
    and time limits, each done (with the approval that ticked it) or pending."""
    return filings.checklist(checked_code(code))
