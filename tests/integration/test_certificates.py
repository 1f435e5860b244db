"""The 备案证 PDF read back as a person and a phone would: poppler renders it, the QR decodes.

Needs Debian's fonts-noto-cjk (the embedded font) and poppler-utils (pdftoppm, pdftotext,
pdfinfo, pdffonts); `make test` installs both (`make browser`), so a missing one is a
failure, not a skip. No chain: the certificate is rendered from plain data. Page 1 is
kept as test-artifacts/filing-certificate.png for a person to look at.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from node_api.errors import ConfigurationError, ValidationError
from node_api.ledger.certificates import (
    CertificateFont,
    ChainReference,
    FilingCertificate,
    render_filing_certificate,
)


def _hex(label: str, org: int | None = None) -> str:
    digest = hashlib.sha256(label.encode()).hexdigest()
    return "0x" + (digest if org is None else f"{org:08x}{digest[8:]}")


CERTIFICATE = FilingCertificate(
    project_code="2026-620825-44-03-000412",
    project_name="庄浪县万泉镇光伏农业综合利用项目",
    owner_name="庄浪县绿源新能源科技有限公司",
    owner_uscc="91620825MA72BT6H8M",
    region_code="620825",
    total_investment_fen=3_141_592_653,
    filing_authority="庄浪县发展和改革局",
    filed_on=dt.date(2026, 5, 1),
    chain_id=620825,
    ledger_address="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    registration=ChainReference(_hex("registration", org=1), _hex("registration tx"), 1234),
    filing=ChainReference(_hex("filing", org=1), _hex("filing tx"), 1236),
    base_url="http://127.0.0.1:8000",
)
VERIFY_URL = "http://127.0.0.1:8000/verify/2026-620825-44-03-000412?uscc=91620825MA72BT6H8M"


def poppler(tool: str, *args: str) -> str:
    """Runs a poppler-utils tool and returns its standard output."""
    # `make test` installs poppler-utils; a missing tool is a failure, not a skip.
    assert shutil.which(tool) is not None, (
        f"Debian poppler-utils is not installed ({tool}): run `make browser`"
    )
    result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def page_one_png(pdf: Path) -> bytes:
    """Page 1 rendered by pdftoppm at 150 dpi, as PNG."""
    poppler(
        "pdftoppm",
        "-png",
        "-r",
        "150",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        str(pdf),
        str(pdf.with_suffix("")),
    )
    return pdf.with_suffix(".png").read_bytes()


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in a PNG image."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("certificate") / "filing-certificate.pdf"
    path.write_bytes(render_filing_certificate(CERTIFICATE))
    return path


def test_it_is_a_one_page_a4_pdf_with_the_cjk_font_embedded(pdf: Path) -> None:
    assert pdf.read_bytes().startswith(b"%PDF-")
    info = poppler("pdfinfo", str(pdf))
    assert "Pages:           1\n" in info
    assert "(A4)" in info
    assert "企业投资项目备案证 2026-620825-44-03-000412" in info  # the document title
    fonts = poppler("pdffonts", str(pdf)).splitlines()[2:]
    assert fonts, "no fonts"
    for line in fonts:
        name, *_, emb, sub, uni, _obj, _gen = line.split()
        assert (emb, sub, uni) == ("yes", "yes", "yes"), line  # embedded, subset, with a ToUnicode map
        assert "NotoSansCJKSC" in name, line


def test_the_qr_on_page_one_decodes_to_the_verify_url(pdf: Path, artifacts_dir: Path) -> None:
    png = page_one_png(pdf)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    (artifacts_dir / "filing-certificate.png").write_bytes(png)
    assert decode_qr(png) == VERIFY_URL == CERTIFICATE.verify_url


def test_the_text_carries_the_filing_and_its_chain_references(pdf: Path) -> None:
    text = poppler("pdftotext", "-layout", str(pdf), "-")
    for expected in [
        "企业投资项目备案证",
        "Filing Certificate of Enterprise Investment Project",
        "项目代码",
        CERTIFICATE.project_code,
        CERTIFICATE.project_name,
        CERTIFICATE.owner_name,
        CERTIFICATE.owner_uscc,
        "甘肃省平凉市庄浪县（620825）",
        "31,415,926.53 元（约 3,141.59 万元）",
        "庄浪县发展和改革局",
        "2026年5月1日 (2026-05-01)",
        "620825",
        CERTIFICATE.ledger_address,
        CERTIFICATE.registration.uid,
        CERTIFICATE.registration.tx_hash,
        CERTIFICATE.filing.uid,
        CERTIFICATE.filing.tx_hash,
        VERIFY_URL,
        "以链上记录为准",
        "no endorsement",
    ]:
        assert expected in text, expected
    for block in ("1234", "1236"):
        assert any(line.split()[-1:] == [block] for line in text.splitlines()), block


def test_the_same_filing_renders_the_same_bytes(pdf: Path) -> None:
    assert render_filing_certificate(CERTIFICATE) == pdf.read_bytes()


def test_a_long_name_shrinks_the_type_and_stays_on_one_page(tmp_path: Path) -> None:
    name = "庄浪县城区集中供热管网及配套热源厂改造扩建工程" * 14  # 336 characters, ~1 KB as on chain
    path = tmp_path / "long.pdf"
    path.write_bytes(render_filing_certificate(dataclasses.replace(CERTIFICATE, project_name=name)))
    assert "Pages:           1\n" in poppler("pdfinfo", str(path))
    assert name in poppler("pdftotext", str(path), "-").replace("\n", "")
    assert decode_qr(page_one_png(path)) == VERIFY_URL


def test_names_too_long_for_one_page_are_refused() -> None:
    data = dataclasses.replace(CERTIFICATE, owner_name="庄浪县" * 2000)
    with pytest.raises(ValidationError, match="one A4 page"):
        render_filing_certificate(data)


def test_a_face_missing_from_the_font_file_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="has no face 'Noto Sans CJK XX'") as e:
        render_filing_certificate(CERTIFICATE, CertificateFont(face="Noto Sans CJK XX"))
    assert "Noto Sans CJK SC" in e.value.detail  # what the file does have
