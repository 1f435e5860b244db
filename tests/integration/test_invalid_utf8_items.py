"""Review of the "strings that are not UTF-8" change, its open finding: a replaced item text used as a key.

The catalogue role (政务服务中心) can put on chain an item whose code is valid UTF-8 holding a real
U+FFFD (``stem ‖ ef bf bd``) and another whose code bytes are not UTF-8 (``stem ‖ ff``); the
node serves the first and not the second (its ledger key is the hash of bytes no text names). The
item's department, with its own relayer key, then files a 受理 or a 批复 naming ``stem ‖ ff``,
which the ledger accepts (that item is in force). The node reads its ``item`` as ``stem ‖ U+FFFD``
— the valid item's code — and used that text to look the catalogue up: the record showed the
valid item's name, counted as an approval of it in the 承诺制 share, ran a clock under its time
limit (and decided its 受理), and ticked it off the project's 一张清单. A replaced text is shown,
never used as a key: the record is shown and counted as an approval, of no item the node knows.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils import keccak

from localnode import NodeProcess
from node_api.domain.records import ZERO32, Kind, Record, project_id
from tests.integration.test_invalid_utf8 import STRAY, crafted, register_for
from tests.integration.test_repeated_uid import logged
from tests.support.member import DishonestMember
from tests.support.records import unique_code, unique_uscc

pytestmark = pytest.mark.chain

VALID_NAME, MARKED_NAME = "有效事项（含U+FFFD）", "编码无效的事项"
VALID_LIMIT, MARKED_LIMIT = 7, 30
ISSUED = 1_780_272_000  # 2026-06-01


@dataclass(frozen=True)
class Items:
    """The two items on chain: ``valid`` (served) and ``marked`` (its code bytes not UTF-8)."""

    valid: bytes
    marked: bytes

    @property
    def text(self) -> str:
        """What both read as."""
        return self.valid.decode()


def _send(member: DishonestMember, *records: Record) -> list[dict[str, Any]]:
    receipt = member.send_batch(list(records), [member.seal(r) for r in records])
    assert logged(receipt, member) == ["RecordAdded"] * len(records)
    return [member.wait_confirmed(r.uid) for r in records]


def _item(member: DishonestMember, code: bytes, name: str, department: int, limit: int) -> Record:
    # 信用承诺制 on the approval list: an approval of it counts in the 承诺制 share
    fields = {"code": code, "version": 1, "name": name, "stage": 1, "list": 1, "department": department,
              "time_limit_days": limit, "on_the_spot": 0, "commitment": 2, "retired": 0, "depends_on": [],
              "guide": ZERO32}  # fmt: skip
    return Record(
        member.uid(os.urandom(8)), Kind.CATALOGUE, ZERO32, ZERO32, ZERO32, crafted(Kind.CATALOGUE, fields)
    )


@pytest.fixture(scope="module")
def items(node: NodeProcess) -> Iterator[Items]:
    stem = ("UT8-" + unique_code()[-8:]).encode()
    found = Items(valid=stem + "\ufffd".encode(), marked=stem + STRAY)
    catalogue = DishonestMember(node, "zwfw")  # the catalogue role
    fgj = node.org_ids["fgj"]
    _send(catalogue, _item(catalogue, found.valid, VALID_NAME, fgj, VALID_LIMIT),
          _item(catalogue, found.marked, MARKED_NAME, fgj, MARKED_LIMIT))  # fmt: skip
    with node.client() as c:
        listed = {
            i["code"]: i
            for i in c.get("/v1/catalogue", params={"q": stem.decode(), "limit": 200}).json()["items"]
        }
    assert (
        list(listed) == [found.text] and listed[found.text]["name"] == VALID_NAME
    )  # the marked one is not served
    yield found


def _approval(member: DishonestMember, code: str, item: bytes) -> Record:
    fields = {"stage": 1, "decision": 0, "item": item, "item_version": 1, "document_no": "庄发改批〔2026〕9号",
              "issued_at": ISSUED, "valid_until": 0, "restricted": keccak(os.urandom(32))}  # fmt: skip
    return Record(member.uid(os.urandom(8)), Kind.APPROVAL, project_id(code), ZERO32, os.urandom(32),
                  crafted(Kind.APPROVAL, fields))  # fmt: skip


def _acceptance(member: DishonestMember, code: str, item: bytes, days_ago: int) -> Record:
    at = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).timestamp())
    fields = {"item": item, "item_version": 1, "accepted_at": at, "restricted": keccak(os.urandom(32))}
    return Record(member.uid(os.urandom(8)), Kind.ACCEPTANCE, project_id(code), ZERO32, ZERO32,
                  crafted(Kind.ACCEPTANCE, fields))  # fmt: skip


def _checklist(member: DishonestMember, code: str, *keys: bytes) -> Record:
    fields = {"part": 1, "parts": 1, "items": list(keys), "versions": [(1).to_bytes(32, "big")] * len(keys)}
    return Record(member.uid(os.urandom(8)), Kind.CHECKLIST, project_id(code), ZERO32, ZERO32,
                  crafted(Kind.CHECKLIST, fields))  # fmt: skip


def test_an_approval_of_the_marked_item_is_shown_without_the_valid_items_name(
    node: NodeProcess, items: Items
) -> None:
    code = register_for(node, unique_uscc())
    fgj = DishonestMember(node, "fgj")
    marked, valid = _approval(fgj, code, items.marked), _approval(fgj, code, items.valid)
    _send(fgj, marked, valid)
    with node.client("sjj") as auditor:
        shown = auditor.get(f"/v1/records/0x{marked.uid.hex()}").json()
        control = auditor.get(f"/v1/records/0x{valid.uid.hex()}").json()
        history = [
            r
            for r in auditor.get(f"/v1/projects/{code}/history").json()["records"]
            if r["kind"] == "approval"
        ]
    # shown as the chain holds it (the replaced text, marked) …
    assert shown["readable"] is True and shown["fields"]["invalid_utf8"] == ["item"]
    assert shown["fields"]["item"] == items.text and shown["status"] == "active"
    # … of no item the node knows: not named as the valid item
    assert shown["fields"]["item_name"] is None, shown["fields"]
    assert control["fields"]["item_name"] == VALID_NAME and "invalid_utf8" not in control["fields"]
    names = {r["uid"]: r["fields"]["item_name"] for r in history}
    assert names == {"0x" + marked.uid.hex(): None, "0x" + valid.uid.hex(): VALID_NAME}


def test_an_approval_of_the_marked_item_is_counted_but_not_as_eligible_for_the_commitment_share(
    node: NodeProcess, items: Items
) -> None:
    code = register_for(node, unique_uscc())
    fgj = DishonestMember(node, "fgj")
    _send(fgj, _approval(fgj, code, items.marked), _approval(fgj, code, items.valid))
    with node.client("fgj") as c:
        report = c.get(f"/v1/reports/projects/{code}").json()
    assert report["approvals"] == 2  # both are approvals on chain
    # only the valid item is known to be of the approval list, not on the negative list
    assert report["commitment"]["eligible_approvals"] == 1, report["commitment"]


def test_an_acceptance_of_the_marked_item_runs_no_clock_under_the_valid_items_limit(
    node: NodeProcess, items: Items
) -> None:
    code = register_for(node, unique_uscc())
    fgj = DishonestMember(node, "fgj")
    valid, marked = _acceptance(fgj, code, items.valid, 2), _acceptance(fgj, code, items.marked, 2)
    _send(fgj, valid, marked)
    _send(fgj, _approval(fgj, code, items.marked))  # recorded after both: decides neither
    with node.client("fgj") as c:
        clock = c.get(f"/v1/projects/{code}/clock").json()
    by_acceptance = {i["acceptance"]: i for i in clock["items"]}
    entry = by_acceptance["0x" + valid.uid.hex()]  # the control: the valid item's clock runs
    assert entry["item"] == items.text and entry["limit_days"] == VALID_LIMIT
    assert entry["decision"] is None and entry["state"] == "running", entry  # not the marked item's 批复
    assert set(by_acceptance) == {"0x" + valid.uid.hex()}, clock[
        "items"
    ]  # no clock of the valid item's limit


def test_an_approval_of_the_marked_item_does_not_tick_the_valid_item_off_the_checklist(
    node: NodeProcess, items: Items
) -> None:
    code = register_for(node, unique_uscc())  # registered by 发改局, the project's registrant
    fgj = DishonestMember(node, "fgj")
    _send(fgj, _checklist(fgj, code, keccak(items.valid)))
    marked = _approval(fgj, code, items.marked)
    _send(fgj, marked)
    with node.client() as c:
        before = c.get(f"/v1/projects/{code}/checklist").json()
    (entry,) = before["items"]
    assert entry["code"] == items.text and entry["name"] == VALID_NAME
    assert (entry["status"], entry["approval"], before["done"]) == ("pending", None, 0), before
    valid = _approval(fgj, code, items.valid)
    _send(fgj, valid)
    with node.client() as c:
        (after,) = c.get(f"/v1/projects/{code}/checklist").json()["items"]
    assert (after["status"], after["approval"]) == ("done", "0x" + valid.uid.hex())
