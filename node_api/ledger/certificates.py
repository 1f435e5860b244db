"""The 备案证 (filing certificate) of a 秒批秒办 filing, as a one-page A4 PDF.

Chinese first with English beside it, like the public verification page. It states what
the chain recorded for the filing (the project's registration and the filing approval,
with their chain references) and carries the 扫码亮证 QR of the project's verification
URL, so anyone holding the paper can check it against the chain. It is rendered from
plain data (:class:`FilingCertificate`): this module reads nothing from the node.

The CJK text is set in one face of a font from Debian's ``fonts-noto-cjk`` (by default
Noto Sans CJK SC, see ``Settings.certificate_font``), subset and embedded in the PDF;
nothing is downloaded. The same data renders the same bytes (the PDF's dates are the
filing date), so a certificate can be recomputed and compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import segno
from fontTools.ttLib import TTCollection, TTFont
from fpdf import FPDF
from fpdf.enums import Align, TextMode, WrapMode, XPos, YPos

from node_api.config import DEBIAN_CJK_FACE, DEBIAN_CJK_FONT
from node_api.domain.divisions import division_name
from node_api.domain.links import verification_url
from node_api.errors import ConfigurationError, ValidationError

DEBIAN_FONT_PACKAGE = "fonts-noto-cjk"

# Colours of the public page (templates/verify.html), as RGB.
_BLUE = (11, 78, 162)
_BLUE_DARK = (8, 59, 122)
_RED = (200, 16, 46)
_INK = (31, 41, 51)
MUTED = (95, 107, 122)
_LINE = (221, 227, 234)
_BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

# A4 portrait, in millimetres.
_PAGE_W, _PAGE_H = 210.0, 297.0
LEFT, RIGHT = 20.0, 190.0
BOTTOM = 279.0  # lowest line of content, inside the frame
_SCALES = (1.0, 0.9, 0.8, 0.7, 0.6)  # tried in turn until everything fits on the page
_PT = 25.4 / 72  # millimetres per point

# What the certificate is and is not (docs/certificates.md), beside its QR.
_SCAN_ZH = "扫码亮证：扫描二维码或访问下列网址，核验本项目在区块链上的赋码登记与备案记录。"
_SCAN_EN = (
    "Scan the QR code, or open the URL below, to verify this project's registration and filing on the chain."
)
_NOTE_ZH = (
    "本证载明的是区块链上记录的备案信息，以链上记录为准。备案不是审批：本证不构成对项目的认可或担保，"
    "项目单位对备案信息的真实性负责。"
)
_NOTE_EN = (
    "This certificate states what the chain recorded for the filing; the record on chain prevails. "
    "A filing is not an approval: this certificate is no endorsement or guarantee of the project, "
    "and the owner answers for the truth of the information it filed."
)


@dataclass(frozen=True)
class ChainReference:
    """Where one record lives on chain."""

    uid: str  # 0x + 64 hex: the record's uid in ProjectLedger
    tx_hash: str  # 0x + 64 hex: the transaction that carried it
    block_number: int


@dataclass(frozen=True)
class FilingCertificate:
    """Everything a 备案证 shows, as plain data (docs/certificates.md says where each comes from)."""

    project_code: str
    project_name: str
    owner_name: str  # 项目单位: the filing's owner as submitted (the chain holds its USCC)
    owner_uscc: str
    region_code: str  # 建设地点: a six-digit division code
    total_investment_fen: int  # 总投资 in fen (0.01 yuan), as the registration's restricted content
    filing_authority: str  # 备案机关: the organisation whose seal is on the filing approval
    filed_on: dt.date  # 备案日期: the filing approval's issued_at
    chain_id: int
    ledger_address: str  # ProjectLedger's address
    registration: ChainReference  # the project record (赋码登记)
    filing: ChainReference  # the filing approval record (备案)
    base_url: str  # the node's public URL, as in the project's QR

    @property
    def verify_url(self) -> str:
        """The URL the certificate's QR encodes (the same as the project's 扫码亮证 QR)."""
        return verification_url(self.base_url, self.project_code, self.owner_uscc)


@dataclass(frozen=True)
class CertificateFont:
    """The font file and the face in it (a .ttc/.otc holds several) the certificate is set in."""

    path: Path = DEBIAN_CJK_FONT
    face: str = DEBIAN_CJK_FACE

    def face_index(self) -> int:
        """The face's index in its file; ConfigurationError when the file or the face is missing."""
        return _face_index(self.path, self.face)


def _missing(path: Path, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"the 备案证 font {path} {why}: install Debian's {DEBIAN_FONT_PACKAGE} package "
        f"(apt-get install {DEBIAN_FONT_PACKAGE}, or `make browser`) or set PROJCHAIN_CERTIFICATE_FONT"
    )


@cache
def _face_index(path: Path, face: str) -> int:
    if not path.is_file():
        raise _missing(path, "is missing")
    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            faces = list(TTCollection(str(path), lazy=True).fonts)
        else:
            faces = [TTFont(str(path), lazy=True)]
        names = [(str(f["name"].getDebugName(1)), str(f["name"].getDebugName(4))) for f in faces]
    except Exception as e:  # fontTools fails on a bad file with anything from AssertionError to TTLibError
        raise _missing(path, f"cannot be read as a font ({e})") from e
    for index, (family, full_name) in enumerate(names):
        if face in (family, full_name):
            return index
    raise ConfigurationError(
        f"the 备案证 font {path} has no face {face!r} (PROJCHAIN_CERTIFICATE_FONT_FACE); "
        f"it has {', '.join(family for family, _ in names)}"
    )


def render_filing_certificate(data: FilingCertificate, font: CertificateFont | None = None) -> bytes:
    """The 备案证 as a one-page A4 PDF.

    Raises ConfigurationError when the font is missing, and ValidationError when the text
    cannot fit on one page even in the smallest type (only absurdly long names do).
    """
    return render_one_page(lambda path, index, scale: _Certificate(data, path, index, scale), font, "备案证")


def render_one_page(
    layout: Callable[[Path, int, float], Sheet],
    font: CertificateFont | None = None,
    what: str = "certificate",
) -> bytes:
    """A one-page A4 PDF from ``layout`` (a Sheet at a type scale), the type shrinking until it fits.

    Raises ConfigurationError when the font is missing, and ValidationError when it cannot fit.
    """
    font = font or CertificateFont()
    index = font.face_index()
    for scale in _SCALES:
        pdf = layout(font.path, index, scale)
        if pdf.draw():
            return bytes(pdf.output())
    raise ValidationError("certificate", f"the text is too long to fit the {what} on one A4 page")


def yuan(fen: int) -> str:
    """31,415,926.53 元（约 3,141.59 万元）: the amount in yuan, and in 万元 as certificates show it."""
    if fen < 0:
        raise ValueError(f"negative amount: {fen} fen")
    exact = f"{fen // 100:,}.{fen % 100:02d} 元"
    wan = (Decimal(fen) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    about = "" if fen % 10_000 == 0 else "约 "
    return f"{exact}（{about}{wan:,} 万元）"


def chinese_date(day: dt.date) -> str:
    """2026年5月1日 (2026-05-01)."""
    return f"{day.year}年{day.month}月{day.day}日 ({day.isoformat()})"


def _plain(text: str) -> str:
    """One line of text: control characters and runs of whitespace become one space."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def qr_runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The URL's QR: its side in modules (4-module quiet zone included), and its dark modules
    as horizontal (row, column, length) runs, to be drawn as vector rectangles."""
    # Level Q survives ~25% damage, as on the construction-site sign (api/routes/qr.py).
    qr = segno.make_qr(url, error="q")
    runs = []
    for row, modules in enumerate(qr.matrix_iter(scale=1, border=4)):
        start = None
        for col, dark in enumerate([*modules, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                runs.append((row, start, col - start))
                start = None
    width, _ = qr.symbol_size(scale=1, border=4)
    return int(width), runs


REPLACEMENT = "\ufffd"
SHOWN_REPLACEMENT = "□"  # U+25A1, in the font: a character that cannot be shown (缺字)


class Sheet(FPDF):
    """One attempt at laying out a one-page A4 certificate at a type scale: the frame, title, rows,
    sections, chain references and QR that every certificate of the node shares (the 备案证 and
    the verification certificate, ``ledger/verification_pdf.py``)."""

    def __init__(
        self, font_path: Path, face_index: int, scale: float, meta: tuple[str, str, str], created: dt.datetime
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.scale = scale
        self.set_auto_page_break(auto=False)
        self.set_margins(LEFT, 20, _PAGE_W - RIGHT)
        try:
            self.add_font("cjk", fname=str(font_path), collection_font_number=face_index)
        except FileNotFoundError as e:
            raise _missing(font_path, "is missing") from e
        title, subject, author = meta
        self.set_creation_date(created)
        self.set_lang("zh-CN")
        self.set_title(title)
        self.set_subject(subject)
        self.set_author(_plain(author))
        self.set_creator("projchain")

    def draw(self) -> bool:
        """Lays the page out; False when it does not fit on one page at this scale."""
        raise NotImplementedError

    def normalize_text(self, text: str) -> str:
        """Text as set: the font has no glyph for U+FFFD, which fpdf2 would drop without a trace, so text
        read from bytes that are not UTF-8 would print as its valid twin's; it is set as □ instead."""
        return super().normalize_text(text).replace(REPLACEMENT, SHOWN_REPLACEMENT)

    def _type(self, size: float, colour: tuple[int, int, int] = _INK) -> float:
        """Sets the font size (in points at scale 1) and colour; returns a line height in mm for it."""
        pt = size * self.scale
        self.set_font("cjk", size=pt)
        self.set_text_color(*colour)
        return pt * _PT * 1.45

    def _frame(self) -> None:
        self.set_draw_color(*_BLUE_DARK)
        self.set_line_width(0.8)
        self.rect(10, 10, _PAGE_W - 20, _PAGE_H - 20)
        self.set_line_width(0.2)
        self.rect(12, 12, _PAGE_W - 24, _PAGE_H - 24)

    def _title(self, y: float, title: tuple[str, str], label: tuple[str, str], value: str) -> float:
        """The title (Chinese, then English), a red rule, and the big value under its label."""
        width = RIGHT - LEFT
        h = self._type(26, _BLUE_DARK)
        self.set_draw_color(*_BLUE_DARK)
        self.set_line_width(0.25 * self.scale)
        self.text_mode = TextMode.FILL_STROKE  # one font file: stroke the outline for a bold title
        self.set_char_spacing(2 * self.scale)
        self.set_xy(LEFT, y)
        self.cell(width, h, title[0], align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_char_spacing(0)
        self.text_mode = TextMode.FILL
        h = self._type(11.5, MUTED)
        self.cell(width, h, title[1], align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = self.get_y() + 2.5 * self.scale
        self.set_draw_color(*_RED)
        self.set_line_width(0.9)
        self.line(LEFT, y, RIGHT, y)
        y += 4 * self.scale
        h = self._type(9, MUTED)
        self.set_xy(LEFT, y)
        self.cell(width, h, f"{label[0]}  {label[1]}", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        h = self._type(19, _BLUE_DARK)
        self.set_draw_color(*_BLUE_DARK)
        self.set_line_width(0.15 * self.scale)
        self.text_mode = TextMode.FILL_STROKE
        self.cell(width, h, _plain(value), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.text_mode = TextMode.FILL
        return self.get_y()

    @property
    def _label_w(self) -> float:
        return 46.0 * self.scale

    @property
    def _pad(self) -> float:
        return 2.2 * self.scale

    def _rule(self, y: float) -> float:
        """A thin separator across the page at y."""
        self.set_draw_color(*_LINE)
        self.set_line_width(0.2)
        self.line(LEFT, y, RIGHT, y)
        return y

    def _label(self, y: float, zh: str, en: str) -> float:
        """A row's label, Chinese over English, from y; returns the y below it."""
        h = self._type(10)
        self.set_xy(LEFT, y)
        self.multi_cell(self._label_w, h, zh, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        h = self._type(7.5, MUTED)
        self.set_x(LEFT)
        self.multi_cell(self._label_w, h, en, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return self.get_y()

    def _row(self, y: float, zh: str, en: str, value: str, size: float = 11.0) -> float:
        """A row of label and value (wrapped); returns the y of the separator below it."""
        bottom = self._label(y + self._pad, zh, en)
        h = self._type(size)
        self.set_xy(LEFT + self._label_w, y + self._pad)
        self.multi_cell(
            RIGHT - LEFT - self._label_w,
            h,
            value,
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            wrapmode=WrapMode.CHAR,
        )
        return self._rule(max(bottom, self.get_y()) + self._pad)

    def _rows(self, y: float, rows: list[tuple[str, str, str]]) -> float:
        """Rows of (Chinese label, English label, value) under a rule at y; the y below the last."""
        self._rule(y)
        for zh, en, value in rows:
            y = self._row(y, zh, en, value)
        return y

    def _section(self, y: float, zh: str, en: str) -> float:
        h = self._type(12, _BLUE_DARK)
        self.set_fill_color(*_BLUE)
        self.rect(LEFT, y + 0.6 * self.scale, 1.4, h - 1.2 * self.scale, style="F")
        self.set_xy(LEFT + 3.5, y)
        self.cell(None, h, zh)
        self._type(9, MUTED)
        self.cell(None, h, f"  {en}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return self.get_y() + 1.5 * self.scale

    def _fit(self, text: str, width: float, size: float) -> float:
        """The largest type size up to ``size`` that sets ``text`` on one line of ``width`` mm."""
        self.set_font("cjk", size=size * self.scale)
        natural = self.get_string_width(text)
        return size if natural <= width else size * width / natural * 0.98

    @property
    def _sub_w(self) -> float:
        return 24.0 * self.scale

    @property
    def _hash_w(self) -> float:
        """The width a hash has on a record's line."""
        return RIGHT - LEFT - self._label_w - self._sub_w

    def _record(self, y: float, zh: str, en: str, lines: list[tuple[str, str]], size: float) -> float:
        """A record's references (uid, transaction, block …), each on its own line under a sub-label."""
        bottom = self._label(y + self._pad, zh, en)
        y += self._pad
        for sub, value in lines:
            h = self._type(size) + 0.6 * self.scale
            self._type(7.5, MUTED)
            self.set_xy(LEFT + self._label_w, y)
            self.cell(self._sub_w, h, sub)
            self._type(size)
            self.cell(None, h, _plain(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            y = self.get_y()
        return self._rule(max(bottom, y) + self._pad)

    def _qr(self, url: str, x: float, y: float, side: float) -> None:
        modules, runs = qr_runs(url)
        module = side / modules
        self.set_fill_color(0, 0, 0)
        for row, col, length in runs:
            self.rect(x + col * module, y + row * module, length * module, module, style="F")

    def _verification(
        self, y: float, url: str, scan: tuple[str, str], note: tuple[str, str], caption: str
    ) -> float:
        """The QR of ``url`` with its caption, and beside it what scanning does, the URL and a note."""
        side = 48.0 * self.scale
        self._qr(url, LEFT - 2, y, side)  # the quiet zone is white; align the modules with the text
        h = self._type(8, MUTED)
        self.set_xy(LEFT - 2, y + side)
        self.cell(side, h, caption, align=Align.C)
        qr_bottom = y + side + h
        x = LEFT + side + 3
        width = RIGHT - x
        paragraphs = [
            (scan[0], 9.5, _INK, 0.0, WrapMode.CHAR),
            (scan[1], 8.0, MUTED, 1.2, WrapMode.WORD),
            (url, 8.5, _BLUE_DARK, 2.0, WrapMode.CHAR),
            (note[0], 9.5, _INK, 0.0, WrapMode.CHAR),
            (note[1], 8.0, MUTED, 0.0, WrapMode.WORD),
        ]
        self.set_xy(x, y + 2 * self.scale)
        for text, size, colour, gap, wrap in paragraphs:
            h = self._type(size, colour)
            self.set_x(x)
            self.multi_cell(width, h, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=wrap)
            self.set_y(self.get_y() + gap * self.scale)
        return max(qr_bottom, self.get_y())


class _Certificate(Sheet):
    """The 备案证 laid out at a type scale."""

    def __init__(self, data: FilingCertificate, font_path: Path, face_index: int, scale: float) -> None:
        filed = dt.datetime.combine(data.filed_on, dt.time(), tzinfo=_BEIJING)
        meta = (
            f"企业投资项目备案证 {data.project_code}",
            f"Filing Certificate of Enterprise Investment Project {data.project_code}",
            data.filing_authority,
        )
        super().__init__(font_path, face_index, scale, meta, filed)
        self.data = data

    def draw(self) -> bool:
        """Lays the page out; False when it does not fit on one page at this scale."""
        self.add_page()
        self._frame()
        y = self._title(
            24.0,
            ("企业投资项目备案证", "Filing Certificate of Enterprise Investment Project"),
            ("项目代码", "Project code"),
            self.data.project_code,
        )
        y = self._facts(y + 4 * self.scale)
        y = self._section(y + 5 * self.scale, "链上记录", "On-chain records")
        y = self._chain(y)
        y = self._verification(
            y + 6 * self.scale,
            self.data.verify_url,
            (_SCAN_ZH, _SCAN_EN),
            (_NOTE_ZH, _NOTE_EN),
            "扫码亮证  Scan to verify",
        )
        return y <= BOTTOM

    def _facts(self, y: float) -> float:
        d = self.data
        place = division_name(d.region_code)
        return self._rows(
            y,
            [
                ("项目名称", "Project name", _plain(d.project_name)),
                ("项目单位", "Project owner", _plain(d.owner_name)),
                ("统一社会信用代码", "Owner's unified social credit code", _plain(d.owner_uscc)),
                ("建设地点", "Location", f"{place}（{d.region_code}）" if place else _plain(d.region_code)),
                ("总投资", "Total investment", yuan(d.total_investment_fen)),
                ("备案机关", "Filing authority", _plain(d.filing_authority)),
                ("备案日期", "Filed on", chinese_date(d.filed_on)),
            ],
        )

    def _chain(self, y: float) -> float:
        d = self.data
        # Hashes stay on one line each (to be compared, copied, read back): the type shrinks to fit.
        refs = [d.ledger_address, d.registration.uid, d.registration.tx_hash, d.filing.uid, d.filing.tx_hash]
        size = min(self._fit(_plain(r), self._hash_w, 8.6) for r in refs)
        y = self._row(self._rule(y), "链 ID", "Chain ID", str(d.chain_id), size=10)
        y = self._row(y, "台账合约", "Ledger contract", _plain(d.ledger_address), size=size)
        y = self._record(y, "赋码登记记录", "Registration record", reference_lines(d.registration), size)
        return self._record(y, "备案记录", "Filing approval record", reference_lines(d.filing), size)


def reference_lines(ref: ChainReference) -> list[tuple[str, str]]:
    """A record's uid, transaction and block as sub-labelled lines."""
    return [("记录编号 Uid", ref.uid), ("交易 Tx", ref.tx_hash), ("区块 Block", str(ref.block_number))]
