"""The node refuses writes once the embedded chain uses more memory than it is configured for.

A real anvil (the node's binary and flags, started as the node starts it); the guard reads its
resident memory from ``/proc`` as each API process does. The limits are set below and above
what the fresh chain really uses, read from ``/proc`` by the test itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from localnode import free_port
from node_api.chain.capacity import ChainMemoryGuard
from node_api.chain.embedded import EmbeddedChain
from node_api.config import Settings
from node_api.errors import ChainCapacityError
from node_api.ledger.writer import Writer
from node_api.processes import rss_mb


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[EmbeddedChain]:
    c = EmbeddedChain(Settings(data_dir=tmp_path, anvil_port=free_port(), state_interval=3600))
    c.start()
    try:
        yield c
    finally:
        c.kill()


def guard(chain: EmbeddedChain, limit_mb: int, **settings: Any) -> ChainMemoryGuard:
    return ChainMemoryGuard(
        Settings(
            data_dir=chain.settings.data_dir,
            anvil_port=chain.port,
            chain_memory_limit_mb=limit_mb,
            **settings,
        )
    )


def test_writes_are_refused_once_anvil_uses_more_than_its_limit(chain: EmbeddedChain) -> None:
    assert chain.process is not None
    used = rss_mb(chain.process.pid)
    assert used is not None and used > 2, "a running anvil uses some memory"

    over = guard(chain, int(used) - 1)
    with pytest.raises(ChainCapacityError) as refused:
        over.check()
    detail = refused.value.detail
    assert f"over its limit of {int(used) - 1:,} MB" in detail
    assert "PROJCHAIN_CHAIN_MEMORY_LIMIT_MB" in detail
    assert "Running on a production network" in detail and "PROJCHAIN_RPC_URL" in detail
    assert refused.value.status == 503 and refused.value.code == "chain_memory_limit"

    # The writer asks the guard before anything else: nothing of the request is looked at or kept
    # (its collaborators are absent here; reaching any of them would fail differently).
    absent = cast(Any, None)
    writer = Writer(absent, absent, absent, absent, absent, absent, absent, absent, over)
    with pytest.raises(ChainCapacityError):
        asyncio.run(writer.write(absent, absent, "2026-620825-44-01-000001", {}))

    guard(chain, int(used) * 4 + 100).check()  # under the limit: writes go on
    guard(chain, 0).check()  # 0: no limit


def test_a_chain_the_node_does_not_run_is_not_watched(chain: EmbeddedChain) -> None:
    # With PROJCHAIN_RPC_URL the node runs no anvil: a process on that port is not its chain.
    guard(chain, 1, rpc_url=chain.url).check()


def test_the_guard_finds_a_restarted_chain_under_its_new_pid(chain: EmbeddedChain) -> None:
    watched = guard(chain, 1)
    watched.period = 0.0
    with pytest.raises(ChainCapacityError):
        watched.check()
    first = watched._pid
    chain.kill()
    chain.start()
    with pytest.raises(ChainCapacityError):
        watched.check()
    assert chain.process is not None and watched._pid == chain.process.pid != first
