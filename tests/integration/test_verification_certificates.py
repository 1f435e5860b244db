"""Verification certificates (项目核验凭证) on a real chain: issued to a bank under a grant, checked by
`projchain verify-certificate` against the chain alone (JSON and PDF), refused without a grant, logged,
found altered when a byte changes, and reported stale — not forged — once the chain moves on.

The PDF is read back as a person and a phone would: poppler renders it, the QR decodes to the public
page, the Chinese text is there. Needs fonts-noto-cjk and poppler-utils (`make browser`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from localnode import NodeProcess
from node_api.ledger.verification_pdf import render_verification_certificate
from node_api.verify.certificate import ATTACHMENT
from tests.integration.test_certificates import decode_qr, page_one_png, poppler
from tests.support.records import DIGEST, approval_body, grant_bank, register

pytestmark = pytest.mark.chain

SERIOUS = {
    "category": "质量安全",
    "severity": "serious",
    "description_digest": DIGEST,
    "occurred_at": "2026-07-01",
}
GENERAL = {**SERIOUS, "severity": "general", "category": "信息公示"}


def verify(node: NodeProcess, path: Path) -> subprocess.CompletedProcess[str]:
    """`projchain verify-certificate FILE`, pinned to the node's deployment file."""
    args = [sys.executable, "-m", "node_api.cli", "verify-certificate", str(path), "--rpc", node.rpc_url,
            "--deployment", str(node.data_dir / "deployment.json")]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def project_with_history(node: NodeProcess, code: str) -> dict[str, str]:
    """A project with a stage-1 approval, an approval on commitment (and its commitment), and an open event."""
    uids = {"registration": register(node, code)}
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body())
        assert r.status_code == 200, r.text
        uids["approval"] = r.json()["uid"]
        r = c.post(
            f"/v1/projects/{code}/approvals?wait=true", json=approval_body(decision="approved_on_commitment")
        )
        assert r.status_code == 200, r.text
    with node.client("scjgj") as c:
        r = c.post(f"/v1/projects/{code}/events?wait=true", json=GENERAL)
        assert r.status_code == 200, r.text
        uids["event"] = r.json()["uid"]
    return uids


def issue(node: NodeProcess, code: str) -> dict[str, Any]:
    with node.client("bank") as bank:
        r = bank.post(f"/v1/projects/{code}/certificates")
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/certificates/{r.json()['id']}"
    return dict(r.json())


def access_log(node: NodeProcess, code: str) -> list[dict[str, Any]]:
    with node.client("sjj") as auditor:
        r = auditor.get("/v1/audit/access-log", params={"project_code": code, "org_id": node.org_ids["bank"]})
    assert r.status_code == 200, r.text
    return [json.loads(e["entry"]) for e in r.json()["entries"]]


@pytest.fixture(scope="module")
def issued(node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A certificate on a project with history, as JSON and PDF files (module-wide: issuing renders a PDF)."""
    from tests.support.records import unique_code

    code = unique_code()
    uids = project_with_history(node, code)
    grant_bank(node, code)
    cert = issue(node, code)
    folder = tmp_path_factory.mktemp("certificate")
    with node.client("bank") as bank:
        document = bank.get(f"/v1/certificates/{cert['id']}")
        pdf = bank.get(f"/v1/certificates/{cert['id']}/pdf")
    assert document.status_code == 200 and pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    (folder / "certificate.json").write_bytes(document.content)
    (folder / "certificate.pdf").write_bytes(pdf.content)
    return {"code": code, "uids": uids, "cert": cert, "folder": folder, "raw": document.content}


def test_the_certificate_states_the_project_as_of_its_block(issued: dict[str, Any]) -> None:
    cert, uids = issued["cert"], issued["uids"]
    assert cert["project"]["code"] == issued["code"]
    assert cert["project"]["registration"]["uid"] == uids["registration"]
    stage1 = next(s for s in cert["stages"] if s["stage"] == 1)
    assert stage1["status"] == "approved"
    assert uids["approval"] in [a["uid"] for a in stage1["approvals"]]
    assert [e["uid"] for e in cert["open_events"]] == [uids["event"]]
    assert [c["chain_status"] for c in cert["commitments"]] == ["pending"]
    for record in [cert["project"]["registration"], *stage1["approvals"], *cert["open_events"]]:
        assert record["block_number"] <= cert["as_of"]["block_number"]
        for key in ("block_hash", "tx_hash", "record_hash"):
            assert record[key].startswith("0x") and len(record[key]) == 66
    assert cert["verify_url"].endswith(f"/verify?certificate={cert['id']}")


def test_the_owner_grade_is_the_credit_profiles_at_the_same_block(
    node: NodeProcess, issued: dict[str, Any]
) -> None:
    cert = issued["cert"]
    grade = cert["owner"]["grade"]
    assert cert["owner"]["uscc"] == cert["project"]["owner_uscc"]
    with node.client("bank") as bank:
        r = bank.get(f"/v1/owners/{cert['owner']['uscc']}/profile",
                     params={"as_of_block": cert["as_of"]["block_number"]})  # fmt: skip
    assert r.status_code == 200, r.text
    profile = r.json()["grade"]
    assert (grade["grade"], grade["rules_version"], grade["basis"]) == (
        profile["letter"], profile["rules_version"], profile["basis"])  # fmt: skip
    assert grade["basis"] == "granted"  # the bank's grade: public facts and its granted projects' only
    assert [(c["rule"], c["facts"]) for c in grade["causes"]] == [
        (c["rule"], c["facts"]) for c in profile["causes"]
    ]


def test_the_json_and_the_pdf_verify_against_the_chain(node: NodeProcess, issued: dict[str, Any]) -> None:
    for name in ("certificate.json", "certificate.pdf"):
        done = verify(node, issued["folder"] / name)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines()[-1].startswith("VALID:"), done.stdout


def test_the_pdf_carries_the_json_byte_for_byte(issued: dict[str, Any]) -> None:
    attached = PdfReader(issued["folder"] / "certificate.pdf").attachments[ATTACHMENT]
    assert attached == [issued["raw"]]


def test_issuance_and_reads_are_in_the_access_log(node: NodeProcess, issued: dict[str, Any]) -> None:
    entries = access_log(node, issued["code"])
    issues = [e for e in entries if e["action"] == "certificate.issue"]
    assert [e["subject"] for e in issues] == [issued["cert"]["id"]]
    assert issues[0]["basis"].startswith("grant:0x")
    assert {e["action"] for e in entries} >= {"certificate.issue", "certificate.read"}


def _altered(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert raw.count(old) >= 1 and len(old) == len(new)
    return raw.replace(old, new, 1)


def test_a_changed_byte_of_the_json_is_reported_altered(
    node: NodeProcess, issued: dict[str, Any], tmp_path: Path
) -> None:
    # One byte of the decision: 'approved_on_commitment' becomes 'approved_on_commitmenT'.
    path = tmp_path / "altered.json"
    path.write_bytes(_altered(issued["raw"], b"approved_on_commitment", b"approved_on_commitmenT"))
    done = verify(node, path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FORGED OR ALTERED" in done.stdout and done.stdout.splitlines()[-1].startswith("INVALID")
    # A changed block number is caught by the seal too (and would be by the chain).
    block = str(issued["cert"]["as_of"]["block_number"]).encode()
    path.write_bytes(_altered(issued["raw"], b'"block_number":' + block + b",",
                              b'"block_number":' + str(int(block) - 1).encode().rjust(len(block), b"0") + b","))  # fmt: skip
    assert verify(node, path).returncode == 1


def test_a_changed_byte_of_the_pdfs_embedded_json_is_reported_altered(
    node: NodeProcess, issued: dict[str, Any], tmp_path: Path
) -> None:
    # The attacker re-makes the PDF around an embedded JSON with one byte changed (the owner's USCC).
    cert = issued["cert"]
    uscc = cert["project"]["owner_uscc"].encode()
    raw = _altered(issued["raw"], uscc, uscc[:-1] + (b"X" if uscc[-1:] != b"X" else b"Y"))
    path = tmp_path / "altered.pdf"
    path.write_bytes(render_verification_certificate(json.loads(raw), raw))
    done = verify(node, path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FORGED OR ALTERED" in done.stdout
    # One byte changed in place inside the genuine PDF's attachment: a digit of the block hash made
    # another hex digit (flipping a bit could make it no hex digit at all, a problem of another name).
    pdf = (issued["folder"] / "certificate.pdf").read_bytes()
    at = pdf.index(issued["raw"]) + issued["raw"].index(b'"block_hash":"0x') + 20
    other = b"1" if pdf[at : at + 1] != b"1" else b"2"
    path.write_bytes(pdf[:at] + other + pdf[at + 1 :])
    assert PdfReader(path).attachments[ATTACHMENT] != [issued["raw"]]
    done = verify(node, path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FORGED OR ALTERED" in done.stdout


def test_a_certificate_resealed_by_a_key_the_consortium_never_registered_is_forged(
    node: NodeProcess, issued: dict[str, Any], tmp_path: Path
) -> None:
    # The attacker edits a statement (the project's name) and seals the
    # result with a key of its own: the seal matches the content, but the key is not the bank's.
    from eth_account import Account

    from node_api.verify.certificate import seal

    forged = json.loads(issued["raw"])
    forged["project"]["name"] = "庄浪县另一个工程"
    forged = seal(forged, Account.create())
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    done = verify(node, path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"FORGED: seal key {forged['seal']['sealer']} is not registered for organisation" in done.stdout
    assert "FORGED OR ALTERED" not in done.stdout  # the seal does cover this content: the key is the forgery
    assert (
        "project.name is '庄浪县另一个工程', its registration says" in done.stdout
    )  # and the chain says otherwise


def test_a_bank_without_a_grant_is_refused_and_nothing_is_issued(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("bank") as bank:
        r = bank.post(f"/v1/projects/{code}/certificates")
        history = bank.get(f"/v1/projects/{code}/history")
    assert r.status_code == 403 == history.status_code
    assert set(r.json()) == {"error", "detail"} == set(history.json())
    assert r.json()["error"] == history.json()["error"]
    assert code in r.json()["detail"] and "grant" in r.json()["detail"]
    assert [e for e in access_log(node, code) if e["action"].startswith("certificate.")] == []


def test_a_serious_event_after_the_certificate_makes_it_stale_not_forged(
    node: NodeProcess, code: str, tmp_path: Path
) -> None:
    project_with_history(node, code)
    grant_bank(node, code)
    cert = issue(node, code)
    path = tmp_path / "certificate.json"
    with node.client("bank") as bank:
        path.write_bytes(bank.get(f"/v1/certificates/{cert['id']}").content)
    assert verify(node, path).returncode == 0
    with node.client("scjgj") as c:
        uid = c.post(f"/v1/projects/{code}/events?wait=true", json=SERIOUS).json()["uid"]
        event = c.get(f"/v1/records/{uid}").json()
    block = event["block_number"]
    assert block > cert["as_of"]["block_number"]
    done = verify(node, path)
    assert done.returncode == 3, done.stdout + done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("STALE: valid as of block"), last
    assert f"a serious event {event['uid']} was recorded at block {block} after the certificate" in last
    assert "FORGED" not in done.stdout and "FAIL" not in done.stdout
    # The public page says the same: no longer current, naming the event's block.
    with node.client() as public:
        page = public.get("/verify", params={"certificate": cert["id"]})
    assert page.status_code == 200
    assert 'data-reason="stale"' in page.text and "已不是最新" in page.text
    assert f'data-block="{block}" data-severity="serious"' in page.text


def test_the_pdf_renders_with_chinese_text_and_a_qr_to_the_verify_url(
    issued: dict[str, Any], artifacts_dir: Path
) -> None:
    pdf = issued["folder"] / "certificate.pdf"
    png = page_one_png(pdf)
    (artifacts_dir / "verification-certificate.png").write_bytes(png)
    assert decode_qr(png) == issued["cert"]["verify_url"]
    text = poppler("pdftotext", "-layout", str(pdf), "-")
    cert = issued["cert"]
    for expected in ["项目核验凭证", "Verification Certificate", cert["id"], cert["project"]["code"],
                     cert["project"]["name"], "审批事项", "立项用地规划许可", "未办结的建设异常信息", "信用承诺",
                     cert["issuer"]["name"], cert["seal"]["sealer"], issued["uids"]["event"], "项目单位信用等级",
                     f"规则版本 rules version {cert['owner']['grade']['rules_version']}"]:  # fmt: skip
        assert expected in text, expected


def test_the_public_page_of_an_unknown_or_malformed_id_says_not_found(node: NodeProcess) -> None:
    with node.client() as public:
        for wanted in ("vc-" + "0" * 32, "<script>", "x" * 150):
            r = public.get("/verify", params={"certificate": wanted})
            assert r.status_code == 404, wanted
            assert 'data-reason="not_found"' in r.text and "<script>" not in r.text
        form = public.get("/verify")
    assert form.status_code == 200 and 'name="certificate"' in form.text


def test_a_long_history_runs_over_pages_each_naming_the_certificate(tmp_path: Path) -> None:
    from eth_account import Account

    from node_api.verify.certificate import seal
    from tests.unit.test_verification_certificate import document, ref

    d = document()
    d["project"].update(owner_uscc="91620825MA72BT6H8M", project_type="approval", region_code="620825")
    d["project"]["registration"]["status"] = "active"
    approvals = [{**ref(200 + i), "issuer_name": "庄浪县发展和改革局",
                  "fields": {"stage": 1, "decision": "approved", "item": "ZL-S1-001", "item_version": 1}}
                 for i in range(40)]  # fmt: skip
    d["stages"][0]["approvals"] = approvals
    sealed = seal(d, Account.from_key("0x" + "42" * 32))
    raw = json.dumps(sealed, ensure_ascii=False).encode()
    path = tmp_path / "long.pdf"
    path.write_bytes(render_verification_certificate(sealed, raw))
    pages = int(
        next(
            line.split()[-1]
            for line in poppler("pdfinfo", str(path)).splitlines()
            if line.startswith("Pages:")
        )
    )
    assert pages >= 3
    text = poppler("pdftotext", "-layout", str(path), "-")
    for n in range(1, pages + 1):
        assert f"凭证编号 Certificate {d['id']} · 第 {n} / {pages} 页" in text
    assert all(a["uid"] in text for a in approvals)
    assert PdfReader(path).attachments[ATTACHMENT] == [raw]
