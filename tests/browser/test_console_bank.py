"""The bank's console screens (issue #14) in Debian's chromium against a real node and chain.

A bank officer signs in, searches projects by the owner's USCC, opens the owner's credit
profile and sees only its public part (the restricted part refused, the slight event not
listed), asks for a certificate and is refused (403, nothing issued); the approval
department grants the bank access through the console; the bank then sees the restricted
part, requests a certificate and downloads its PDF and JSON (the PDF read back with
poppler-utils), and its watch list shows a delivery of the granted project's new record
to a real HTTP receiver. An officer changes their password (wrong current password refused,
the old one no longer signs in, the new one does).

Screenshots of the new screens are written to docs/console/ (committed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.sync_api import Browser, Page

from localnode import NodeProcess
from tests.browser.test_console import OFFICE, add_officer, shot, sign_in, submit
from tests.support.api import write_confirmed
from tests.support.records import project_body, unique_code, unique_uscc

pytestmark = [pytest.mark.browser, pytest.mark.chain]

BEIJING = dt.timezone(dt.timedelta(hours=8))


def digest(text: str) -> str:
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


class Receiver(http.server.BaseHTTPRequestHandler):
    """A bank's webhook receiver: keeps every body posted to it, answers 204."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[str]:
    """A real HTTP receiver on the loopback; its URL."""
    Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def owner_project(node: NodeProcess) -> dict[str, str]:
    """A fresh owner with one project and a slight abnormal event on it (restricted: not public)."""
    owner = unique_uscc()
    code = unique_code()
    with node.client("fgj") as c:
        write_confirmed(
            c, "/v1/projects", project_body(code, owner_uscc=owner, name=f"庄浪县{code[-4:]}号水厂")
        )
    occurred = (dt.datetime.now(BEIJING) - dt.timedelta(days=3)).date().isoformat()
    with node.client("scjgj") as c:
        event = write_confirmed(
            c, f"/v1/projects/{code}/events",
            {"category": "安全文明施工", "severity": "slight", "description_digest": digest(code), "occurred_at": occurred},
        )  # fmt: skip
    return {"owner": owner, "code": code, "event": event}


def issued_by_bank(node: NodeProcess, code: str) -> list[dict[str, object]]:
    """The bank's certificate.* access-log entries on ``code`` (as the auditor reads them)."""
    with node.client("sjj") as auditor:
        r = auditor.get("/v1/audit/access-log", params={"org_id": node.org_ids["bank"], "limit": 1000})
    assert r.status_code == 200, r.text
    entries = [json.loads(e["entry"]) for e in r.json()["entries"]]
    return [
        e for e in entries if str(e["action"]).startswith("certificate.") and e.get("project_code") == code
    ]


def test_a_bank_is_refused_until_granted_then_downloads_a_certificate_and_watches(
    browser: Browser, node: NodeProcess, owner_project: dict[str, str], receiver: str, tmp_path: Path
) -> None:
    f = owner_project
    bank = browser.new_context(**OFFICE, accept_downloads=True)
    page = bank.new_page()
    sign_in(page, node, "bank")

    # Watch list first: deliveries only for projects the bank holds a live grant on.
    page.goto(f"{node.url}/console/watch")
    page.get_by_label("接收地址").fill(receiver)
    page.get_by_role("button", name="订阅").click()
    sub = page.locator("#made").get_attribute("data-id")
    assert sub is not None and sub.startswith("sub_")
    assert page.locator("#made-secret").inner_text().startswith("whsec_")

    # Search by the owner's USCC: the project is found (public fields for every member).
    page.goto(f"{node.url}/console/search")
    page.get_by_label("项目单位统一社会信用代码").first.fill(f["owner"])
    page.get_by_role("button", name="查询").click()
    rows = page.locator("#results-table tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-code") == f["code"]
    shot(page, "search")

    # The owner's profile without a grant: the public part only, the slight event not listed.
    rows.first.locator(f'a[href="/console/owners/{f["owner"]}"]').click()
    assert page.locator("#basis").get_attribute("data-basis") == "public"
    assert page.locator("#restricted-refused").is_visible()
    assert page.locator(f'tr[data-uid="{f["event"]}"]').count() == 0
    assert f["event"] not in page.content()
    shot(page, "owner-public")

    # A certificate without a grant: refused as the API refuses it, nothing issued or logged.
    page.goto(f"{node.url}/console/projects/{f['code']}")
    with page.expect_response(lambda r: r.url.endswith("/certificates") and r.request.method == "POST") as r:
        page.get_by_role("button", name="申请核验凭证").click()
    assert r.value.status == 403
    assert page.locator("[data-error]").get_attribute("data-error") == "forbidden"
    assert issued_by_bank(node, f["code"]) == []

    # The approval department (发改局, which registered it) grants the bank through the console.
    dept = browser.new_context(**OFFICE)
    dpage = dept.new_page()
    sign_in(dpage, node, "fgj")
    dpage.goto(f"{node.url}/console/projects/{f['code']}")
    form = dpage.locator("#grant-form")
    form.get_by_label("被授权机构").select_option(str(node.org_ids["bank"]))
    form.get_by_label("范围").select_option("all")
    form.get_by_label("有效期至").fill("2030-01-01")
    form.get_by_label("业主授权书摘要").fill(digest(f"authorisation {f['code']}"))
    submit(dpage, form, "授权并签章")
    dept.close()

    # Now the restricted part: the slight event, marked restricted, and the basis "granted".
    page.goto(f"{node.url}/console/owners/{f['owner']}")
    assert page.locator("#basis").get_attribute("data-basis") == "granted"
    assert page.locator("#restricted-refused").count() == 0
    assert page.locator(f'tr[data-uid="{f["event"]}"]').get_attribute("data-part") == "restricted"
    assert page.locator("#grade-letter").inner_text() in {"A", "B", "C", "D"}
    shot(page, "owner")

    # A certificate: issued, sealed by the bank, and both files downloaded.
    page.goto(f"{node.url}/console/projects/{f['code']}")
    page.get_by_role("button", name="申请核验凭证").click()
    assert page.locator("#issued").is_visible()
    cid = page.locator("#certificate-id").inner_text()
    shot(page, "certificate")
    with page.expect_download() as d:
        page.locator("#download-pdf").click()
    pdf = tmp_path / "certificate.pdf"
    d.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert f["code"] in text.stdout and f["owner"] in text.stdout
    with page.expect_download() as d:
        page.locator("#download-json").click()
    doc = json.loads(Path(d.value.path()).read_text(encoding="utf-8"))
    assert doc["id"] == cid and doc["project"]["code"] == f["code"]
    assert doc["issuer"]["org_id"] == node.org_ids["bank"] and doc["seal"]["signature"].startswith("0x")
    assert [e["action"] for e in issued_by_bank(node, f["code"])][:1] == ["certificate.issue"]

    # A new record on the granted project reaches the bank's receiver; the watch list shows it.
    with node.client("fgj") as c:
        uid = write_confirmed(
            c, f"/v1/projects/{f['code']}/commitments",
            {"commitment_type": "self_discipline", "content_digest": digest(f"letter {f['code']}"),
             "due_date": "2030-12-31"},
        )  # fmt: skip
    page.goto(f"{node.url}/console/watch/{sub}")
    delivered = page.locator(f'#deliveries-table tr[data-subject="{uid}"][data-state="delivered"]')
    for _ in range(60):  # the node delivers as it indexes the record (about a second)
        if delivered.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    assert delivered.count() == 1, page.locator("#deliveries").inner_text()
    assert [b["id"] for b in Receiver.received if b["data"]["uid"] == uid]
    shot(page, "watch")
    page.goto(f"{node.url}/console/watch")
    assert page.locator(f'#subscriptions-table tr[data-id="{sub}"]').is_visible()
    shot(page, "watch-list")
    bank.close()


def test_an_officer_changes_their_password(browser: Browser, node: NodeProcess) -> None:
    username = f"pw.{unique_code()[-6:]}"
    old, new = "first long passphrase", "second long passphrase"
    add_officer(node, "bank", username, "改密测试", old)
    context = browser.new_context(**OFFICE)
    page = context.new_page()
    other_context = browser.new_context(**OFFICE)
    other = other_context.new_page()  # a second session of the same officer

    def sign_in_as(p: Page, password: str) -> None:
        p.goto(f"{node.url}/console/sign-in")
        p.get_by_label("用户名").fill(username)
        p.get_by_label("密码").fill(password)
        p.get_by_role("button", name="登录").click()

    sign_in_as(page, old)
    sign_in_as(other, old)
    assert "/console/sign-in" not in other.url

    def change(current: str, first: str, second: str) -> int:
        page.goto(f"{node.url}/console/account")
        page.get_by_label("当前密码").fill(current)
        page.locator("#pw-new").fill(first)
        page.get_by_label("再次输入新密码").fill(second)
        # The form's answer is a new document: wait until it is shown, not only received.
        with (
            page.expect_navigation(),
            page.expect_response(lambda r: r.url.endswith("/account/password")) as r,
        ):
            page.get_by_role("button", name="更改密码").click()
        return r.value.status

    assert change("not the password", new, new) == 401
    assert page.locator("#password-error").get_attribute("data-error") == "unauthenticated"
    assert change(old, new, new + "x") == 422
    # (a new password under 10 characters the form itself will not send: minlength; the node's
    # refusal of one is tests/unit/test_officers.py's)
    shot(page, "account-refused", full=False)
    assert change(old, new, new) == 200
    assert page.locator("#password-changed").is_visible()
    shot(page, "account", full=False)
    other.goto(f"{node.url}/console")  # the other session ended with the change
    assert "/console/sign-in" in other.url
    page.get_by_role("button", name="退出").click()
    sign_in_as(page, old)
    assert page.locator("#sign-in-error").is_visible()
    sign_in_as(page, new)
    assert page.locator("#officer-name").inner_text() == "改密测试"
    context.close()
    other_context.close()
