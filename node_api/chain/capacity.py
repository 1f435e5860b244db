"""How much memory the embedded chain may use, and refusing writes once it uses more.

anvil, the embedded development chain, holds the whole chain in its own memory: every block,
transaction, receipt and log, and the state (see docs/benchmark.md, "anvil memory"). It grows
with every record and never shrinks; past the machine's memory it swaps or is killed, and the
ledger stops. ``ChainMemoryGuard`` refuses new writes once anvil's resident memory passes
``Settings.chain_memory_limit_mb``, with an error that names the way out: a real multi-node
chain. Reads, verification and the records already accepted are not affected.

Every API process (the primary and its gateway workers) checks for itself: it finds anvil by
its port (``/proc``), reads its resident memory at most once a ``period``, and caches the answer.
"""

from __future__ import annotations

import time

from node_api.chain.embedded import anvil_pids
from node_api.config import Settings
from node_api.errors import ChainCapacityError
from node_api.processes import rss_mb


class ChainMemoryGuard:
    """Refuses writes while the embedded chain uses more memory than its limit (no-op otherwise)."""

    def __init__(self, settings: Settings, period: float = 1.0) -> None:
        # Only the embedded chain is ours to watch; a real chain's memory is its operators'.
        self.limit_mb = settings.chain_memory_limit_mb if settings.rpc_url is None else 0
        self.port = settings.anvil_port
        self.period = period
        self._pid: int | None = None
        self._checked_at = float("-inf")
        self._rss: float | None = None

    def rss(self) -> float | None:
        """anvil's resident memory in MB, read at most once a period (None: not found)."""
        now = time.monotonic()
        if now - self._checked_at >= self.period:
            self._checked_at = now
            self._rss = rss_mb(self._pid)
            if self._rss is None:  # not found yet, or restarted under another pid
                pids = anvil_pids(self.port)
                self._pid = pids[0] if pids else None
                self._rss = rss_mb(self._pid)
        return self._rss

    def check(self) -> None:
        """Raises ChainCapacityError when the embedded chain is over its memory limit."""
        if self.limit_mb <= 0:
            return
        rss = self.rss()
        if rss is not None and rss > self.limit_mb:
            raise ChainCapacityError(
                f"the embedded development chain (anvil) uses {rss:,.0f} MB of memory, over its limit of "
                f"{self.limit_mb:,} MB (PROJCHAIN_CHAIN_MEMORY_LIMIT_MB): this node accepts no more writes, "
                "so that the chain does not outgrow the machine. The embedded chain keeps every block and "
                "the whole state in memory and is meant for development and demonstrations; for this "
                'volume run the consortium on a real multi-node chain (Besu QBFT; README, "Running on a '
                'production network": PROJCHAIN_RPC_URL). Reads and verification go on.'
            )
