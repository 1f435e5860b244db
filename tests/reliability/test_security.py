"""Security properties of the gateway against a real node.

Cross-organisation writes, expired and revoked grants, token guessing, and secrets
at rest: tokens only hashed, private keys only in the encrypted keystore, documents
only encrypted. The on-chain side of authorisation is tested in tests/contracts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from localnode import NodeProcess
from node_api.chain.contracts import Deployment
from node_api.chain.seal import Sealer
from node_api.config import Settings
from node_api.domain.records import Kind, Record, project_id, seal_payload
from tests.support.polling import wait_until
from tests.support.records import project_body, register, unique_code

pytestmark = pytest.mark.chain

DIGEST = "0x" + hashlib.sha256(b"security test document").hexdigest()


def approval(**over: object) -> dict[str, object]:
    body: dict[str, object] = {"stage": 1, "item": "ZL-S1-002", "decision": "approved",
                               "document_digest": DIGEST, "issued_at": "2026-05-01", "item_version": 1}  # fmt: skip
    body.update(over)
    return body


def private_keys(data_dir: Path) -> dict[str, bytes]:
    """Every private key the node holds, decrypted from its keystore (to know what to look for)."""
    password = (data_dir / "secrets" / "keystore-password").read_text().strip()
    return {
        path.stem: bytes(Account.decrypt(json.loads(path.read_text()), password))
        for path in sorted((data_dir / "keystore").glob("*.json"))
    }


def files_outside_keystore(data_dir: Path) -> Iterator[Path]:
    """Every file of the data directory except the encrypted v3 key files."""
    for path in data_dir.rglob("*"):
        if path.is_file() and not (path.parent.name == "keystore" and path.suffix == ".json"):
            yield path


def presealed(node: NodeProcess, code: str, signer: str) -> dict[str, object]:
    """An approval body carrying a seal made with ``signer``'s own seal key (as on its own device)."""
    settings = Settings(data_dir=node.data_dir, env="test")
    key = private_keys(node.data_dir)[f"seal-org-{node.org_ids[signer]}"]
    d = Deployment.load(settings.deployment_path)
    issued = int(dt.datetime(2026, 5, 1, tzinfo=dt.UTC).timestamp())
    fields = {"stage": 1, "decision": 0, "item": "ZL-S1-002", "item_version": 1, "document_no": "",
              "issued_at": issued, "valid_until": 0, "note": ""}  # fmt: skip
    uid = node.org_ids[signer].to_bytes(4, "big") + os.urandom(28)  # in the signer's namespace
    salt = os.urandom(32)
    payload, _ = seal_payload(Kind.APPROVAL, fields, salt)
    record = Record(uid, Kind.APPROVAL, project_id(code), b"\0" * 32, bytes.fromhex(DIGEST[2:]), payload)
    seal = Sealer(d.chain_id, d.ledger).seal(record, Account.from_key(key))
    return approval(seal={"uid": "0x" + uid.hex(), "signature": "0x" + seal.hex(), "salt": "0x" + salt.hex()})


def test_seal_of_org_a_sent_with_token_of_org_b_gets_403_and_is_not_written(node: NodeProcess) -> None:
    code = unique_code()
    register(node, code)
    body = presealed(node, code, "fgj")
    uid = body["seal"]["uid"]  # type: ignore[index]
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=body)
        assert r.status_code == 403, r.text  # (发改局's item, too: 自然资源局 could not approve it at all)
        assert c.get(f"/v1/records/{uid}").status_code == 404
    with node.client("fgj") as c:  # the same seal with its own organisation's token is fine
        ok = c.post(f"/v1/projects/{code}/approvals?wait=true", json=body)
    assert ok.status_code == 200 and ok.json()["uid"] == uid, ok.text


def test_same_idempotency_key_in_two_organisations_gives_two_records(node: NodeProcess) -> None:
    code = unique_code()
    register(node, code)
    headers = {"Idempotency-Key": "shared-key-1"}
    with node.client("fgj") as a, node.client("zrzyj") as b:
        ua = a.post(f"/v1/projects/{code}/approvals", json=approval(), headers=headers).json()["uid"]
        ub = b.post(f"/v1/projects/{code}/approvals", json=approval(item="ZL-S1-005"), headers=headers).json()
    assert ub["uid"] != ua and ub["duplicate"] is False


def test_expired_and_revoked_grants_are_refused(node: NodeProcess) -> None:
    code = unique_code()
    register(node, code)
    # 15 s: the confirmed grant and the first read fit within it on a loaded machine.
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=15)
    with node.client("fgj") as c:
        short = c.post(f"/v1/projects/{code}/grants?wait=true", json={
            "grantee_org": node.org_ids["bank"], "scope": "all", "expires_at": expires.isoformat(),
            "authorisation_digest": DIGEST})  # fmt: skip
        assert short.status_code == 200, short.text
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 200

        def refused() -> httpx.Response | None:
            r = bank.get(f"/v1/projects/{code}/history")
            return r if r.status_code == 403 else None

        left = (expires - dt.datetime.now(dt.UTC)).total_seconds()
        expired = wait_until(
            refused, max(0.0, left) + 5.0, "the expired grant stops letting the bank read", interval=0.25
        )
        assert project_body(code)["name"] not in expired.text
    with node.client("fgj") as c:
        grant = c.post(f"/v1/projects/{code}/grants?wait=true", json={
            "grantee_org": node.org_ids["bank"], "scope": "all", "expires_at": "2030-01-01T00:00:00Z",
            "authorisation_digest": DIGEST})  # fmt: skip
        assert grant.status_code == 200
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 200
    with node.client("fgj") as c:
        assert c.delete(f"/v1/projects/{code}/grants/{grant.json()['uid']}?wait=true").status_code == 200
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 403
        assert "total_investment" not in bank.get(f"/v1/projects/{code}").json()


def test_token_guessing_is_rate_limited_even_for_the_right_token(node: NodeProcess) -> None:
    # A client of its own (127.0.0.2), so the lock-out does not touch the other tests' client.
    # It guesses the secret of 审计局's token (the token's id, its selector, is not secret).
    token = node.tokens["sjj"]
    selector = token.split("_")[1]
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=node.url, transport=transport, timeout=10) as c:
        statuses = [
            c.get(
                "/v1/audit/access-log", headers={"Authorization": f"Bearer pc_{selector}_{'x' * 42}{i % 10}"}
            ).status_code
            for i in range(30)
        ]
        assert statuses[0] == 401 and statuses[-1] == 429, statuses
        assert statuses.index(429) <= 25
        right = c.get("/v1/audit/access-log", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 429, "a locked-out client got in with a right token"
        assert right.json()["error"] == "rate_limited"
        # Claiming to be someone else does not help: only a trusted proxy may set X-Forwarded-For.
        spoofed = c.get("/v1/audit/access-log", headers={"Authorization": f"Bearer {token}",
                                                          "X-Forwarded-For": "10.9.8.7"})  # fmt: skip
        assert spoofed.status_code == 429
        # Another organisation's token from the same address is not locked out by the guesses.
        other = c.get("/v1/audit/access-log", headers={"Authorization": f"Bearer {node.tokens['zjj']}"})
        assert other.status_code == 403, other.text  # authenticated; only not an auditor
    with node.client("sjj") as other_client:  # other clients are not locked out
        assert other_client.get("/v1/audit/access-log").status_code == 200


def attempt(node: NodeProcess, token: str, source: str, forwarded_for: str | None = None) -> int:
    """One authenticated request from ``source`` on a new connection (so the kernel may hand it
    to any of the node's processes); its status."""
    headers = {"Authorization": f"Bearer {token}"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=node.url, transport=transport, timeout=10) as c:
        return c.get("/v1/audit/access-log", headers=headers).status_code


def test_failed_logins_are_counted_once_across_the_gateway_processes(node: NodeProcess) -> None:
    # The attack: with N gateway processes each counting on its own, a guesser who opens a new
    # connection per guess gets N x 20 guesses a minute instead of 20.
    statuses = [attempt(node, f"pc_guess{i}", "127.0.0.3") for i in range(44)]
    assert statuses.count(401) <= 20, f"{statuses.count(401)} guesses answered: {statuses}"
    assert statuses[-1] == 429


def test_a_guesser_at_a_shared_address_does_not_lock_out_the_other_clients_there(node: NodeProcess) -> None:
    # The attack: 127.0.0.4 stands for the address many clients share (an office's NAT, a proxy);
    # one guesser there must not lock everyone else out with a few wrong tokens.
    statuses = [attempt(node, f"pc_guess{i}", "127.0.0.4") for i in range(25)]
    assert statuses[-1] == 429, statuses
    assert attempt(node, node.tokens["sjj"], "127.0.0.4") == 200, "one guesser locked out a whole address"


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own(node: NodeProcess) -> None:
    # The session node trusts 127.0.0.5 as its reverse proxy (see tests/conftest.py).
    statuses = [attempt(node, f"pc_guess{i}", "127.0.0.5", "198.51.100.7") for i in range(25)]
    assert statuses[-1] == 429, statuses
    # Another client behind the same proxy is not locked out.
    assert attempt(node, "pc_guess-x", "127.0.0.5", "198.51.100.8") == 401
    assert attempt(node, node.tokens["sjj"], "127.0.0.5", "198.51.100.8") == 200
    # The proxy appends the address it saw: a client's own X-Forwarded-For entries do not count.
    assert attempt(node, "pc_guess-y", "127.0.0.5", "203.0.113.1, 198.51.100.7") == 429


def test_a_guesser_on_the_loopback_cannot_name_itself_by_x_forwarded_for(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # The attack: a guesser whose connections reach the node from 127.0.0.1 — a local TCP forwarder
    # (ssh tunnel, socat, stunnel) in front of the node, which sets no X-Forwarded-For of its own —
    # names a new address in X-Forwarded-For with every guess. Nothing in PROJCHAIN_TRUSTED_PROXIES
    # names 127.0.0.1, so that header must count for nothing; uvicorn's own proxy-header handling
    # (on by default, trusting 127.0.0.1) believed it and counted each guess against another address.
    # Its own node: the loopback address of every other test's client ends up locked out.
    node = NodeProcess(tmp_path_factory.mktemp("loopback-guesser")).start(demo=False)
    try:
        statuses = [attempt(node, f"pc_guess{i}", "127.0.0.1", f"198.51.100.{i}") for i in range(25)]
    finally:
        node.stop()
    assert statuses[-1] == 429, statuses


def test_tokens_are_stored_only_as_hashes(node: NodeProcess) -> None:
    db = node.data_dir / "node.sqlite3"
    raw = b"".join(p.read_bytes() for p in db.parent.glob("node.sqlite3*"))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        hashes = {r[0] for r in conn.execute("SELECT token_hash FROM tokens")}
    for org, token in node.tokens.items():
        assert token.encode() not in raw, f"the token of {org} is stored in the clear"
        assert token.removeprefix("pc_").encode() not in raw
        assert hashlib.sha256(token.encode()).hexdigest() in hashes


def test_private_keys_and_tokens_appear_nowhere_but_the_encrypted_keystore(node: NodeProcess) -> None:
    keys = private_keys(node.data_dir)
    assert {"relayer", "deployer"} <= set(keys) and any(k.startswith("seal-org-") for k in keys)
    with node.client("zrzyj") as c:  # error paths that handle seals and keys, to have them logged
        c.post(f"/v1/projects/{unique_code()}/approvals", json=approval())
        c.post(
            "/v1/projects",
            json={**project_body(unique_code()), "seal": {"uid": DIGEST, "signature": "00" * 65}},
        )
    needles = {
        f"private key {name}": [k.hex().encode(), k.hex().upper().encode(), k] for name, k in keys.items()
    }
    for org, token in node.tokens.items():
        needles[f"token of {org}"] = [token.encode()]
    leaks = []
    for path in files_outside_keystore(node.data_dir):
        data = path.read_bytes()
        for what, forms in needles.items():
            if not any(form in data for form in forms):
                continue
            if what.startswith("token") and _deliberate_token_copy(node.data_dir, path, forms[0]):
                continue
            leaks.append(f"{what} in {path.relative_to(node.data_dir)}")
    assert not leaks, leaks


def _deliberate_token_copy(data_dir: Path, path: Path, token: bytes) -> bool:
    """The demo hands its tokens out once: credentials.json (0600) and the banner on stdout."""
    if path == data_dir / "demo" / "credentials.json":
        return (path.stat().st_mode & 0o077) == 0
    if path.name == "node-process.log":  # the test harness's capture of stdout and stderr
        return all(not line.startswith(b"{") for line in path.read_bytes().splitlines() if token in line)
    return False


def test_documents_are_encrypted_at_rest(node: NodeProcess) -> None:
    marker = f"庄浪县保密批复原文 {os.urandom(8).hex()}".encode()
    content = marker * 50
    with node.client("fgj") as c:
        r = c.post("/v1/documents", content=content, headers={"Content-Type": "text/plain"})
        assert r.status_code == 201
        digest = r.json()["digest"][2:]
        assert c.get(f"/v1/documents/0x{digest}").content == content
    stored = [p for p in (node.data_dir / "documents").rglob("*") if p.is_file()]
    mine = [p for p in stored if p.name == digest]
    assert len(mine) == 1
    for path in stored:
        assert marker not in path.read_bytes(), f"plaintext of a document in {path}"
    assert all(marker not in p.read_bytes() for p in files_outside_keystore(node.data_dir))


def test_public_verify_refuses_large_uploads_and_takes_the_digest_instead(node: NodeProcess) -> None:
    # The attack: anyone may POST /v1/verify/document; a 6 MB body (of a 20 MB allowance) costs
    # the node its memory and a hash for nothing, where the 32-byte digest would do.
    big = os.urandom(6_000_000)
    digest = "0x" + hashlib.sha256(big).hexdigest()
    with node.client() as anon:
        r = anon.post("/v1/verify/document", content=big)
        assert r.status_code == 413, r.status_code
        assert r.json()["error"] == "payload_too_large" and "digest" in r.json()["detail"]
        # Without a Content-Length (chunked), the body is refused as it streams in.
        streamed = anon.post(
            "/v1/verify/document", content=(big[i : i + 2**16] for i in range(0, len(big), 2**16))
        )
        assert streamed.status_code == 413 and streamed.json()["error"] == "payload_too_large"
        # The digest of a large file, as JSON or as ?digest=, and small files as they are.
        assert anon.post("/v1/verify/document", json={"digest": digest}).json() == {
            "digest": digest, "on_chain": False, "records": []}  # fmt: skip
        by_query = anon.post("/v1/verify/document", params={"digest": digest.upper().replace("0X", "0x")})
        assert by_query.status_code == 200 and by_query.json()["digest"] == digest, by_query.text
        small = anon.post("/v1/verify/document", content=b"a small file")
        assert small.json()["digest"] == "0x" + hashlib.sha256(b"a small file").hexdigest()
        bad = anon.post("/v1/verify/document", params={"digest": "0x1234"})
        assert bad.status_code == 422 and bad.json()["error"] == "invalid_input"
