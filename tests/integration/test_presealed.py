"""Seals made on the organisation's own device: the node only relays them."""

from __future__ import annotations

import datetime
import os

import pytest

from localnode import NodeProcess
from node_api.chain.contracts import Deployment
from node_api.chain.keystore import KeyStore
from node_api.chain.seal import Sealer
from node_api.config import Settings
from node_api.domain.records import Kind, Record, project_id, seal_payload
from node_api.ledger.writer import seal_key_name
from tests.support.records import DIGEST, approval_body, register

pytestmark = pytest.mark.chain


def _sealed_approval(
    node: NodeProcess, code: str, signer_org: str, uid_org: str | None = None
) -> tuple[dict[str, object], str]:
    settings = Settings(data_dir=node.data_dir, env="test")
    key = KeyStore(settings.keystore_dir, settings.password).load(seal_key_name(node.org_ids[signer_org]))
    d = Deployment.load(settings.deployment_path)
    # In the signer's namespace unless ``uid_org`` names another organisation's.
    uid = node.org_ids[uid_org or signer_org].to_bytes(4, "big") + os.urandom(28)
    salt = os.urandom(32)
    issued = int(datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC).timestamp())
    # 建设工程规划许可证核发 (自然资源局), the catalogue's version 1: a seal covers the version it names
    fields = {"stage": 2, "decision": 0, "item": "ZL-S2-002", "item_version": 1,
              "document_no": "庄发改发〔2026〕101号", "issued_at": issued, "valid_until": 0, "note": ""}  # fmt: skip
    payload, _ = seal_payload(Kind.APPROVAL, fields, salt)
    record = Record(uid, Kind.APPROVAL, project_id(code), b"\0" * 32, bytes.fromhex(DIGEST[2:]), payload)
    seal = Sealer(d.chain_id, d.ledger).seal(record, key)
    body = approval_body("zrzyj", stage=2, item_version=1, issued_at="2026-06-01")
    body["seal"] = {"uid": "0x" + uid.hex(), "signature": "0x" + seal.hex(), "salt": "0x" + salt.hex()}
    return body, key.address


def test_presealed_approval_is_relayed_with_the_organisations_own_seal(node: NodeProcess, code: str) -> None:
    register(node, code)
    body, address = _sealed_approval(node, code, "zrzyj")
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals?wait=true", json=body)
        assert r.status_code == 200, r.text
        record = c.get(f"/v1/records/{r.json()['uid']}").json()
    assert record["uid"] == body["seal"]["uid"]  # type: ignore[index]
    assert record["sealer"] == address


def test_seal_of_another_organisation_is_refused(node: NodeProcess, code: str) -> None:
    register(node, code)
    body, _ = _sealed_approval(node, code, "fgj")  # 发改局's key, sent with 自然资源局's token
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=body)
    assert r.status_code == 403
    assert "not an active seal key" in r.json()["detail"]


def test_seal_over_different_content_is_refused(node: NodeProcess, code: str) -> None:
    register(node, code)
    body, _ = _sealed_approval(node, code, "zrzyj")
    body["document_no"] = "庄发改发〔2026〕999号"  # the seal covered another document number
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=body)
    assert r.status_code == 403


def test_malleable_high_s_seal_is_refused_before_the_chain(node: NodeProcess, code: str) -> None:
    register(node, code)
    body, _ = _sealed_approval(node, code, "zrzyj")
    sig = bytes.fromhex(body["seal"]["signature"][2:])  # type: ignore[index]
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(sig[32:64], "big")
    twin = sig[:32] + (n - s).to_bytes(32, "big") + bytes([55 - sig[64]])  # same signer, high s
    body["seal"]["signature"] = "0x" + twin.hex()  # type: ignore[index]
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=body)
    assert r.status_code == 422
    assert "lower half" in r.json()["detail"]


def test_a_seal_over_a_uid_in_another_organisations_namespace_is_refused(
    node: NodeProcess, code: str
) -> None:
    """A member may not take (or squat) another organisation's uid, even with its own valid seal."""
    register(node, code)
    body, _ = _sealed_approval(node, code, "zrzyj", uid_org="fgj")
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=body)
    assert r.status_code == 422, r.text
    assert "begins with its organisation id" in r.json()["detail"]


def test_a_seal_without_the_salt_of_its_restricted_content_is_refused(node: NodeProcess, code: str) -> None:
    register(node, code)
    body, _ = _sealed_approval(node, code, "zrzyj")
    del body["seal"]["salt"]  # type: ignore[attr-defined]
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=body)
    assert r.status_code == 422, r.text
    assert "seal.salt" in r.text


def test_a_seal_needs_the_item_version_it_covers(node: NodeProcess, code: str) -> None:
    register(node, code)
    body, _ = _sealed_approval(node, code, "zrzyj")
    del body["item_version"]  # the node would fill in the version in force, which the seal may not cover
    with node.client("zrzyj") as c:
        r = c.post(f"/v1/projects/{code}/approvals", json=body)
    assert r.status_code == 422, r.text
    assert "item_version" in r.json()["detail"]


def test_a_presealed_record_among_node_sealed_ones_keeps_its_own_seal(node: NodeProcess, code: str) -> None:
    """The node group-seals what it sealed itself; a device's seal travels as it was made, in order."""
    register(node, code)
    body, address = _sealed_approval(node, code, "zrzyj")
    ours = [
        {"type": "approval", "project_code": code,
         **approval_body("zrzyj", stage=2, item_version=1, issued_at="2026-06-01", document_no=f"庄自然资源发〔2026〕{n}号")}
        for n in (201, 202, 203, 204)
    ]  # fmt: skip
    items = [ours[0], ours[1], {"type": "approval", "project_code": code, **body}, ours[2], ours[3]]
    with node.client("zrzyj") as c:
        r = c.post("/v1/records:batch?wait=true", json={"records": items})
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert {x["state"] for x in results} == {"confirmed"}
    with node.client("sjj") as auditor:
        bundle = {x["uid"]: x for x in auditor.get(f"/v1/audit/projects/{code}/bundle").json()["records"]}
    device = bundle[results[2]["uid"]]
    assert device["sealer"] == address and "group" not in device
    assert len(bytes.fromhex(device["seal"][2:])) == 65
    assert device["seal"] == body["seal"]["signature"]  # type: ignore[index]
    for x in (results[0], results[1], results[3], results[4]):
        assert "group" in bundle[x["uid"]] and bundle[x["uid"]]["sealer"] == address
