"""Risk warnings (风险监测预警) and approval clocks: read-only, role-scoped (docs/supervision.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from node_api.api.deps import AccessDep, CurrentOrg, OptionalOrg, ReaderDep, SupervisionDep
from node_api.api.params import ERRORS, CodePath, checked_code
from node_api.errors import NotFoundError
from node_api.store.warnings import WarningFilter

router = APIRouter(tags=["warnings"])

MAX_PAGE = 200


@router.get("/v1/warnings", responses=ERRORS)
async def list_warnings(
    supervision: SupervisionDep,
    org: OptionalOrg,
    region: Annotated[
        str | None, Query(pattern=r"^\d{2,6}$", description="division code or its prefix")
    ] = None,
    organisation: Annotated[int | None, Query(ge=1, description="the responsible organisation's id")] = None,
    severity: Annotated[Literal["low", "medium", "high"] | None, Query()] = None,
    rule: Annotated[str | None, Query(max_length=64, description="a rule id of warning_rules.json")] = None,
    state: Annotated[Literal["open", "closed"] | None, Query()] = None,
    cursor: Annotated[int | None, Query(ge=1, description="next_cursor of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> dict[str, Any]:
    """Warnings, newest first. Reading roles see all; a bank those of projects it holds a live grant
    on; a caller without a token none."""
    f = WarningFilter(region=region, responsible=organisation, severity=severity, rule=rule, state=state)
    items, after = supervision.warnings(org, f, cursor or 0, limit)
    return {"warnings": items, "next_cursor": after}


@router.get("/v1/projects/{code}/warnings", responses=ERRORS)
async def project_warnings(
    code: CodePath,
    org: CurrentOrg,
    reader: ReaderDep,
    access: AccessDep,
    supervision: SupervisionDep,
    state: Annotated[Literal["open", "closed"] | None, Query()] = None,
) -> dict[str, Any]:
    """The warnings of one project, with their history (a reading role, or a live grant)."""
    code = checked_code(code)
    pid = reader.project_id(code)
    if pid is None:
        raise NotFoundError(f"project {code} is not registered")
    basis = access.project_basis(org, pid, "documents") or access.require_project(org, pid, code)
    items, _ = supervision.warnings(org, WarningFilter(projects=[pid], state=state), 0, 1000)
    await access.log(org, "project.warnings", code, code, basis)
    return {"project_code": code, "warnings": items}


@router.get("/v1/projects/{code}/clock", responses=ERRORS)
async def project_clock(
    code: CodePath, org: CurrentOrg, reader: ReaderDep, supervision: SupervisionDep
) -> dict[str, Any]:
    """Per item (受理) elapsed / remaining working days and state, and the project's 50/90 clock, with
    the working-day calendar that counted them (members)."""
    code = checked_code(code)
    pid = reader.project_id(code)
    view = None if pid is None else supervision.clock(pid)
    if view is None:
        raise NotFoundError(f"project {code} is not registered")
    return view
