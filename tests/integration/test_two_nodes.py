"""A second node (the bank's) on the same chain: same read model, documents under a grant."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from localnode import NodeProcess, free_port
from node_api.chain.contracts import Deployment
from node_api.chain.keystore import KeyStore
from node_api.config import Settings
from node_api.ledger.writer import seal_key_name
from node_api.peer import DOCUMENT, OPENING, sign_request
from tests.support.member import own_node
from tests.support.polling import wait_until
from tests.support.records import approval_body, register, unique_code

pytestmark = pytest.mark.chain


class NosyPeer:
    """A consortium node the bank's node asks first: it keeps the signed requests it gets, answers 404."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append((self.path, dict(self.headers.items())))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def nosy_peer() -> Iterator[NosyPeer]:
    """The other node the bank's node asks before node A."""
    peer = NosyPeer()
    yield peer
    peer.close()


@pytest.fixture(scope="module")
def bank_node(
    node: NodeProcess, nosy_peer: NosyPeer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[NodeProcess, str]]:
    """The bank's own node: own data dir, keys and database; node A's chain; a nosy peer, then A."""
    # The session node runs a worker beside its primary (the default); the bank's
    # node is a single process, so both shapes of a node are exercised.
    env = {"PROJCHAIN_PEERS": json.dumps([nosy_peer.url, node.url]), "PROJCHAIN_WORKERS": "1"}
    b, token = own_node(node, node.org_ids["bank"], tmp_path_factory.mktemp("bank-node"), "bank-node",
                        "bank officer", env)  # fmt: skip
    yield b, token
    b.stop()


def test_two_nodes_agree_and_a_granted_document_crosses(
    node: NodeProcess, bank_node: tuple[NodeProcess, str]
) -> None:
    b, bank_token = bank_node
    code = unique_code()
    register(node, code)
    content = f"庄浪县发展和改革局批复 {code}".encode()
    digest = "0x" + hashlib.sha256(content).hexdigest()
    with node.client("fgj") as fgj:
        assert fgj.post("/v1/documents", content=content).status_code == 201
        assert (
            fgj.post(
                f"/v1/projects/{code}/approvals?wait=true", json=approval_body(document_digest=digest)
            ).status_code
            == 200
        )
        grant = fgj.post(
            f"/v1/projects/{code}/grants?wait=true",
            json={"grantee_org": node.org_ids["bank"], "scope": "all", "expires_at": "2031-01-01T00:00:00Z",
                  "authorisation_digest": digest},
        )  # fmt: skip
        assert grant.status_code == 200, grant.text
        history_a = fgj.get(f"/v1/projects/{code}/history").json()["records"]

    headers = {"Authorization": f"Bearer {bank_token}"}
    with b.client() as c:
        c.headers.update(headers)

        # The second node builds the same read model from the chain alone.
        def caught_up() -> bool:
            r = c.get(f"/v1/projects/{code}/history")  # 403 until node B has indexed the grant
            return r.status_code == 200 and len(r.json()["records"]) == len(history_a)

        wait_until(caught_up, 20, "node B shows the bank the project's whole history")
        # Same public view from both nodes (the bank's detailed view depends on its grant being indexed).
        assert (
            b.client().get(f"/v1/projects/{code}").json() == node.client().get(f"/v1/projects/{code}").json()
        )
        history_b = c.get(f"/v1/projects/{code}/history").json()["records"]
        assert [(r["uid"], r["tx_hash"], r["status"]) for r in history_b] == [
            (r["uid"], r["tx_hash"], r["status"]) for r in history_a
        ]
        assert (
            b.client().get("/health").json()["contracts"] == node.client().get("/health").json()["contracts"]
        )
        # The document is held by node A only; node B fetches it with a signed peer request.
        assert not (b.data_dir / "documents").exists() or not any(
            (b.data_dir / "documents").rglob(digest[2:])
        )
        r = c.get(f"/v1/documents/{digest}")
        assert r.status_code == 200, r.text
        assert r.content == content

    # Node A checked the grant on chain and logged the bank's access.
    db = sqlite3.connect(node.data_dir / "node.sqlite3")
    rows = db.execute("SELECT org_id, action, basis FROM access_log WHERE subject = ?", (digest,)).fetchall()
    assert (node.org_ids["bank"], "peer.document", f"grant:{grant.json()['uid']}") in rows


def test_second_node_refuses_a_document_without_grant(
    node: NodeProcess, bank_node: tuple[NodeProcess, str]
) -> None:
    b, bank_token = bank_node
    code = unique_code()
    register(node, code)
    content = f"no grant for this one {code}".encode()
    digest = "0x" + hashlib.sha256(content).hexdigest()
    with node.client("fgj") as fgj:
        fgj.post("/v1/documents", content=content)
        fgj.post(f"/v1/projects/{code}/approvals?wait=true", json=approval_body(document_digest=digest))
    with b.client() as c:
        c.headers["Authorization"] = f"Bearer {bank_token}"
        wait_until(lambda: c.get(f"/v1/projects/{code}").status_code == 200, 20, "node B indexes the project")
        r = c.get(f"/v1/documents/{digest}")
    assert r.status_code == 403


def test_peer_endpoint_refuses_unsigned_and_replayed_requests(
    node: NodeProcess, bank_node: tuple[NodeProcess, str]
) -> None:
    b, _ = bank_node
    digest = "0x" + "ab" * 32
    r = node.client().get(f"/v1/peer/documents/{digest}")
    assert r.status_code == 422
    sb = Settings(data_dir=b.data_dir, env="test")
    key = KeyStore(sb.keystore_dir, sb.password).load(seal_key_name(node.org_ids["bank"]))
    d = Deployment.load(Path(node.data_dir) / "deployment.json")
    bank, subject = node.org_ids["bank"], bytes.fromhex(digest[2:])
    signed = sign_request(
        key, d.chain_id, d.ledger, org=bank, purpose=DOCUMENT, subject=subject, audience=node.url
    )
    first = node.client().get(f"/v1/peer/documents/{digest}", headers=signed.headers())
    second = node.client().get(f"/v1/peer/documents/{digest}", headers=signed.headers())
    assert first.status_code == 404  # signature fine, document unknown
    assert second.status_code == 403  # same nonce again
    # bank key claiming 发改局
    forged = sign_request(
        key,
        d.chain_id,
        d.ledger,
        org=node.org_ids["fgj"],
        purpose=DOCUMENT,
        subject=subject,
        audience=node.url,
    )
    assert node.client().get(f"/v1/peer/documents/{digest}", headers=forged.headers()).status_code == 403
    # Signed for another node, or for another purpose: void here.
    elsewhere = sign_request(
        key, d.chain_id, d.ledger, org=bank, purpose=DOCUMENT, subject=subject, audience=b.url
    )
    refused = node.client().get(f"/v1/peer/documents/{digest}", headers=elsewhere.headers())
    assert refused.status_code == 403 and "another node" in refused.json()["detail"]
    # The signature covers audience and purpose: changed, it recovers to no seal key.
    lied = {**elsewhere.headers(), "X-Projchain-Audience": node.url}
    assert node.client().get(f"/v1/peer/documents/{digest}", headers=lied).status_code == 403
    other = sign_request(
        key, d.chain_id, d.ledger, org=bank, purpose="record opening", subject=subject, audience=node.url
    )
    assert node.client().get(f"/v1/peer/documents/{digest}", headers=other.headers()).status_code == 403


def granted_document(node: NodeProcess, b: NodeProcess, bank_token: str) -> tuple[str, bytes]:
    """A document held by node A only, under a live grant to the bank that node B has indexed."""
    code = unique_code()
    register(node, code)
    content = f"庄浪县发展和改革局批复 (peer replay) {code}".encode()
    digest = "0x" + hashlib.sha256(content).hexdigest()
    with node.client("fgj") as fgj:
        assert fgj.post("/v1/documents", content=content).status_code == 201
        approval = fgj.post(
            f"/v1/projects/{code}/approvals?wait=true", json=approval_body(document_digest=digest)
        )
        assert approval.status_code == 200, approval.text
        grant = fgj.post(f"/v1/projects/{code}/grants?wait=true", json={
            "grantee_org": node.org_ids["bank"], "scope": "all", "expires_at": "2031-01-01T00:00:00Z",
            "authorisation_digest": digest})  # fmt: skip
        assert grant.status_code == 200, grant.text
    with b.client() as c:
        c.headers["Authorization"] = f"Bearer {bank_token}"
        wait_until(
            lambda: c.get(f"/v1/projects/{code}/history").status_code == 200, 20, "node B indexes the grant"
        )
    return digest, content


def peer_headers(headers: dict[str, str]) -> dict[str, str]:
    """The signed-request headers among those a peer received."""
    return {k: v for k, v in headers.items() if k.lower().startswith("x-projchain-")}


def test_a_peer_cannot_replay_to_the_holding_node_a_request_signed_for_itself(
    node: NodeProcess, bank_node: tuple[NodeProcess, str], nosy_peer: NosyPeer
) -> None:
    # The attack: the bank's node asks each of its peers in turn with a signed request; the
    # first peer (any consortium node) keeps the request and sends it on to node A, which holds
    # the document and, the request naming no target, serves it to the nosy peer.
    b, bank_token = bank_node
    digest, content = granted_document(node, b, bank_token)
    with b.client() as c:
        got = c.get(f"/v1/documents/{digest}", headers={"Authorization": f"Bearer {bank_token}"})
    assert got.status_code == 200 and got.content == content
    kept = [(path, h) for path, h in nosy_peer.requests if digest in path]
    assert kept, "the bank's node did not ask the nosy peer"
    path, headers = kept[-1]
    replay = httpx.get(node.url + path, headers=peer_headers(headers), timeout=30)
    assert replay.status_code == 403, (
        f"node A answered {replay.status_code} to a request meant for another node"
    )
    assert content not in replay.content


def test_a_signed_request_is_not_replayed_with_its_nonce_spelt_in_capitals(
    node: NodeProcess, bank_node: tuple[NodeProcess, str]
) -> None:
    # The attack: whoever saw a request node A served sends it again with the nonce's hex in
    # capitals: the same bytes32 to the signature, a new string to the replay table.
    b, bank_token = bank_node
    digest, content = granted_document(node, b, bank_token)
    sb = Settings(data_dir=b.data_dir, env="test")
    key = KeyStore(sb.keystore_dir, sb.password).load(seal_key_name(node.org_ids["bank"]))
    d = Deployment.load(Path(node.data_dir) / "deployment.json")
    headers = sign_request(
        key, d.chain_id, d.ledger, org=node.org_ids["bank"], purpose=DOCUMENT,
        subject=bytes.fromhex(digest[2:]), audience=node.url,
    ).headers()  # fmt: skip
    first = node.client().get(f"/v1/peer/documents/{digest}", headers=headers)
    assert first.status_code == 200 and first.content == content
    for spelling in (headers["X-Projchain-Nonce"].upper(), "0x" + headers["X-Projchain-Nonce"][2:].upper()):
        again = node.client().get(
            f"/v1/peer/documents/{digest}", headers={**headers, "X-Projchain-Nonce": spelling}
        )
        assert again.status_code in (403, 422), f"replayed with nonce {spelling}: {again.status_code}"
        assert content not in again.content


def test_a_granted_bank_sees_restricted_fields_on_its_own_node(
    node: NodeProcess, bank_node: tuple[NodeProcess, str]
) -> None:
    # Node A's 发改局 issued the registration: only node A holds its opening. Node B fetches it
    # for the bank with a signed peer request, which node A checks on chain and logs.
    b, bank_token = bank_node
    bank = node.org_ids["bank"]
    granted, refused = unique_code(), unique_code()
    uids = {granted: register(node, granted), refused: register(node, refused)}
    with node.client("fgj") as fgj:
        grant = fgj.post(f"/v1/projects/{granted}/grants?wait=true", json={
            "grantee_org": bank, "scope": "all", "expires_at": "2031-01-01T00:00:00Z",
            "authorisation_digest": "0x" + "cd" * 32})  # fmt: skip
        assert grant.status_code == 200, grant.text
        assert fgj.get(f"/v1/projects/{granted}").json()["total_investment"] == "12500000.50"
    with b.client() as c:
        c.headers["Authorization"] = f"Bearer {bank_token}"
        wait_until(
            lambda: c.get(f"/v1/projects/{granted}/history").status_code == 200,
            20,
            "node B indexes the grant",
        )
        summary = c.get(f"/v1/projects/{granted}")
        assert summary.status_code == 200, summary.text
        assert summary.json()["total_investment"] == "12500000.50"
        record = c.get(f"/v1/records/{uids[granted]}").json()
        assert record["restricted"]["opened"] is True
        # No grant: the bank sees the public summary only, and node A gives it nothing.
        wait_until(
            lambda: c.get(f"/v1/projects/{refused}").status_code == 200, 20, "node B indexes the project"
        )
        assert c.get(f"/v1/projects/{refused}").json().get("total_investment") is None
        assert c.get(f"/v1/records/{uids[refused]}").status_code == 403

    # Asked directly with the bank's seal key, node A refuses the ungranted opening (checked on
    # chain) and knows no opening of a record that is not on chain.
    sb = Settings(data_dir=b.data_dir, env="test")
    key = KeyStore(sb.keystore_dir, sb.password).load(seal_key_name(bank))
    d = Deployment.load(Path(node.data_dir) / "deployment.json")
    for uid, status in ((uids[refused], 403), ("0x" + "ee" * 32, 404)):
        signed = sign_request(
            key,
            d.chain_id,
            d.ledger,
            org=bank,
            purpose=OPENING,
            subject=bytes.fromhex(uid[2:]),
            audience=node.url,
        )
        r = node.client().get(f"/v1/peer/openings/{uid}", headers=signed.headers())
        assert r.status_code == status, r.text
        assert "salt" not in r.text

    log_a = sqlite3.connect(node.data_dir / "node.sqlite3")
    rows = log_a.execute("SELECT org_id, action, basis FROM access_log WHERE subject = ?", (uids[granted],))
    assert (bank, "peer.opening", f"grant:{grant.json()['uid']}") in rows.fetchall()
    assert not log_a.execute("SELECT 1 FROM access_log WHERE subject = ?", (uids[refused],)).fetchall()
    held_b = sqlite3.connect(b.data_dir / "node.sqlite3")
    sources = dict(held_b.execute("SELECT uid, source FROM openings").fetchall())
    assert sources.get(uids[granted]) == "peer"
    assert uids[refused] not in sources
