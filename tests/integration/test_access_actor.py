"""The access log names the officer (token) behind each read, not only the organisation."""

from __future__ import annotations

import json
import sqlite3

import pytest

from localnode import NodeProcess
from tests.support.records import register

pytestmark = pytest.mark.chain


def test_read_is_logged_with_the_token_that_made_it(node: NodeProcess, code: str) -> None:
    register(node, code)
    with node.client("zjj") as c:
        assert c.get(f"/v1/projects/{code}/history").status_code == 200
    db = sqlite3.connect(node.data_dir / "node.sqlite3")
    token_id = db.execute(
        "SELECT t.id FROM tokens t WHERE t.org_id = ? ORDER BY t.id LIMIT 1", (node.org_ids["zjj"],)
    ).fetchone()[0]
    with node.client("sjj") as auditor:
        log = auditor.get("/v1/audit/access-log", params={"project_code": code}).json()
    reads = [json.loads(e["entry"]) for e in log["entries"]]
    mine = [r for r in reads if r["action"] == "project.history" and r["org_id"] == node.org_ids["zjj"]]
    assert mine and mine[0]["token_id"] == token_id
