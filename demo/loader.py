"""The demo's seed loader: admits the organisations of ``demo.data``, makes their tokens, writes the
catalogue (事项库) and files records whose approvals name its items.

Run once by ``projchain run --demo`` (``make run``), which finds it through the entry
point ``projchain.seeds: demo``. It files the records through the same API paths a
client uses, so the demo exercises the real pipeline and contracts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from demo.data import CATALOGUE_ORG, HEATING, HOSPITAL, ORCHARD, ORGANISATIONS, catalogue, guide
from node_api.errors import ConflictError
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
    org_ids = {org["key"]: c["org"] for org, c in zip(ORGANISATIONS, creds, strict=True)}
    for org, c in zip(ORGANISATIONS, creds, strict=True):
        c["officer"] = _officer(node, org["key"], c["org"], org["name"])
    await _catalogue(client, tokens[CATALOGUE_ORG], org_ids)
    await _records(client, tokens, {c["name"]: c["org"] for c in creds})
    credentials_path.parent.mkdir(parents=True, exist_ok=True)
    credentials_path.write_text(json.dumps(creds, ensure_ascii=False, indent=2))
    credentials_path.chmod(0o600)
    node.db.set_meta("demo.loaded", "1")
    return creds


def _officer(node: Node, key: str, org_id: int, org_name: str) -> dict[str, str] | None:
    """One console officer of a demo organisation (docs/console.md): its username and password."""
    password = secrets.token_urlsafe(12)
    try:
        node.officers.add(org_id, f"{key}.demo", f"{org_name}经办人", password)
    except ConflictError:  # made by an earlier, interrupted load: its password was printed then
        return None
    return {"username": f"{key}.demo", "password": password}


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


async def _supervision(client: httpx.AsyncClient, t: dict[str, str]) -> None:
    """HOSPITAL's approval clocks (docs/supervision.md), dated from today so that they stay live: a
    stage-1 批复 valid until 2026-05-25 (expired) that the stage-2 item accepted two days ago still
    relies on (a live clock, and approval.expired_relied_on); an item accepted 40 days ago, paused
    for 专家评审 after its 20 working days ran out (item.overdue while paused). Its 容缺受理
    commitment, due 2025-12-20 and pending, is the overdue commitment (commitment.overdue). And one
    秒批秒办 filing, counted in the 秒批 target."""
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    digest = await _doc(
        client, t["fgj"], f"企业投资项目核准批复 庄发改发〔2025〕91号 {HOSPITAL} 签发日期 2025-11-25"
    )
    await _post(client, t["fgj"], f"/v1/projects/{HOSPITAL}/approvals", {
        "stage": 1, "item": "ZL-S1-004", "decision": "approved", "document_digest": digest,
        "document_no": "庄发改发〔2025〕91号", "issued_at": "2025-11-25", "valid_until": "2026-05-25"})  # fmt: skip
    paused = await _post(client, t["fgj"], f"/v1/projects/{HOSPITAL}/acceptances", {
        "item": "ZL-S1-002", "accepted_at": (now - dt.timedelta(days=40)).isoformat()})  # fmt: skip
    await _post(client, t["fgj"], f"/v1/records/{paused['uid']}/pause", {"reason": "专家评审"})
    await _post(client, t["fgj"], f"/v1/projects/{HOSPITAL}/acceptances", {
        "item": "ZL-S2-003", "accepted_at": (now - dt.timedelta(days=2)).isoformat()})  # fmt: skip
    # One 秒批秒办 filing (docs/filings.md), so that the 秒批 table has a filing to count.
    pledge = await _doc(
        client, t["fgj"], "信用承诺书：庄浪县绿源新能源科技有限公司承诺所填报备案信息真实、准确、完整"
    )
    await _post(client, t["fgj"], "/v1/filings", {
        "name": "庄浪县万泉镇光伏农业综合利用项目", "owner_uscc": "91620825MA74XK9R6N",
        "owner_name": "庄浪县绿源新能源科技有限公司", "region_code": "620825", "industry_code": "44",
        "total_investment": "31415926.53", "construction_content": "建设农光互补光伏电站 20MW 及配套设施",
        "pledge_digest": pledge})  # fmt: skip


async def _doc(client: httpx.AsyncClient, token: str, text: str) -> str:
    return str((await _post(client, token, "/v1/documents", None, raw=text.encode()))["digest"])


async def _catalogue(client: httpx.AsyncClient, token: str, org_ids: dict[str, int]) -> None:
    """The 40 items of demo/catalogue.json, version 1 each, written by the catalogue role (政务服务中心).

    Prerequisites first (the node checks that an item's ``depends_on`` are in the catalogue, or
    on their way there); each item's 服务指南 is uploaded and its digest goes on chain.
    """
    items = {item["code"]: item for item in catalogue()}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    while len(ordered) < len(items):
        ready = [i for code, i in items.items() if code not in placed and set(i["depends_on"]) <= placed]
        if not ready:
            raise RuntimeError("demo/catalogue.json: depends_on has a cycle or names an unknown item")
        ordered += ready
        placed |= {i["code"] for i in ready}
    last: dict[str, Any] = {}
    for item in ordered:
        body = {
            "code": item["code"],
            "name": item["name"],
            "stage": item["stage"],
            "list": item["list"],
            "department": org_ids[item["department"]],
            "time_limit_days": item["time_limit_working_days"],
            "on_the_spot": item["on_the_spot"],
            "commitment": item["commitment"],
            "depends_on": item["depends_on"],
            "guide_digest": await _doc(client, token, guide(item)),
        }
        r = await client.post("/v1/catalogue/items", json=body, headers={"Authorization": f"Bearer {token}"})
        if r.status_code >= 300:
            raise RuntimeError(f"demo: catalogue item {item['code']} answered {r.status_code}: {r.text}")
        last = r.json()
    # Accepted in order, sent in order: once the last is on chain, every one is (or failed).
    while last.get("state") == "pending":
        r = await client.get(f"/v1/catalogue/{last['code']}")
        if r.status_code == 200:
            break
        await asyncio.sleep(0.2)
    listed = (await client.get("/v1/catalogue", params={"limit": 200})).json()["items"]
    if len(listed) != len(items):
        raise RuntimeError(f"demo: {len(listed)} of the {len(items)} catalogue items are on chain")


def commitment_letter(kind: str, project: tuple[str, str, str], item: tuple[str, str], department: str,
            promises: list[str], due: str, signed: str, missing: list[str] | None = None) -> str:  # fmt: skip
    """A 承诺书 in the unified format (docs/commitment-letter.schema.json), as the owner uploads it."""
    code, name, uscc = project
    letter: dict[str, Any] = {
        "format": "projchain/commitment-letter/v1",
        "type": kind,
        "project": {"code": code, "name": name},
        "owner": {"name": f"{name}项目单位", "uscc": uscc},
        "item": {"code": item[0], "name": item[1]},
        "department": department,
        "commitments": promises,
        "due_date": due,
        "consequences": "未按期履行承诺的，同意撤销相关审批决定，依法承担相应责任，失信行为记入企业信用记录。",
        "consent_to_publish": True,
        "signed": {"date": signed, "signatory": "法定代表人"},
    }
    if missing is not None:
        letter["missing"] = [{"name": m, "due_date": due} for m in missing]
    return json.dumps(letter, ensure_ascii=False, indent=2)


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

    owners = {
        HEATING: ("庄浪县城区集中供热管网改造工程", "91620825MA72BT6H8M"),
        ORCHARD: ("庄浪县万亩苹果标准化种植基地建设项目", "91620825MA74XK9R6N"),
        HOSPITAL: ("庄浪县第二人民医院综合楼建设项目", "91620825MA73RD2U3T"),
    }
    # (organisation, project, catalogue item, decision, document no., issued, commitment): each
    # approval names an item of demo/catalogue.json that its organisation decides, in its stage.
    # A commitment is (promises, due date, materials still missing: 容缺受理 only).
    Commitment = tuple[list[str], str, list[str]]
    approvals: list[tuple[str, str, str, str, str, str, Commitment | None]] = [
        ("fgj", HEATING, "ZL-S1-004", "approved", "庄发改发〔2026〕23号", "2026-03-02", None),
        ("zrzyj", HEATING, "ZL-S1-005", "approved", "用字第620825202600017号", "2026-03-10", None),
        ("zrzyj", HEATING, "ZL-S2-002", "approved", "建字第620825202600041号", "2026-04-08", None),
        ("zjj", HEATING, "ZL-S3-004", "approved", "620825202605120101", "2026-05-12", None),
        ("zjj", HEATING, "ZL-S3-005", "approved_on_commitment", "庄住建路〔2026〕17号", "2026-05-20",
         (["管网沟槽开挖占用道路不超过批准范围和期限", "施工结束后15日内恢复道路原状并申请验收"], "2027-05-20", [])),
        ("fgj", ORCHARD, "ZL-S1-001", "approved_on_commitment", "庄发改备〔2026〕9号", "2026-02-16",
         (["备案信息真实、准确、完整", "按备案内容建设，如实报送开工、建设进度和竣工信息"], "2027-02-16", [])),
        ("slj", ORCHARD, "ZL-S1-013", "accepted_with_deficiencies", "庄水许〔2026〕5号", "2026-03-30",
         (["30日内补交洪水影响评价报告专家评审意见"], "2026-05-30", ["洪水影响评价报告专家评审意见"])),
        ("fgj", HOSPITAL, "ZL-S1-003", "accepted_with_deficiencies", "庄发改发〔2025〕88号", "2025-11-20",
         (["30日内补交纳入县卫生健康事业发展规划的说明"], "2025-12-20", ["纳入相关规划或年度计划的说明"])),
    ]  # fmt: skip
    names = {item["code"]: item["name"] for item in catalogue()}
    department_names = {org["key"]: org["name"] for org in ORGANISATIONS}
    written: dict[str, dict[str, Any]] = {}
    for org, code, item, decision, number, issued, promise in approvals:
        digest = await _doc(client, t[org], f"{names[item]} {number} {code} 签发日期 {issued}")
        body: dict[str, Any] = {
            "stage": int(item[4]),  # ZL-S{stage}-nnn
            "item": item,
            "decision": decision,
            "document_digest": digest,
            "document_no": number,
            "issued_at": issued,
        }
        if promise is not None:
            promises, due, missing = promise
            kind = "deficiency" if decision == "accepted_with_deficiencies" else "credit"
            letter = commitment_letter(kind, (code, *owners[code]), (item, names[item]), department_names[org], promises,
                             due, issued, missing or None)  # fmt: skip
            body["commitment"] = {
                "due_date": due,
                "pledge_digest": await _doc(client, t[org], letter),
                "missing": missing,
                "summary": "；".join(promises),
            }
        written[item + code] = await _post(client, t[org], f"/v1/projects/{code}/approvals", body)

    await _supervision(client, t)

    orchard_deficiency = written["ZL-S1-013" + ORCHARD]["commitment_uid"]
    await _post(
        client,
        t["slj"],
        f"/v1/records/{orchard_deficiency}/fulfil",
        {"reason": "已于2026-04-20补交洪水影响评价报告专家评审意见"},
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
