"""Gateway workers: several processes serve one node's API on one port.

One Python process runs on one core (the GIL); at saturation the gateway's HTTP
handling, validation and sealing are what a node spends its CPU on. With
``PROJCHAIN_WORKERS=N`` (N > 1) the primary process (``projchain run``: chain,
submitter, indexer, confirmations, anchoring, read models) starts worker processes
(``projchain worker``) that serve the API; every serving process listens on the
node's address with ``SO_REUSEPORT``, so the kernel spreads connections over them.
Worker 1 also assesses the warnings (``node_api.node.runs_supervision``): supervision
follows the index from the database, so it needs no place on the primary's serial path.
With ``PROJCHAIN_PRIMARY_SERVES=false`` (the default) there are N workers and the
primary serves none of the gateway (only a private loopback port of its own): what it
does is the serial part of every write, which no added process shares, and request
handling in the same process would delay it (issue #15). With ``true`` the primary
serves beside N - 1 workers (the layout before; on 2 cores the two measured the same
within noise). With ``PROJCHAIN_WORKERS=1`` the
primary serves the API itself.

What the processes share is the database (SQLite in WAL mode: readers never block,
writers take turns; each process group-commits its own writes) and the keystore.
A worker never talks to the chain except to read (peer requests); see ``Node``.

Lifecycle: the primary starts its workers once the node is up, restarts one that
dies (as the same worker index: a new worker 1 takes supervision over), and stops them (SIGTERM, clean) before it stops itself. A worker dies with its
primary (Linux ``PR_SET_PDEATHSIG``), so a crashed primary leaves no process serving
on its port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
from pathlib import Path

from node_api.config import Settings
from node_api.processes import children

log = logging.getLogger("projchain.workers")

READY = b"projchain-worker-ready"


def worker_pids(primary: int) -> list[int]:
    """The gateway workers a primary process started, for monitoring and tests."""
    return [pid for pid, argv in children(primary) if argv[-2:] == ["node_api.cli", "worker"]]


def worker_index(pid: int) -> int | None:
    """The index (``PROJCHAIN_WORKER_INDEX``) a gateway worker was started with; None if it is gone."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for entry in environ.split(b"\0"):
        name, _, value = entry.partition(b"=")
        if name == b"PROJCHAIN_WORKER_INDEX":
            return int(value)
    return None


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket that other processes of this node may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class WorkerPool:
    """The primary's gateway workers: started, watched, restarted and stopped by it."""

    def __init__(self, settings: Settings, count: int, start_timeout: float = 120.0) -> None:
        self.settings = settings
        self.count = count
        self.start_timeout = start_timeout
        self.processes: dict[int, asyncio.subprocess.Process] = {}
        self.restarts = 0
        self._watch: asyncio.Task[None] | None = None
        self._drains: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> None:
        """Starts every worker and waits until each serves; then watches them."""
        await asyncio.gather(*(self._spawn(i) for i in range(1, self.count + 1)))
        self._watch = asyncio.create_task(self._supervise(), name="workers")

    async def _spawn(self, index: int) -> None:
        env = {
            **os.environ,
            "PROJCHAIN_WORKER_INDEX": str(index),
            "PROJCHAIN_WORKER_PARENT": str(os.getpid()),
            "PROJCHAIN_HOST": self.settings.host,
            "PROJCHAIN_PORT": str(self.settings.port),
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "node_api.cli", "worker", env=env, stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(self.start_timeout):
                while (line := await proc.stdout.readline()) and READY not in line:
                    pass
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeError(
                f"gateway worker {index} did not start within {self.start_timeout:.0f} s"
            ) from None
        if proc.returncode is not None or not line:
            raise RuntimeError(f"gateway worker {index} exited during start (code {await proc.wait()})")
        self.processes[index] = proc
        self._drains.add(asyncio.create_task(_drain(proc.stdout)))
        log.info("gateway worker %d serving (pid %d)", index, proc.pid)

    async def _supervise(self) -> None:
        while not self._stopping:
            await asyncio.sleep(1.0)
            for index in range(1, self.count + 1):
                proc = self.processes.get(index)
                if self._stopping or (proc is not None and proc.returncode is None):
                    continue
                if proc is not None:
                    log.error(
                        "gateway worker %d (pid %d) exited with %s; restarting",
                        index,
                        proc.pid,
                        proc.returncode,
                    )
                    self.restarts += 1
                    del self.processes[index]
                try:
                    await self._spawn(index)
                except RuntimeError as e:  # tried again on the next round
                    log.error("%s", e)

    async def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to every worker (each stops cleanly), SIGKILL after ``timeout``."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for proc in self.processes.values():
            if proc.returncode is None:
                proc.terminate()
        for proc in self.processes.values():
            try:
                async with asyncio.timeout(timeout):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    """Reads what a worker writes to stdout after it started, so it never blocks on a full pipe."""
    while await stream.readline():
        pass
