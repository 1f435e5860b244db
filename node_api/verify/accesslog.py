"""The access log as an RFC 6962 Merkle log, anchored on chain (to be built)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from node_api.node import Node


class AccessLogAnchorer:
    """Anchors the access log's Merkle root on chain by count or time."""

    def __init__(self, node: Node) -> None:
        self.node = node

    async def run(self) -> None:
        """Background loop."""
        while True:
            await asyncio.sleep(3600)
