"""HTML of the public page that says whether a verification certificate still holds (/verify?certificate=…).

Chinese first with English beside it, in the 扫码亮证 page's frame. It shows only what is public
about the certificate: who issued it, for which project code, as of which block, its seal, and
the records of the project the chain accepted since (kind, block, an event's severity) — never
the certificate's statements themselves, which the issuing organisation holds.
"""

from __future__ import annotations

from node_api.api.pages import bi, card, esc, pairs, render_page
from node_api.domain.labels import SEVERITIES, Pair
from node_api.ledger.status import ChainInfo
from node_api.ledger.verification_certificates import Standing
from node_api.verify.certificate import statement_hash

HEADING: Pair = ("项目核验凭证查验", "Verification certificate check")
KINDS: dict[str, Pair] = {
    "event": ("建设异常信息", "Abnormal event"),
    "approval": ("审批决定", "Approval"),
    "commitment": ("信用承诺", "Commitment"),
    "revocation": ("撤销", "Revocation"),
    "breach": ("未履约", "Breach"),
    "resolution": ("整改完成", "Resolution"),
    "repair": ("信用修复", "Credit repair"),
    "objection": ("异议", "Objection"),
    "fulfilment": ("履约", "Fulfilment"),
}
_BANNERS = {
    "current": ("ok", "✓", "仍然有效", "STILL CURRENT",
                "本凭证的电子签章有效，所载记录仍在链上，且此后该项目没有新的链上记录。",
                "The seal holds, the records it states are on chain, and the project has no record since."),
    "stale": ("warn", "!", "已不是最新", "NO LONGER CURRENT",
              "本凭证在其所示区块时成立（并非伪造），但此后该项目有新的链上记录，请重新出具凭证。",
              "The certificate held at its block (it is not forged), but the chain has recorded more about "
              "the project since: ask for a new one."),
    "invalid": ("bad", "✗", "与链上记录不符", "INVALID",
                "本凭证与区块链上的记录不一致。", "The certificate does not match the chain."),
}  # fmt: skip


def _banner(tone: str, mark: str, zh: str, en: str, body: str) -> str:
    return (
        f'<div class="verdict {tone}" id="verdict" role="status"><div class="headline">'
        f'<span class="mark" aria-hidden="true">{mark}</span><span>{esc(zh)} <span class="en">{esc(en)}'
        f"</span></span></div>{body}</div>"
    )


def _later(standing: Standing) -> str:
    if not standing.later:
        return ""
    items = []
    for r in standing.later:
        zh, en = KINDS.get(r.kind, (r.kind, r.kind))
        severity = SEVERITIES.get(r.severity or "")
        what = bi(zh, en) + (f"（{bi(*severity)}）" if severity else "")
        items.append(
            f'<li class="record later" data-kind="{esc(r.kind)}" data-block="{r.block}" '
            f'data-severity="{esc(r.severity)}">{what} · 区块 Block <b>{r.block}</b> · '
            f'<span class="mono">{esc(r.uid)}</span></li>'
        )
    body = f'<div class="card-body"><ul class="records">{"".join(items)}</ul></div>'
    return card("later", "凭证出具后的新记录", "Recorded since the certificate", body)


def certificate_page(certificate_id: str, standing: Standing | None, chain: ChainInfo) -> str:
    """The page for a certificate id: still current, no longer current (and why), invalid, or unknown."""
    if standing is None:
        verdict = _banner("bad", "✗", "未找到凭证", "NOT FOUND",
                          f'<p id="verdict-reason">{bi("本节点未出具该编号的凭证。", "This node issued no certificate with this id.")}</p>')  # fmt: skip
        return render_page(title=f"项目核验凭证 {certificate_id}", verified=False, reason="not_found",
                           verdict=verdict, content=lookup_form(certificate_id), chain=chain, heading=HEADING)  # fmt: skip
    d = standing.document
    tone, mark, zh, en, body_zh, body_en = _BANNERS[standing.verdict]
    reason = f'<p id="verdict-reason">{bi(body_zh, body_en)}</p>'
    if standing.later:
        first = standing.later[0]
        kind_zh, kind_en = KINDS.get(first.kind, (first.kind, first.kind))
        sev = SEVERITIES.get(first.severity or "", ("", ""))
        reason += (
            f'<p id="stale-reason">{esc(f"例如：区块 {first.block} 记录了{sev[0]}{kind_zh}。")}'
            f'<span class="en">{esc(f"e.g. a {sev[1].lower()} {kind_en.lower()} was recorded at block {first.block}.".replace("  ", " "))}</span></p>'
        )  # fmt: skip
    for problem in standing.problems:
        reason += f'<p class="problem">{esc(problem)}</p>'
    facts = pairs(
        [
            ("凭证编号", "Certificate ID", f'<span class="mono" id="certificate-id">{esc(d["id"])}</span>'),
            ("项目代码", "Project code", f'<span class="mono" id="project-code">{esc(d["project"]["code"])}</span>'),
            ("项目名称", "Project name", esc(d["project"].get("name"))),
            ("出具机构", "Issued by", esc(d["issuer"].get("name"))),
            ("出具时间", "Issued at", esc(d.get("issued_at"))),
            ("核验截至区块", "As of block", f'<span class="mono" id="as-of-block">{esc(d["as_of"]["block_number"])}</span>'),
            ("区块哈希", "Block hash", f'<span class="mono">{esc(d["as_of"]["block_hash"])}</span>'),
            ("内容摘要", "Statement hash", f'<span class="mono">{esc(statement_hash(d))}</span>'),
            ("签章密钥", "Sealed by key", f'<span class="mono">{esc(d["seal"]["sealer"])}</span>'),
            ("本节点已索引至区块", "Checked up to block", esc(standing.indexed_block)),
        ],
        "facts",
    )  # fmt: skip
    content = card("certificate", "凭证信息", "Certificate", f'<div class="card-body">{facts}</div>')
    content += _later(standing)
    return render_page(
        title=f"项目核验凭证 {d['id']}",
        verified=standing.verdict == "current",
        reason=standing.verdict,
        verdict=_banner(tone, mark, zh, en, reason),
        content=content,
        chain=chain,
        heading=HEADING,
    )


def lookup_form(value: str = "") -> str:
    """A form asking for a certificate id (GET /verify?certificate=…)."""
    body = (
        '<div class="card-body"><form class="lookup" method="get" action="/verify">'
        f'<input name="certificate" id="certificate-input" value="{esc(value) if value else ""}" '
        'placeholder="vc-…" aria-label="凭证编号 Certificate ID" maxlength="64">'
        '<button type="submit">查验 <span class="en">Check</span></button></form></div>'
    )
    return card("lookup", "输入凭证编号", "Enter a certificate ID", body)


def lookup_page(chain: ChainInfo) -> str:
    """The page with only the form."""
    verdict = (
        '<div class="verdict" id="verdict"><p>'
        + bi(
            "输入项目核验凭证上的编号，查验其是否仍然成立。",
            "Enter the ID printed on a verification certificate.",
        )
        + "</p></div>"
    )
    return render_page(title="项目核验凭证查验", verified=False, reason="no_certificate", verdict=verdict,
                       content=lookup_form(), chain=chain, heading=HEADING)  # fmt: skip
