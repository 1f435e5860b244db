"""The console (issue #14) in Debian's chromium against a real node and chain.

Each role's journey end to end: an officer signs in, registers a project, another records a
批复 with a document uploaded in the browser (its SHA-256 computed there and shown before
sealing) and sees it confirmed on chain; a supervisor sees the warnings and reports an event
with evidence, then resolves it; an auditor sees every access-log proof verified in the
browser (and a tampered entry fail). Attacks: a form without its CSRF token is refused and
writes nothing; a locked-out officer stays out even with the right password. /docs renders
with every request to anything but the node aborted.

Screenshots of the main screens are written to docs/console/ (committed) by these tests.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route

from demo import HOSPITAL
from localnode import NodeProcess
from tests.support.records import project_body, unique_code

pytestmark = [pytest.mark.browser, pytest.mark.chain]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
OFFICE = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}
PHONE = {"viewport": {"width": 412, "height": 915}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}  # fmt: skip


def shot(page: Page, name: str, full: bool = True) -> None:
    """A screenshot of a main screen, kept in docs/console/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    # After a form's POST the page may still be navigating to its answer; Chromium cannot capture
    # a page between two documents ("Unable to capture screenshot").
    page.wait_for_load_state()
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def local_only(context: BrowserContext, node: NodeProcess) -> list[str]:
    """Aborts every request to anything but the node; returns the URLs that were tried."""
    tried: list[str] = []
    host = urlparse(node.url).netloc

    def guard(route: Route) -> None:
        if urlparse(route.request.url).netloc == host:
            route.continue_()
        else:
            tried.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return tried


@pytest.fixture
def office(browser: Browser, node: NodeProcess) -> Iterator[tuple[Page, list[str]]]:
    """A fresh office-screen page (1366×768) that can reach the node only."""
    context = browser.new_context(**OFFICE)
    tried = local_only(context, node)
    yield context.new_page(), tried
    context.close()


def sign_in(page: Page, node: NodeProcess, key: str, password: str | None = None) -> None:
    """Signs the demo officer of organisation ``key`` in through the form."""
    officer = node.officers[key]
    page.goto(f"{node.url}/console")
    assert "/console/sign-in" in page.url
    page.get_by_label("用户名").fill(officer["username"])
    page.get_by_label("密码").fill(password or officer["password"])
    page.get_by_role("button", name="登录").click()


def choose_file(page: Page, form: Locator, label: str, path: Path, shown: str) -> str:
    """Chooses a file in a form and waits for the digest the page computes and shows; returns it."""
    form.get_by_label(label).set_input_files(str(path))
    page.wait_for_function(f"document.getElementById('{shown}').dataset.ready === 'true'")
    return page.locator(f"#{shown}").inner_text()


def submit(page: Page, form: Locator | Page, button: str | None = None) -> Locator:
    """Presses the form's button (the one named ``button``) and sees the record confirmed on chain; the
    page's ``#done`` notice."""
    form.get_by_role("button", name=button).click()
    done = page.locator("#done")
    assert done.get_attribute("data-state") == "confirmed", done.inner_text()
    return done


def act(page: Page, row: Locator, action: str, label: str, reason: str) -> None:
    """Changes a record's status from its row on the project page, and sees the change confirmed."""
    row.locator("summary").click()
    form = row.locator(f'form[data-action="{action}"]')
    form.get_by_label(label).fill(reason)
    submit(page, form)


def add_officer(node: NodeProcess, org: str, username: str, name: str, password: str) -> None:
    """A new officer of organisation ``org``, made by the operator's CLI (password from stdin)."""
    added = subprocess.run(
        [sys.executable, "-m", "node_api.cli", "officer", "add", "--org", str(node.org_ids[org]),
         "--username", username, "--name", name],
        input=password + "\n", env={**os.environ, **node.env()}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def register(node: NodeProcess) -> str:
    """A fresh project registered through the API (发改局's token), confirmed."""
    code = unique_code()
    with node.client("fgj") as c:
        r = c.post("/v1/projects?wait=true", json=project_body(code))
    assert r.status_code == 200, r.text
    return code


def test_docs_render_with_nothing_but_the_node(office: tuple[Page, list[str]], node: NodeProcess) -> None:
    page, tried = office
    response = page.goto(f"{node.url}/docs")
    assert response is not None and response.status == 200
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() > 20  # the API's operations, drawn by Swagger UI
    assert "/v1/projects" in page.locator("#swagger-ui").inner_text()
    assert tried == []  # nothing was even asked of a CDN
    shot(page, "docs", full=False)


def test_officer_records_a_pifu_with_an_uploaded_file_and_sees_it_confirmed(
    office: tuple[Page, list[str]], node: NodeProcess, tmp_path: Path
) -> None:
    page, tried = office
    sign_in(page, node, "fgj")
    assert page.locator("#officer-name").inner_text() == "庄浪县发展和改革局经办人"
    shot(page, "home")
    # 发改局 registers a project (赋码) through the console.
    code = unique_code()
    page.goto(f"{node.url}/console/projects/new")
    for field, value in project_body(code).items():
        if field == "project_type":
            page.select_option("#project_type", value)
        else:
            page.locator(f"#{field}").fill(str(value))
    shot(page, "register")
    submit(page, page, "登记并签章")
    assert page.locator("#project-code").inner_text() == code
    page.goto(f"{node.url}/console/queue")
    shot(page, "queue")
    page.get_by_role("button", name="退出").click()
    assert "/console/sign-in" in page.url

    # 自然资源局's officer records the 批复 of ZL-S1-005 with the document chosen in the browser.
    sign_in(page, node, "zrzyj")
    page.goto(f"{node.url}/console/projects/{code}")
    document = tmp_path / "yongdi-yushen.txt"
    document.write_text(f"庄浪县自然资源局 用地预审与选址意见书 {code}", encoding="utf-8")
    digest = "0x" + hashlib.sha256(document.read_bytes()).hexdigest()
    form = page.locator("#approval-form")
    form.get_by_label("事项").select_option("ZL-S1-005")
    form.get_by_label("阶段").select_option("1")
    form.get_by_label("批准文号").fill("用字第620825202600099号")
    form.get_by_label("签发日期").fill("2026-06-01")
    # computed by Web Crypto, shown before sealing
    assert choose_file(page, form, "批复文件", document, "ap-digest-shown") == digest
    shot(page, "approval-form")
    done = submit(page, form, "批复并签章")
    assert "已上链确认" in done.inner_text()
    uid = done.get_attribute("data-uid")
    stage1 = page.locator('ol.timeline li[data-stage="1"]')
    assert stage1.get_attribute("data-status") == "approved"
    shot(page, "project")
    # The chain holds the document's digest, the organisation sealed it, the officer is named beside it.
    with node.client("zrzyj") as c:
        record = c.get(f"/v1/records/{uid}").json()
    assert record["digest"] == digest and record["issuer"]["id"] == node.org_ids["zrzyj"]
    row = page.locator(f'#records tr[data-uid="{uid}"]')
    assert node.officers["zrzyj"]["username"] in row.inner_text()
    assert tried == []


def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(
    office: tuple[Page, list[str]], node: NodeProcess
) -> None:
    page, _ = office
    code = register(node)
    sign_in(page, node, "fgj")
    page.goto(f"{node.url}/console/projects/{code}")
    before = len(node.client("fgj").get(f"/v1/projects/{code}/history").json()["records"])
    form = {"item": "ZL-S1-004", "accepted_at": "2026-06-02T09:30"}
    for token in (None, "forged-" + "x" * 40):
        data = form if token is None else {**form, "csrf": token}
        r = page.request.post(f"{node.url}/console/projects/{code}/acceptances", form=data, max_redirects=0)
        assert r.status == 403, r.text()
        assert 'data-error="csrf_refused"' in r.text()
    # The same form with the session's token goes through (the refusal was the token, nothing else).
    token = page.locator('#acceptance-form input[name="csrf"]').get_attribute("value")
    assert token
    r = page.request.post(f"{node.url}/console/projects/{code}/acceptances", form={**form, "csrf": token})
    assert r.status == 200 and 'data-state="confirmed"' in r.text()
    after = node.client("fgj").get(f"/v1/projects/{code}/history").json()["records"]
    assert len(after) == before + 1  # only the accepted form wrote a record
    page.goto(f"{node.url}/console/projects/{code}")
    page.evaluate("document.querySelector('#acceptance-form input[name=csrf]').remove()")
    page.locator("#acceptance-form").get_by_label("受理时间").fill("2026-06-03T10:00")
    page.locator("#acceptance-form").get_by_role("button").click()
    assert page.locator("#error").get_attribute("data-status") == "403"
    shot(page, "csrf-refused", full=False)


def test_a_file_other_than_the_one_whose_digest_was_shown_is_refused(
    office: tuple[Page, list[str]], node: NodeProcess
) -> None:
    page, _ = office
    code = register(node)
    sign_in(page, node, "zrzyj")
    page.goto(f"{node.url}/console/projects/{code}")
    token = page.locator('#approval-form input[name="csrf"]').get_attribute("value")
    assert token
    shown = "0x" + hashlib.sha256(b"the document the officer saw").hexdigest()
    r = page.request.post(
        f"{node.url}/console/projects/{code}/approvals",
        multipart={"csrf": token, "item": "ZL-S1-005", "stage": "1", "decision": "approved",
                   "issued_at": "2026-06-01", "document_digest": shown,
                   "document": {"name": "pifu.txt", "mimeType": "text/plain", "buffer": b"another document"}},
    )  # fmt: skip
    assert r.status == 422 and "not the digest shown before sealing" in r.text()
    with node.client("fgj") as c:
        assert [x["kind"] for x in c.get(f"/v1/projects/{code}/history").json()["records"]] == ["project"]


def test_a_locked_out_officer_stays_out(browser: Browser, node: NodeProcess) -> None:
    username = f"lockout.{unique_code()[-6:]}"
    password = "correct horse battery"
    add_officer(node, "zrzyj", username, "锁定测试", password)
    context = browser.new_context(**OFFICE)
    page = context.new_page()

    def attempt(secret: str) -> int:
        page.goto(f"{node.url}/console/sign-in")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(secret)
        with page.expect_response(
            lambda r: r.url.endswith("/console/sign-in") and r.request.method == "POST"
        ) as r:
            page.get_by_role("button", name="登录").click()
        return r.value.status

    assert attempt(password) == 303  # the account works
    page.get_by_role("button", name="退出").click()
    statuses = [attempt(f"wrong password {i}") for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    assert attempt(password) == 429  # the right password does not let a locked officer in
    assert "锁定" in page.locator("#sign-in-error").inner_text()
    assert not [c for c in context.cookies() if c["name"] == "pc_console" and c["value"]]
    page.goto(f"{node.url}/console")
    assert "/console/sign-in" in page.url
    shot(page, "locked-out", full=False)
    context.close()


def test_supervisor_sees_warnings_reports_an_event_and_resolves_it(
    office: tuple[Page, list[str]], node: NodeProcess, tmp_path: Path
) -> None:
    page, tried = office
    sign_in(page, node, "scjgj")
    page.goto(f"{node.url}/console/warnings?state=open")
    rows = page.locator("#warning-list tbody tr[data-rule]")
    assert rows.count() > 0
    assert page.locator(f'#warning-list tr[data-project="{HOSPITAL}"]').count() > 0  # the demo's overdue item
    assert page.locator("#by-rule tr[data-rule]").count() > 0
    shot(page, "warnings")
    page.select_option("#f-rule", "item.overdue")
    page.get_by_role("button", name="筛选").click()  # htmx swaps the counts and the list in place
    page.wait_for_selector('#warnings-body[data-filter-rule="item.overdue"]')
    assert "rule=item.overdue" in page.url
    assert {
        r.get_attribute("data-rule") for r in page.locator("#warning-list tbody tr[data-rule]").all()
    } == {"item.overdue"}
    code = register(node)
    page.goto(f"{node.url}/console/projects/{code}")
    evidence = tmp_path / "evidence.txt"
    evidence.write_text(f"现场检查记录 {code}：未按规定公示", encoding="utf-8")
    form = page.locator("#event-form")
    form.get_by_label("类别").fill("信息公示")
    form.get_by_label("严重程度").select_option("general")
    form.get_by_label("发生日期").fill("2026-06-20")
    choose_file(page, form, "情况说明及证据", evidence, "ev-digest-shown")
    submit(page, form, "报告并签章")
    event = page.locator('#records tr[data-kind="event"]')
    assert "15 个工作日" in event.inner_text() and "90 天" in event.inner_text()  # the rule's waiting periods
    act(page, event, "resolve", "整改完成", "已整改并补充公示")
    assert page.locator('#records tr[data-kind="event"]').get_attribute("data-status") == "resolved"
    assert tried == []


def test_supervisor_sees_a_warning_and_resolves_its_cause(
    office: tuple[Page, list[str]], node: NodeProcess
) -> None:
    page, tried = office
    code = register(node)
    with node.client("fgj") as c:  # an 审批替代型 commitment already past its due date
        r = c.post(f"/v1/projects/{code}/commitments?wait=true", json={
            "commitment_type": "approval_substitute", "content_digest": "0x" + "cd" * 32,
            "due_date": "2026-01-05", "summary": "先行开工，60日内补交施工图审查合格书"})  # fmt: skip
    assert r.status_code == 200, r.text
    sign_in(page, node, "scjgj")
    url = f"{node.url}/console/warnings?rule=commitment.overdue&state="
    row = page.locator(f'#warning-list tr[data-project="{code}"]')
    for _ in range(60):  # the node re-assesses the project as the chain moves on (about a second)
        page.goto(url)
        if row.count():
            break
        page.wait_for_timeout(500)
    assert row.get_attribute("data-state") == "open"
    row.locator("a").click()
    commitment = page.locator('#records tr[data-kind="commitment"]')
    assert commitment.get_attribute("data-status") == "overdue"
    act(page, commitment, "fulfil", "已履约", "已补交施工图审查合格书")
    for _ in range(60):
        page.goto(url)
        if row.get_attribute("data-state") == "closed":
            break
        page.wait_for_timeout(500)
    assert row.get_attribute("data-state") == "closed"  # its cause resolved, the warning closed
    assert tried == []


def test_auditor_sees_every_access_log_proof_verified_in_the_browser(
    office: tuple[Page, list[str]], node: NodeProcess
) -> None:
    page, tried = office
    sign_in(page, node, "sjj")
    page.goto(f"{node.url}/console/audit/projects/{HOSPITAL}")
    assert page.locator("#timeline tbody tr").count() > 5
    first = page.locator("#timeline tbody tr").first
    assert first.get_attribute("data-kind") == "project"
    shot(page, "timeline")
    with page.expect_download() as download:
        page.locator("#bundle-link").click()
    assert download.value.suggested_filename == f"projchain-bundle-{HOSPITAL}.json"
    page.goto(f"{node.url}/console/audit/access-log")
    page.get_by_role("button", name="立即锚定上链").click()  # close the log before looking
    # This project's entries (the log of a node other tests share runs past one page of 200).
    page.goto(f"{node.url}/console/audit/access-log?project_code={HOSPITAL}")
    table = page.locator("#access-log")
    page.wait_for_function("document.getElementById('access-log').dataset.checked === 'true'")
    summary = page.locator("#proof-summary")
    anchored = page.locator("#access-log tr[data-entry]:not([data-root=''])").count()
    assert anchored > 0
    assert summary.get_attribute("data-bad") == "0"
    assert summary.get_attribute("data-ok") == str(anchored)  # every anchored entry verified here
    assert table.locator("tr[data-verified='true']").count() == anchored
    assert "sjj.demo" in table.inner_text()  # this officer's own reads are named
    shot(page, "access-log")
    # The check can fail: one altered entry no longer hashes to its leaf.
    page.evaluate(
        "const r = document.querySelector(\"#access-log tr[data-entry]:not([data-root=''])\");"
        'r.dataset.entry = r.dataset.entry.replace(\'"action":"\', \'"action":"x\');'
    )
    page.evaluate("checkAccessLog()")
    page.wait_for_function("document.getElementById('proof-summary').dataset.bad === '1'")
    assert tried == []


def test_project_page_fits_a_phone(browser: Browser, node: NodeProcess) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, node, "bank")
    page.goto(f"{node.url}/console/projects/{HOSPITAL}")
    assert page.locator("#stages ol.timeline > li").count() == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 412
    shot(page, "project-phone")
    context.close()


def test_a_bank_is_refused_until_the_department_grants_it(
    office: tuple[Page, list[str]], browser: Browser, node: NodeProcess, tmp_path: Path
) -> None:
    page, tried = office
    code = register(node)
    bank = browser.new_context(**OFFICE)
    bank_page = bank.new_page()
    sign_in(bank_page, node, "bank")
    bank_page.goto(f"{node.url}/console/projects/{code}")
    assert bank_page.locator("#records tr[data-uid]").count() == 0  # no grant: the public view only
    assert "需授权" in bank_page.locator("#records").inner_text()
    # 发改局 (the registering authority) records the owner's commitment, then grants the bank.
    sign_in(page, node, "fgj")
    page.goto(f"{node.url}/console/projects/{code}")
    letter = tmp_path / "chengnuoshu.txt"
    letter.write_text(f"信用承诺书 {code}", encoding="utf-8")
    form = page.locator("#commitment-form")
    form.get_by_label("承诺类型").select_option("self_discipline")
    form.get_by_label("履约期限").fill("2027-06-30")
    choose_file(page, form, "承诺书", letter, "cm-digest-shown")
    submit(page, form, "记录并签章")
    grant = page.locator("#grant-form")
    grant.get_by_label("被授权机构").select_option(str(node.org_ids["bank"]))
    grant.get_by_label("有效期至").fill("2027-12-31")
    grant.get_by_label("业主授权书摘要").fill("0x" + hashlib.sha256(b"owner authorisation").hexdigest())
    submit(page, grant, "授权并签章")
    # The commitment is fulfilled (its status change is a new record).
    commitment = page.locator('#records tr[data-kind="commitment"]')
    act(page, commitment, "fulfil", "已履约", "按期履约")
    assert page.locator('#records tr[data-kind="commitment"]').get_attribute("data-status") == "fulfilled"
    bank_page.reload()
    assert bank_page.locator('#records tr[data-kind="commitment"]').count() == 1  # now under the grant
    bank_page.goto(f"{node.url}/console/consortium")
    assert bank_page.locator("#members tr[data-org]").count() >= 13
    shot(bank_page, "consortium", full=False)
    bank.close()
    assert tried == []


UNLABELLED = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name || e.id)"""


def test_keyboard_alone_signs_in_and_every_field_is_labelled(browser: Browser, node: NodeProcess) -> None:
    context = browser.new_context(**OFFICE)
    page = context.new_page()
    page.goto(f"{node.url}/console/sign-in")
    assert page.evaluate("document.activeElement.id") == "username"  # the form takes the keyboard at once
    page.keyboard.type(node.officers["zjj"]["username"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.type(node.officers["zjj"]["password"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{node.url}/console")
    for path in ("/console", f"/console/projects/{HOSPITAL}", "/console/projects/new", "/console/warnings",
                 "/console/queue"):  # fmt: skip
        page.goto(node.url + path)
        assert page.evaluate(UNLABELLED) == [], path
    context.close()
