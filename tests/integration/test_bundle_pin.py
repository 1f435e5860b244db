"""verify-bundle against a dishonest exporter: the consortium is pinned, staleness is reported.

Two attacks on a real chain (the session node's anvil):

- a look-alike Consortium + ProjectLedger deployed next to the real ones, with members
  named exactly as the real organisations, holding invented records: a bundle naming
  those contracts is internally perfect, so only the verifier's own pin of the real
  deployment can refuse it;
- a genuine bundle made before a later record (an event) was added: it verifies up to
  its ``as_of_block``, and the verifier must say that the chain holds more since.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from demo import HEATING
from localnode import NodeProcess
from node_api.chain.compiler import load_artifacts
from node_api.chain.consortium import ConsortiumAdmin, deploy
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import Sealer
from node_api.chain.transactions import send_and_wait
from node_api.domain.records import ITEM_COMMITMENTS, Kind, Record, decode_payload, encode_payload
from node_api.verify import record_added
from node_api.verify.bundle import FORMAT, VERSION
from node_api.verify.bundle_check import status_at
from tests.support.api import write_confirmed

pytestmark = pytest.mark.chain

NO_RELAYER = "0x" + "00" * 20
UID_ORG_BYTES = 4  # a newer ledger takes only uids that begin with their issuer's organisation id


def _verify(node: NodeProcess, path: Path, *pin: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "node_api.cli", "verify-bundle", str(path), "--rpc", node.rpc_url, *pin]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def _deployment(node: NodeProcess) -> Path:
    return node.data_dir / "deployment.json"


def _bundle(node: NodeProcess, code: str, path: Path) -> dict[str, Any]:
    with node.client("sjj") as auditor:
        r = auditor.get(f"/v1/audit/projects/{code}/bundle")
    assert r.status_code == 200, r.text
    path.write_text(r.text)
    return dict(r.json())


# -- the look-alike consortium -------------------------------------------------------------
async def _forge_catalogue(
    rpc: RpcClient, consortium: ConsortiumAdmin, contracts: Contracts, lookalike: Deployment,
    admin: LocalAccount, relayer: LocalAccount, copied: list[dict[str, Any]],
    members: dict[int, tuple[int, LocalAccount]],
) -> None:  # fmt: skip
    """Catalogue items in the look-alike ledger for every approval in ``copied``."""
    key = _forger("catalogue")
    cat = await consortium.admit([admin], "庄浪县政务服务中心", "116208250139204126", ["catalogue"], key.address,
                                 NO_RELAYER)  # fmt: skip
    needs = {ITEM_COMMITMENTS["credit"]: 1, ITEM_COMMITMENTS["deficiency"]: 2}  # item type -> decision
    items: dict[str, tuple[int, int, int, int]] = {}  # code -> (version, stage, department, commitment)
    for r in copied:
        record = _record(r)
        if record.kind != Kind.APPROVAL:
            continue
        f = decode_payload(Kind.APPROVAL, record.payload)
        commitment = next((c for c, d in needs.items() if d == f["decision"]), ITEM_COMMITMENTS["none"])
        items[f["item"]] = (f["item_version"], f["stage"], members[r["issuer_org"]["id"]][0], commitment)
    records = []
    for code, (version, stage, department, commitment) in items.items():
        for v in range(1, version + 1):
            fields = {"code": code, "version": v, "name": "仿冒事项", "stage": stage, "list": 1,
                      "department": department, "time_limit_days": 0, "on_the_spot": 0,
                      "commitment": commitment, "retired": 0, "depends_on": [], "guide": b"\0" * 32}  # fmt: skip
            uid = (
                cat.to_bytes(UID_ORG_BYTES, "big")
                + keccak(text=f"forged/catalogue/{code}/{v}")[UID_ORG_BYTES:]
            )
            records.append(Record(uid, Kind.CATALOGUE, b"\0" * 32, b"\0" * 32, b"\0" * 32,
                                  encode_payload(Kind.CATALOGUE, fields)))  # fmt: skip
    sealer = Sealer(lookalike.chain_id, lookalike.ledger)
    await send_and_wait(
        rpc, relayer, lookalike.chain_id, contracts.submit_batch_data(records, [sealer.seal(r, key) for r in records]),
        to=lookalike.ledger, gas=15_000_000, contracts=contracts,
    )  # fmt: skip


def _forger(name: str) -> LocalAccount:
    return Account.from_key(keccak(text=f"projchain/tests/forger/{name}"))


async def _forge(rpc_url: str, real: dict[str, Any]) -> dict[str, Any]:
    """Deploys a look-alike pair, fills it with the real project's approvals and one invented one.

    The forger leaves out every record of the real project that is not a registration or
    an original approval (the general event, the commitment, …) and adds an approval the
    real ledger never accepted; members carry the real organisations' names and USCCs.
    Payloads are copied byte for byte, so the forgery does not depend on their schemas.
    """
    rpc = RpcClient(rpc_url)
    try:
        artifacts = load_artifacts()
        admin, relayer = _forger("admin"), _forger("relayer")
        lookalike = await deploy(rpc, artifacts, _forger("deployer"), [admin.address], 1)
        contracts = Contracts(artifacts, lookalike)
        consortium = ConsortiumAdmin(rpc, contracts, lookalike.chain_id)
        copied = [
            r for r in real["records"]
            if r["kind"] in ("project", "approval") and not int(r["typed_data"]["message"]["ref"], 16)
        ]  # fmt: skip
        members: dict[int, tuple[int, LocalAccount]] = {}
        for r in copied:
            org = r["issuer_org"]
            if org["id"] not in members:
                key = _forger(f"seal-{org['id']}")
                fake_id = await consortium.admit(
                    [admin], org["name"], org["uscc"], ["approval_authority"], key.address,
                    NO_RELAYER if members else relayer.address,
                )  # fmt: skip
                members[org["id"]] = (fake_id, key)
        # The look-alike's own catalogue, so that its ledger takes the copied approvals: each item
        # they name, up to the version they name, decided by the forger's copy of their issuer.
        await _forge_catalogue(rpc, consortium, contracts, lookalike, admin, relayer, copied, members)
        raws = [*copied, copied[1]]  # the last one again, as an approval the real ledger never saw
        records = []
        for i, r in enumerate(raws):  # uids in the forger's organisations' namespaces
            prefix = members[r["issuer_org"]["id"]][0].to_bytes(UID_ORG_BYTES, "big")
            uid = prefix + keccak(text=f"projchain/tests/forged/{i}")[UID_ORG_BYTES:]
            records.append(dataclasses.replace(_record(r), uid=uid))
        sealer = Sealer(lookalike.chain_id, lookalike.ledger)
        seals = [
            sealer.seal(rec, members[r["issuer_org"]["id"]][1]) for rec, r in zip(records, raws, strict=True)
        ]
        receipt = await send_and_wait(
            rpc, relayer, lookalike.chain_id, contracts.submit_batch_data(records, seals),
            to=lookalike.ledger, gas=15_000_000, contracts=contracts,
        )  # fmt: skip
    finally:
        await rpc.close()
    added = [record_added.decode(log) for log in receipt["logs"]]
    assert all(added) and len(added) == len(raws), "the look-alike ledger refused a forged record"
    positions = {a.uid: int(log["logIndex"], 16) for a, log in zip(added, receipt["logs"], strict=True) if a}
    forged = []
    for rec, raw, seal in zip(records, raws, seals, strict=True):
        fake_id, key = members[raw["issuer_org"]["id"]]
        forged.append({
            **raw,
            "uid": "0x" + rec.uid.hex(),
            "typed_data": sealer.typed_data(rec),
            "seal": "0x" + seal.hex(),
            "sealer": key.address,
            "issuer_org": {**raw["issuer_org"], "id": fake_id},
            "tx_hash": receipt["transactionHash"],
            "block_number": int(receipt["blockNumber"], 16),
            "block_hash": receipt["blockHash"],
            "log_index": positions[rec.uid],
            "status": status_at(rec.kind, []).name.lower(),
        })  # fmt: skip
    return {
        **real,
        "contracts": {"consortium": lookalike.consortium, "ledger": lookalike.ledger},
        "as_of_block": int(receipt["blockNumber"], 16),
        "records": forged,
    }


def _record(raw: dict[str, Any]) -> Record:
    m = raw["typed_data"]["message"]
    h = {k: bytes.fromhex(m[k][2:]) for k in ("uid", "project", "ref", "digest", "payload")}
    return Record(h["uid"], Kind(int(m["kind"])), h["project"], h["ref"], h["digest"], h["payload"])


@pytest.fixture(scope="module")
def forged(node: NodeProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(path, bundle) of the forged bundle of HEATING, naming the look-alike contracts."""
    tmp = tmp_path_factory.mktemp("forged")
    real = _bundle(node, HEATING, tmp / "real.json")
    assert {"event", "commitment"} <= {r["kind"] for r in real["records"]}
    bundle = asyncio.run(_forge(node.rpc_url, real))
    assert bundle["format"] == FORMAT and bundle["version"] == VERSION
    path = tmp / "forged.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    return path, bundle


def test_the_forged_bundle_is_perfect_against_the_contracts_it_names(
    node: NodeProcess, forged: tuple[Path, dict[str, Any]]
) -> None:
    """The attack is real: pinned to the forger's own pair, every check passes."""
    path, bundle = forged
    c = bundle["contracts"]
    done = _verify(node, path, "--ledger", c["ledger"], "--consortium", c["consortium"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("VERIFIED")


def test_an_unpinned_check_is_a_failure_naming_the_flags(
    node: NodeProcess, forged: tuple[Path, dict[str, Any]]
) -> None:
    done = _verify(node, forged[0])
    assert done.returncode == 4, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("UNPINNED: ") and lines[-1].startswith("UNPINNED: ")
    assert "VERIFIED" not in done.stdout
    assert "--deployment" in lines[-1] and "--ledger" in lines[-1]
    # Every other check passes: before the pin, this forgery was VERIFIED (exit 0).
    assert not [line for line in lines if line.startswith("FAIL")]
    assert sum(1 for line in lines if line.startswith("OK 0x")) == len(forged[1]["records"])


def test_the_lookalike_fails_against_the_nodes_deployment_file(
    node: NodeProcess, forged: tuple[Path, dict[str, Any]]
) -> None:
    path, bundle = forged
    real = Deployment.load(_deployment(node))
    done = _verify(node, path, "--deployment", str(_deployment(node)))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("FAILED")
    assert (
        f"the bundle names ledger {bundle['contracts']['ledger']}, not the pinned {real.ledger}"
        in done.stdout
    )
    assert f"consortium {bundle['contracts']['consortium']}, not the pinned {real.consortium}" in done.stdout
    # Every record is checked against the pinned ledger, not the one the bundle names.
    assert sum(1 for line in done.stdout.splitlines() if line.startswith("FAIL 0x")) == len(bundle["records"])


def test_the_lookalike_fails_against_the_real_ledger_address(
    node: NodeProcess, forged: tuple[Path, dict[str, Any]]
) -> None:
    path, _ = forged
    real = Deployment.load(_deployment(node))
    done = _verify(node, path, "--ledger", real.ledger)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "not the pinned" in done.stdout and done.stdout.splitlines()[-1].startswith("FAILED")


def test_a_real_ledger_with_a_lookalike_consortium_fails(
    node: NodeProcess, forged: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Pinning the ledger but naming another consortium: the ledger's consortium() decides."""
    real = Deployment.load(_deployment(node))
    lookalike = forged[1]["contracts"]["consortium"]
    path = tmp_path / "real.json"
    _bundle(node, HEATING, path)
    done = _verify(node, path, "--ledger", real.ledger, "--consortium", lookalike)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"the ledger {real.ledger} is governed by the consortium {real.consortium}" in done.stdout


def test_a_deployment_file_of_another_chain_fails(node: NodeProcess, tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    _bundle(node, HEATING, path)
    real = Deployment.load(_deployment(node))
    other = tmp_path / "deployment.json"
    Deployment(real.chain_id, real.consortium, real.ledger, real.block, "0x" + "ee" * 32).save(other)
    done = _verify(node, path, "--deployment", str(other))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "genesis block" in done.stdout


def test_the_genuine_bundle_verifies_when_pinned(node: NodeProcess, tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    bundle = _bundle(node, HEATING, path)
    ledger = bundle["contracts"]["ledger"]
    for pin in (["--deployment", str(_deployment(node))], ["--ledger", ledger.lower()]):
        done = _verify(node, path, *pin)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines()[-1].startswith("VERIFIED")
    bad = _verify(node, path, "--ledger", "0x" + "12" * 20)
    assert bad.returncode == 1
    assert "not the pinned" in bad.stdout


def test_a_pin_that_is_not_an_address_or_a_readable_file_is_unusable(
    node: NodeProcess, tmp_path: Path
) -> None:
    path = tmp_path / "bundle.json"
    _bundle(node, HEATING, path)
    assert _verify(node, path, "--ledger", "0x1234").returncode == 2
    assert _verify(node, path, "--deployment", str(tmp_path / "absent.json")).returncode == 2
    both = _verify(node, path, "--deployment", str(_deployment(node)), "--ledger", "0x" + "12" * 20)
    assert both.returncode == 2


# -- a stale bundle ------------------------------------------------------------------------
def test_a_bundle_made_before_a_later_event_is_reported_stale(
    node: NodeProcess, code: str, tmp_path: Path
) -> None:
    with node.client("fgj") as fgj:
        write_confirmed(fgj, "/v1/projects", {
            "code": code, "name": "庄浪县证据包时效测试道路工程", "owner_uscc": "91620825MA72BT6H8M",
            "project_type": "approval", "region_code": "620825", "industry_code": "48",
            "total_investment": "1200000.00",
        })  # fmt: skip
    stale = tmp_path / "stale.json"
    before = _bundle(node, code, stale)
    pin = ["--deployment", str(_deployment(node))]
    done = _verify(node, stale, *pin)
    assert done.returncode == 0, done.stdout + done.stderr

    with node.client("scjgj") as scjgj:
        event = write_confirmed(scjgj, f"/v1/projects/{code}/events", {
            "category": "质量安全", "severity": "serious", "occurred_at": "2026-06-01",
            "description_digest": "0x" + "cd" * 32,
        })  # fmt: skip
        objection = write_confirmed(scjgj, f"/v1/records/{event}/object", {"reason": "复核"})

    done = _verify(node, stale, *pin)
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    expected = f"the bundle is stale: 2 records since block {before['as_of_block']}, including event {event}"
    assert lines[1].startswith("STALE: " + expected), lines[1]  # prominently, right under the header
    assert "(serious" in lines[1] and objection in lines[1]
    assert lines[-1].startswith("STALE") and expected in lines[-1]
    assert all(line.startswith("OK") for line in lines[2:-1] if line[:4] in ("OK 0", "FAIL"))

    fresh = tmp_path / "fresh.json"
    _bundle(node, code, fresh)
    done = _verify(node, fresh, *pin)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("VERIFIED")
