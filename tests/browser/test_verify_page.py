"""扫码亮证 in a real browser: QR image → decoded URL → the page in Debian's headless Chromium.

Playwright drives the system Chromium (`make browser` installs it); no browser is
downloaded. Screenshots are kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page

from demo import HEATING
from localnode import NodeProcess

pytestmark = [pytest.mark.browser, pytest.mark.chain]

OTHER_USCC = "91620825MA74XK9R6N"


def scan(node: NodeProcess, code: str) -> str:
    """What a phone camera reads from the project's QR image."""
    with node.client() as c:
        r = c.get(f"/v1/projects/{code}/qr")
    assert r.status_code == 200, r.text
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)).convert("L"))
    assert len(found) == 1
    return str(found[0].text)


def fonts_of(page: Page, selector: str) -> list[dict[str, Any]]:
    """The platform fonts Chromium used to draw an element's text."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node_id = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts: list[dict[str, Any]] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
    cdp.detach()
    return fonts


def test_scanned_qr_opens_a_verified_page(node: NodeProcess, phone: Page, artifacts_dir: Path) -> None:
    url = scan(node, HEATING)
    assert url.startswith(f"{node.url}/verify/{HEATING}?uscc=")
    response = phone.goto(url)
    assert response is not None and response.status == 200
    assert phone.locator("body").get_attribute("data-verified") == "true"
    verdict = phone.locator("#verdict")
    assert "已验证" in verdict.inner_text() and "VERIFIED" in verdict.inner_text()
    assert phone.locator("#project-code").inner_text() == HEATING
    approvals = phone.locator('li.record[data-kind="approval"]')
    assert approvals.count() == 5
    assert "政府投资项目审批（可行性研究报告）" in approvals.first.inner_text()  # catalogue item ZL-S1-004
    assert "链上已验证" in approvals.first.locator(".onchain").inner_text()
    assert phone.locator('#events li.record[data-kind="event"]').count() == 1
    assert phone.locator('#commitments li.record[data-kind="commitment"]').count() == 1
    # Nothing wider than the phone: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 412
    phone.screenshot(path=str(artifacts_dir / "verify-page.png"), full_page=True)
    families = {f["familyName"] for f in fonts_of(phone, "header h1")}
    assert families - {"DejaVu Sans", "DejaVu Sans Mono", "DejaVu Serif"}, (
        f"Chinese text drawn with {families} only: install a CJK font (Debian: fonts-noto-cjk)"
    )


def test_tampered_qr_shows_not_verified(node: NodeProcess, phone: Page, artifacts_dir: Path) -> None:
    url = scan(node, HEATING).split("?uscc=")[0] + f"?uscc={OTHER_USCC}"
    response = phone.goto(url)
    assert response is not None and response.status == 200
    assert phone.locator("body").get_attribute("data-verified") == "false"
    verdict = phone.locator("#verdict")
    assert "未通过验证" in verdict.inner_text() and "NOT VERIFIED" in verdict.inner_text()
    assert phone.locator("#scanned-uscc").inner_text() == OTHER_USCC
    phone.screenshot(path=str(artifacts_dir / "verify-page-not-verified.png"), full_page=True)


def test_unknown_code_shows_not_verified_404(node: NodeProcess, phone: Page, artifacts_dir: Path) -> None:
    response = phone.goto(f"{node.url}/verify/2026-620825-44-01-999999?uscc={OTHER_USCC}")
    assert response is not None and response.status == 404
    assert phone.locator("body").get_attribute("data-reason") == "not_registered"
    assert "NOT VERIFIED" in phone.locator("#verdict").inner_text()
    phone.screenshot(path=str(artifacts_dir / "verify-page-unknown.png"), full_page=True)
