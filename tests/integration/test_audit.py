"""Audit end to end: the access log with proofs against roots on chain, and evidence bundles.

Anchoring is forced with ``POST /v1/audit/access-log/anchor`` so the tests need not wait
for the session node's default interval (60 s) or make 100 reads.
"""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.messages import encode_typed_data

from localnode import NodeProcess
from node_api.chain.contracts import RECORD_ADDED
from node_api.domain.records import Kind
from node_api.verify import record_added
from node_api.verify.bundle import ORG_EVENTS, STATUS_CHANGED
from node_api.verify.bundle_check import carried_records, verify_bundle
from node_api.verify.merkle import leaf_hash, verify_consistency, verify_inclusion
from node_api.verify.trust import load_pin
from tests.support.api import write_confirmed
from tests.support.records import unique_code

pytestmark = pytest.mark.chain


def _hex(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def _rpc(node: NodeProcess, method: str, *params: Any) -> Any:
    reply = httpx.post(
        node.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    )
    body = reply.json()
    assert "error" not in body, body
    return body["result"]


def _register(node: NodeProcess, code: str) -> None:
    with node.client("fgj") as c:
        write_confirmed(c, "/v1/projects", {
            "code": code, "name": "庄浪县审计测试道路工程", "owner_uscc": "91620825MA72BT6H8M",
            "project_type": "approval", "region_code": "620825", "industry_code": "48",
            "total_investment": "3200000.00",
        })  # fmt: skip


def _document(client: httpx.Client, text: str) -> tuple[str, bytes]:
    content = text.encode()
    r = client.post("/v1/documents", content=content, headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    return str(r.json()["digest"]), content


def _approval(client: httpx.Client, code: str, digest: str, stage: int = 1, item: str = "ZL-S1-002") -> str:
    """An approved 批复 of a demo catalogue item (the client's organisation must be its department)."""
    return write_confirmed(client, f"/v1/projects/{code}/approvals", {
        "stage": stage, "item": item, "decision": "approved", "document_digest": digest,
        "document_no": f"庄审〔2026〕{stage}号", "issued_at": "2026-05-01",
    })  # fmt: skip


def _grant(node: NodeProcess, code: str) -> None:
    authorisation = "0x" + hashlib.sha256(b"owner authorisation " + code.encode()).hexdigest()
    with node.client("fgj") as c:
        write_confirmed(c, f"/v1/projects/{code}/grants", {
            "grantee_org": node.org_ids["bank"], "scope": "all", "expires_at": "2031-01-01T00:00:00Z",
            "authorisation_digest": authorisation,
        })  # fmt: skip


def _anchor(node: NodeProcess) -> dict[str, Any]:
    with node.client("sjj") as c:
        r = c.post("/v1/audit/access-log/anchor")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["state"] == "confirmed"
    return body


def _anchor_on_chain(node: NodeProcess, uid: str) -> tuple[bytes, int]:
    """(digest, tree_size) of the ANCHOR record ``uid``: its RecordAdded log, then its transaction's input."""
    ledger = node.client().get("/health").json()["contracts"]["ledger"]
    logs = _rpc(node, "eth_getLogs", {"address": ledger, "fromBlock": "0x0", "toBlock": "latest",
                                      "topics": [record_added.topics(), uid]})  # fmt: skip
    assert len(logs) == 1
    carried = carried_records(_rpc(node, "eth_getTransactionByHash", logs[0]["transactionHash"]))
    assert carried is not None
    record, _seal = carried[_hex(uid)]
    assert record.kind == Kind.ANCHOR
    return record.digest, int(abi_decode(["uint64"], record.payload)[0])


# -- access log ------------------------------------------------------------------------
def test_bank_reads_under_grant_are_logged_with_proofs_against_roots_on_chain(
    node: NodeProcess, code: str
) -> None:
    _register(node, code)
    with node.client("fgj") as c:
        digest, _ = _document(c, f"庄浪县发展和改革局批复 {code}")
        _approval(c, code, digest)
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 403
        assert bank.get(f"/v1/documents/{digest}").status_code == 403
    _grant(node, code)
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 200
        assert bank.get(f"/v1/documents/{digest}").status_code == 200
    anchor = _anchor(node)
    with node.client("sjj") as auditor:
        r = auditor.get("/v1/audit/access-log", params={"project_code": code, "org_id": node.org_ids["bank"]})
    assert r.status_code == 200, r.text
    log = r.json()
    # The bank's reads, in order. Webhook deliveries to the bank's subscriptions made by other tests on
    # this shared node are logged like reads once the grant lets them through, possibly after the
    # anchor: they are left out here.
    entries = [e for e in log["entries"] if not json.loads(e["entry"])["action"].startswith("webhook.")]
    assert [json.loads(e["entry"])["action"] for e in entries] == ["project.history", "document.download"]
    anchors = {a["tree_size"]: a for a in log["anchors"]}
    for e in entries:
        fields = json.loads(e["entry"])
        assert fields["org_id"] == node.org_ids["bank"] and fields["project_code"] == code
        assert fields["basis"].startswith("grant:0x")
        assert leaf_hash(e["entry"].encode()) == _hex(e["leaf_hash"])
        size, root = e["anchor"]["tree_size"], _hex(e["anchor"]["root"])
        assert e["index"] < size <= anchor["tree_size"]
        proof = [_hex(p) for p in e["inclusion_proof"]]
        assert verify_inclusion(_hex(e["leaf_hash"]), e["index"], size, proof, root)
        # The root is on chain: the ANCHOR record's digest, read from the chain itself.
        on_chain_root, on_chain_size = _anchor_on_chain(node, anchors[size]["uid"])
        assert (on_chain_root, on_chain_size) == (root, size)
        assert anchors[size]["block_number"] > 0 and anchors[size]["tx_hash"].startswith("0x")
    with node.client("sjj") as auditor:
        record = auditor.get(f"/v1/records/{anchor['uid']}").json()
    assert record["kind"] == "anchor" and record["state"] == "confirmed"
    assert record["digest"] == anchor["root"] and record["fields"]["tree_size"] == anchor["tree_size"]


def test_consistency_proof_links_two_anchors(node: NodeProcess) -> None:
    first = _anchor(node)
    with node.client("sjj") as auditor:
        auditor.get("/v1/audit/access-log", params={"limit": 1})  # a logged read: the log grows
        second = _anchor(node)
        log = auditor.get("/v1/audit/access-log", params={"from_index": first["tree_size"] - 1}).json()
    assert second["tree_size"] > first["tree_size"]
    roots = {a["tree_size"]: _hex(a["root"]) for a in log["anchors"]}
    assert {first["tree_size"], second["tree_size"]} <= roots.keys()
    links = {(c["from_size"], c["to_size"]): c["proof"] for c in log["consistency"]}
    assert links, log
    for (old, new), proof in links.items():
        assert verify_consistency(old, new, roots[old], roots[new], [_hex(p) for p in proof])
    # The links form one chain from the first anchor to the second.
    size = first["tree_size"]
    while size != second["tree_size"]:
        size = next(new for old, new in links if old == size)
    # A forged root breaks the proof.
    old, new = next(iter(links))
    assert not verify_consistency(old, new, roots[old], b"\x00" * 32, [_hex(p) for p in links[(old, new)]])


def test_reading_the_access_log_is_itself_logged(node: NodeProcess) -> None:
    with node.client("sjj") as auditor:
        auditor.get("/v1/audit/access-log", params={"org_id": node.org_ids["sjj"], "limit": 1})
        after = auditor.get(
            "/v1/audit/access-log", params={"org_id": node.org_ids["sjj"], "limit": 1000}
        ).json()
    actions = [json.loads(e["entry"])["action"] for e in after["entries"]]
    assert "access_log.read" in actions
    assert after["entries"][-1]["anchor"] is None or after["entries"][-1]["inclusion_proof"]


def test_access_log_filters_by_time_and_pages_by_index(node: NodeProcess) -> None:
    me = node.org_ids["sjj"]
    with node.client("sjj") as auditor:
        auditor.get("/v1/audit/access-log", params={"limit": 1})
        auditor.get("/v1/audit/access-log", params={"limit": 1})
        assert (
            auditor.get("/v1/audit/access-log", params={"since": "2999-01-01T00:00:00Z"}).json()["entries"]
            == []
        )
        recent = auditor.get("/v1/audit/access-log", params={"org_id": me, "since": int(time.time()) - 600})
        indexes = [e["index"] for e in recent.json()["entries"]]
        assert len(indexes) >= 3 and indexes == sorted(indexes)
        page = auditor.get(
            "/v1/audit/access-log", params={"org_id": me, "from_index": indexes[1], "limit": 1}
        )
    assert [e["index"] for e in page.json()["entries"]] == [indexes[1]]


@pytest.mark.parametrize("org", ["bank", "fgj", "scjgj"])
def test_non_auditors_get_403_on_the_access_log(node: NodeProcess, org: str) -> None:
    with node.client(org) as c:
        assert c.get("/v1/audit/access-log").status_code == 403
        assert c.post("/v1/audit/access-log/anchor").status_code == 403
    assert node.client().get("/v1/audit/access-log").status_code == 401


@pytest.mark.parametrize(
    "params", [{"limit": 1001}, {"limit": 0}, {"project_code": "not-a-code"}, {"org_id": 0}]
)
def test_bad_access_log_queries_get_422(node: NodeProcess, params: dict[str, Any]) -> None:
    with node.client("sjj") as c:
        r = c.get("/v1/audit/access-log", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_input"


def test_huge_org_id_filter_on_access_log_gets_422(node: NodeProcess) -> None:
    with node.client("sjj") as auditor:
        r = auditor.get("/v1/audit/access-log", params={"org_id": 2**70})
    assert r.status_code == 422


# -- evidence bundles --------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_bundle(node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(bundle file, documents folder, code) of a project with approvals, a revocation and an event."""
    code = unique_code()
    _register(node, code)
    docs = tmp_path_factory.mktemp("documents")
    with node.client("fgj") as fgj:
        digest, content = _document(fgj, f"项目审批 {code}")
        (docs / digest[2:]).write_bytes(content)
        _approval(fgj, code, digest)
        wrong = _approval(fgj, code, "0x" + "ab" * 32, stage=2, item="ZL-S2-003")  # 误录
        write_confirmed(fgj, f"/v1/records/{wrong}/revoke", {"reason": "误录"})
    with node.client("zrzyj") as zrzyj:
        _approval(zrzyj, code, "0x" + hashlib.sha256(b"land " + code.encode()).hexdigest(), item="ZL-S1-005")
    with node.client("scjgj") as scjgj:
        event = write_confirmed(scjgj, f"/v1/projects/{code}/events", {
            "category": "质量安全", "severity": "slight", "occurred_at": "2026-06-01",
            "description_digest": "0x" + "cd" * 32, "evidence_digests": ["0x" + "ef" * 32],
        })  # fmt: skip
        write_confirmed(scjgj, f"/v1/records/{event}/resolve", {"reason": "已整改"})
    with node.client("sjj") as auditor:
        r = auditor.get(f"/v1/audit/projects/{code}/bundle")
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    path = tmp_path_factory.mktemp("bundle") / "bundle.json"
    path.write_text(r.text)
    return path, docs, code


def _verify_cli(node: NodeProcess, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "node_api.cli", "verify-bundle", str(path), "--rpc", node.rpc_url]
    pin = ["--deployment", str(node.data_dir / "deployment.json")]  # the node's own deployment file
    return subprocess.run([*args, *pin, *extra], capture_output=True, text=True, timeout=60)


def test_bundle_verifies_with_the_cli_against_the_chain(
    node: NodeProcess, demo_bundle: tuple[Path, Path, str]
) -> None:
    path, docs, _ = demo_bundle
    bundle = json.loads(path.read_text())
    assert bundle["format"] == "projchain-evidence-bundle" and bundle["version"] == 1
    assert [r["kind"] for r in bundle["records"]] == [
        "project", "approval", "approval", "revocation", "approval", "event", "resolution"
    ]  # fmt: skip
    statuses = {r["kind"]: r["status"] for r in bundle["records"]}
    assert statuses["event"] == "resolved" and statuses["revocation"] == "recorded"
    done = _verify_cli(node, path, "--documents", str(docs))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert sum(1 for line in lines if line.startswith("OK 0x")) == len(bundle["records"])
    assert "1 matched" in lines[-1]


def test_bundle_seals_recover_with_plain_eth_account(demo_bundle: tuple[Path, Path, str]) -> None:
    bundle = json.loads(demo_bundle[0].read_text())
    for r in bundle["records"]:
        # A record sent with others carries its group's seal (its path is checked in test_group_bundle.py).
        typed, seal = (
            (r["group"]["typed_data"], r["group"]["seal"]) if "group" in r else (r["typed_data"], r["seal"])
        )
        signer = Account.recover_message(encode_typed_data(full_message=typed), signature=seal)
        assert signer == r["sealer"]
        assert r["typed_data"]["domain"]["verifyingContract"] == bundle["contracts"]["ledger"]


def test_one_changed_byte_fails_and_names_the_record(
    node: NodeProcess, demo_bundle: tuple[Path, Path, str], tmp_path: Path
) -> None:
    bundle = json.loads(demo_bundle[0].read_text())
    target = bundle["records"][1]
    payload = target["typed_data"]["message"]["payload"]
    flipped = "1" if payload[-3] != "1" else "2"
    target["typed_data"]["message"]["payload"] = payload[:-3] + flipped + payload[-2:]
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    done = _verify_cli(node, path)
    assert done.returncode == 1, done.stdout + done.stderr
    fail = next(line for line in done.stdout.splitlines() if line.startswith("FAIL"))
    assert fail.startswith(f"FAIL {target['uid']}:")
    assert "seal was made by" in fail and "payload differs from the chain" in fail


def test_verifier_names_what_fails(
    node: NodeProcess, demo_bundle: tuple[Path, Path, str], tmp_path: Path
) -> None:
    path, docs, _ = demo_bundle
    original = json.loads(path.read_text())

    pin = load_pin(str(node.data_dir / "deployment.json"), None, None)

    def problems(bundle: dict[str, Any], documents: Path | None = None) -> dict[str, list[str]]:
        found = verify_bundle(bundle, node.rpc_url, documents, pin=pin).findings
        return {f.subject: f.problems for f in found if f.problems}

    forged = copy.deepcopy(original)
    seal = forged["records"][2]["seal"]
    forged["records"][2]["seal"] = seal[:10] + ("0" if seal[10] != "0" else "1") + seal[11:]
    assert list(problems(forged)) == [forged["records"][2]["uid"]]

    hidden = copy.deepcopy(original)
    dropped = hidden["records"].pop(3)
    assert any(
        f"record {dropped['uid']}" in p and "missing from the bundle" in p for p in problems(hidden)["bundle"]
    )

    restated = copy.deepcopy(original)
    restated["records"][5]["status"] = "open"
    assert "status was resolved" in problems(restated)[restated["records"][5]["uid"]][0]

    bad_doc = tmp_path / "docs"
    bad_doc.mkdir()
    digest = original["records"][1]["document_digests"][0]
    (bad_doc / digest).write_bytes(b"a different file")
    found = problems(original, bad_doc)
    assert "does not match its digest" in found[original["records"][1]["uid"]][0]
    assert problems(original, docs) == {}


def test_bundle_is_for_auditors_and_supervisors(
    node: NodeProcess, demo_bundle: tuple[Path, Path, str]
) -> None:
    code = demo_bundle[2]
    with node.client("scjgj") as supervisor:
        assert supervisor.get(f"/v1/audit/projects/{code}/bundle").status_code == 200
    for org in ("bank", "fgj"):
        with node.client(org) as c:
            assert c.get(f"/v1/audit/projects/{code}/bundle").status_code == 403
    with node.client("sjj") as auditor:
        assert auditor.get("/v1/audit/projects/2026-620825-48-01-999998/bundle").status_code == 404
        assert auditor.get("/v1/audit/projects/not-a-code/bundle").status_code == 422


def test_embedded_event_signatures_match_the_compiled_contracts() -> None:
    from node_api.chain.compiler import load_artifacts

    artifacts = load_artifacts()
    events = {
        f"{e['name']}({','.join(i['type'] for i in e['inputs'])})"
        for name in ("Consortium", "ProjectLedger")
        for e in artifacts[name]["abi"]
        if e["type"] == "event"
    }
    assert {STATUS_CHANGED, *ORG_EVENTS} <= events
    assert RECORD_ADDED in events
