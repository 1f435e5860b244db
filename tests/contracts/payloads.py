"""Payloads of each record kind, sized like the demo's real ones, and the session's catalogue items."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from node_api.domain.records import ZERO32, Kind, Record, project_id
from tests.contracts.harness import Harness

# The catalogue items of the session world (conftest): for each stage and each of the two approval
# authorities, one item of each 承诺制 type an approval decision may need (none: the negative list,
# 信用承诺制 for approved_on_commitment, 容缺受理 for accepted_with_deficiencies).
# (code, stage, department, 承诺制 type: 0 none, 1 容缺受理, 2 信用承诺制)
_KINDS = {0: ("", 0), 1: ("-CREDIT", 2), 2: ("-DEF", 1)}  # decision -> (code suffix, item commitment)
_PREFIX = {"auth": "T", "auth2": "T2"}
WORLD_ITEMS: list[tuple[str, int, str, int]] = [
    (f"{prefix}-S{stage}{suffix}", stage, org, commitment)
    for org, prefix in _PREFIX.items()
    for stage in (1, 2, 3, 4)
    for suffix, commitment in _KINDS.values()
]


def item_code(stage: int = 1, decision: int = 0, org: str = "auth") -> str:
    """The world's item an approval of ``org`` with this stage and decision names."""
    return f"{_PREFIX[org]}-S{stage}{_KINDS.get(decision, ('', 0))[0]}"


def catalogue_fields(
    code: str,
    department: int,
    version: int = 1,
    stage: int = 1,
    commitment: int = 0,
    retired: int = 0,
    **over: Any,
) -> dict[str, Any]:
    """A catalogue item version (sized like the demo catalogue's)."""
    fields = {
        "code": code,
        "version": version,
        "name": "建设项目用地预审与选址意见书核发",
        "stage": stage,
        "list": 1,
        "department": department,
        "time_limit_days": 10,
        "on_the_spot": 0,
        "commitment": commitment,
        "retired": retired,
        "depends_on": [keccak(text="ZL-S1-015")],
        "guide": keccak(text=f"服务指南 {code}"),
    }
    fields.update(over)
    return fields


def catalogue_record(h: Harness, code: str, org: str = "cat", **fields: Any) -> Record:
    """A catalogue record of ``code`` sealed by ``org`` (``fields`` as for ``catalogue_fields``)."""
    department = fields.pop("department", h.orgs["auth"].id)
    return h.record(Kind.CATALOGUE, ZERO32, catalogue_fields(code, department, **fields), org=org)


def project_fields(code: str) -> dict[str, Any]:
    """A registration payload for ``code``."""
    return {
        "code": code,
        "name": "庄浪县城区集中供热管网改造工程",
        "owner_uscc": "91620825MA72BT6H8M",
        "project_type": 1,
        "region_code": "620825",
        "industry_code": "44",
        "restricted": keccak(b"restricted project content"),
    }


def approval_fields(
    stage: int = 1, decision: int = 0, item: str | None = None, item_version: int = 1, org: str = "auth"
) -> dict[str, Any]:
    """A realistic 批复 payload (sizes as the demo's) of the world's item for ``org``, stage and decision."""
    return {
        "stage": stage,
        "decision": decision,
        "item": item_code(stage, decision, org) if item is None else item,
        "item_version": item_version,
        "document_no": "庄发改发〔2026〕23号",
        "issued_at": 1_772_409_600,
        "valid_until": 0,
        "restricted": keccak(b"restricted approval content"),
    }


def event_fields(severity: int) -> dict[str, Any]:
    """An abnormal-event payload."""
    return {
        "severity": severity,
        "category": "未批先建",
        "occurred_at": 1_772_409_600,
        "publish_until": 1_780_000_000,
        "evidence": [keccak(b"photo")],
        "restricted": keccak(b"restricted event content"),
    }


def commitment_fields(commitment_type: int = 1, approval: bytes = ZERO32) -> dict[str, Any]:
    """A credit-commitment payload, free-standing unless it names an ``approval``."""
    return {
        "commitment_type": commitment_type,
        "approval": approval,
        "due_at": 1_780_000_000,
        "restricted": keccak(text="承诺补齐环评批复"),
    }


def grant_fields(grantee: int, expires_at: int) -> dict[str, Any]:
    """An access-grant payload."""
    return {"grantee": grantee, "scope": 1, "expires_at": expires_at}


def reason(text: str = "依法撤销") -> dict[str, Any]:
    """A status-change payload."""
    return {"restricted": keccak(text=text)}


def project_record(h: Harness, code: str, pid: bytes | None = None, org: str = "auth") -> Record:
    """A project registration by ``org`` (id = keccak(code) unless ``pid`` says otherwise)."""
    return h.record(Kind.PROJECT, project_id(code) if pid is None else pid, project_fields(code), org=org)
