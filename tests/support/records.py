"""Request bodies of the API's records, and writing them: the shared builders of the node tests."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from demo.data import catalogue
from localnode import NodeProcess
from node_api.domain.uscc import org_code_check_character, uscc_check_character

DIGEST = "0x" + hashlib.sha256(b"approval document").hexdigest()
PLEDGE = "0x" + hashlib.sha256(b"commitment letter").hexdigest()
# The item's 承诺制 type a decision needs (the others allow any type).
NEEDS = {"approved_on_commitment": "credit", "accepted_with_deficiencies": "deficiency"}

_used: set[str] = set()


def unique_code(year: int = 2026, industry: str = "48", kind: str = "01") -> str:
    """A well-formed project code of 庄浪县 not used before in this session."""
    while True:
        code = f"{year}-620825-{industry}-{kind}-{random.randint(0, 999_999):06d}"
        if code not in _used:
            _used.add(code)
            return code


_TYPES = {"01": "approval", "02": "ratification", "03": "filing"}


def unique_uscc() -> str:
    """A valid USCC of a 庄浪县 company not used before (both check characters computed)."""
    while True:
        org = f"MA7{random.randint(0, 99999):05d}"
        first17 = "91620825" + org + org_code_check_character(org)
        uscc = first17 + uscc_check_character(first17)
        if uscc not in _used:
            _used.add(uscc)
            return uscc


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


def catalogue_item(org: str = "fgj", stage: int = 1, decision: str = "approved") -> str:
    """The code of a demo catalogue item (demo/catalogue.json) that ``org`` decides in ``stage`` and that
    allows ``decision``; an item on the negative list when the decision needs no commitment."""
    need = NEEDS.get(decision)
    fits = [i for i in catalogue() if i["department"] == org and i["stage"] == stage and i["list"] == "approval"
            and (need is None or i["commitment"] == need)]  # fmt: skip
    fits.sort(key=lambda i: (i["commitment"] != "none", i["code"]))
    if not fits:
        raise LookupError(f"the demo catalogue has no stage-{stage} item of {org} allowing {decision}")
    return str(fits[0]["code"])


def commitment_body(decision: str, due_date: str = "2026-12-31", **over: Any) -> dict[str, Any]:
    """The owner's commitment an approval with ``decision`` carries (its 承诺书 digest ``PLEDGE``)."""
    body: dict[str, Any] = {"due_date": due_date, "pledge_digest": PLEDGE, "summary": "按期补齐材料"}
    if decision == "accepted_with_deficiencies":
        body["missing"] = ["环境影响登记表"]
    body.update(over)
    return body


def approval_body(org: str = "fgj", **over: Any) -> dict[str, Any]:
    """A valid approval (批复) by ``org`` citing ``DIGEST``, with fields replaced by ``over``.

    Stage 1 and decision approved unless ``over`` says otherwise; the item is a demo catalogue
    item ``org`` decides in that stage that allows the decision (``catalogue_item``), and an
    approval on commitment or with deficiencies carries its commitment (``commitment_body``).
    """
    stage, decision = int(over.get("stage", 1)), str(over.get("decision", "approved"))
    body: dict[str, Any] = {
        "stage": stage,
        "item": catalogue_item(org, stage, decision),
        "decision": decision,
        "document_digest": DIGEST,
        "document_no": "庄发改发〔2026〕101号",
        "issued_at": "2026-05-01",
    }
    if decision in NEEDS:
        body["commitment"] = commitment_body(decision)
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
