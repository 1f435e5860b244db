"""Reports on the seed plan's targets (承诺制 share, days to construction permit)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from node_api.api.deps import CurrentOrg, ReaderDep
from node_api.api.params import ERRORS, CodePath, checked_code
from node_api.errors import ForbiddenError, NotFoundError
from node_api.ledger.reports import project_report, region_report

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def _require_official(org: CurrentOrg) -> None:
    if not (org.has("approval_authority") or org.has("supervisor") or org.has("auditor")):
        raise ForbiddenError("reports are for approval authorities, supervisors and auditors")


@router.get("/projects/{code}", responses=ERRORS)
async def report_project(code: CodePath, org: CurrentOrg, reader: ReaderDep) -> dict[str, Any]:
    """Approval speed and commitment figures of one project."""
    _require_official(org)
    code = checked_code(code)
    pid = reader.project_id(code)
    if pid is None:
        raise NotFoundError(f"project {code} is not registered")
    return {"code": code, **project_report(reader, pid)}


@router.get("/regions", responses=ERRORS)
async def report_region(
    org: CurrentOrg,
    reader: ReaderDep,
    region: Annotated[
        str,
        Query(
            pattern=r"^\d{2}(\d{2}(\d{2})?)?$", description="62, 6208 or 620825", examples=["620825", "6208"]
        ),
    ] = "620825",
) -> dict[str, Any]:
    """The targets over a province, city or county (by the division segment of project codes)."""
    _require_official(org)
    return region_report(reader, region)
