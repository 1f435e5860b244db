"""Chinese and English names of the chain's values, for what people read (pages, certificates).

Chinese first with English beside it: each value maps to (Chinese, English).
"""

from __future__ import annotations

Pair = tuple[str, str]  # (Chinese, English)

DECISIONS: dict[str, Pair] = {
    "approved": ("同意", "Approved"),
    "approved_on_commitment": ("承诺制同意", "Approved on commitment"),
    "accepted_with_deficiencies": ("容缺受理", "Accepted with deficiencies"),
    "rejected": ("不予批准", "Rejected"),
}
SEVERITIES: dict[str, Pair] = {
    "slight": ("轻微", "Slight"),
    "general": ("一般", "General"),
    "serious": ("严重", "Serious"),
}
PROJECT_TYPES: dict[str, Pair] = {
    "approval": ("审批", "Approval"),
    "ratification": ("核准", "Ratification"),
    "filing": ("备案", "Filing"),
}
COMMITMENT_TYPES: dict[str, Pair] = {
    "approval_substitute": ("审批替代型", "Approval substitute"),
    "deficiency_acceptance": ("容缺受理型", "Deficiency acceptance"),
    "self_discipline": ("行业自律型", "Self-discipline"),
    "credit_repair": ("信用修复型", "Credit repair"),
}
STATUSES: dict[str, tuple[str, str, str]] = {  # (Chinese, English, tone)
    "active": ("有效", "Active", "ok"),
    "revoked": ("已撤销", "Revoked", "muted"),
    "superseded": ("已变更", "Superseded", "muted"),
    "open": ("待整改", "Open", "warn"),
    "objected": ("异议处理中", "Under objection", "warn"),
    "resolved": ("已整改", "Resolved", "ok"),
    "repaired": ("已信用修复", "Credit repaired", "ok"),
    "annulled": ("已撤销", "Annulled", "muted"),
    "pending": ("履约中", "In progress", "warn"),
    "overdue": ("已逾期", "Overdue", "bad"),
    "fulfilled": ("已履约", "Fulfilled", "ok"),
    "breached": ("未履约", "Breached", "bad"),
    "not_started": ("未开始", "Not started", "muted"),
    "in_progress": ("办理中", "In progress", "warn"),
    "approved": ("已批准", "Approved", "ok"),
    "rejected": ("不予批准", "Rejected", "bad"),
    # An approval past its valid_until, and a stage whose approvals all are (derived when read).
    "expired": ("已过期", "Expired", "bad"),
}
STAGE_NAMES_EN = {
    "1": "Project approval, land use and planning permit",
    "2": "Construction engineering permit",
    "3": "Construction permit",
    "4": "Completion acceptance",
}
