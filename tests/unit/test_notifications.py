"""Webhooks without a chain: URLs, signatures, backoff, filters, the sealed secret and the queue's states."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import time
from pathlib import Path

import pydantic
import pytest

from node_api.api.schemas import SubscriptionIn
from node_api.config import Settings
from node_api.ledger.notifications import Facts, backoff, delivery_id, matches, signature, url_problem
from node_api.store.database import Database
from node_api.store.subscriptions import SecretCorrupt, SecretVault, SubscriptionTable


@pytest.mark.parametrize(
    "url",
    ["https://hooks.bank.example.cn/projchain", "http://127.0.0.1:8080/hook?x=1", "HTTPS://Example.com"],
)
def test_http_and_https_urls_are_taken(url: str) -> None:
    assert url_problem(url, []) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/x", "http"),
        ("file:///etc/passwd", "http"),
        ("gopher://127.0.0.1:6379/_", "http"),
        ("javascript:alert(1)", "http"),
        ("https:///nohost", "host"),
        ("https://user:pw@example.com/", "credentials"),
        ("https://example.com/#frag", "fragment"),
        ("https://example.com:99999/", "well-formed"),
    ],
)
def test_other_urls_are_refused_with_a_reason(url: str, why: str) -> None:
    problem = url_problem(url, [])
    assert problem is not None and why in problem


def test_the_allow_list_matches_host_patterns_case_insensitively() -> None:
    allowed = ["hooks.bank.example.cn", "*.gov.cn"]
    assert url_problem("https://HOOKS.bank.example.cn/x", allowed) is None
    assert url_problem("https://a.zhuanglang.gov.cn/x", allowed) is None
    problem = url_problem("http://169.254.169.254/latest/meta-data", allowed)
    assert problem is not None and "PROJCHAIN_WEBHOOK_ALLOWED_HOSTS" in problem


def test_the_signature_is_an_hmac_of_timestamp_dot_body() -> None:
    body = '{"id":"dlv_1","data":{"名称":"庄浪"}}'.encode()
    expected = hmac.new(b"whsec_k", b"1760000000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_k", "1760000000", body) == "sha256=" + expected


def test_a_delivery_id_is_fixed_by_subscription_and_event() -> None:
    one = delivery_id("sub_a", "record:0x01")
    assert one == delivery_id("sub_a", "record:0x01")
    assert one.startswith("dlv_") and len(one) == 36
    assert one != delivery_id("sub_b", "record:0x01") != delivery_id("sub_a", "record:0x02")


def test_backoff_doubles_up_to_the_cap_and_ends() -> None:
    s = Settings(env="test", webhook_retry_base=10, webhook_retry_max=60, webhook_max_attempts=6)
    assert [backoff(s, n) for n in range(1, 7)] == [10, 20, 40, 60, 60, None]


FACTS = Facts("2026-620825-48-01-000001", frozenset({"91620825MA72BT6H8M"}), "620825", "approval")


@pytest.mark.parametrize(
    ("filters", "event", "expected"),
    [
        ({}, "record", True),
        ({"project_codes": ["2026-620825-48-01-000001"]}, "record", True),
        ({"project_codes": ["2026-620825-48-01-000002"]}, "record", False),
        ({"owner_usccs": ["91620825MA72BT6H8M", "x"]}, "record", True),
        ({"owner_usccs": ["91620825MA71PX3KXP"]}, "record", False),
        ({"regions": ["62"]}, "record", True),
        ({"regions": ["6208"]}, "record", True),
        ({"regions": ["620824", "11"]}, "record", False),
        ({"kinds": ["approval", "event"]}, "record", True),
        ({"kinds": ["grant"]}, "record", False),
        ({"kinds": ["grant"], "regions": ["62"]}, "warning", True),  # kinds narrow records only
        ({"rules": ["item.overdue"]}, "record", True),  # rules narrow warnings only
        ({"regions": ["62"], "kinds": ["grant"]}, "record", False),  # every filter must match
    ],
)
def test_filters(filters: dict[str, list[str]], event: str, expected: bool) -> None:
    assert matches(filters, event, FACTS) is expected


def test_a_rule_filter_narrows_warnings() -> None:
    warning = Facts("2026-620825-48-01-000001", frozenset(), "620825", rule="item.overdue")
    assert matches({"rules": ["item.overdue"]}, "warning", warning)
    assert not matches({"rules": ["approval.expired_relied_on"]}, "warning", warning)


def test_the_secret_is_sealed_to_its_subscription() -> None:
    vault = SecretVault(os.urandom(32))
    sealed = vault.seal("sub_a", "whsec_secret")
    assert b"whsec_secret" not in sealed
    assert vault.unseal("sub_a", sealed) == "whsec_secret"
    with pytest.raises(SecretCorrupt):
        vault.unseal("sub_b", sealed)  # a row copied under another id does not open
    with pytest.raises(SecretCorrupt):
        SecretVault(os.urandom(32)).unseal("sub_a", sealed)


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/"},
        {"url": "https://example.com/", "filters": {"owner": ["x"]}},  # unknown filter
        {"url": "https://example.com/", "filters": {"regions": ["99"]}},
        {"url": "https://example.com/", "filters": {"owner_usccs": ["91620825MA72BT6H8X"]}},
        {"url": "https://example.com/", "filters": {"project_codes": ["2026-999999-48-01-000001"]}},
        {"url": "https://example.com/", "filters": {"kinds": ["anchor"]}},
        {"url": "https://example.com/", "filters": {"watch": "all"}},
        {"url": "https://example.com/", "events": ["warning"], "filters": {"rules": ["item.late"]}},
        {"url": "https://example.com/", "filters": {"regions": []}},
        {"url": "https://example.com/", "events": ["record"], "filters": {"rules": ["item.overdue"]}},
        {"url": "https://example.com/", "events": ["record", "record"]},
        {"url": "https://example.com/", "events": ["block"]},
        {"url": "https://example.com/", "secret": "mine"},
    ],
)
def test_bad_subscriptions_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        SubscriptionIn.model_validate(body)


def test_a_good_subscription_reads() -> None:
    sub = SubscriptionIn.model_validate(
        {
            "url": "https://hooks.bank.example.cn/projchain",
            "events": ["record", "warning"],
            "filters": {
                "regions": ["6208"],
                "kinds": ["approval"],
                "rules": ["item.overdue"],
                "watch": "granted",
            },
        }
    )
    assert sub.filters.model_dump(exclude_none=True) == {
        "regions": ["6208"], "kinds": ["approval"], "rules": ["item.overdue"], "watch": "granted",
    }  # fmt: skip


# -- the queue -------------------------------------------------------------------------------


@pytest.fixture
def table(tmp_path: Path) -> SubscriptionTable:
    return SubscriptionTable(Database(tmp_path / "node.sqlite3"))


def _queue(table: SubscriptionTable, subscription: str, uids: list[str], cursor: int, now: float) -> int:
    rows = [
        (delivery_id(subscription, f"record:{u}"), subscription, f"record:{u}", "record", u, "0x01", "c")
        for u in uids
    ]
    return table.enqueue(rows, cursor, now)


def test_an_event_is_queued_once_per_subscription(table: SubscriptionTable) -> None:
    table.insert("sub_a", 7, "https://x.example/", "{}", '["record"]', b"s", None, 1.0)
    assert table.cursor() is None
    assert _queue(table, "sub_a", ["0x01", "0x02"], 5, 10.0) == 2
    assert _queue(table, "sub_a", ["0x02", "0x03"], 9, 11.0) == 1  # 0x02 again (a re-indexed record)
    assert table.cursor() == 9
    assert [r["subject"] for r in table.due(20.0, 10, set())] == ["0x01", "0x02", "0x03"]
    assert [r["subject"] for r in table.due(20.0, 10, {delivery_id("sub_a", "record:0x01")})] == [
        "0x02",
        "0x03",
    ]


def test_failing_then_dead_then_redelivered_then_delivered(table: SubscriptionTable) -> None:
    table.insert("sub_a", 7, "https://x.example/", "{}", '["record"]', b"s", None, 1.0)
    _queue(table, "sub_a", ["0x01"], 1, 10.0)
    did = delivery_id("sub_a", "record:0x01")
    table.failed(did, 1, 500, "HTTP 500", 15.0)
    row = table.delivery("sub_a", did)
    assert row is not None and (row["state"], row["attempts"], row["last_error"]) == (
        "failing",
        1,
        "HTTP 500",
    )
    assert table.due(14.0, 10, set()) == [] and table.next_due(set()) == 15.0
    assert table.redeliver(did, 16.0) is False  # only a dead one
    table.failed(did, 2, None, "ConnectError", None)
    row = table.delivery("sub_a", did)
    assert row is not None and row["state"] == "dead" and table.next_due(set()) is None
    assert table.redeliver(did, 20.0) is True
    row = table.delivery("sub_a", did)
    assert row is not None and (row["state"], row["attempts"]) == ("pending", 0)
    table.delivered(did, 204, 1, 21.0)
    assert table.counts(["sub_a"]) == {"sub_a": {"delivered": 1}}
    table.failed(did, 2, 500, "late failure", 30.0)  # a delivered row stays delivered
    row = table.delivery("sub_a", did)
    assert row is not None and row["state"] == "delivered"


def test_deactivating_keeps_the_row_and_kills_open_deliveries(table: SubscriptionTable) -> None:
    table.insert("sub_a", 7, "https://x.example/", "{}", '["record"]', b"s", None, 1.0)
    _queue(table, "sub_a", ["0x01", "0x02"], 2, 10.0)
    table.delivered(delivery_id("sub_a", "record:0x01"), 200, 1, 11.0)
    table.deactivate("sub_a", 12.0)
    row = table.get("sub_a")
    assert row is not None and row["deactivated_at"] == 12.0
    assert table.active() == []
    assert table.counts(["sub_a"]) == {"sub_a": {"delivered": 1, "dead": 1}}
    dead = table.deliveries("sub_a", "dead", None, 10)
    assert [r["last_error"] for r in dead] == ["subscription deactivated"]


def test_a_subscription_starts_after_the_newest_indexed_record(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.sqlite3")
    table = SubscriptionTable(db)
    table.insert("sub_a", 7, "https://x.example/", "{}", '["record"]', b"s", None, 1.0)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO chain_records(uid, kind, project, ref, issuer, sealer, digest, payload, seal,"
            " block_number, block_hash, tx_hash, log_index, record_hash) VALUES"
            " ('0x01', 1, '0x02', '0x00', 1, '0x', '0x', x'', x'', 1, '0xb', '0xt', 0, '0xr')"
        )
    table.insert("sub_b", 7, "https://x.example/", "{}", '["record"]', b"s", None, 2.0)
    rows = {r["id"]: r["from_rowid"] for r in table.active()}
    assert rows["sub_a"] == 0 and rows["sub_b"] >= 1
    with pytest.raises(sqlite3.IntegrityError):
        table.insert("sub_b", 7, "https://x.example/", "{}", '["record"]', b"s", None, 3.0)


# -- the receiver's snippet in docs/notifications.md -------------------------------------------


def _snippet() -> dict[str, object]:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text(encoding="utf-8")
    code = doc.split("### Verifying a delivery", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict[str, object] = {}
    exec(compile(code, "docs/notifications.md", "exec"), scope)
    return scope


def test_the_documented_receiver_verifies_what_the_node_signs() -> None:
    scope = _snippet()
    verify_webhook, handle = scope["verify_webhook"], scope["handle"]
    assert callable(verify_webhook) and callable(handle)
    body = '{"id":"dlv_1","type":"record","data":{"名称":"庄浪县"}}'.encode()
    now = 1_777_622_400
    headers = {
        "x-projchain-id": "dlv_1",
        "x-projchain-timestamp": str(now),
        "x-projchain-signature": signature("whsec_k", str(now), body),
    }
    assert verify_webhook("whsec_k", headers, body, now + 10)
    assert not verify_webhook("whsec_other", headers, body, now)
    assert not verify_webhook("whsec_k", headers, body + b" ", now)
    assert not verify_webhook("whsec_k", headers, body, now + 301)  # stale: a replay
    assert not verify_webhook("whsec_k", {**headers, "x-projchain-timestamp": "1e9"}, body, now)
    fresh = {**headers, "x-projchain-timestamp": str(int(time.time()))}
    fresh["x-projchain-signature"] = signature("whsec_k", fresh["x-projchain-timestamp"], body)
    assert handle("whsec_k", fresh, body) == 200
    assert handle("whsec_k", fresh, body) == 200  # again: answered, processed once
    assert scope["seen"] == {"dlv_1"}
    assert handle("whsec_other", fresh, body) == 401
