"""The token-guessing guard: refuses after too many failures, forgets old ones."""

from __future__ import annotations

import pytest

from node_api.api import deps
from node_api.api.deps import AuthGuard
from node_api.errors import RateLimitedError


def test_guard_refuses_after_limit_and_forgets_clients_after_a_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(deps.time, "monotonic", lambda: now[0])
    guard = AuthGuard(per_minute=3)
    for _ in range(3):
        guard.check("10.0.0.1")
        guard.fail("10.0.0.1")
    with pytest.raises(RateLimitedError):
        guard.check("10.0.0.1")
    guard.check("10.0.0.2")  # another client is not affected
    now[0] += 59  # still within the minute of the failures
    with pytest.raises(RateLimitedError):
        guard.check("10.0.0.1")
    now[0] += 2
    guard.check("10.0.0.1")
    assert "10.0.0.1" not in guard._failures  # memory stays bounded by recent failures
    assert "10.0.0.2" not in guard._failures  # checking alone never creates an entry
