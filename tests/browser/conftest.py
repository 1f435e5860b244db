"""Fixtures of the browser tests: Debian's chromium (headless, driven by Playwright; nothing downloaded)
and a page sized like a phone, as a scanned QR opens it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 412, "height": 915}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless."""
    # `make test` installs Debian's chromium; a missing browser is a failure, not a skip.
    assert shutil.which("chromium") is not None, "Debian chromium is not installed: run `make browser`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh page sized like a phone, as a scan opens it."""
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()
