"""Work lists: the approval department's queue (accepted items and their clocks) and the warnings
dashboard (filters, counts by rule and by responsible department, warnings over time)."""

from __future__ import annotations

import collections
from typing import Any

from fastapi import APIRouter, Request, Response

from node_api.api.console.session import ConsoleSession
from node_api.api.console.views import render
from node_api.api.deps import MembershipDep, ReaderDep, SupervisionDep
from node_api.api.routes import warnings as warnings_route
from node_api.domain.warnings import RULES
from node_api.errors import ForbiddenError, ValidationError

router = APIRouter(prefix="/console", include_in_schema=False)

# Overdue first, then those running closest to their limit; paused ones after the running.
_ORDER = {"overdue": 0, "running": 1, "paused": 2, "uncounted": 3}
MAX_WARNINGS = 2000  # warnings one dashboard counts


@router.get("/queue")
async def queue(
    request: Request, session: ConsoleSession, reader: ReaderDep, supervision: SupervisionDep
) -> Response:
    """Items this department accepted (受理) and has not decided, overdue and due soon first."""
    org = session.officer.org
    if not org.has("approval_authority"):
        raise ForbiddenError(f"{org.name} is not an approval authority; the work queue is theirs")
    rows: list[dict[str, Any]] = []
    for project in reader.projects_in_region(""):
        clock = supervision.clock(str(project["project"]))
        for item in (clock or {}).get("items", []):
            if item["department"] == org.id and item["decision"] is None:
                rows.append({**item, "project_code": project["code"]})
    rows.sort(
        key=lambda i: (_ORDER.get(i["state"], 9), i["remaining"] if i["remaining"] is not None else 10**6)
    )
    return render(request, "queue.html", session, nav="queue", items=rows)


@router.get("/warnings")
async def warnings(
    request: Request, session: ConsoleSession, supervision: SupervisionDep, membership: MembershipDep,
    region: str = "", organisation: str = "", severity: str = "", rule: str = "", state: str = "open",
) -> Response:  # fmt: skip
    """The warnings this officer may see (as GET /v1/warnings), filtered, with counts and a chart."""
    f = _filters(region, organisation, severity, rule, state)
    found: list[dict[str, Any]] = []
    cursor: int | None = None
    while len(found) < MAX_WARNINGS:
        page = await warnings_route.list_warnings(
            supervision, session.officer.org, cursor=cursor, limit=200, **f
        )
        found += page["warnings"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    names = {m.id: m.name for m in membership.all()}
    by_rule = collections.Counter(w["rule"] for w in found)
    by_org = collections.Counter(names.get(w["responsible"], "—") for w in found)
    by_day = collections.Counter((w["first_fired_at"] or "")[:10] for w in found)
    return render(
        request, "warnings.html", session, nav="warnings", warnings=found[:500], total=len(found),
        by_rule=by_rule.most_common(), by_org=by_org.most_common(), days=sorted(by_day.items())[-30:],
        rules=RULES, members=sorted(names.items()), names=names, chosen={"region": region,
        "organisation": organisation, "severity": severity, "rule": rule, "state": state},
    )  # fmt: skip


def _filters(region: str, organisation: str, severity: str, rule: str, state: str) -> dict[str, Any]:
    """The dashboard's filters as GET /v1/warnings takes them (empty = any); bad ones are named (422)."""
    out: dict[str, Any] = {
        "region": None,
        "organisation": None,
        "severity": None,
        "rule": None,
        "state": None,
    }
    if region:
        if not (region.isdigit() and 2 <= len(region) <= 6):
            raise ValidationError("region", "a division code or its prefix (2–6 digits)")
        out["region"] = region
    if organisation:
        if not organisation.isdigit() or not 1 <= int(organisation) < 2**32:
            raise ValidationError("organisation", "an organisation id")
        out["organisation"] = int(organisation)
    for name, value, allowed in (
        ("severity", severity, ("low", "medium", "high")),
        ("state", state, ("open", "closed")),
    ):
        if value:
            if value not in allowed:
                raise ValidationError(name, f"one of {', '.join(allowed)}")
            out[name] = value
    if rule:
        if rule not in RULES.rules:
            raise ValidationError("rule", "a rule id of the rule set")
        out["rule"] = rule
    return out
