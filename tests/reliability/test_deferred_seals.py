"""Records accepted with their seal deferred to the submitter (issue #15) reach the chain after a
restart whatever the node's configuration then, or fail for a stated reason — never stall.

The writer puts a record it seals with the node's key in the outbox unsealed (``DEFERRED_SEAL``):
under group seals most records travel under one seal per organisation and transaction, so their
own seal was made and never sent. The submitter seals a deferred record when it sends it — in a
group, or alone with its own seal. Here records are accepted while the node sends nothing
(``PROJCHAIN_MAX_INFLIGHT_TXS=0``), then the node restarts with group seals off: each must land
with a seal of its own that ``projchain verify-bundle`` checks against the chain, and the records
of an organisation whose key the node no longer holds must fail, naming why.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from localnode import NodeProcess
from node_api.chain.keystore import KeyStore
from node_api.config import Settings
from node_api.ledger.writer import seal_key_name
from tests.support.chaos import wait_drained
from tests.support.records import approval_body, register, unique_code

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def _outbox_seals(node: NodeProcess, uids: list[str]) -> dict[str, bytes]:
    with sqlite3.connect(Settings(data_dir=node.data_dir, env="test").database_path) as db:
        rows = db.execute(
            f"SELECT uid, seal FROM outbox WHERE uid IN ({','.join('?' * len(uids))})", uids
        ).fetchall()
    return {str(uid): bytes(seal) for uid, seal in rows}


def _record(node: NodeProcess, uid: str, org: str) -> dict[str, Any]:
    with node.client(org) as c:
        r = c.get(f"/v1/records/{uid}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _settled(node: NodeProcess, uid: str, org: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = _record(node, uid, org)
        if view.get("status") is not None or view.get("error") is not None or time.monotonic() > deadline:
            return view
        time.sleep(0.3)


@pytest.mark.timeout(300)
def test_deferred_seals_are_made_at_send_with_group_seals_off_or_failed_without_the_key(
    own_node: NodeProcess, tmp_path: Path
) -> None:
    node = own_node
    code = unique_code()
    register(node, code)
    node.stop()
    node.extra_env["PROJCHAIN_MAX_INFLIGHT_TXS"] = "0"  # accepts, sends nothing
    node.start(timeout=120)
    written: dict[str, list[str]] = {"fgj": [], "zrzyj": []}
    for org, stage in (("fgj", 1), ("zrzyj", 2)):
        with node.client(org) as c:
            for n in range(3):
                body = approval_body(org, stage=stage, document_no=f"庄测〔2026〕{n + 1}号")
                r = c.post(f"/v1/projects/{code}/approvals", json=body)
                assert r.status_code == 202, r.text
                written[org].append(str(r.json()["uid"]))
    uids = written["fgj"] + written["zrzyj"]
    seals = _outbox_seals(node, uids)
    assert seals == {uid: b"" for uid in uids}, "accepted unsealed: the submitter seals them"
    node.stop()
    # The node no longer holds zrzyj's seal key (moved away by its operator).
    settings = Settings(data_dir=node.data_dir, env="test")
    key_file = KeyStore(settings.keystore_dir, settings.password)._path(seal_key_name(node.org_ids["zrzyj"]))
    key_file.rename(tmp_path / key_file.name)
    del node.extra_env["PROJCHAIN_MAX_INFLIGHT_TXS"]
    node.extra_env["PROJCHAIN_GROUP_SEALS"] = "false"
    node.start(timeout=120)
    wait_drained(node)
    for uid in written["fgj"]:
        view = _settled(node, uid, "fgj")
        assert view["status"] == "active" and len(bytes.fromhex(view["seal"][2:])) == 65, view
    for uid in written["zrzyj"]:
        view = _settled(node, uid, "zrzyj")
        assert view["status"] is None and "holds no seal key" in str(view["error"]), view
    with node.client("sjj") as auditor:
        r = auditor.get(f"/v1/audit/projects/{code}/bundle")
    assert r.status_code == 200, r.text
    records = r.json()["records"]
    mine = [x for x in records if x["uid"] in written["fgj"]]
    assert len(mine) == 3 and not [x for x in mine if "group" in x], mine
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(r.json(), ensure_ascii=False))
    done = subprocess.run(
        [sys.executable, "-m", "node_api.cli", "verify-bundle", str(path), "--rpc", node.rpc_url,
         "--deployment", str(node.data_dir / "deployment.json")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for uid in written["fgj"]:
        assert f"OK {uid} approval" in done.stdout, done.stdout
