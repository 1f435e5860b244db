"""Every node's index holds exactly what the contracts accepted, against a dishonest member.

Each test is an attack as a member would run it (ARCHITECTURE principle 8): its own relayer
key, its own seal key, a crafted ``submitBatch`` sent straight to the ledger of a real chain;
then what the node serves is checked. docs/security.md lists them with the threat model.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from eth_abi import encode as abi_encode

from localnode import NodeProcess
from node_api.domain.records import ZERO32, Kind, Record, encode_payload, project_id
from tests.support.member import DishonestMember, rpc
from tests.support.records import DIGEST, grant_bank, project_body, register, unique_code

pytestmark = pytest.mark.chain

UNSEALED = b"\x11" * 32 + (1).to_bytes(32, "big") + b"\x1b"  # a well-formed seal by nobody in particular


def test_a_batch_repeating_a_uid_cannot_smuggle_in_the_copy_the_contract_refused(
    node: NodeProcess, code: str
) -> None:
    register(node, code)
    bank = DishonestMember(node, "bank")
    uid = bank.uid(os.urandom(8))
    anchor = Record(
        uid, Kind.ANCHOR, ZERO32, ZERO32, os.urandom(32), encode_payload(Kind.ANCHOR, {"tree_size": 1})
    )
    grant = Record(uid, Kind.GRANT, project_id(code), ZERO32, ZERO32,
                   encode_payload(Kind.GRANT, {"grantee": bank.org_id, "scope": 3, "expires_at": 2**39}))  # fmt: skip
    receipt = bank.send_batch([anchor, grant], [bank.seal(anchor), UNSEALED])
    assert int(receipt["status"], 16) == 1
    view = bank.wait_confirmed(uid)
    assert view["kind"] == "anchor" and view["project_code"] is None
    with node.client("bank") as c:
        assert c.get(f"/v1/projects/{code}/history").status_code == 403
        assert "total_investment" not in c.get(f"/v1/projects/{code}").json()


def test_a_uid_in_two_groups_is_indexed_from_the_group_whose_seal_the_contract_accepted(
    node: NodeProcess, code: str
) -> None:
    """A crafted submitGroups: the uid first in a group whose root its seal does not match
    (refused), then with other content in a well-sealed group (accepted). The index takes the
    accepted copy, with that group's proof, and nothing of the refused group."""
    bank = DishonestMember(node, "bank")
    uid, bystander = bank.uid(os.urandom(8)), bank.uid(os.urandom(8))

    def anchor(at: bytes, size: int) -> Record:
        return Record(
            at, Kind.ANCHOR, ZERO32, ZERO32, os.urandom(32), encode_payload(Kind.ANCHOR, {"tree_size": size})
        )

    refused, other, accepted = anchor(uid, 1), anchor(bystander, 2), anchor(uid, 3)
    seals = [bank.group_seal([refused]), bank.group_seal([accepted])]  # group 0 also carries `other`
    receipt = bank.send_groups([refused, other, accepted], [0, 0, 1], seals)
    assert int(receipt["status"], 16) == 1
    view = bank.wait_confirmed(uid)
    assert view["digest"] == "0x" + accepted.digest.hex()
    with node.client("sjj") as auditor:
        assert auditor.get(f"/v1/records/0x{bystander.hex()}").status_code == 404


def test_a_payload_whose_text_is_not_utf8_is_shown_marked_and_breaks_nothing(
    node: NodeProcess, code: str
) -> None:
    register(node, code)
    supervisor = DishonestMember(node, "scjgj")
    uid = supervisor.uid(os.urandom(8))
    # An event whose category is not UTF-8: the right ABI shape (the contract checks shapes), bad text.
    payload = abi_encode(
        ["uint8", "bytes", "uint64", "uint64", "bytes32[]", "bytes32"],
        [2, b"\xff\xfe\xfd", 1_772_409_600, 1_780_000_000, [], b"\1" * 32],
    )
    event = Record(uid, Kind.EVENT, project_id(code), ZERO32, ZERO32, payload)
    receipt = supervisor.send_batch([event], [supervisor.seal(event)])
    assert int(receipt["status"], 16) == 1
    view = supervisor.wait_confirmed(uid)
    # What the ledger accepted is shown (tests/integration/test_invalid_utf8.py): U+FFFD, marked.
    assert view["readable"] is True and view["fields"]["category"] == "\ufffd" * 3
    assert view["fields"]["invalid_utf8"] == ["category"]
    with node.client("sjj") as c:
        for path in (f"/v1/projects/{code}", f"/v1/projects/{code}/history", f"/v1/projects/{code}/qr",
                     f"/verify/{code}", f"/v1/audit/projects/{code}/bundle"):  # fmt: skip
            assert c.get(path).status_code == 200, path
        history = c.get(f"/v1/projects/{code}/history").json()["records"]
        (shown,) = [r for r in history if r["uid"] == "0x" + uid.hex()]
        assert shown["readable"] is True and shown["fields"]["invalid_utf8"] == ["category"]
    # The indexer went on: a later record is confirmed as usual.
    with node.client("zrzyj") as c:
        r = c.post(
            f"/v1/projects/{code}/approvals?wait=true",
            json={"stage": 1, "item": "ZL-S1-005", "decision": "approved", "document_digest": DIGEST,
                  "issued_at": "2026-05-01"},
        )  # fmt: skip
        assert r.status_code == 200 and r.json()["state"] == "confirmed", r.text


def test_restricted_content_never_reaches_the_chain_and_members_read_it_only_by_role_or_grant(
    node: NodeProcess, code: str
) -> None:
    secret_summary = "承诺补齐环评批复（内部：资金缺口三千万元）"
    with node.client("fgj") as c:
        r = c.post("/v1/projects?wait=true", json=project_body(code, total_investment="98765432.10"))
        assert r.status_code == 200, r.text
        registration = r.json()["uid"]
        r = c.post(
            f"/v1/projects/{code}/commitments?wait=true",
            json={"commitment_type": "approval_substitute", "due_date": "2027-01-01", "summary": secret_summary,
                  "content_digest": DIGEST},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        commitment = r.json()["uid"]
    # A member running a node or validator reads every transaction input: no restricted byte is there.
    with node.client("sjj") as c:
        views = [c.get(f"/v1/records/{uid}").json() for uid in (registration, commitment)]
    inputs = b"".join(
        bytes.fromhex(rpc(node.rpc_url, "eth_getTransactionByHash", v["tx_hash"])["input"][2:]) for v in views
    )
    assert (9_876_543_210).to_bytes(32, "big") not in inputs
    assert secret_summary.encode() not in inputs
    assert all(v["restricted"]["opened"] for v in views)  # the issuing node holds the openings
    # Readers by role see the content; the public and an ungranted bank do not.
    with node.client("zrzyj") as c:
        assert c.get(f"/v1/projects/{code}").json()["total_investment"] == "98765432.10"
        commitments = [
            r for r in c.get(f"/v1/projects/{code}/history").json()["records"] if r["uid"] == commitment
        ]
        assert commitments[0]["fields"]["summary"] == secret_summary
    with node.client("bank") as c:
        assert c.get(f"/v1/records/{commitment}").status_code == 403
        assert secret_summary not in c.get(f"/v1/projects/{code}").text


def test_revoking_a_projects_registration_ends_its_grants(node: NodeProcess, code: str) -> None:
    registration = register(node, code)
    grant_bank(node, code)
    with node.client("bank") as bank:
        assert bank.get(f"/v1/projects/{code}/history").status_code == 200
    with node.client("fgj") as c:
        r = c.post(f"/v1/records/{registration}/revoke?wait=true", json={"reason": "项目终止"})
        assert r.status_code == 200, r.text
    with node.client("bank") as bank:  # the grant record is still active on chain; the project is closed
        assert bank.get(f"/v1/projects/{code}/history").status_code == 403


def test_a_digest_put_in_another_projects_record_does_not_open_the_document(
    node: NodeProcess, code: str
) -> None:
    """Every digest is public on chain; binding one to a granted project must not open it to the grantee."""
    other = unique_code()
    register(node, code)
    register(node, other)
    secret = f"{other} 内部审查意见（不公开）".encode()
    digest = "0x" + hashlib.sha256(secret).hexdigest()
    approval = {"stage": 1, "decision": "approved", "issued_at": "2026-05-01"}
    with node.client("fgj") as c:
        assert c.post("/v1/documents", content=secret).status_code == 201
        r = c.post(
            f"/v1/projects/{other}/approvals?wait=true",
            json={**approval, "item": "ZL-S1-002", "document_digest": digest},
        )
        assert r.status_code == 200, r.text
    grant_bank(node, code, scope="documents")
    # Another approval authority (colluding with the bank) records an approval of the granted
    # project that carries the other project's document digest.
    with node.client("zrzyj") as c:
        r = c.post(
            f"/v1/projects/{code}/approvals?wait=true",
            json={**approval, "item": "ZL-S1-005", "document_digest": digest},
        )
        assert r.status_code == 200, r.text
    with node.client("bank") as bank:
        r = bank.get(f"/v1/documents/{digest}")
        assert r.status_code == 403, r.text
        assert secret.decode() not in r.text
