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

import httpx
import pytest

from localnode import NodeProcess
from tests.support.chaos import Anvil, Writers, assert_chain_holds_exactly, records_after, wait_drained
from tests.support.polling import wait_until
from tests.support.records import register, unique_code

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def crash_with_unsaved_records(anvil: Anvil, code: str, rng: random.Random) -> tuple[int, str]:
    """Kills anvil once the chain holds a random 1-20 of the project's records that the node's last
    saved state lacks, so that the crash surely loses them. Returns the head at the kill and its hash.
    """
    unsaved = rng.randint(1, 20)

    def moment() -> tuple[int, str] | None:
        saved = anvil.saved_block()
        if records_after(anvil.node, code, saved) < unsaved:
            return None
        head = anvil.head()
        head_hash = anvil.block_hash(head)
        if head_hash is None or anvil.saved_block() != saved:  # a save landed meanwhile
            return None
        return head, head_hash

    head = wait_until(moment, 60, f"the chain holds {unsaved} records its saved state lacks")
    assert head is not None
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
    # The crash tests the records, not the project: the registration must be in a saved state.
    with node.client("fgj") as c:
        registered = c.get(f"/v1/records/{project_uid}").json()["block_number"]
    wait_until(
        lambda: anvil.saved_block() >= registered, 60, "the node saves a state holding the registration"
    )
    with Writers(node, code, seed, status_changes=True) as writers:
        for crash in range(2):
            writers.wait_accepted(rng.randint(40, 160))
            head_before, hash_before = crash_with_unsaved_records(anvil, code, rng)
            writers.wait_accepted(rng.randint(1, 30))  # the node runs (and accepts writes) without its chain
            anvil.start()
            # The node may mine again at once (its submitter re-sends what was lost): the head's number
            # can be back by the time it is read; the block at that height is another block all the same.
            head_after, hash_after = anvil.head(), anvil.block_hash(head_before)
            print(f"crash {crash + 1}: head {head_before} -> restarted, now at {head_after}")
            assert hash_after != hash_before, "the restarted chain should have lost its last blocks"
        writers.wait_accepted(120)  # and goes on accepting while it mends the chain
    o = writers.outcomes
    assert not o.unexpected, o.unexpected[:5]
    assert len(o.accepted) > 200 and len(o.refused) > 10, (len(o.accepted), len(o.refused))
    health = wait_drained(node, timeout=120)
    assert health["status"] == "ok" and health["outbox"]["failed"] == 0, health
    assert_chain_holds_exactly(node, code, project_uid, o)
    # The search row was re-derived after each rewind: its stage reached agrees with the summary's stages.
    with node.client("scjgj") as c:
        stages = c.get(f"/v1/projects/{code}").json()["stages"]
        found = c.get("/v1/projects", params={"q": code}).json()["projects"]
    granted = [int(n) for n, s in stages.items() if s["status"] in ("approved", "expired")]
    assert [p["stage_reached"] for p in found] == [max(granted, default=0)], (found, stages)
    with sqlite3.connect(f"file:{node.data_dir / 'node.sqlite3'}?mode=ro", uri=True) as db:
        orphans = db.execute("SELECT count(*) FROM chain_orphans").fetchone()[0]
    assert orphans > 0, "the index recorded no orphaned block although the chain lost blocks"
    metrics = httpx.get(node.url + "/metrics", headers=node.operator_headers, timeout=10).text
    assert "projchain_indexer_rewinds_total" in metrics
    print(f"seed {seed}: {len(o.accepted)} accepted, {len(o.refused)} refused, {orphans} orphaned blocks")
