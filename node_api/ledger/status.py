"""What the node says of itself: chain reachability, index position, contracts, outbox depth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node_api.chain.contracts import Deployment
from node_api.chain.rpc import RpcClient
from node_api.errors import ChainError
from node_api.indexer.follower import Indexer
from node_api.store.outbox import OutboxTable


@dataclass(frozen=True)
class ChainInfo:
    """Where a public page's facts come from: node, chain, ledger and how far the index reads."""

    node_name: str
    chain_id: int
    ledger: str
    indexed_block: int


@dataclass(frozen=True)
class NodeStatus:
    """Figures for /health and the public pages."""

    node_name: str
    deployment: Deployment
    rpc: RpcClient
    indexer: Indexer
    outbox: OutboxTable
    relayer: str  # the relayer's address
    embedded: bool  # whether this node runs its chain itself

    def checkpoint(self) -> tuple[int, str | None]:
        """The last block fully indexed (number, hash)."""
        return self.indexer.checkpoint()

    def chain_info(self) -> ChainInfo:
        """The facts a public page names as its source."""
        d = self.deployment
        return ChainInfo(self.node_name, d.chain_id, d.ledger, self.indexer.checkpoint()[0])

    async def chain(self) -> dict[str, Any]:
        """Chain id, head and indexer position, and whether the chain answers."""
        try:
            head = await self.rpc.block_number()
            reachable = True
        except ChainError:
            head, reachable = self.indexer.head, False
        checkpoint, _ = self.indexer.checkpoint()
        return {
            "reachable": reachable,
            "chain_id": self.deployment.chain_id,
            "latest_block": head,
            "indexed_block": checkpoint,
            "indexer_lag": max(0, head - checkpoint),
            "embedded": self.embedded,
        }

    def outbox_depth(self) -> dict[str, int]:
        """Outbox rows per state."""
        return {str(state): n for state, n in self.outbox.depth().items()}
