"""The seed plan's targets, computed from the chain: per project and per county.

- commitment-based approvals (承诺制: 容缺受理 and 信用承诺制 decisions) ≥ 50 % of the
  approvals of items not on the negative list (items whose 承诺制 type is not none), by
  stage and by department too (issue #11);
- ordinary projects approved within 50 days before the construction permit
  (施工许可), 90 days at most — measured from the first stage-1 批复 to the first
  stage-3 批复, by their issue dates;
- share of approvals issued on the day of application is not derivable from the
  chain (the application date is not recorded), so it is not reported.

Region and type come from one source, the project code where its shape carries them
(``project_facts``: the division always, the type in the classic shape), as in the
project summary; the regional report selects projects by that same division segment.
An approval that has since expired still counts: it was issued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from node_api.domain.catalogue import ITEM_COMMITMENT_NAMES
from node_api.domain.project_code import project_facts
from node_api.domain.records import CATALOGUE_LISTS, STAGES
from node_api.ledger.reader import Reader

TARGET_DAYS = 50
MAX_DAYS = 90
COMMITMENT_TARGET = 0.5
_ON_COMMITMENT = ("approved_on_commitment", "accepted_with_deficiencies")  # 信用承诺制, 容缺受理


def _day(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def registration_facts(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Region, industry and type of a project from its latest readable registration among ``records``.

    The same source as the project summary's: the code where its shape carries them (project_facts).
    """
    registration = next(
        (r for r in reversed(records) if r["kind"] == "project" and r.get("readable", True)
         and r["status"] in ("active", "revoked")),
        None,
    )  # fmt: skip
    if registration is None:
        return {"region_code": None, "industry_code": None, "project_type": None}
    return project_facts(str(registration["fields"]["code"]), registration["fields"])


def _commitment_eligible(reader: Reader, approval: dict[str, Any]) -> bool:
    """Whether an approval is of an approval-list item not on the negative list (in the version it names)."""
    if reader.catalogue is None:
        return False
    item = reader.catalogue.item_of(approval["fields"])
    return (
        item is not None
        and item.list == CATALOGUE_LISTS["approval"]
        and ITEM_COMMITMENT_NAMES.get(item.commitment) != "none"
    )


def _share(on_commitment: int, eligible: int) -> dict[str, Any]:
    share = on_commitment / eligible if eligible else None
    return {
        "eligible_approvals": eligible,
        "on_commitment": on_commitment,
        "share": None if share is None else round(share, 4),
        "target_met": None if share is None else share >= COMMITMENT_TARGET,
    }


def _commitment_counts(reader: Reader, approvals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per live approval of an eligible item: stage, department and whether it rests on a commitment."""
    return [
        {"stage": a["fields"]["stage"], "department": a["issuer"].get("id"), "name": a["issuer"].get("name"),
         "on_commitment": a["fields"]["decision"] in _ON_COMMITMENT}
        for a in approvals if _commitment_eligible(reader, a)
    ]  # fmt: skip


def project_report(reader: Reader, project: str) -> dict[str, Any]:
    """Approval-speed and commitment figures of one project (live approvals only)."""
    return _project_figures(reader, project)[0]


def _project_figures(reader: Reader, project: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``project_report`` and its approvals that count for the 承诺制 share (``_commitment_counts``)."""
    records = [r for r in reader.project_records(project) if r["state"] == "confirmed"]
    approvals = [r for r in records if r["kind"] == "approval" and r["status"] in ("active", "expired")]
    counted = _commitment_counts(reader, approvals)
    first: dict[int, dt.date | None] = {}
    for n in (1, 2, 3, 4):
        issued = [_day(a["fields"]["issued_at"]) for a in approvals
                  if a["fields"]["stage"] == n and a["fields"]["decision"] != "rejected"]  # fmt: skip
        first[n] = min((d for d in issued if d is not None), default=None)
    days = (first[3] - first[1]).days if first[1] and first[3] else None
    on_commitment = sum(1 for a in approvals if a["fields"]["decision"] == "approved_on_commitment")
    facts = registration_facts([r for r in records if r["readable"]])
    report = {
        "region_code": facts["region_code"],
        "project_type": facts["project_type"],
        "approvals": len(approvals),
        "approved_on_commitment": on_commitment,
        "commitment": _share(sum(c["on_commitment"] for c in counted), len(counted)),
        "stage_first_approval": {str(k): (v.isoformat() if v else None) for k, v in first.items()},
        "days_to_construction_permit": days,
        "within_50_days": None if days is None else days <= TARGET_DAYS,
        "within_90_days": None if days is None else days <= MAX_DAYS,
        "open_events": sum(
            1 for r in records if r["kind"] == "event" and r["status"] in ("open", "objected")
        ),
        "commitments_breached": sum(
            1 for r in records if r["kind"] == "commitment" and r["status"] == "breached"
        ),
        "commitments_overdue": sum(
            1 for r in records if r["kind"] == "commitment" and r["status"] == "overdue"
        ),
    }
    return report, counted


def region_report(reader: Reader, region_prefix: str) -> dict[str, Any]:
    """The same figures over every project whose region code starts with ``region_prefix``."""
    projects = reader.projects_in_region(region_prefix)
    figures = {row["code"]: _project_figures(reader, row["project"]) for row in projects}
    per_project = {code: report for code, (report, _) in figures.items()}
    approvals = sum(p["approvals"] for p in per_project.values())
    counted = [c for _, of_project in figures.values() for c in of_project]
    overall = _share(sum(c["on_commitment"] for c in counted), len(counted))
    by_stage = {
        str(n): {"name": name, **_share(sum(c["on_commitment"] for c in of), len(of))}
        for n, name in STAGES.items()
        for of in [[c for c in counted if c["stage"] == n]]
    }
    departments = sorted({(c["department"], c["name"]) for c in counted}, key=lambda d: d[0] or 0)
    by_department = {
        str(org): {"name": name, **_share(sum(c["on_commitment"] for c in of), len(of))}
        for org, name in departments
        for of in [[c for c in counted if c["department"] == org]]
    }
    measured = [p for p in per_project.values() if p["days_to_construction_permit"] is not None]
    return {
        "region_prefix": region_prefix,
        "projects": len(per_project),
        "approvals": approvals,
        # 容缺受理 and 信用承诺制 approvals over the approvals of items not on the negative list
        "commitment_share": overall["share"],
        "commitment_target_met": overall["target_met"],
        "commitment": {**overall, "by_stage": by_stage, "by_department": by_department},
        "projects_with_construction_permit": len(measured),
        "share_within_50_days": round(sum(p["within_50_days"] for p in measured) / len(measured), 4)
        if measured
        else None,
        "over_90_days": sorted(code for code, p in per_project.items() if p["within_90_days"] is False),
        "by_project": per_project,
    }
