"""The 备案证's pieces that need no font: amounts, dates, the QR, the URL, the font checks.

Rendering the PDF itself (which needs Debian's fonts-noto-cjk and poppler-utils) is
tested in tests/integration/test_certificates.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import segno

from node_api.api.routes import qr
from node_api.config import DEBIAN_CJK_FACE, DEBIAN_CJK_FONT, Settings
from node_api.domain.links import verification_url
from node_api.errors import ConfigurationError
from node_api.ledger.certificates import (
    CertificateFont,
    ChainReference,
    FilingCertificate,
    chinese_date,
    qr_runs,
    render_filing_certificate,
    yuan,
)

CERTIFICATE = FilingCertificate(
    project_code="2026-620825-44-03-000412",
    project_name="庄浪县城区集中供热管网改造工程",
    owner_name="庄浪县城市建设投资有限公司",
    owner_uscc="91620825MA72BT6H8M",
    region_code="620825",
    total_investment_fen=3_141_592_653,
    filing_authority="庄浪县发展和改革局",
    filed_on=dt.date(2026, 5, 1),
    chain_id=620825,
    ledger_address="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    registration=ChainReference("0x00000001" + "ab" * 28, "0x" + "cd" * 32, 1234),
    filing=ChainReference("0x00000001" + "12" * 28, "0x" + "9f" * 32, 1236),
    base_url="https://node.example.org/",
)


@pytest.mark.parametrize(
    ("base_url", "code", "uscc", "url"),
    [
        ("http://127.0.0.1:8000", "2026-620825-44-03-000412", "91620825MA72BT6H8M",
         "http://127.0.0.1:8000/verify/2026-620825-44-03-000412?uscc=91620825MA72BT6H8M"),
        ("https://node.example.org/", "2017-620824-48-01-000001", "91620825MA72BT6H8M",
         "https://node.example.org/verify/2017-620824-48-01-000001?uscc=91620825MA72BT6H8M"),
        ("https://node.example.org/projchain/", "a/b?c", "x&y=z",
         "https://node.example.org/projchain/verify/a%2Fb%3Fc?uscc=x%26y%3Dz"),
    ],
)  # fmt: skip
def test_the_qr_url_names_code_and_owner_escaped(base_url: str, code: str, uscc: str, url: str) -> None:
    # One function (node_api.domain.links) serves the API's QR and the 备案证's.
    assert verification_url(base_url, code, uscc) == url
    assert qr.verification_url is verification_url


def test_the_certificate_points_at_its_projects_verify_page() -> None:
    assert CERTIFICATE.verify_url == (
        "https://node.example.org/verify/2026-620825-44-03-000412?uscc=91620825MA72BT6H8M"
    )


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00 元（0.00 万元）"),
        (1_000_000, "10,000.00 元（1.00 万元）"),
        (1_860_000_000, "18,600,000.00 元（1,860.00 万元）"),
        (3_141_592_653, "31,415,926.53 元（约 3,141.59 万元）"),
        (999_999_999, "9,999,999.99 元（约 1,000.00 万元）"),
        (5, "0.05 元（约 0.00 万元）"),
    ],
)
def test_amounts_are_exact_in_yuan_and_rounded_in_wan_yuan(fen: int, text: str) -> None:
    assert yuan(fen) == text


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        yuan(-1)


def test_dates_are_chinese_with_iso_beside() -> None:
    assert chinese_date(dt.date(2026, 5, 1)) == "2026年5月1日 (2026-05-01)"
    assert chinese_date(dt.date(2026, 12, 31)) == "2026年12月31日 (2026-12-31)"


def test_qr_runs_draw_exactly_the_segno_matrix() -> None:
    url = CERTIFICATE.verify_url
    side, runs = qr_runs(url)
    drawn = [[False] * side for _ in range(side)]
    for row, col, length in runs:
        for c in range(col, col + length):
            assert not drawn[row][c], "runs overlap"
            drawn[row][c] = True
    expected = [[bool(m) for m in row] for row in segno.make_qr(url, error="q").matrix_iter(border=4)]
    assert drawn == expected
    assert not any(drawn[0]) and not any(drawn[-1])  # the quiet zone is there


def test_the_font_defaults_to_debians_noto_cjk_and_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CertificateFont() == CertificateFont(DEBIAN_CJK_FONT, DEBIAN_CJK_FACE)
    assert Settings().certificate_font == DEBIAN_CJK_FONT
    assert Settings().certificate_font_face == "Noto Sans CJK SC"
    monkeypatch.setenv("PROJCHAIN_CERTIFICATE_FONT", "/opt/fonts/NotoSerifCJK-Regular.ttc")
    monkeypatch.setenv("PROJCHAIN_CERTIFICATE_FONT_FACE", "Noto Serif CJK SC")
    settings = Settings()
    assert settings.certificate_font == Path("/opt/fonts/NotoSerifCJK-Regular.ttc")
    assert settings.certificate_font_face == "Noto Serif CJK SC"


def test_a_missing_font_is_a_configuration_error_naming_the_debian_package(tmp_path: Path) -> None:
    font = CertificateFont(tmp_path / "NotoSansCJK-Regular.ttc")
    with pytest.raises(ConfigurationError, match="fonts-noto-cjk") as e:
        render_filing_certificate(CERTIFICATE, font)
    assert str(font.path) in e.value.detail and "PROJCHAIN_CERTIFICATE_FONT" in e.value.detail
    assert e.value.status == 500 and e.value.code == "configuration_error"


def test_a_file_that_is_not_a_font_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.ttc"
    path.write_bytes(b"ttcf" + b"\0" * 8)
    with pytest.raises(ConfigurationError, match="cannot be read as a font"):
        CertificateFont(path).face_index()
    other = dataclasses.replace(CertificateFont(), path=tmp_path / "nothing.otf")
    with pytest.raises(ConfigurationError, match="is missing"):
        other.face_index()
