"""CPU accounting from /proc: who used the machine's cores during a phase.

The benchmark runs the load generator, the node and the chain on one machine; this
splits the CPU they used, and shows how much went to processes outside the run
(another job on the machine makes every figure lower, and the report says so).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from node_api.processes import busy_seconds, children, cpu_seconds, rss_mb


def node_pids(primary: int | None) -> list[int]:
    """The node's processes: its primary and the processes it started (gateway workers, the
    embedded chain's state keeper), except the chain itself, which is counted on its own."""
    if not primary:
        return []
    return [primary, *(pid for pid, argv in children(primary) if not argv[0].endswith("anvil"))]


@dataclass
class CpuShare:
    """Cores used on average during a phase, by component."""

    wall: float
    node: float
    chain: float
    loadgen: float
    others: float
    primary: float = 0.0  # the node's primary process alone (part of ``node``): the chain side runs there

    def serial_us_per_record(self, records: int) -> float | None:
        """CPU µs of the primary plus the chain per record: the work no added process shares
        (submitter, indexer, confirmations and anvil's execution), which caps every machine size."""
        return (self.primary + self.chain) * self.wall / records * 1e6 if records else None

    def as_dict(self) -> dict[str, float]:
        """JSON form (cores, i.e. CPU seconds per wall second)."""
        return {k: round(v, 3) for k, v in self.__dict__.items()}


class CpuMeter:
    """Samples CPU counters of the node (all its processes), the chain and this process."""

    def __init__(self, node_pid: int | None, chain_pid: int | None) -> None:
        self.pids = {"node": node_pid, "chain": chain_pid}
        self.cores = os.cpu_count() or 1

    def _snapshot(self) -> dict[str, float]:
        own = os.times()
        chain = self.pids["chain"]
        snap = {f"node:{pid}": cpu_seconds(pid) for pid in node_pids(self.pids["node"])}
        snap["chain"] = cpu_seconds(chain) if chain else 0.0
        snap["loadgen"] = own.user + own.system
        snap["machine"] = busy_seconds()
        snap["wall"] = time.monotonic()
        return snap

    def start(self) -> dict[str, float]:
        """Counters at the start of a phase."""
        return self._snapshot()

    def memory(self) -> dict[str, float | None]:
        """Resident memory (MB) of the node (all its processes) and the chain now."""
        node = [rss_mb(pid) for pid in node_pids(self.pids["node"])]
        return {
            "node": sum(m for m in node if m is not None) if node else None,
            "chain": rss_mb(self.pids["chain"]),
        }

    def share(self, start: dict[str, float]) -> CpuShare:
        """Average cores used since ``start``, per component (a process started meanwhile counts whole)."""
        end = self._snapshot()
        wall = max(1e-9, end["wall"] - start["wall"])
        used = {k: (end[k] - start[k]) / wall for k in ("chain", "loadgen", "machine")}
        used["node"] = sum(v - start.get(k, 0.0) for k, v in end.items() if k.startswith("node:")) / wall
        primary = f"node:{self.pids['node']}"
        used["primary"] = (end.get(primary, 0.0) - start.get(primary, 0.0)) / wall
        ours = used["node"] + used["chain"] + used["loadgen"]
        others = max(0.0, used["machine"] - ours)
        return CpuShare(wall, used["node"], used["chain"], used["loadgen"], others, used["primary"])
