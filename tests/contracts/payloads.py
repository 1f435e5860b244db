"""Payloads of each record kind, sized like the demo's real ones."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from node_api.domain.records import Kind, Record, project_id
from tests.contracts.harness import Harness


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


def approval_fields(stage: int = 1, decision: int = 0) -> dict[str, Any]:
    """A realistic 批复 payload (sizes as the demo's)."""
    return {
        "stage": stage,
        "decision": decision,
        "item": "项目审批（可行性研究报告批复）",
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


def commitment_fields() -> dict[str, Any]:
    """A credit-commitment payload."""
    return {"commitment_type": 1, "due_at": 1_780_000_000, "restricted": keccak(text="承诺补齐环评批复")}


def grant_fields(grantee: int, expires_at: int) -> dict[str, Any]:
    """An access-grant payload."""
    return {"grantee": grantee, "scope": 1, "expires_at": expires_at}


def reason(text: str = "依法撤销") -> dict[str, Any]:
    """A status-change payload."""
    return {"restricted": keccak(text=text)}


def project_record(h: Harness, code: str, pid: bytes | None = None, org: str = "auth") -> Record:
    """A project registration by ``org`` (id = keccak(code) unless ``pid`` says otherwise)."""
    return h.record(Kind.PROJECT, project_id(code) if pid is None else pid, project_fields(code), org=org)
