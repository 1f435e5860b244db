"""扫码亮证 against a real node: the QR image, what it decodes to, and the page it opens."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image

from demo import HEATING
from localnode import NodeProcess
from tests.support.records import commitment_body, unique_code

pytestmark = pytest.mark.chain

HEATING_OWNER = "91620825MA72BT6H8M"
OTHER_USCC = "91620825MA74XK9R6N"  # a real demo owner, of another project
DIGEST = "0x" + hashlib.sha256(b"qr test document").hexdigest()


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in a PNG image."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


def page(node: NodeProcess, path: str, **params: str) -> httpx.Response:
    """GET a verification page with a plain (anonymous) client."""
    with node.client() as c:
        return c.get(path, params=params)


def register(node: NodeProcess, code: str, **fields: Any) -> str:
    """Registers a project (as 发改局) and waits until it is on chain; returns its record uid."""
    body = {
        "code": code,
        "name": "庄浪县扫码亮证测试项目",
        "owner_uscc": HEATING_OWNER,
        "project_type": "approval",
        "region_code": "620825",
        "industry_code": "48",
        "total_investment": "31415926.53",
        **fields,
    }
    with node.client("fgj") as c:
        r = c.post("/v1/projects?wait=true", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["uid"])


def test_qr_png_encodes_the_verify_url_with_the_owner_uscc(node: NodeProcess) -> None:
    with node.client() as c:
        r = c.get(f"/v1/projects/{HEATING}/qr")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_qr(r.content) == f"{node.url}/verify/{HEATING}?uscc={HEATING_OWNER}"


@pytest.mark.parametrize(
    ("params", "headers", "media_type"),
    [
        ({"format": "svg"}, {}, "image/svg+xml"),
        ({}, {"Accept": "image/svg+xml"}, "image/svg+xml"),
        ({}, {"Accept": "image/png;q=0.5, image/svg+xml"}, "image/svg+xml"),
        ({}, {"Accept": "image/avif,image/webp,image/svg+xml,image/*,*/*;q=0.8"}, "image/png"),
        ({"format": "png"}, {"Accept": "image/svg+xml"}, "image/png"),
        ({}, {}, "image/png"),
    ],
)
def test_qr_format_follows_query_then_accept(
    node: NodeProcess, params: dict[str, str], headers: dict[str, str], media_type: str
) -> None:
    with node.client() as c:
        r = c.get(f"/v1/projects/{HEATING}/qr", params=params, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    if media_type == "image/svg+xml":
        assert "<svg" in r.text and f"项目代码 {HEATING}" in r.text
        assert "Accept" in r.headers["vary"]


def test_qr_scale_sets_png_size(node: NodeProcess) -> None:
    with node.client() as c:
        small = Image.open(io.BytesIO(c.get(f"/v1/projects/{HEATING}/qr?scale=4").content))
        large = Image.open(io.BytesIO(c.get(f"/v1/projects/{HEATING}/qr?scale=12").content))
    assert large.size[0] == 3 * small.size[0]


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/v1/projects/{unknown}/qr", 404, "not_found"),
        ("/v1/projects/2026-620825-44-1-000317/qr", 422, "invalid_input"),
        (f"/v1/projects/{HEATING}/qr?format=gif", 422, "invalid_input"),
        (f"/v1/projects/{HEATING}/qr?scale=0", 422, "invalid_input"),
    ],
)
def test_qr_bad_requests_get_json_errors(node: NodeProcess, path: str, status: int, error: str) -> None:
    with node.client() as c:
        r = c.get(path.format(unknown=unique_code()))
    assert r.status_code == status
    assert r.json()["error"] == error


def test_scanned_qr_opens_a_verified_page_with_the_public_summary(node: NodeProcess) -> None:
    with node.client() as c:
        url = decode_qr(c.get(f"/v1/projects/{HEATING}/qr").content)
        r = c.get(url)
        summary = c.get(f"/v1/projects/{HEATING}").json()
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    html = r.text
    assert 'data-verified="true"' in html
    assert "已验证" in html and "VERIFIED on chain" in html
    assert HEATING in html and "庄浪县城区集中供热管网改造工程" in html and HEATING_OWNER in html
    for stage in summary["stages"].values():
        for approval in stage["approvals"]:
            assert approval["item"] in html
            assert f'data-uid="{approval["uid"]}"' in html
    assert "承诺制同意" in html  # 占用、挖掘城市道路审批's decision, in Chinese
    assert "占用、挖掘城市道路审批" in html and "ZL-S3-005 · v1" in html  # its catalogue item and version
    assert "安全文明施工" in html and "一般" in html  # the open event and its severity
    assert "审批替代型" in html  # the commitment
    blocks = re.findall(r'class="onchain" data-block="(\d+)"', html)
    assert len(blocks) == 1 + 5 + 1 + 1  # registration, approvals, open event, commitment
    assert "链上已验证" in html and "Verified on chain" in html


def test_page_shows_no_restricted_fields(node: NodeProcess) -> None:
    with node.client("fgj") as c:
        records = c.get(f"/v1/projects/{HEATING}/history").json()["records"]
    secrets = [r["digest"] for r in records if r["digest"]] + [r["seal"] for r in records]
    secrets += [d for r in records for d in r["fields"].get("evidence", [])]
    html = page(node, f"/verify/{HEATING}", uscc=HEATING_OWNER).text
    assert "186000000" not in html  # total_investment
    assert secrets and not [s for s in secrets if s in html]  # no document digests, no seals
    assert "<script" not in html and "src=" not in html and "@import" not in html  # nothing loaded


def test_qr_with_another_owners_uscc_shows_not_verified(node: NodeProcess) -> None:
    r = page(node, f"/verify/{HEATING}", uscc=OTHER_USCC)
    assert r.status_code == 200
    assert 'data-verified="false"' in r.text and 'data-reason="uscc_mismatch"' in r.text
    assert "未通过验证" in r.text and "NOT VERIFIED" in r.text
    assert OTHER_USCC in r.text and HEATING_OWNER in r.text  # both, to compare with the sign


def test_uscc_comparison_ignores_case_and_spaces(node: NodeProcess) -> None:
    r = page(node, f"/verify/{HEATING}", uscc=f" {HEATING_OWNER.lower()} ")
    assert 'data-verified="true"' in r.text


def test_unknown_project_is_a_404_page_in_the_same_style(node: NodeProcess) -> None:
    unknown = unique_code()
    r = page(node, f"/verify/{unknown}", uscc=HEATING_OWNER)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert 'data-verified="false"' in r.text and 'data-reason="not_registered"' in r.text
    assert "未通过验证" in r.text and unknown in r.text


def test_malformed_code_is_a_422_page_with_the_input_escaped(node: NodeProcess) -> None:
    r = page(node, '/verify/<img src=x onerror="alert(1)">', uscc='"><script>alert(2)</script>')
    assert r.status_code == 422
    assert 'data-reason="malformed_code"' in r.text
    assert "<img" not in r.text and "<script>alert" not in r.text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in r.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in r.text


def test_values_from_the_chain_are_escaped(node: NodeProcess) -> None:
    code = unique_code()
    register(node, code, name='<script>alert("name")</script>工程')
    item = f"XSS-{code[-6:]}"  # a catalogue item whose name carries markup
    with node.client("zwfw") as c:
        r = c.post("/v1/catalogue/items?wait=true", json={
            "code": item, "name": "<b onmouseover=alert(1)>规划许可</b>", "stage": 2, "list": "approval",
            "department": node.org_ids["zrzyj"], "time_limit_days": 5, "commitment": "deficiency",
        })  # fmt: skip
        assert r.status_code == 200, r.text
    approval = {
        "stage": 2,
        "item": item,
        "decision": "accepted_with_deficiencies",
        "document_digest": DIGEST,
        "document_no": "庄&号",
        "issued_at": "2026-05-01",
        "commitment": commitment_body("accepted_with_deficiencies"),
    }
    with node.client("zrzyj") as c:
        assert c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval).status_code == 200
    html = page(node, f"/verify/{code}").text
    assert 'data-verified="true"' in html
    assert "<script>alert" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;工程" in html
    assert "&lt;b onmouseover=alert(1)&gt;规划许可&lt;/b&gt;" in html
    assert "庄&amp;号" in html and "容缺受理" in html


def test_revoked_registration_gets_no_qr_and_a_not_verified_page(node: NodeProcess) -> None:
    code = unique_code()
    uid = register(node, code)
    with node.client("fgj") as c:
        r = c.post(f"/v1/records/{uid}/revoke?wait=true", json={"reason": "重复赋码，予以撤销"})
        assert r.status_code == 200, r.text
        assert c.get(f"/v1/projects/{code}/qr").status_code == 409
    r = page(node, f"/verify/{code}", uscc=HEATING_OWNER)
    assert r.status_code == 200
    assert 'data-reason="registration_revoked"' in r.text


def test_a_resolved_event_stays_published_through_its_window_until_it_is_repaired(node: NodeProcess) -> None:
    code = unique_code()
    register(node, code)

    def event(occurred_at: str) -> str:
        body = {"category": "扬尘污染", "severity": "slight", "description_digest": DIGEST, "evidence_digests": [],
                "occurred_at": occurred_at}  # fmt: skip
        with node.client("scjgj") as c:
            r = c.post(f"/v1/projects/{code}/events?wait=true", json=body)
            assert r.status_code == 200, r.text
            uid = str(r.json()["uid"])
            done = c.post(f"/v1/records/{uid}/resolve?wait=true", json={"reason": "已整改"})
            assert done.status_code == 200, done.text
        return uid

    recent = event(dt.date.today().isoformat())  # published for 3 months (slight)
    old = event("2025-01-06")  # its window ended 2025-04-07

    def shown() -> dict[str, str]:
        html = page(node, f"/verify/{code}", uscc=HEATING_OWNER).text
        section = html[html.index('id="events"') :]
        section = section[: section.index("</section>")]
        return dict(re.findall(r'data-uid="(0x[0-9a-f]+)".*?data-status="(\w+)"', section, flags=re.S))

    assert shown() == {recent: "resolved"}  # resolved, still within its window; the old one is not shown
    with node.client() as c:
        summary = c.get(f"/v1/projects/{code}").json()
    assert [e["uid"] for e in summary["published_events"]] == [recent] and summary["open_events"] == []
    with node.client("scjgj") as c:
        r = c.post(f"/v1/records/{recent}/repair?wait=true", json={"reason": "申请信用修复"})
        assert r.status_code == 200, r.text  # a slight event may be repaired at once
    assert shown() == {}  # 信用修复 ends its publication; the record itself stays on the ledger
    with node.client("scjgj") as c:
        assert c.get(f"/v1/records/{recent}").json()["status"] == "repaired"
        assert c.get(f"/v1/records/{old}").json()["status"] == "resolved"  # resolved, but past its window
