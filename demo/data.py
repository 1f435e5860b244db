"""Demo data of 庄浪县 (620825): the organisations of ``projchain run --demo``, its catalogue and its projects' codes.

Every USCC below passes ``node_api.domain.uscc.validate_uscc`` (both check characters and the
registration authority / category pair); they are made up, not the organisations' real codes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The catalogue's departments (demo/catalogue.json, docs/catalogue.md) hold approval_authority: only
# an item's department records approvals of it. 政务服务中心 maintains the catalogue and decides no item.
# sthj, slj, rfb and the three utility companies (供水 / 供电 / 燃气 报装: services, not administrative
# approvals, kept in the approval list as the seed puts them into the 工改系统) are there for the
# catalogue; their names follow docs/catalogue.md, where the uncertain ones are flagged.
ORGANISATIONS: list[dict[str, Any]] = [
    {"key": "zwfw", "name": "庄浪县政务服务中心", "uscc": "116208250139204126", "roles": ["catalogue"]},
    {"key": "fgj", "name": "庄浪县发展和改革局", "uscc": "11620825013920439X", "roles": ["approval_authority"]},
    {"key": "zrzyj", "name": "庄浪县自然资源局", "uscc": "11620825013920455K", "roles": ["approval_authority"]},
    {"key": "zjj", "name": "庄浪县住房和城乡建设局", "uscc": "116208250139204719",
     "roles": ["approval_authority", "supervisor"]},
    {"key": "scjgj", "name": "庄浪县市场监督管理局", "uscc": "116208250139204981",
     "roles": ["supervisor", "approval_authority"]},
    {"key": "sjj", "name": "庄浪县审计局", "uscc": "116208250139205A25", "roles": ["auditor"]},
    {"key": "bank", "name": "甘肃庄浪农村商业银行股份有限公司", "uscc": "91620825MA71PX3KXP",
     "roles": ["financial_institution"]},
    {"key": "sthj", "name": "平凉市生态环境局庄浪分局", "uscc": "116208000139205275", "roles": ["approval_authority"]},
    {"key": "slj", "name": "庄浪县水务局", "uscc": "116208250139205357", "roles": ["approval_authority"]},
    {"key": "rfb", "name": "庄浪县人民防空办公室", "uscc": "116208250139205432", "roles": ["approval_authority"]},
    {"key": "gsgs", "name": "庄浪县水务投资有限责任公司", "uscc": "91620825MA71GQ017M", "roles": ["approval_authority"]},
    {"key": "gdgs", "name": "国网甘肃省电力公司庄浪县供电公司", "uscc": "91620825MA71GD02XB",
     "roles": ["approval_authority"]},
    {"key": "rqgs", "name": "庄浪县城市燃气有限公司", "uscc": "91620825MA71RQ0331", "roles": ["approval_authority"]},
]  # fmt: skip

CATALOGUE_ORG = "zwfw"  # issues the catalogue (the catalogue role)
CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")

HEATING = "2026-620825-44-01-000317"
ORCHARD = "2026-620825-01-03-000512"
HOSPITAL = "2025-620825-84-01-000098"


def catalogue() -> list[dict[str, Any]]:
    """The demo catalogue of 庄浪县: 40 items over the four stages (sources: docs/catalogue.md)."""
    items: list[dict[str, Any]] = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return items


def guide(item: dict[str, Any]) -> str:
    """The item's 服务指南 as a document: its name, legal basis and materials (its digest goes on chain)."""
    materials = "\n".join(f"{i}. {m}" for i, m in enumerate(item["materials"], 1))
    return f"{item['code']} {item['name']}\n设定依据：{item['legal_basis']}\n申请材料：\n{materials}\n"
