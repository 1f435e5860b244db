"""Reports on the seed plan's targets (承诺制 share, days to construction permit)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from node_api.api.deps import CurrentOrg, MembershipDep, ReaderDep, SupervisionDep
from node_api.api.params import ERRORS, CodePath, checked_code
from node_api.errors import ForbiddenError, NotFoundError
from node_api.ledger.reports import project_report, region_report
from node_api.ledger.supervision import targets_view
from node_api.ledger.target_exports import to_csv, to_xlsx

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


Region = Annotated[
    str,
    Query(pattern=r"^\d{2}(\d{2}(\d{2})?)?$", description="62, 6208 or 620825", examples=["620825", "6208"]),
]
TableId = Annotated[
    Literal["same_day", "instant_filing", "commitment", "project_days"],
    Query(alias="table", description="which of the four target tables"),
]


@router.get("/regions", responses=ERRORS)
async def report_region(
    org: CurrentOrg, reader: ReaderDep, supervision: SupervisionDep, region: Region = "620825"
) -> dict[str, Any]:
    """The targets over a province, city or county (by the division segment of project codes), with
    the four seed targets counted in working days (``targets``, the calendar named)."""
    _require_official(org)
    return {**region_report(reader, region), "targets": targets_view(supervision.targets(region))}


@router.get("/targets.csv", responses=ERRORS, response_class=Response)
async def targets_csv(
    org: CurrentOrg, supervision: SupervisionDep, membership: MembershipDep, table: TableId = "same_day",
    region: Region = "620825",
) -> Response:  # fmt: skip
    """One target table as CSV (UTF-8 with BOM, for Excel), headed by the working-day calendar."""
    _require_official(org)
    names = {o.id: o.name for o in membership.all()}
    body = to_csv(supervision.targets(region), table, names)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="targets-{region}-{table}.csv"'})  # fmt: skip


@router.get("/targets.xlsx", responses=ERRORS, response_class=Response)
async def targets_xlsx(
    org: CurrentOrg, supervision: SupervisionDep, membership: MembershipDep, region: Region = "620825"
) -> Response:
    """The four target tables as one workbook, a sheet each, headed by the working-day calendar."""
    _require_official(org)
    names = {o.id: o.name for o in membership.all()}
    return Response(
        to_xlsx(supervision.targets(region), names),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="targets-{region}.xlsx"'},
    )
