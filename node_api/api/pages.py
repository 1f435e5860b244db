"""HTML of the public 扫码亮证 verification page, Chinese first with English beside it.

Every value shown comes from the chain (or the scanned URL) and is escaped here;
the page loads nothing from elsewhere (inline CSS, no scripts, no fonts).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from node_api.domain.divisions import division_name
from node_api.domain.labels import (
    COMMITMENT_TYPES,
    DECISIONS,
    PROJECT_TYPES,
    SEVERITIES,
    STAGE_NAMES_EN,
    STATUSES,
    Pair,
)
from node_api.domain.records import INVALID_UTF8
from node_api.ledger.status import ChainInfo

_BEIJING = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Verdict:
    """Whether the scanned code (and USCC) match the chain, and why not."""

    verified: bool
    reason: str  # machine-readable, e.g. "uscc_mismatch"; "" when verified
    zh: str = ""
    en: str = ""


def esc(value: object) -> str:
    """HTML-escaped text of any value; None shows as a dash."""
    return "—" if value is None or value == "" else html.escape(str(value), quote=True)


def bi(zh: str, en: str) -> str:
    """A Chinese label with its English beside it (both escaped)."""
    return f'{esc(zh)} <span class="en">{esc(en)}</span>'


def pill(status: str | None) -> str:
    """A coloured status badge."""
    zh, en, tone = STATUSES.get(str(status), (str(status), str(status), "muted"))
    return f'<span class="pill {tone}" data-status="{esc(status)}">{bi(zh, en)}</span>'


def text(r: dict[str, Any], name: str) -> str:
    """A record's string field, escaped, with a visible note when its bytes on chain are not
    UTF-8 (the API's ``invalid_utf8`` marker: shown with U+FFFD in place of the invalid bytes)."""
    if name not in (r.get(INVALID_UTF8) or ()):
        return esc(r.get(name))
    note = bi("含无效字符", "contains invalid UTF-8")
    return f'{esc(r.get(name))} <span class="hint" data-invalid-utf8="{esc(name)}">（{note}）</span>'


def _named(table: dict[str, Pair], value: object) -> str:
    zh, en = table.get(str(value), (str(value), ""))
    return bi(zh, en) if en else esc(zh)


def short_hash(value: str | None) -> str:
    """0x1234ab…cdef: enough to compare by eye, the full hash is in the title."""
    if not value:
        return "—"
    return value if len(value) <= 14 else f"{value[:8]}…{value[-4:]}"


def pairs(rows: list[tuple[str, str, str]], css: str) -> str:
    """A definition list of (Chinese label, English label, value HTML) rows."""
    body = "".join(f"<dt>{bi(zh, en)}</dt><dd>{value}</dd>" for zh, en, value in rows)
    return f'<dl class="{css}">{body}</dl>'


def on_chain(block: object, tx_hash: str | None) -> str:
    """The "verified on chain at block N" line of one record."""
    return (
        f'<div class="onchain" data-block="{esc(block)}">✓ 链上已验证 Verified on chain · '
        f'区块 Block <b>{esc(block)}</b> · <span class="tx" title="{esc(tx_hash)}">交易 Tx '
        f'<span class="mono">{esc(short_hash(tx_hash))}</span></span></div>'
    )


def _record(kind: str, title: str, status: str, fields: str, r: dict[str, Any]) -> str:
    inactive = " inactive" if status in ("revoked", "superseded", "annulled") else ""
    return (
        f'<li class="record{inactive}" data-kind="{kind}" data-uid="{esc(r.get("uid"))}">'
        f'<div class="rec-title"><span>{title}</span>{pill(status)}</div>{fields}'
        f"{on_chain(r.get('block_number'), r.get('tx_hash'))}</li>"
    )


def approval_item(a: dict[str, Any]) -> str:
    """One approval (批复) of a catalogue item with its decision, issuer, date and chain position."""
    item = esc(a.get("item"))
    if a.get("item_version"):
        item += f" · v{esc(a.get('item_version'))}"
    rows = [
        ("事项编码", "Catalogue item", f'<span class="mono">{item}</span>'),
        ("审批结果", "Decision", _named(DECISIONS, a.get("decision"))),
        ("批准文号", "Document no.", text(a, "document_no")),
        ("审批部门", "Issued by", esc(a.get("issuer"))),
        ("签发日期", "Issued on", esc(a.get("issued_at"))),
    ]
    if a.get("valid_until"):
        rows.append(("有效期至", "Valid until", esc(a["valid_until"])))
    title = esc(a.get("item_name") or a.get("item"))
    return _record("approval", title, str(a.get("status")), pairs(rows, "rec"), a)


def stage_block(number: str, stage: dict[str, Any]) -> str:
    """One of the four approval stages with its approvals."""
    approvals = stage.get("approvals") or []
    items = (
        f'<ul class="records">{"".join(approval_item(a) for a in approvals)}</ul>'
        if approvals
        else '<p class="empty">暂无审批记录 <span class="en">No approvals recorded</span></p>'
    )
    return (
        f'<div class="stage" data-stage="{esc(number)}" data-status="{esc(stage.get("status"))}">'
        f'<div class="stage-head"><span class="stage-no">{esc(number)}</span>'
        f'<span class="stage-name">{bi(str(stage.get("name")), STAGE_NAMES_EN.get(number, ""))}</span>'
        f"{pill(stage.get('status'))}</div>{items}</div>"
    )


def event_item(e: dict[str, Any]) -> str:
    """One abnormal construction event under publication (open, or resolved within its window)."""
    rows = [
        ("严重程度", "Severity", _named(SEVERITIES, e.get("severity"))),
        ("发生日期", "Occurred on", esc(e.get("occurred_at"))),
        ("公示截止", "Published until", esc(e.get("publish_until"))),
        ("报告单位", "Reported by", esc(e.get("issuer"))),
    ]
    return _record("event", text(e, "category"), str(e.get("status")), pairs(rows, "rec"), e)


def commitment_item(c: dict[str, Any]) -> str:
    """One credit commitment (信用承诺) and whether it was kept."""
    rows = [("履约期限", "Due", esc(c.get("due_at"))), ("记录部门", "Recorded by", esc(c.get("issuer")))]
    title = _named(COMMITMENT_TYPES, c.get("commitment_type"))
    return _record("commitment", title, str(c.get("status")), pairs(rows, "rec"), c)


def card(section_id: str, zh: str, en: str, body: str) -> str:
    return f'<section class="card" id="{section_id}"><h2>{bi(zh, en)}</h2>{body}</section>'


def _listing(items: list[str], empty_zh: str, empty_en: str) -> str:
    if not items:
        return f'<div class="card-body"><p class="empty">{bi(empty_zh, empty_en)}</p></div>'
    return f'<div class="card-body"><ul class="records">{"".join(items)}</ul></div>'


def _span(element_id: str, value: object, css: str = "") -> str:
    return f'<span id="{element_id}" class="{css}">{esc(value)}</span>'


def project_sections(s: dict[str, Any]) -> str:
    """The project's public summary: base facts, stages, published events, commitments."""
    region = str(s.get("region_code"))
    place = division_name(region)
    reg = s.get("registration") or {}
    facts = pairs(
        [
            ("项目代码", "Project code", _span("project-code", s.get("code"), "code-big mono")),
            ("项目名称", "Project name", _span("project-name", s.get("name"))),
            ("项目单位统一社会信用代码", "Owner USCC", _span("owner-uscc", s.get("owner_uscc"), "mono")),
            ("项目类型", "Project type", _named(PROJECT_TYPES, s.get("project_type"))),
            ("建设地点", "Region", esc(region) + (f" {esc(place)}" if place else "")),
            ("赋码机关", "Registered by", esc((s.get("registered_by") or {}).get("name"))),
            ("登记状态", "Registration", pill(s.get("status"))),
        ],
        "facts",
    )
    registered = on_chain(reg.get("block_number"), reg.get("tx_hash"))
    stages = "".join(stage_block(n, st) for n, st in sorted((s.get("stages") or {}).items()))
    events = [event_item(e) for e in s.get("published_events") or []]
    commitments = [commitment_item(c) for c in s.get("commitments") or []]
    return "".join(
        [
            card("project", "项目基本信息", "Project", f'<div class="card-body">{facts}{registered}</div>'),
            card("stages", "审批事项", "Approvals by stage", stages),
            card(
                "events",
                "建设异常信息（公示中）",
                "Abnormal events under publication",
                _listing(events, "无公示中的异常信息", "No abnormal events under publication")
                + '<p class="note">未办结的异常信息持续公示；已整改的公示至公示截止日，信用修复后停止公示。'
                '<span class="en">Open events stay published; a resolved event until its publication end '
                "date; credit repair ends publication.</span></p>",
            ),
            card(
                "commitments",
                "信用承诺",
                "Credit commitments",
                _listing(commitments, "无信用承诺记录", "No credit commitments"),
            ),
            '<p class="note">✓ 表示该记录已写入区块链，并由签发机关电子签章。'
            '<span class="en">✓ means the record is on chain, sealed by the issuing authority.</span></p>',
        ]
    )


def verdict_banner(v: Verdict, chain: ChainInfo) -> str:
    """The green VERIFIED or red NOT VERIFIED banner at the top."""
    if v.verified:
        rows = [
            ("链 ID", "Chain ID", f'<span class="mono">{chain.chain_id}</span>'),
            ("台账合约", "Ledger contract", f'<span class="mono">{esc(chain.ledger)}</span>'),
            ("最新索引区块", "Latest indexed block", f'<span class="mono">{chain.indexed_block}</span>'),
        ]
        return (
            '<div class="verdict ok" id="verdict" role="status"><div class="headline">'
            '<span class="mark" aria-hidden="true">✓</span><span>已验证 <span class="en">VERIFIED on chain'
            "</span></span></div><p>项目代码与项目单位均与区块链登记一致。"
            '<span class="en">Project code and owner match the record on chain.</span></p>'
            f"{pairs(rows, 'chain')}</div>"
        )
    return (
        '<div class="verdict bad" id="verdict" role="alert"><div class="headline">'
        '<span class="mark" aria-hidden="true">✗</span><span>未通过验证 <span class="en">NOT VERIFIED'
        f'</span></span></div><p id="verdict-reason">{bi(v.zh, v.en)}</p></div>'
    )


def footer(chain: ChainInfo, now: dt.datetime | None = None) -> str:
    """Where the data came from and when it was checked."""
    at = (now or dt.datetime.now(dt.UTC)).astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    rows = [
        ("服务节点", "Node", esc(chain.node_name)),
        ("链 ID", "Chain ID", str(chain.chain_id)),
        ("台账合约", "Ledger", f'<span class="mono">{esc(chain.ledger)}</span>'),
        ("已索引至区块", "Indexed to block", str(chain.indexed_block)),
        ("查询时间", "Checked at", f"{at} 北京时间 (UTC+8)"),
    ]
    return (
        "本页信息直接读取自区块链服务节点，仅展示公开信息。"
        '<span class="en">Read from the chain by the service node; public information only.</span>'
        f"{pairs(rows, 'source')}"
    )


@cache
def _template() -> Template:
    text = resources.files("node_api.api").joinpath("templates/verify.html").read_text(encoding="utf-8")
    return Template(text)


def scanned_card(code: str, uscc: str | None) -> str:
    """What the QR claimed, shown beside a NOT VERIFIED verdict so it can be compared."""
    rows = [
        ("项目代码", "Project code", f'<span class="mono" id="scanned-code">{esc(code)}</span>'),
        ("统一社会信用代码", "USCC", f'<span class="mono" id="scanned-uscc">{esc(uscc)}</span>'),
    ]
    body = f'<div class="card-body">{pairs(rows, "facts")}</div>'
    return card("scanned", "二维码所载信息", "What the QR code says", body)


def verify_page(
    code: str, uscc: str | None, summary: dict[str, Any] | None, verdict: Verdict, chain: ChainInfo
) -> str:
    """The whole verification page for a scanned code (and the owner USCC the QR carried)."""
    name = f" {summary['name']}" if summary else ""
    content = "" if verdict.verified else scanned_card(code, uscc)
    if summary:
        content += project_sections(summary)
    return render_page(
        title=f"扫码亮证 {code}{name}",
        verified=verdict.verified,
        reason=verdict.reason,
        verdict=verdict_banner(verdict, chain),
        content=content,
        chain=chain,
    )


def render_page(
    *,
    title: str,
    verified: bool,
    reason: str,
    verdict: str,
    content: str,
    chain: ChainInfo,
    heading: Pair = ("投资项目扫码亮证", "Investment project · scan to verify"),
) -> str:
    """The public page's frame (templates/verify.html) around a verdict banner and content (HTML)."""
    return _template().substitute(
        title=esc(title),
        heading_zh=esc(heading[0]),
        heading_en=esc(heading[1]),
        verified="true" if verified else "false",
        reason=html.escape(reason, quote=True),
        verdict=verdict,
        content=content,
        footer=footer(chain),
    )
