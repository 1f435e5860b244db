"""Demo data of 庄浪县 (620825): the organisations of ``projchain run --demo`` and its projects' codes."""

from __future__ import annotations

from typing import Any

ORGANISATIONS: list[dict[str, Any]] = [
    {"key": "zwfw", "name": "庄浪县政务服务中心", "uscc": "116208250139204126", "roles": ["approval_authority"]},
    {"key": "fgj", "name": "庄浪县发展和改革局", "uscc": "11620825013920439X", "roles": ["approval_authority"]},
    {"key": "zrzyj", "name": "庄浪县自然资源局", "uscc": "11620825013920455K", "roles": ["approval_authority"]},
    {"key": "zjj", "name": "庄浪县住房和城乡建设局", "uscc": "116208250139204719",
     "roles": ["approval_authority", "supervisor"]},
    {"key": "scjgj", "name": "庄浪县市场监督管理局", "uscc": "116208250139204981", "roles": ["supervisor"]},
    {"key": "sjj", "name": "庄浪县审计局", "uscc": "116208250139205A25", "roles": ["auditor"]},
    {"key": "bank", "name": "甘肃庄浪农村商业银行股份有限公司", "uscc": "91620825MA71PX3KXP",
     "roles": ["financial_institution"]},
]  # fmt: skip

HEATING = "2026-620825-44-01-000317"
ORCHARD = "2026-620825-01-03-000512"
HOSPITAL = "2025-620825-84-01-000098"
