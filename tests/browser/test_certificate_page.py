"""The public page of a verification certificate in Debian's headless Chromium: the id from the
certificate's QR (or typed into the page's form) shows STILL CURRENT, then NO LONGER CURRENT — naming
the serious event's block — once the chain records one after the certificate. Screenshots are kept
in test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from localnode import NodeProcess
from tests.integration.test_verification_certificates import SERIOUS, issue, project_with_history
from tests.support.records import grant_bank

pytestmark = [pytest.mark.browser, pytest.mark.chain]


def test_a_certificate_reads_current_then_no_longer_current(
    node: NodeProcess,
    phone: Page,
    code: str,
    artifacts_dir: Path,
) -> None:
    project_with_history(node, code)
    grant_bank(node, code)
    cert = issue(node, code)
    response = phone.goto(cert["verify_url"])
    assert response is not None and response.status == 200
    assert phone.locator("body").get_attribute("data-reason") == "current"
    assert phone.locator("body").get_attribute("data-verified") == "true"
    verdict = phone.locator("#verdict").inner_text()
    assert "仍然有效" in verdict and "STILL CURRENT" in verdict
    assert phone.locator("#certificate-id").inner_text() == cert["id"]
    assert phone.locator("#project-code").inner_text() == code
    assert phone.locator("#as-of-block").inner_text() == str(cert["as_of"]["block_number"])
    assert phone.evaluate("document.documentElement.scrollWidth") <= 412
    phone.screenshot(path=str(artifacts_dir / "certificate-page-current.png"), full_page=True)

    with node.client("scjgj") as c:
        uid = c.post(f"/v1/projects/{code}/events?wait=true", json=SERIOUS).json()["uid"]
        block = c.get(f"/v1/records/{uid}").json()["block_number"]
    # A person types the id from the paper into the page's form.
    phone.goto(f"{node.url}/verify")
    phone.fill("#certificate-input", cert["id"])
    with phone.expect_navigation():
        phone.click("form.lookup button")
    assert phone.locator("body").get_attribute("data-reason") == "stale"
    assert phone.locator("body").get_attribute("data-verified") == "false"
    verdict = phone.locator("#verdict").inner_text()
    assert "已不是最新" in verdict and "NO LONGER CURRENT" in verdict and "并非伪造" in verdict
    assert f"区块 {block}" in phone.locator("#stale-reason").inner_text()
    later = phone.locator('li.later[data-kind="event"]')
    assert later.count() == 1
    assert (
        later.get_attribute("data-block") == str(block) and later.get_attribute("data-severity") == "serious"
    )
    phone.screenshot(path=str(artifacts_dir / "certificate-page-stale.png"), full_page=True)


def test_an_unknown_id_reads_not_found(node: NodeProcess, phone: Page) -> None:
    response = phone.goto(f"{node.url}/verify?certificate=vc-{'ab' * 16}")
    assert response is not None and response.status == 404
    assert phone.locator("body").get_attribute("data-reason") == "not_found"
    assert "未找到凭证" in phone.locator("#verdict").inner_text()
