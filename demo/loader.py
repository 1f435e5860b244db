"""The demo's seed loader: admits the organisations of ``demo.data``, makes their tokens, files records.

Run once by ``projchain run --demo`` (``make run``), which finds it through the entry
point ``projchain.seeds: demo``. It files the records through the same API paths a
client uses, so the demo exercises the real pipeline and contracts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from demo.data import HEATING, HOSPITAL, ORCHARD, ORGANISATIONS
from node_api.ledger.auth import create_token
from node_api.ledger.writer import seal_key_name

if TYPE_CHECKING:
    from node_api.node import Node

log = logging.getLogger("projchain.demo")


async def load_demo(node: Node, client: httpx.AsyncClient, credentials_path: Path) -> list[dict[str, Any]]:
    """Admits the demo organisations, creates their tokens and files demo records."""
    if node.db.get_meta("demo.loaded") == "1" and credentials_path.exists():
        return list(json.loads(credentials_path.read_text()))
    admins = node.admin_keys()
    creds: list[dict[str, Any]] = []
    tokens: dict[str, str] = {}
    existing = {o.uscc: o for o in node.membership.all()}
    for i, org in enumerate(ORGANISATIONS):
        if org["uscc"] in existing:
            org_id = existing[org["uscc"]].id
        else:
            # The seal key name needs the org id, which the chain assigns: use a temp name first.
            temp = f"seal-pending-{org['key']}"
            seal = node.keystore.get_or_create(temp)
            relayer = node.relayer.address if i == 0 else "0x" + "00" * 20
            org_id = await node.admin.admit(
                admins[:2], org["name"], org["uscc"], org["roles"], seal.address, relayer
            )
            node.keystore.rename(temp, seal_key_name(org_id))
        token = create_token(node.db, org_id, f"demo {org['key']}")
        tokens[org["key"]] = token
        creds.append(
            {"org": org_id, "name": org["name"], "uscc": org["uscc"], "roles": org["roles"], "token": token}
        )
    # Wait until the indexer has seen the admissions (membership is read from chain events).
    while len(node.membership.all()) < len(ORGANISATIONS):
        await node.indexer.updated.wait()
    await _records(client, tokens, {c["name"]: c["org"] for c in creds})
    credentials_path.parent.mkdir(parents=True, exist_ok=True)
    credentials_path.write_text(json.dumps(creds, ensure_ascii=False, indent=2))
    credentials_path.chmod(0o600)
    node.db.set_meta("demo.loaded", "1")
    return creds


async def _post(client: httpx.AsyncClient, token: str, path: str, body: Any, raw: bytes | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if raw is not None:
        r = await client.post(
            path, content=raw, headers={**headers, "Content-Type": "text/plain; charset=utf-8"}
        )
    else:
        r = await client.post(path + "?wait=true", json=body, headers=headers)
    if r.status_code >= 300:
        raise RuntimeError(f"demo: {path} answered {r.status_code}: {r.text}")
    return r.json()


async def _doc(client: httpx.AsyncClient, token: str, text: str) -> str:
    return str((await _post(client, token, "/v1/documents", None, raw=text.encode()))["digest"])


async def _records(client: httpx.AsyncClient, t: dict[str, str], org_ids: dict[str, int]) -> None:
    await _post(
        client,
        t["fgj"],
        "/v1/projects",
        {
            "code": HEATING,
            "name": "庄浪县城区集中供热管网改造工程",
            "owner_uscc": "91620825MA72BT6H8M",
            "project_type": "approval",
            "region_code": "620825",
            "industry_code": "44",
            "total_investment": "186000000.00",
        },
    )
    await _post(
        client,
        t["fgj"],
        "/v1/projects",
        {
            "code": ORCHARD,
            "name": "庄浪县万亩苹果标准化种植基地建设项目",
            "owner_uscc": "91620825MA74XK9R6N",
            "project_type": "filing",
            "region_code": "620825",
            "industry_code": "01",
            "total_investment": "42000000.00",
        },
    )
    await _post(
        client,
        t["fgj"],
        "/v1/projects",
        {
            "code": HOSPITAL,
            "name": "庄浪县第二人民医院综合楼建设项目",
            "owner_uscc": "91620825MA73RD2U3T",
            "project_type": "approval",
            "region_code": "620825",
            "industry_code": "84",
            "total_investment": "97500000.00",
        },
    )

    approvals = [
        ("fgj", HEATING, 1, "项目审批（可行性研究报告批复）", "approved", "庄发改发〔2026〕23号", "2026-03-02"),
        ("zrzyj", HEATING, 1, "用地预审与选址意见书", "approved", "用字第620825202600017号", "2026-03-10"),
        ("zrzyj", HEATING, 2, "建设工程规划许可证", "approved_on_commitment", "建字第620825202600041号", "2026-04-08"),
        ("zjj", HEATING, 3, "施工许可证", "approved", "620825202605120101", "2026-05-12"),
        ("fgj", ORCHARD, 1, "项目备案", "approved", "庄发改备〔2026〕9号", "2026-02-16"),
        ("fgj", HOSPITAL, 1, "项目审批（初步设计批复）", "accepted_with_deficiencies", "庄发改发〔2025〕88号",
         "2025-11-20"),
    ]  # fmt: skip
    for org, code, stage, item, decision, number, issued in approvals:
        digest = await _doc(client, t[org], f"{item} {number} {code} 签发日期 {issued}")
        await _post(
            client,
            t[org],
            f"/v1/projects/{code}/approvals",
            {
                "stage": stage,
                "item": item,
                "decision": decision,
                "document_digest": digest,
                "document_no": number,
                "issued_at": issued,
            },
        )

    letter = await _doc(
        client, t["fgj"], f"承诺书：{HEATING} 建设工程规划许可 告知承诺制，补齐材料期限 2026-10-08"
    )
    await _post(
        client,
        t["fgj"],
        f"/v1/projects/{HEATING}/commitments",
        {
            "commitment_type": "approval_substitute",
            "content_digest": letter,
            "due_date": "2026-10-08",
            "summary": "告知承诺制：开工前补齐管线综合设计审查材料",
        },
    )
    repair_letter = await _doc(client, t["fgj"], f"承诺书：{ORCHARD} 容缺受理，补交环评登记表")
    orchard_c = await _post(
        client,
        t["fgj"],
        f"/v1/projects/{ORCHARD}/commitments",
        {
            "commitment_type": "deficiency_acceptance",
            "content_digest": repair_letter,
            "due_date": "2026-05-30",
            "summary": "容缺受理：30日内补交环境影响登记表",
        },
    )
    await _post(
        client,
        t["fgj"],
        f"/v1/records/{orchard_c['uid']}/fulfil",
        {"reason": "已于2026-04-20补交环境影响登记表"},
    )

    photo = await _doc(client, t["zjj"], f"现场检查记录 {HEATING} 2026-09-03 沟槽开挖未设置安全防护栏")
    description = await _doc(client, t["zjj"], "施工现场沟槽开挖未按规定设置临边防护，责令限期整改")
    await _post(
        client,
        t["zjj"],
        f"/v1/projects/{HEATING}/events",
        {
            "category": "安全文明施工",
            "severity": "general",
            "description_digest": description,
            "evidence_digests": [photo],
            "occurred_at": "2026-09-03",
        },
    )
    slight = await _doc(client, t["scjgj"], "未按期公示项目信息，已责令改正")
    ev = await _post(
        client,
        t["scjgj"],
        f"/v1/projects/{ORCHARD}/events",
        {
            "category": "信息公示",
            "severity": "slight",
            "description_digest": slight,
            "occurred_at": "2026-06-11",
        },
    )
    await _post(
        client, t["scjgj"], f"/v1/records/{ev['uid']}/resolve", {"reason": "已于2026-06-18完成公示整改"}
    )
    await _post(
        client, t["scjgj"], f"/v1/records/{ev['uid']}/repair", {"reason": "轻微失信，整改到位，予以信用修复"}
    )

    authorisation = await _doc(
        client, t["fgj"], f"授权书：{HEATING} 项目单位授权庄浪农商银行查询项目审批信息"
    )
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=180)).isoformat()
    await _post(
        client,
        t["fgj"],
        f"/v1/projects/{HEATING}/grants",
        {
            "grantee_org": org_ids["甘肃庄浪农村商业银行股份有限公司"],
            "scope": "all",
            "expires_at": expires,
            "authorisation_digest": authorisation,
        },
    )
