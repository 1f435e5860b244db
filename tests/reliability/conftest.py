"""Fixtures of the reliability tests: a node of their own to crash, a node per test module that
changes it, and a logged seed.

The crash tests share one ``chaos_node`` (a real ``projchain run --demo`` with its own
anvil, not the session node), which they kill, restart and whose chain they crash;
each test files its records under its own project, so they stay independent. The
fixture always removes the node and every anvil on its port, even after a failure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from localnode import NodeProcess
from tests.support.chaos import Anvil


@pytest.fixture(scope="package")
def chaos_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """A node only the crash tests use (they SIGKILL it and its chain)."""
    node = NodeProcess(tmp_path_factory.mktemp("chaos"))
    anvil = Anvil(node)
    try:
        node.start()
        yield node
    finally:
        node.stop()
        anvil.cleanup()


@pytest.fixture(scope="module")
def own_node(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[NodeProcess]:
    """A node of the test module's own, for tests that change it: restart it with other settings,
    move a key file away, revoke a key on chain (test_deferred_seals, test_revoked_node_key)."""
    node = NodeProcess(tmp_path_factory.mktemp(str(request.module.__name__).rsplit(".", 1)[-1]))
    try:
        yield node.start()
    finally:
        node.stop()


@pytest.fixture
def healthy_chaos_node(chaos_node: NodeProcess) -> NodeProcess:
    """The chaos node, restarted first if an earlier test left it down."""
    if chaos_node.process is None or chaos_node.process.poll() is not None:
        chaos_node.start(timeout=60)
    return chaos_node


@pytest.fixture
def seed() -> int:
    """The random seed of a chaos test: PROJCHAIN_CHAOS_SEED replays a run; printed on failure."""
    value = int(os.environ.get("PROJCHAIN_CHAOS_SEED") or time.time_ns() % 2**32)
    print(f"chaos seed {value} (replay with PROJCHAIN_CHAOS_SEED={value})")
    return value
