"""A record whose string fields are not valid UTF-8, accepted by the ledger, is shown and counted.

The ledger checks every string's length, offset and padding but not that its bytes are UTF-8 (a
check on chain would cost ≈ 3,100 gas for one Chinese document number, docs/records.md). A member
with its own relayer key can therefore get an approval or an abnormal event accepted on chain
whose ``document_no`` or ``category`` holds an invalid byte sequence. Such a record must read as
the chain holds it: its strings with U+FFFD for each invalid sequence and the marker
``invalid_utf8`` naming the fields, never ``unreadable``, and counted by every view built from the
project's facts (the credit profile, a 信用核查证明's open events) exactly as its valid twin is —
so nobody can point at a record on chain that the node's products omit. Its evidence bundle and
certificate verify: both are over the exact bytes the chain holds.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from localnode import NodeProcess
from node_api.domain.records import PAYLOAD_SCHEMAS, ZERO32, Kind, Record, project_id
from tests.integration.test_credit import listed, profile
from tests.integration.test_repeated_uid import bundle_of, bundled, logged, verify_bundle, verify_certificate
from tests.reliability.test_console_fuzz import Console
from tests.support.api import write_confirmed
from tests.support.member import DishonestMember
from tests.support.records import catalogue_item, grant_bank, project_body, unique_code, unique_uscc

pytestmark = pytest.mark.chain

# Invalid sequences: a CJK character cut short, a byte UTF-8 never uses, an overlong '/', a surrogate.
TRUNCATED, STRAY, OVERLONG, SURROGATE = b"\xe5\xba", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80"


def crafted(kind: Kind, fields: dict[str, Any]) -> bytes:
    """The canonical payload of ``kind`` with raw bytes allowed for its strings (ABI ``bytes`` and
    ``string`` are laid out alike: length, then the bytes zero-padded), which the gateway never writes."""
    types = [("bytes" if t == "string" else t) for _, t in PAYLOAD_SCHEMAS[kind]]
    values = [v.encode() if isinstance(v, str) and t == "bytes" else v
              for (name, _), t in zip(PAYLOAD_SCHEMAS[kind], types, strict=True) for v in [fields[name]]]  # fmt: skip
    return abi_encode(types, values)


def approval(member: DishonestMember, code: str, document_no: bytes) -> Record:
    fields = {"stage": 1, "decision": 0, "item": catalogue_item("fgj", 1, "approved"), "item_version": 1,
              "document_no": document_no, "issued_at": 1_780_272_000, "valid_until": 0,
              "restricted": keccak(os.urandom(32))}  # fmt: skip
    uid = member.uid(os.urandom(8))
    return Record(
        uid, Kind.APPROVAL, project_id(code), ZERO32, os.urandom(32), crafted(Kind.APPROVAL, fields)
    )


def serious_event(member: DishonestMember, code: str, category: bytes) -> Record:
    fields = {"severity": 3, "category": category, "occurred_at": 1_782_864_000, "publish_until": 1_877_472_000,
              "evidence": [], "restricted": keccak(os.urandom(32))}  # fmt: skip
    uid = member.uid(os.urandom(8))
    return Record(uid, Kind.EVENT, project_id(code), ZERO32, os.urandom(32), crafted(Kind.EVENT, fields))


def register_for(node: NodeProcess, owner: str) -> str:
    code = unique_code()
    with node.client("fgj") as c:
        write_confirmed(c, "/v1/projects", project_body(code, owner_uscc=owner))
    return code


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        ("submitBatch", TRUNCATED),
        ("submitGroups", STRAY),
        ("submitGroups", OVERLONG),
        ("submitBatch", SURROGATE),
    ],
    ids=["truncated-batch", "stray-compact-group", "overlong-compact-group", "surrogate-batch"],
)
def test_an_approval_with_an_invalid_document_no_is_accepted_and_indexed_readable_with_the_marker(
    node: NodeProcess, tmp_path: Path, call: str, bad: bytes
) -> None:
    owner = unique_uscc()
    code = register_for(node, owner)
    authority = DishonestMember(node, "fgj")
    raw = "庄发改发〔2026〕".encode() + bad + "号".encode()
    record = approval(authority, code, raw)
    if call == "submitGroups":  # the compact form: the ledger expands it to the canonical payload
        receipt = authority.send_groups([record], [0], [authority.group_seal([record])])
    else:
        receipt = authority.send_batch([record], [authority.seal(record)])
    assert int(receipt["status"], 16) == 1
    assert logged(receipt, authority) == ["RecordAdded"]  # the ledger holds it

    view = authority.wait_confirmed(record.uid)
    assert view["readable"] is True, view.get("problem")
    assert "problem" not in view
    assert view["fields"]["document_no"] == raw.decode("utf-8", errors="replace")
    assert "\ufffd" in view["fields"]["document_no"]
    assert view["fields"]["invalid_utf8"] == ["document_no"]
    assert view["status"] == "active" and view["fields"]["decision"] == "approved"

    with node.client("sjj") as auditor:
        summary = auditor.get(f"/v1/projects/{code}").json()
    (stated,) = summary["stages"]["1"]["approvals"]
    assert stated["uid"] == "0x" + record.uid.hex()
    assert summary["stages"]["1"]["status"] == "approved"
    # The public page (扫码核验) shows the replaced text with its note, Chinese first.
    page = httpx.get(f"{node.url}/verify/{code}", params={"uscc": owner}, timeout=30).text
    assert raw.decode("utf-8", errors="replace") in page
    assert 'data-invalid-utf8="document_no"' in page and "含无效字符" in page

    bundle = bundle_of(node, code)
    assert bundled(bundle, record.uid)["fields"]["invalid_utf8"] == ["document_no"]
    done = verify_bundle(node, bundle, tmp_path / "bundle.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"OK 0x{record.uid.hex()}" in done.stdout, done.stdout


def test_a_serious_event_with_an_invalid_category_counts_as_its_valid_twin(
    node: NodeProcess, tmp_path: Path
) -> None:
    owner = unique_uscc()
    code = register_for(node, owner)
    supervisor = DishonestMember(node, "scjgj")
    twin = serious_event(supervisor, code, "质量安全".encode())
    bad = serious_event(supervisor, code, "质量".encode() + TRUNCATED + STRAY)
    receipt = supervisor.send_batch([twin, bad], [supervisor.seal(twin), supervisor.seal(bad)])
    assert logged(receipt, supervisor) == ["RecordAdded", "RecordAdded"]
    supervisor.wait_confirmed(twin.uid)
    view = supervisor.wait_confirmed(bad.uid)

    uids = {"0x" + twin.uid.hex(), "0x" + bad.uid.hex()}
    page = httpx.get(f"{node.url}/verify/{code}", params={"uscc": owner}, timeout=30).text
    assert page.count('data-kind="event"') == 2 and 'data-invalid-utf8="category"' in page
    console = Console(node, "scjgj").client.get(f"/console/projects/{code}").text  # the supervisor's officer
    assert console.count("data-invalid-utf8") == 1 and "含无效字符（category）" in console
    # The owner's credit profile (信用画像): both serious events are facts of the grade.
    with node.client("scjgj") as c:
        p = profile(c, owner)
    assert listed(p, "events") == uids
    assert p["events"]["by_severity"]["serious"] == {"open": 2}
    causes = {x for c in p["grade"]["causes"] for x in c["facts"]}
    assert uids <= causes

    # A bank's 信用核查证明 states both open events, and verifies.
    grant_bank(node, code)
    with node.client("bank") as bank:
        r = bank.post(f"/v1/projects/{code}/certificates")
        assert r.status_code == 201, r.text
        document = bank.get(f"/v1/certificates/{r.json()['id']}").json()
    assert {e["uid"] for e in document["open_events"]} == uids
    done = verify_certificate(node, document, tmp_path / "certificate.json")
    assert done.returncode == 0, done.stdout + done.stderr

    assert view["readable"] is True and view["fields"]["invalid_utf8"] == ["category"]
    assert view["fields"]["severity"] == "serious" and view["status"] == "open"
    done = verify_bundle(node, bundle_of(node, code), tmp_path / "bundle.json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_registration_whose_code_is_not_utf8_never_answers_for_the_replaced_code(node: NodeProcess) -> None:
    """The index keys a project by its code only when the code's bytes hash to the project id: a
    code read with U+FFFD is not the code on chain, and must not take the place of the project
    whose code really is that text (registered after it, here)."""
    authority = DishonestMember(node, "fgj")
    stem = unique_code()[:-1]
    raw, text = stem.encode() + STRAY, stem + "\ufffd"
    base = project_body(stem + "0")
    uids = []
    for code in (raw, text.encode()):
        fields = {"code": code, "name": base["name"], "owner_uscc": base["owner_uscc"], "project_type": 1,
                  "region_code": code[5:11], "industry_code": b"48", "restricted": keccak(os.urandom(32))}  # fmt: skip
        record = Record(authority.uid(os.urandom(8)), Kind.PROJECT, keccak(code), ZERO32, ZERO32,
                        crafted(Kind.PROJECT, fields))  # fmt: skip
        receipt = authority.send_batch([record], [authority.seal(record)])
        assert logged(receipt, authority) == ["RecordAdded"]
        uids.append("0x" + record.uid.hex())
        authority.wait_confirmed(record.uid)
    with node.client("sjj") as auditor:
        shown = auditor.get(f"/v1/records/{uids[0]}").json()
        valid = auditor.get(f"/v1/records/{uids[1]}").json()
    assert shown["readable"] is True and shown["fields"]["invalid_utf8"] == ["code"]
    assert shown["fields"]["code"] == text
    assert shown["project_code"] is None  # no code names it: its code is not a text
    assert valid["project_code"] == text and "invalid_utf8" not in valid["fields"]
    # The index's code key (project lookups, search): the replaced text names the valid project only.
    with sqlite3.connect(f"file:{node.data_dir / 'node.sqlite3'}?mode=ro", uri=True) as db:
        keyed = db.execute("SELECT project, code FROM chain_projects WHERE project IN (?, ?) OR code = ?",
                           ("0x" + keccak(raw).hex(), "0x" + keccak(text.encode()).hex(), text)).fetchall()  # fmt: skip
    assert keyed == [("0x" + keccak(text.encode()).hex(), text)]
