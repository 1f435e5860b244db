"""A uid carried more than once in one crafted transaction: the copy the ledger accepted, and only it.

``RecordAdded(uid, project)`` names no copy: the indexer, ``projchain verify-bundle`` and
``projchain verify-certificate`` take the k-th copy of a uid in the input for the k-th of the
ledger's ``RecordAdded`` / ``RecordRejected`` logs naming it (``node_api.verify.record_added``),
and the sealer is what that copy's seal recovers. Each test is a dishonest member's own
transaction (its relayer, its seal keys) sent straight to the ledger of a real chain; then what the
node indexed, and what the verifiers accept, is checked — the true bundle and certificate verify,
ones built on the refused copy fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from localnode import NodeProcess
from node_api.chain.contracts import copies_by_uid
from node_api.chain.group import root_of
from node_api.chain.seal import struct_hash
from node_api.domain.records import ZERO32, Kind, Record, project_id, seal_payload
from node_api.verify.certificate import seal as seal_certificate
from tests.support.member import DishonestMember, admit_keys, rpc
from tests.support.records import grant_bank, register

pytestmark = pytest.mark.chain


def event(
    member: DishonestMember, code: str, uid: bytes, severity: int, category: str = "质量安全"
) -> Record:
    """An event of ``code`` under ``uid`` (severity 4 is out of range: the ledger refuses it)."""
    fields = {"severity": severity, "category": category, "occurred_at": 1_782_864_000,
              "publish_until": 1_877_472_000, "evidence": [], "note": "现场检查"}  # fmt: skip
    payload, _opening = seal_payload(Kind.EVENT, fields, b"\x5a" * 32)
    return Record(uid, Kind.EVENT, project_id(code), ZERO32, os.urandom(32), payload)


def sent_twice(
    node: NodeProcess, code: str, first: tuple[int, str], second: tuple[int, str], answers: list[str]
) -> tuple[DishonestMember, Record, Record, dict[str, Any]]:
    """A registered project ``code`` and the supervisor's crafted ``submitBatch`` of two events under
    one uid, (severity, category) ``first`` then ``second``, each validly sealed, which the ledger
    ``answers`` with these logs: (the supervisor, the first copy, the second, the receipt)."""
    register(node, code)
    supervisor = DishonestMember(node, "scjgj")
    uid = supervisor.uid(os.urandom(8))
    copies = [event(supervisor, code, uid, *first), event(supervisor, code, uid, *second)]
    receipt = supervisor.send_batch(copies, [supervisor.seal(c) for c in copies])
    assert int(receipt["status"], 16) == 1
    assert logged(receipt, supervisor) == answers
    return supervisor, copies[0], copies[1], receipt


def second_key(node: NodeProcess, member: DishonestMember) -> LocalAccount:
    """Another live seal key of the member's organisation (and a relayer beside it), admitted by the admins."""
    key = Account.create()
    asyncio.run(admit_keys(node, member.org_id, key.address, Account.create().address))
    return key


def logged(receipt: dict[str, Any], member: DishonestMember) -> list[str]:
    """The names of the ledger's RecordAdded / RecordRejected logs in ``receipt``, in order."""
    names = {member.contracts.event_topic(n): n for n in ("RecordAdded", "RecordRejected")}
    return [names[lg["topics"][0]] for lg in receipt["logs"] if lg["topics"][0] in names]


def bundle_of(node: NodeProcess, code: str) -> dict[str, Any]:
    with node.client("sjj") as auditor:
        r = auditor.get(f"/v1/audit/projects/{code}/bundle")
    assert r.status_code == 200, r.text
    return dict(r.json())


def verify_bundle(node: NodeProcess, bundle: dict[str, Any], path: Path) -> subprocess.CompletedProcess[str]:
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    args = [sys.executable, "-m", "node_api.cli", "verify-bundle", str(path), "--rpc", node.rpc_url,
            "--deployment", str(node.data_dir / "deployment.json")]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def verify_certificate(
    node: NodeProcess, document: dict[str, Any], path: Path
) -> subprocess.CompletedProcess[str]:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    args = [sys.executable, "-m", "node_api.cli", "verify-certificate", str(path), "--rpc", node.rpc_url,
            "--deployment", str(node.data_dir / "deployment.json")]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def failed_line(done: subprocess.CompletedProcess[str], uid: bytes) -> str:
    """The verifier's FAIL line of record ``uid`` ('' if none)."""
    return next((ln for ln in done.stdout.splitlines() if ln.startswith(f"FAIL 0x{uid.hex()}")), "")


def bundled(bundle: dict[str, Any], uid: bytes) -> dict[str, Any]:
    (record,) = [r for r in bundle["records"] if r["uid"] == "0x" + uid.hex()]
    return dict(record)


@pytest.mark.parametrize("grouped", [False, True], ids=["submitBatch", "submitGroups"])
def test_same_content_sealed_by_two_keys_is_indexed_with_the_key_of_the_accepted_copy(
    node: NodeProcess, code: str, tmp_path: Path, grouped: bool
) -> None:
    register(node, code)
    supervisor = DishonestMember(node, "scjgj")
    other = second_key(node, supervisor)
    record = event(supervisor, code, supervisor.uid(os.urandom(8)), 2)
    # The copy sealed by the second key first: the ledger accepts it and refuses the first key's as a
    # duplicate. Neither key is in the log; a consumer that took the last copy, or the organisation's
    # usual key, would name the wrong sealer.
    if grouped:  # two groups of one record each, the first sealed by the second key
        root = root_of([struct_hash(record)])
        first = supervisor.sealer.seal_group(root, 1, supervisor.relayer.address, other)
        receipt = supervisor.send_groups([record, record], [0, 1], [first, supervisor.group_seal([record])])
    else:
        receipt = supervisor.send_batch(
            [record, record], [supervisor.sealer.seal(record, other), supervisor.seal(record)]
        )
    assert int(receipt["status"], 16) == 1
    assert logged(receipt, supervisor) == ["RecordAdded", "RecordRejected"]

    view = supervisor.wait_confirmed(record.uid)
    assert view["sealer"] == other.address != supervisor.seal_key.address

    bundle = bundle_of(node, code)
    assert bundled(bundle, record.uid)["sealer"] == other.address
    done = verify_bundle(node, bundle, tmp_path / "true.json")
    assert done.returncode == 0, done.stdout + done.stderr
    if grouped:
        return
    # A bundle built on the refused copy: same content, the first key's (valid, registered) seal.
    forged = json.loads(json.dumps(bundle))
    entry = bundled(forged, record.uid)
    entry.update(sealer=supervisor.seal_key.address, seal="0x" + supervisor.seal(record).hex())
    forged["records"] = [entry if r["uid"] == entry["uid"] else r for r in forged["records"]]
    done = verify_bundle(node, forged, tmp_path / "refused.json")
    assert done.returncode != 0, done.stdout
    assert "seal differs from the chain" in failed_line(done, record.uid), done.stdout


def test_a_refused_first_copy_leaves_the_second_indexed_and_the_bundle_on_the_first_fails(
    node: NodeProcess, code: str, tmp_path: Path
) -> None:
    # The first copy's severity is out of range: refused; the second accepted.
    supervisor, refused, accepted, _ = sent_twice(
        node, code, (4, "质量安全"), (2, "质量安全"), ["RecordRejected", "RecordAdded"]
    )
    view = supervisor.wait_confirmed(uid := accepted.uid)
    assert view["digest"] == "0x" + accepted.digest.hex()
    assert view["fields"]["severity"] in (2, "general")
    assert view["sealer"] == supervisor.seal_key.address

    bundle = bundle_of(node, code)
    done = verify_bundle(node, bundle, tmp_path / "true.json")
    assert done.returncode == 0, done.stdout + done.stderr
    # The refused copy, validly sealed by the member's registered key, shown as the record.
    forged = json.loads(json.dumps(bundle))
    entry = bundled(forged, uid)
    message = dict(entry["typed_data"]["message"])
    message.update(payload="0x" + refused.payload.hex(), digest="0x" + refused.digest.hex())
    entry["typed_data"] = {**entry["typed_data"], "message": message}
    entry["seal"] = "0x" + supervisor.seal(refused).hex()
    forged["records"] = [entry if r["uid"] == entry["uid"] else r for r in forged["records"]]
    done = verify_bundle(node, forged, tmp_path / "refused.json")
    assert done.returncode != 0, done.stdout
    assert "differs from the chain" in failed_line(done, uid), done.stdout


def test_a_certificate_stating_the_refused_copy_of_an_event_fails(
    node: NodeProcess, code: str, tmp_path: Path
) -> None:
    supervisor, accepted, duplicate, receipt = sent_twice(
        node, code, (2, "信息公示"), (3, "质量安全"), ["RecordAdded", "RecordRejected"]
    )
    supervisor.wait_confirmed(uid := accepted.uid)
    grant_bank(node, code)
    with node.client("bank") as bank:
        r = bank.post(f"/v1/projects/{code}/certificates")
        assert r.status_code == 201, r.text
        document = bank.get(f"/v1/certificates/{r.json()['id']}").json()
    (stated,) = [e for e in document["open_events"] if e["uid"] == "0x" + uid.hex()]
    assert stated["fields"]["severity"] == "general"
    done = verify_certificate(node, document, tmp_path / "true.json")
    assert done.returncode == 0, done.stdout + done.stderr

    # The bank (its own registered key) restates the event as the refused, serious copy.
    forged = json.loads(json.dumps(document))
    for e in forged["open_events"]:
        if e["uid"] == stated["uid"]:
            e["fields"] = {**e["fields"], "severity": "serious", "category": "质量安全"}
            e["record_hash"] = "0x" + supervisor.sealer.digest(duplicate).hex()
    forged.pop("seal", None)
    bank_key = DishonestMember(node, "bank").seal_key
    done = verify_certificate(node, seal_certificate(forged, bank_key), tmp_path / "refused.json")
    assert done.returncode != 0, done.stdout
    assert "its record hash on chain is 0x" + supervisor.sealer.digest(accepted).hex() in done.stdout, (
        done.stdout
    )
    carried = copies_by_uid(
        rpc(node.rpc_url, "eth_getTransactionByHash", receipt["transactionHash"])["input"]
    )
    assert carried is not None and [c[0] for c in carried[uid] if c] == [accepted, duplicate]
