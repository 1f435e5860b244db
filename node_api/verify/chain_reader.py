"""The few standard JSON-RPC reads a verifier needs (logs, views, transactions), batched.

Nothing here trusts the node being checked beyond what the chain answers; see ``bundle_check``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from node_api.chain.rpc import RpcClient, RpcError
from node_api.verify.bundle import _LOG_CHUNK, selector

_BATCH = 100  # calls per JSON-RPC batch (Besu refuses batches over 1024 by default)


def word(n: int) -> str:
    """An integer as one 0x-hex ABI word."""
    return "0x" + n.to_bytes(32, "big").hex()


def position(log: dict[str, Any]) -> tuple[int, int]:
    """(block, log index) of a log: its place in chain order."""
    return (int(log["blockNumber"], 16), int(log["logIndex"], 16))


class ChainReader:
    """The few standard JSON-RPC reads the verifier needs, batched."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    async def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        out: list[Any] = []
        for i in range(0, len(calls), _BATCH):
            out += await self.rpc.batch(calls[i : i + _BATCH])
        return out

    async def logs(self, address: str, topics: list[Any], start: int, end: int) -> list[dict[str, Any]]:
        """eth_getLogs over [start, end], in chunks if the node refuses the whole range; chain order."""
        flt = {"address": address, "topics": topics}
        try:
            found: list[dict[str, Any]] = await self.rpc.call(
                "eth_getLogs", {**flt, "fromBlock": hex(start), "toBlock": hex(end)}
            )
        except RpcError:
            ranges = [(a, min(a + _LOG_CHUNK - 1, end)) for a in range(start, end + 1, _LOG_CHUNK)]
            found = []
            for part in await self._batch(
                [("eth_getLogs", [{**flt, "fromBlock": hex(a), "toBlock": hex(b)}]) for a, b in ranges]
            ):
                if isinstance(part, RpcError):
                    raise part from None
                found += part
        return sorted(found, key=position)

    async def views(self, to: str, signature: str, args: list[str]) -> list[bytes | None]:
        """eth_call of one view function at the latest block for each 0x-hex ABI-encoded argument."""
        calls = [("eth_call", [{"to": to, "data": selector(signature) + a[2:]}, "latest"]) for a in args]
        return [bytes.fromhex(a[2:]) if isinstance(a, str) else None for a in await self._batch(calls)]

    async def many(self, method: str, params: Iterable[list[Any]]) -> list[Any]:
        """The same method for many parameter lists; failed calls become None."""
        answers = await self._batch([(method, p) for p in params])
        return [None if isinstance(a, RpcError) else a for a in answers]
