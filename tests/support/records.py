"""Request bodies of the API's records, and writing them: the shared builders of the node tests."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from localnode import NodeProcess

DIGEST = "0x" + hashlib.sha256(b"approval document").hexdigest()

_used: set[str] = set()


def unique_code(year: int = 2026, industry: str = "48", kind: str = "01") -> str:
    """A well-formed project code of 庄浪县 not used before in this session."""
    while True:
        code = f"{year}-620825-{industry}-{kind}-{random.randint(0, 999_999):06d}"
        if code not in _used:
            _used.add(code)
            return code


_TYPES = {"01": "approval", "02": "ratification", "03": "filing"}


def project_body(project_code: str, **over: Any) -> dict[str, Any]:
    """A valid registration of classic ``project_code`` (fields agree with its segments), replaced by ``over``."""
    _, region, industry, kind, _ = project_code.split("-") if project_code.count("-") == 4 else [""] * 5
    body = {
        "code": project_code,
        "name": "庄浪县测试道路改造工程",
        "owner_uscc": "91620825MA72BT6H8M",
        "project_type": _TYPES.get(kind, "approval"),
        "region_code": region or "620825",
        "industry_code": industry or "48",
        "total_investment": "12500000.50",
    }
    body.update(over)
    return body


def approval_body(**over: Any) -> dict[str, Any]:
    """A valid stage-1 approval (批复) citing ``DIGEST``, with fields replaced by ``over``."""
    body = {
        "stage": 1,
        "item": "项目审批",
        "decision": "approved",
        "document_digest": DIGEST,
        "document_no": "庄发改发〔2026〕101号",
        "issued_at": "2026-05-01",
    }
    body.update(over)
    return body


def register(node: NodeProcess, code: str, org: str = "fgj") -> str:
    """Registers project ``code`` as ``org`` and waits until it is on chain; the record's uid."""
    with node.client(org) as c:
        r = c.post("/v1/projects?wait=true", json=project_body(code))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "confirmed"
    return str(r.json()["uid"])


def grant_bank(node: NodeProcess, code: str, scope: str = "all", org: str = "fgj") -> str:
    """The registering authority grants the bank ``scope`` on ``code`` until 2030; the grant's uid."""
    with node.client(org) as c:
        r = c.post(
            f"/v1/projects/{code}/grants?wait=true",
            json={"grantee_org": node.org_ids["bank"], "scope": scope, "expires_at": "2030-01-01T00:00:00Z",
                  "authorisation_digest": DIGEST},
        )  # fmt: skip
    assert r.status_code == 200, r.text
    return str(r.json()["uid"])
