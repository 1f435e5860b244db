"""The token-guessing guard: one count for all processes, keyed by client address and token selector."""

from __future__ import annotations

from pathlib import Path

import pytest

from node_api import logs
from node_api.errors import RateLimitedError
from node_api.ledger import auth
from node_api.ledger.auth import AuthGuard, create_operator_token, create_token, hash_token, token_selector
from node_api.store.auth import find_token
from node_api.store.database import Database


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1_000_000.0]
    monkeypatch.setattr(auth.time, "time", lambda: now[0])
    return now


def test_guard_refuses_after_limit_and_forgets_clients_after_a_minute(
    tmp_path: Path, clock: list[float]
) -> None:
    db = Database(tmp_path / "node.sqlite3")
    guard = AuthGuard(db, per_minute=3)
    for _ in range(3):
        guard.check("10.0.0.1", "*")
        guard.fail("10.0.0.1", "*")
    with pytest.raises(RateLimitedError):
        guard.check("10.0.0.1", "*")
    guard.check("10.0.0.2", "*")  # another client is not affected
    guard.check("10.0.0.1", "7")  # nor another token's selector at the same address
    clock[0] += 59  # still within the minute of the failures
    with pytest.raises(RateLimitedError):
        guard.check("10.0.0.1", "*")
    clock[0] += 2
    guard.check("10.0.0.1", "*")
    guard.fail("10.0.0.3", "*")  # a new failure forgets those older than a minute
    assert db.scalar("SELECT count(*) FROM auth_failures") == 1  # the table stays bounded


def test_processes_share_one_count(tmp_path: Path, clock: list[float]) -> None:
    # Two gateway processes: two connections to one database, each with its own guard.
    a, b = Database(tmp_path / "node.sqlite3"), Database(tmp_path / "node.sqlite3")
    guard_a, guard_b = AuthGuard(a, per_minute=4), AuthGuard(b, per_minute=4)
    for _ in range(2):
        guard_a.fail("10.0.0.1", "*")
        guard_b.fail("10.0.0.1", "*")
    for guard in (guard_a, guard_b):
        with pytest.raises(RateLimitedError):
            guard.check("10.0.0.1", "*")


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.sqlite3")
    guard = AuthGuard(db, per_minute=3, trusted_proxies=["10.0.0.5", "192.168.7.0/24"])
    assert guard.client_address("203.0.113.9", ["198.51.100.1"]) == "203.0.113.9"  # not a proxy
    assert guard.client_address("10.0.0.5", ["198.51.100.1"]) == "198.51.100.1"
    assert guard.client_address("10.0.0.5", []) == "10.0.0.5"
    # The last address a trusted proxy added counts; what the client wrote before it does not.
    assert guard.client_address("10.0.0.5", ["1.2.3.4, 198.51.100.1"]) == "198.51.100.1"
    assert guard.client_address("10.0.0.5", ["1.2.3.4", "198.51.100.1, 192.168.7.20"]) == "198.51.100.1"
    assert AuthGuard(db, 3).client_address("10.0.0.5", ["198.51.100.1"]) == "10.0.0.5"  # none trusted


def test_tokens_name_their_row_and_legacy_tokens_still_work(tmp_path: Path) -> None:
    db = Database(tmp_path / "node.sqlite3")
    token = create_token(db, 3, "officer")
    row = find_token(db, hash_token(token))
    assert row is not None and row["org_id"] == 3
    assert token_selector(token) == row["id"] and token.startswith(f"pc_{row['id']}_")
    assert logs.redact(f"Bearer {token}") == "[redacted]" and token[-20:] not in logs.redact(token)
    legacy = "pc_" + "A" * 12 + "_" + "B" * 30  # the older form: pc_ + 43 url-safe characters
    assert len(legacy) == 46 and token_selector(legacy) is None
    assert token_selector("pc_12_" + "x" * 43) == 12 and token_selector("pc_12_short") is None
    operator, digest = create_operator_token()
    assert token_selector(operator) is None and hash_token(operator) == digest
