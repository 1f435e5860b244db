"""A record the node would seal with a key the consortium revoked is refused when written, not
answered 202 and then refused by the ledger (review of issue #15's deferred seals).

The node seals a record sent without a seal with the organisation's key it holds. Once the
consortium's admins revoke that key (``revokeSealKey``: a lost or retired key) the ledger refuses
every record sealed with it, at once or deferred. A pre-sealed record of a revoked key is refused
at the gateway (``Writer._seal``), and a verification certificate is not issued with it; a record
the node seals must be too: 403 naming the key, nothing in the outbox — not a 202 for a record
that can never land.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import httpx
import pytest

from localnode import NodeProcess
from node_api.chain.keystore import KeyStore
from node_api.config import Settings
from node_api.ledger.writer import seal_key_name
from tests.support.member import admins_execute
from tests.support.records import approval_body, register, unique_code

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def _indexed_revocations(node: NodeProcess) -> int:
    with sqlite3.connect(Settings(data_dir=node.data_dir, env="test").database_path) as db:
        return int(
            db.execute("SELECT count(*) FROM chain_member_events WHERE name = 'SealKeyRevoked'").fetchone()[0]
        )


def _outbox_rows(node: NodeProcess) -> int:
    with sqlite3.connect(Settings(data_dir=node.data_dir, env="test").database_path) as db:
        return int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])


def _fate(c: httpx.Client, uid: str, timeout: float = 60) -> object:
    """What became of an accepted record: its view once it settled (the ledger refused it)."""
    deadline = time.monotonic() + timeout
    while True:
        view = c.get(f"/v1/records/{uid}").json()
        if view.get("status") is not None or view.get("error") is not None or time.monotonic() > deadline:
            return {"state": view.get("state"), "status": view.get("status"), "error": view.get("error")}
        time.sleep(0.3)


@pytest.mark.timeout(300)
def test_a_record_the_node_would_seal_with_a_revoked_key_is_refused_not_accepted(
    own_node: NodeProcess,
) -> None:
    node = own_node
    code = unique_code()
    register(node, code)
    settings = Settings(data_dir=node.data_dir, env="test")
    key = KeyStore(settings.keystore_dir, settings.password).address(seal_key_name(node.org_ids["zrzyj"]))
    before = _indexed_revocations(node)
    asyncio.run(admins_execute(node, ("revokeSealKey", key)))
    deadline = time.monotonic() + 60
    while _indexed_revocations(node) == before:
        assert time.monotonic() < deadline, "the node never indexed the key's revocation"
        time.sleep(0.3)
    rows = _outbox_rows(node)
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=approval_body("zrzyj", stage=2))
        assert r.status_code == 403, (r.text, _fate(c, str(r.json().get("uid"))))
        assert r.json()["error"] and key.lower() in r.json()["detail"].lower(), r.text
        batch = c.post(
            "/v1/records:batch",
            json={"records": [{"type": "approval", "project_code": code, **approval_body("zrzyj", stage=2)}]},
        )
    assert batch.status_code == 422, batch.text
    assert batch.json()["results"][0]["error"] == "forbidden", batch.text
    assert _outbox_rows(node) == rows, "nothing written"
    # Another organisation's key is untouched: its records are still accepted.
    with node.client("fgj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=approval_body("fgj", stage=1))
    assert r.status_code == 202, r.text
