"""Review of the "strings that are not UTF-8" change (branch revutf): a replaced code used as a key.

Two different on-chain codes whose bytes are not UTF-8 (``stem ‖ ff`` and ``stem ‖ fe``) read as
the same text (``stem ‖ U+FFFD``). The owner's credit profile keys a viewer's scope by that text
(``Profiles.scope`` builds ``{p.code: basis}``; ``credit.visible`` keeps ``e.project in own``), so a
bank holding a grant on one of them reads the other's restricted facts. Before the change such
registrations were unreadable and left out of ``Facts.project`` altogether.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from eth_utils import keccak

from localnode import NodeProcess
from node_api.domain.records import GRANT_SCOPES, ZERO32, Kind, Record
from tests.integration.test_credit import listed, profile
from tests.integration.test_invalid_utf8 import STRAY, crafted, register_for, serious_event
from tests.integration.test_repeated_uid import logged
from tests.support.member import DishonestMember
from tests.support.records import grant_bank, project_body, unique_code, unique_uscc

pytestmark = pytest.mark.chain


def _register(member: DishonestMember, code: bytes, owner: str) -> Record:
    base = project_body(unique_code(), owner_uscc=owner)
    fields = {"code": code, "name": base["name"], "owner_uscc": owner.encode(), "project_type": 1,
              "region_code": b"620825", "industry_code": b"48", "restricted": keccak(os.urandom(32))}  # fmt: skip
    return Record(member.uid(os.urandom(8)), Kind.PROJECT, keccak(code), ZERO32, ZERO32,
                  crafted(Kind.PROJECT, fields))  # fmt: skip


def _general_event(member: DishonestMember, code: bytes) -> Record:
    fields = {"severity": 2, "category": "质量安全".encode(), "occurred_at": 1_782_864_000,
              "publish_until": 1_877_472_000, "evidence": [], "restricted": keccak(os.urandom(32))}  # fmt: skip
    return Record(member.uid(os.urandom(8)), Kind.EVENT, keccak(code), ZERO32, os.urandom(32),
                  crafted(Kind.EVENT, fields))  # fmt: skip


def _grant(member: DishonestMember, code: bytes, grantee: int) -> Record:
    payload = crafted(
        Kind.GRANT, {"grantee": grantee, "scope": GRANT_SCOPES["all"], "expires_at": 1_893_456_000}
    )
    return Record(member.uid(os.urandom(8)), Kind.GRANT, keccak(code), ZERO32, os.urandom(32), payload)


def _send(member: DishonestMember, record: Record) -> None:
    receipt = member.send_batch([record], [member.seal(record)])
    assert logged(receipt, member) == ["RecordAdded"]
    member.wait_confirmed(record.uid)


@pytest.mark.parametrize("same_text", [True, False], ids=["codes-read-alike", "control-codes-differ"])
def test_a_grant_on_one_replaced_code_does_not_open_another_project_reading_the_same_text(
    node: NodeProcess, same_text: bool
) -> None:
    owner = unique_uscc()
    stem = unique_code()[:-1].encode()
    # both read as stem + U+FFFD; the control's second code reads as another text
    other = stem + b"\xfe"
    granted_code = stem + b"\xff" if same_text else unique_code()[:-1].encode() + b"\xff"
    registrant = DishonestMember(node, "fgj")
    supervisor = DishonestMember(node, "scjgj")
    _send(registrant, _register(registrant, other, owner))  # first: the scope dict keeps the last
    _send(registrant, _register(registrant, granted_code, owner))
    hidden = _general_event(supervisor, other)  # 一般: restricted, not in the public part
    _send(supervisor, hidden)
    _send(registrant, _grant(registrant, granted_code, node.org_ids["bank"]))
    register_for(node, owner)  # a project read by its code: the owner has a profile however the others read

    with node.client("bank") as bank:
        p = profile(bank, owner)
    # The bank holds a grant on `granted_code` only; the general event of `other` is not its to see.
    assert "0x" + hidden.uid.hex() not in listed(p, "events"), p["events"]


def test_the_verification_pdf_does_not_show_a_replaced_category_as_its_valid_text(
    node: NodeProcess, tmp_path: Path
) -> None:
    """The 信用核查证明 PDF states an open event's category. Noto Sans CJK has no glyph for U+FFFD, so
    fpdf2 dropped it silently: ``质量 ‖ ff ‖ 安全`` on chain printed as ``质量安全``, its valid twin's text,
    with no 含无效字符 note (the public page and the console have one). It is set as □, with the note."""
    owner = unique_uscc()
    code = register_for(node, owner)
    supervisor = DishonestMember(node, "scjgj")
    bad = serious_event(supervisor, code, "质量".encode() + STRAY + "安全".encode())
    _send(supervisor, bad)
    grant_bank(node, code)
    with node.client("bank") as bank:
        r = bank.post(f"/v1/projects/{code}/certificates")
        assert r.status_code == 201, r.text
        pdf = bank.get(f"/v1/certificates/{r.json()['id']}/pdf")
    assert pdf.status_code == 200
    (tmp_path / "c.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    flat = "".join(text.split())  # the line may wrap anywhere
    assert "质量安全" not in flat, text
    assert "质量□安全" in flat, text
    assert "含无效字符（category，以□示）" in flat, text


def test_the_owner_profile_names_no_project_by_a_replaced_code(node: NodeProcess) -> None:
    """docs/records.md: a marked code is "no lookup by code, … no project_code answers for it". The
    owner's profile stated ``projects[].code`` as the replaced text, unmarked, so two projects with
    different ids were listed under one code. A project whose code is not UTF-8 is left out of it."""
    owner = unique_uscc()
    stem = unique_code()[:-1].encode()
    registrant = DishonestMember(node, "fgj")
    for code in (stem + b"\xfe", stem + b"\xff"):
        _send(registrant, _register(registrant, code, owner))
    valid = register_for(node, owner)  # listed, so an empty profile cannot pass
    with node.client("sjj") as auditor:
        p = profile(auditor, owner)
    codes = [str(x["code"]) for x in p["projects"]]
    assert valid in codes, p["projects"]
    assert not [c for c in codes if c.startswith(stem.decode())], p["projects"]
