"""The verification certificate (项目核验凭证 / 信用核查报告) as an A4 PDF for a loan file.

Chinese first with English beside it, laid out with the 备案证's sheet (``ledger/certificates.py``):
the project's facts, its approvals per stage, open abnormal events and commitments as of one
block, each with its chain reference, the owner's grade when stated, the seal, and a QR of the
public page that says whether the certificate still holds. The sealed JSON is attached to the
PDF as ``certificate.json``, so ``projchain verify-certificate`` checks the PDF itself. Rendered
from the sealed document alone: this module reads nothing from the node.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fpdf.enums import Align, WrapMode, XPos, YPos

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
from node_api.ledger.certificates import (
    BOTTOM,
    LEFT,
    MUTED,
    RIGHT,
    CertificateFont,
    Sheet,
    render_one_page,
)
from node_api.verify.certificate import ATTACHMENT, statement_hash

TITLE: Pair = ("项目核验凭证（信用核查报告）", "Verification Certificate of Project and Owner")
_SCAN = (
    "扫码核验：扫描二维码或访问下列网址，查看本凭证所载事项在区块链上是否仍然成立。",
    "Scan the QR code, or open the URL below, to see whether what this certificate states still holds on chain.",
)
_NOTE = (
    "本凭证所载为截至所示区块的链上记录，以链上记录为准。PDF 附有经出具机构电子签章（EIP-712）的 "
    "certificate.json，可用 projchain verify-certificate 对照区块链核验；该命令也报告所示区块之后的新记录。",
    "This certificate states the chain's records as of the block shown; the chain prevails. The PDF carries "
    "certificate.json, sealed (EIP-712) by the issuing organisation: `projchain verify-certificate` checks it "
    "against the chain and reports any record added after that block.",
)
_TOP = 20.0
# Which facts the grade was computed over (domain/credit.py, docs/credit.md).
_BASES: dict[str, Pair] = {
    "full": ("全部事实", "all facts"),
    "granted": ("公开事实及获授权项目的事实", "public facts and those of granted projects"),
    "public": ("公开事实", "public facts"),
}


def render_verification_certificate(
    document: dict[str, Any], attachment: bytes, font: CertificateFont | None = None
) -> bytes:
    """The certificate as an A4 PDF (one page or more) with ``attachment`` (the sealed JSON) embedded."""
    return render_one_page(lambda p, i, s: _Verification(document, attachment, p, i, s), font, "certificate")


def _pair(table: dict[str, Pair], value: object) -> str:
    zh, en = table.get(str(value), (str(value), ""))
    return f"{zh} {en}".strip()


def _status(value: object) -> str:
    zh, en, _ = STATUSES.get(str(value), (str(value), str(value), ""))
    return f"{zh} {en}"


class _Verification(Sheet):
    """The certificate laid out: pages are added as the records need them."""

    def __init__(
        self, document: dict[str, Any], attachment: bytes, font_path: Path, face_index: int, scale: float
    ) -> None:
        issued = dt.datetime.fromisoformat(str(document["issued_at"]))
        project = document["project"]
        meta = (
            f"{TITLE[0]} {project['code']}",
            f"{TITLE[1]} {project['code']} ({document['id']})",
            str(document["issuer"].get("name")),
        )
        super().__init__(font_path, face_index, scale, meta, issued)
        self.doc = document
        self.embed_file(bytes=attachment, basename=ATTACHMENT, modification_date=issued,
                        mime_type="application/json", desc="sealed certificate (projchain verify-certificate)")  # fmt: skip

    def footer(self) -> None:
        """Each page names the certificate and its page number (pages of a loan file get separated)."""
        self._type(7, MUTED)
        self.set_xy(LEFT, BOTTOM + 1.5)
        self.cell(RIGHT - LEFT, 4, f"凭证编号 Certificate {self.doc['id']}  ·  第 {self.page_no()} / {{nb}} 页 Page",
                  align=Align.C)  # fmt: skip

    def _room(self, y: float, needed: float) -> float:
        """y, or the top of a new page when ``needed`` mm do not fit below y."""
        if y + needed <= BOTTOM:
            return y
        self.add_page()
        self._frame()
        return _TOP

    def draw(self) -> bool:
        """Lays the certificate out over as many pages as it needs."""
        d = self.doc
        self.add_page()
        self._frame()
        y = self._title(24.0, TITLE, ("凭证编号", "Certificate ID"), str(d["id"]))
        y = self._facts(y + 4 * self.scale)
        # The QR on page 1: the page a loan officer files and scans.
        y = self._room(y + 4 * self.scale, 62 * self.scale)
        y = self._verification(y, str(d["verify_url"]), _SCAN, _NOTE, "扫码核验  Scan to verify")
        y = self._stages(y)
        events = [(self._event_line(e), e) for e in d["open_events"]]
        y = self._listing(y, ("未办结的建设异常信息", "Open abnormal events"), events, ("无", "None"))
        commitments = [(self._commitment_line(c), c) for c in d["commitments"]]
        y = self._listing(y, ("信用承诺", "Credit commitments"), commitments, ("无", "None"))
        self._seal(y)
        return True

    def _facts(self, y: float) -> float:
        d, p = self.doc, self.doc["project"]
        place = division_name(str(p.get("region_code")))
        grade = (d.get("owner") or {}).get("grade")
        rows = [
            ("项目名称", "Project name", str(p.get("name"))),
            ("项目单位统一社会信用代码", "Owner's USCC", str(p.get("owner_uscc"))),
            ("项目代码", "Project code", str(p.get("code"))),
            *(
                [("含无效字符", "Invalid UTF-8", _invalid_note(p).lstrip(" ·"))]
                if p.get(INVALID_UTF8)
                else []
            ),
            ("项目类型", "Project type", _pair(PROJECT_TYPES, p.get("project_type"))),
            (
                "建设地点",
                "Location",
                f"{place}（{p.get('region_code')}）" if place else str(p.get("region_code")),
            ),
            ("赋码登记", "Registration", _status(p["registration"]["status"])),
            (
                "核验截至区块",
                "As of block (time, hash)",
                f"{d['as_of']['block_number']}（{d['as_of']['block_time']}）\n{d['as_of']['block_hash']}",
            ),
            (
                "出具机构、时间",
                "Issued by, at",
                f"{d['issuer'].get('name')}（{d['issuer'].get('uscc')}）\n{d['issued_at']}",
            ),
        ]
        if grade is not None:
            basis = _BASES.get(str(grade.get("basis")), (str(grade.get("basis")), ""))
            rows.append(
                ("项目单位信用等级", "Owner's credit grade",
                 f"{grade['grade']}（规则版本 rules version {grade['rules_version']}；依据 basis：{basis[0]} {basis[1]}）")
            )  # fmt: skip
        return self._rows(y, rows)

    def _line(self, y: float, text: str, size: float, colour: tuple[int, int, int] | None = None) -> float:
        h = self._type(size, colour) if colour else self._type(size)
        self.set_xy(LEFT, y)
        self.multi_cell(RIGHT - LEFT, h, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                        wrapmode=WrapMode.CHAR)  # fmt: skip
        return self.get_y()

    def _entry(self, y: float, title: str, e: dict[str, Any]) -> float:
        """One record: what it says, then its chain reference on two small lines."""
        y = self._room(y, 14 * self.scale)
        title += _invalid_note(e["fields"])
        y = self._line(y + 0.8 * self.scale, title, 9.5)
        refs = [f"    记录 uid {e['uid']}   区块 block {e['block_number']}", f"    交易 tx {e['tx_hash']}"]
        size = min(self._fit(r, RIGHT - LEFT, 7.4) for r in refs)
        for ref in refs:
            y = self._line(y, ref, size, MUTED)
        return y

    def _stages(self, y: float) -> float:
        y = self._section(self._room(y + 5 * self.scale, 20), "审批事项", "Approvals by stage")
        for stage in self.doc["stages"]:
            n = str(stage["stage"])
            y = self._room(y, 10 * self.scale)
            head = f"{n}  {stage['name']} {STAGE_NAMES_EN.get(n, '')} — {_status(stage['status'])}"
            y = self._line(y + 1.2 * self.scale, head, 10.5)
            for a in stage["approvals"]:
                f = a["fields"]
                title = (f"  {f.get('item')} v{f.get('item_version')} · {_pair(DECISIONS, f.get('decision'))} · "
                         f"{_status(a['status'])} · {a.get('issuer_name')} · {f.get('issued_at')}")  # fmt: skip
                y = self._entry(y, title, a)
            y = self._rule(y + 1.0 * self.scale)
        return y

    @staticmethod
    def _event_line(e: dict[str, Any]) -> str:
        f = e["fields"]
        return (f"{f.get('category')} · {_pair(SEVERITIES, f.get('severity'))} · {_status(e['status'])} · "
                f"{e.get('issuer_name')} · {f.get('occurred_at')}")  # fmt: skip

    @staticmethod
    def _commitment_line(c: dict[str, Any]) -> str:
        f = c["fields"]
        return (f"{_pair(COMMITMENT_TYPES, f.get('commitment_type'))} · {_status(c['status'])} · "
                f"履约期限 due {f.get('due_at')} · {c.get('issuer_name')}")  # fmt: skip

    def _listing(
        self, y: float, heading: Pair, items: list[tuple[str, dict[str, Any]]], empty: Pair
    ) -> float:
        y = self._section(self._room(y + 5 * self.scale, 20), *heading)
        if not items:
            return self._line(y, f"{empty[0]} {empty[1]}", 9.5, MUTED)
        for title, e in items:
            y = self._entry(y, title, e)
        return y

    def _seal(self, y: float) -> float:
        d = self.doc
        y = self._section(self._room(y + 5 * self.scale, 60 * self.scale), "链与电子签章", "Chain and seal")
        lines = [
            ("链 ID", str(d["chain_id"])),
            ("台账合约", str(d["contracts"]["ledger"])),
            ("联盟合约", str(d["contracts"]["consortium"])),
            ("签章密钥", str(d["seal"]["sealer"])),
            ("内容摘要", statement_hash(d)),
        ]
        size = min(self._fit(v, self._hash_w, 8.6) for _, v in lines)
        y = self._record(self._rule(y), "电子签章（EIP-712）", "Seal of the issuer", lines, size)
        signature = str(d["seal"]["signature"])
        return self._line(y + 1.0 * self.scale, f"签章 Signature {signature}", 6.6, MUTED)


def _invalid_note(fields: dict[str, Any]) -> str:
    """The note a record whose text on chain is not UTF-8 carries (docs/records.md): the sheet shows each
    invalid sequence as □ (``Sheet.normalize_text``), so the text never reads as its valid twin's."""
    names = fields.get(INVALID_UTF8)
    if not names:
        return ""
    listed = "、".join(str(n) for n in names)
    return f" · 含无效字符（{listed}，以 □ 示）contains invalid UTF-8 ({', '.join(str(n) for n in names)}, shown as □)"
