"""Principle 7 across chain crashes: anvil SIGKILLed under load comes back without its last blocks.

The node saves the chain's state every ``state_interval`` seconds, so a SIGKILL
loses the blocks mined since the last save. The node keeps running; the test
restarts anvil with the node's own command line (``EmbeddedChain.command()``).
The node must notice that the chain went backwards (by block hash), orphan the
lost blocks in its index, return the lost records to the queue with the right
nonces, and re-submit them: in the end the chain holds exactly the accepted set,
once each, and /health is back to ok.
"""

from __future__ import annotations

import random
import sqlite3
import time

import httpx
import pytest

from tests.support.chaos import Anvil, Writers, assert_chain_holds_exactly, wait_drained
from tests.support.cluster import NodeProcess
from tests.support.records import register, unique_code

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def crash_after_save(anvil: Anvil, rng: random.Random) -> int:
    """Kills anvil a random 0.8–1.6 s after the node saved its state (so blocks are surely lost).

    Returns the head at the kill.
    """
    state = anvil.state_file
    before = state.stat().st_mtime_ns if state.exists() else 0
    deadline = time.monotonic() + 15
    while (state.stat().st_mtime_ns if state.exists() else 0) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.8, 1.6))
    head = anvil.head()
    anvil.kill()
    return head


@pytest.mark.timeout(240)
def test_chain_crash_loses_blocks_and_node_resubmits_exactly_the_accepted_set(
    healthy_chaos_node: NodeProcess, seed: int
) -> None:
    node = healthy_chaos_node
    rng = random.Random(seed)
    anvil = Anvil(node)
    code = unique_code()
    project_uid = register(node, code)
    time.sleep(2.5)  # the registration is in a dumped state: the crash tests the records, not the project
    with Writers(node, code, seed, status_changes=True) as writers:
        for crash in range(2):
            time.sleep(rng.uniform(1.0, 2.5))
            head_before = crash_after_save(anvil, rng)
            time.sleep(rng.uniform(0.3, 1.5))  # the node runs (and accepts writes) without its chain
            anvil.start()
            head_after = anvil.head()
            print(f"crash {crash + 1}: head {head_before} -> restarted at {head_after}")
            assert head_after < head_before, "the restarted chain should have lost its last blocks"
        time.sleep(3.0)
    o = writers.outcomes
    assert not o.unexpected, o.unexpected[:5]
    assert len(o.accepted) > 200 and len(o.refused) > 10, (len(o.accepted), len(o.refused))
    health = wait_drained(node, timeout=120)
    assert health["status"] == "ok" and health["outbox"]["failed"] == 0, health
    assert_chain_holds_exactly(node, code, project_uid, o)
    with sqlite3.connect(f"file:{node.data_dir / 'node.sqlite3'}?mode=ro", uri=True) as db:
        orphans = db.execute("SELECT count(*) FROM chain_orphans").fetchone()[0]
    assert orphans > 0, "the index recorded no orphaned block although the chain lost blocks"
    metrics = httpx.get(node.url + "/metrics", headers=node.operator_headers, timeout=10).text
    assert "projchain_indexer_rewinds_total" in metrics
    print(f"seed {seed}: {len(o.accepted)} accepted, {len(o.refused)} refused, {orphans} orphaned blocks")
