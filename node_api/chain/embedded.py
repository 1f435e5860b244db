"""The embedded development chain: anvil from the npm package @foundry-rs/anvil.

Zero gas price and base fee, as on a permissioned network. The chain's state is
saved every ``state_interval`` seconds when it changed (less often once a save is
expensive, see ``StateKeeper``) and on stop, not per block: a crash loses
recent blocks, which the indexer and pipeline detect and repair (ARCHITECTURE
principle 7).

The node saves the state itself (``StateKeeper``) instead of anvil's own
``--state-interval``, because anvil's periodic dump is not crash-safe in two ways,
both seen under load in tests/reliability/test_chain_crash.py:

* it truncates the file and rewrites it in place (~0.3 s for 60 MB): a SIGKILL in
  that window leaves a file anvil refuses to load, and the chain cannot restart;
* it reads the blocks and the account state at slightly different moments: a dump
  taken while a block is mined holds that block's state but not the block, so a
  restarted chain contains records (duplicates to the contract) with no event and
  no transaction on chain — which nothing can repair afterwards.

``StateKeeper`` asks anvil for its state right after a new block (the miner is idle
then), drops a dump whose account nonces run ahead of its last block, and writes
the file atomically (temp file, fsync, rename).

By default (``chain_mining = "on_demand"``) anvil does not mine on its own (``--no-mining``):
the keeper's process mines a block every ``block_time`` seconds when transactions wait in
anvil's pool, and never while it dumps (one lock), so a dump cannot race a block at all. An
idle chain mines nothing. Interval mining cost memory without bound: anvil 1.7 raises its
limit of kept states to 1,500 for any block time under 2 s, whatever ``--prune-history``
says (a full copy of the state per block, ≈ 100 bytes per record each), and keeps every
empty block (docs/chain-memory.md).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from node_api import logs
from node_api.config import REPO_ROOT, Settings
from node_api.errors import ConfigurationError
from node_api.processes import die_with_parent, matching, option

log = logging.getLogger("projchain.chain")

_ANVIL_CANDIDATES = (
    REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil",
    REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-arm64" / "bin" / "anvil",
)


def anvil_binary() -> Path:
    """The anvil executable shipped inside the npm platform package."""
    for candidate in _ANVIL_CANDIDATES:
        if candidate.exists():
            return candidate
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise ConfigurationError("anvil not found: run `make install` (npm @foundry-rs/anvil)")


KEPT_STATES = 8


def anvil_command(
    settings: Settings,
    port: int,
    *,
    automine: bool = False,
    state: Path | None = None,
    kept_states: int | None = KEPT_STATES,
) -> list[str]:
    """The command line of a projchain anvil: the settings' chain id and block gas limit, zero gas
    price and base fee (a permissioned network), no prefunded accounts.

    One block per transaction with ``automine``; otherwise as ``settings.chain_mining`` says:
    no mining of its own (the state keeper's process mines on demand, see ``StateKeeper``) or a
    block every ``settings.block_time`` seconds. ``state`` is a saved state to load (the chain
    never dumps its state itself, see ``StateKeeper``); ``kept_states`` bounds the recent states
    anvil keeps (None: all).
    """
    if automine:
        mining = []
    elif settings.chain_mining == "on_demand":
        mining = ["--no-mining"]
    else:
        mining = ["--block-time", str(settings.block_time)]
    load = ["--load-state", str(state)] if state is not None else []
    # anvil keeps a full copy of the state for up to ~1,500 recent blocks (one per 0.5 s
    # block, empty or not): ≈ 150 bytes per storage slot per block, which grew its memory
    # by 20-50 KB per record. Eight copies cover the state keeper's check of the block it
    # saves (see docs/benchmark.md, "Growth"); older states are not queried by the node
    # (history stays: blocks, transactions, receipts, logs).
    prune = ["--prune-history", str(kept_states)] if kept_states is not None else []
    return [
        str(anvil_binary()),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", str(settings.chain_id),
        "--gas-price", "0",
        "--base-fee", "0",
        *mining,
        "--gas-limit", str(settings.block_gas_limit),
        "--accounts", "0",
        *prune,
        *load,
        "--silent",
    ]  # fmt: skip


def anvil_pids(port: int) -> list[int]:
    """The anvil processes serving ``port`` (found by their command line)."""
    return matching(lambda argv: argv[0].endswith("anvil") and option(argv, "--port") == str(port))


class EmbeddedChain:
    """One anvil process with its state file under the data directory."""

    def __init__(self, settings: Settings, port: int | None = None, state_dir: Path | None = None) -> None:
        self.settings = settings
        self.port = port or settings.anvil_port
        self.state_dir = state_dir or settings.chain_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.keeper: KeeperProcess | None = None
        self.adopted = False

    @property
    def url(self) -> str:
        """JSON-RPC endpoint."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        """anvil's persisted state."""
        return self.state_dir / "anvil-state.json"

    def command(self) -> list[str]:
        """The anvil command line (loads the last consistent save, see ``StateKeeper``)."""
        state = self.state_file if self.state_file.exists() else None
        return anvil_command(self.settings, self.port, state=state)

    def _answers(self) -> int | None:
        try:
            r = httpx.post(
                self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2
            )
            return int(r.json()["result"], 16) if r.status_code == 200 else None
        except (httpx.HTTPError, KeyError, ValueError):
            return None

    def start(self, timeout: float = 20.0) -> None:
        """Starts anvil and waits until it answers.

        If our chain already answers on the port (a node that crashed left it
        running), it is adopted instead: the chain outlived the node, as it would
        in production.
        """
        mine_every = self.settings.block_time if self.settings.chain_mining == "on_demand" else None
        self.keeper = KeeperProcess(self.url, self.state_file, self.settings.state_interval, mine_every)
        if self._answers() == self.settings.chain_id:
            self.adopted = True
            self.keeper.start()
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = (self.state_dir / "anvil.log").open("ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigurationError(
                    f"anvil exited with {self.process.returncode}; see {self.state_dir}/anvil.log"
                )
            if self._answers() is not None:
                self.keeper.start()
                return
            time.sleep(0.1)
        self.stop()
        raise ConfigurationError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Saves the state one last time, then stops anvil (SIGTERM)."""
        if self.keeper is not None:
            self.keeper.stop(final_save=True)
        if self.adopted:
            # Stop an adopted chain too: `make run` owns the embedded chain.
            self._stop_adopted()
            return
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would (state since the last save is lost)."""
        if self.keeper is not None:
            self.keeper.stop(final_save=False)
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _stop_adopted(self) -> None:
        # Our anvil is the one serving our port (its command line names no state file when
        # it started on an empty data directory).
        for pid in anvil_pids(self.port):
            with contextlib.suppress(ProcessLookupError):  # gone meanwhile
                os.kill(pid, signal.SIGTERM)


IDLE_LOOKS = 8  # looks at anvil's pool per block time while nothing waits (one cheap RPC each)


def mining_pause(block_time: float, took: float) -> float:
    """Seconds the on-demand miner waits after a block that took anvil ``took`` seconds to mine.

    The rest of the block time, so that blocks start ``block_time`` apart (a fixed cadence): a
    closed loop of writers sends its next records as soon as the previous ones are confirmed, and
    a wait counted from the end of each block would add the block's own mining time to every
    round (docs/benchmark.md, "The miner's cadence"). But at least twice what the block took: anvil's
    work per block grows with the state (≈ 0.37 s for an empty block at 300,000 records), and on a
    large chain the pause stretches so that mining takes at most a third of the time and each
    block carries more (docs/chain-memory.md).

    When nothing was due (``took`` 0) the miner looks again after an eighth of the block time, not
    a whole one: in a closed loop the next records reach anvil a moment after a block's records are
    confirmed, and a miner that found the pool empty a moment before would leave them waiting a
    whole block time more (docs/benchmark.md, "The miner's idle look"). Blocks still start at least
    ``block_time`` apart, since a block is followed by the rest of the block time at least.
    """
    if took <= 0.0:
        return block_time / IDLE_LOOKS
    return max(block_time - took, 2.0 * took)


class StateKeeper:
    """Saves anvil's state when it changed: consistent, complete, atomic, bounded in cost.

    Every ``interval`` seconds it looks at the blocks mined since it last looked and
    saves only if one of them holds a transaction (an idle chain, which still mines an
    empty block every interval, is not dumped again). A dump serialises the whole chain,
    so its cost grows with the ledger; the wait after a save is stretched to
    ``cost_factor`` times the save's duration, which keeps the keeper (and anvil's
    serialisation) under ``1 / cost_factor`` of the time at any ledger size. A crash
    loses at most the blocks since the last save; the outbox re-sends their records.

    With ``mine_every`` (anvil started with ``--no-mining``) it also mines: every
    ``mine_every`` seconds, one block if transactions wait in the pool. Mining and anvil's
    dump hold one lock, so a dump is always taken between blocks (the checks and the write
    of the file run while the miner goes on).
    """

    def __init__(
        self,
        url: str,
        path: Path,
        interval: float,
        cost_factor: float = 20.0,
        mine_every: float | None = None,
    ) -> None:
        self.url = url
        self.path = path
        self.interval = max(0.5, float(interval))
        self.cost_factor = cost_factor
        self.mine_every = mine_every
        self.mined = 0
        self.last_block_s = 0.0  # how long anvil took to mine the latest block (0: none was due)
        self.saves = 0
        self.skipped = 0
        self.last_duration = 0.0
        self._checked: int | None = None  # highest block looked at for transactions
        self._dirty = True  # a state not saved since the keeper started counts as changed
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._miner: threading.Thread | None = None
        self._lock = threading.Lock()  # one save at a time
        self._mining = threading.Lock()  # no block is mined on demand while anvil dumps
        self._http = httpx.Client(timeout=120)
        self._miner_http = httpx.Client(timeout=120)  # the miner's thread has a client of its own

    def start(self) -> None:
        """Starts saving (and mining, with ``mine_every``) in background threads."""
        self._thread = threading.Thread(target=self._run, name="anvil-state", daemon=True)
        self._thread.start()
        if self.mine_every is not None:
            self._miner = threading.Thread(target=self._mine_loop, name="anvil-miner", daemon=True)
            self._miner.start()

    def stop(self, final_save: bool) -> None:
        """Stops the threads; with ``final_save`` mines what waits and saves the latest state (clean shutdown)."""
        self._halt.set()
        for thread in (self._thread, self._miner):
            if thread is not None:
                thread.join(timeout=150)
        if final_save:
            if self.mine_every is not None:
                with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                    self.mine()  # what the node sent before it stopped goes into the final save
            for _ in range(5):
                try:
                    if self.save(wait_for_block=2.0):
                        break
                except (httpx.HTTPError, ValueError, OSError, KeyError) as e:
                    log.warning("anvil state: final save failed: %s", e)
                    break
        self._http.close()
        self._miner_http.close()

    def next_wait(self) -> float:
        """Seconds until the next look: the interval, stretched after an expensive save."""
        return max(self.interval, self.cost_factor * self.last_duration)

    def _run(self) -> None:
        while not self._halt.wait(self.next_wait()):
            try:
                if self.changed():
                    self.save()
            except (httpx.HTTPError, ValueError, OSError, KeyError) as e:
                log.warning("anvil state: save failed (next try in %.0f s): %s", self.next_wait(), e)

    def _mine_loop(self) -> None:
        assert self.mine_every is not None
        failures = 0
        # A fixed cadence while blocks are cheap, stretched once they are not (``mining_pause``).
        pause = self.mine_every
        while not self._halt.wait(pause):
            try:
                self.mine()
                failures = 0
            except (httpx.HTTPError, ValueError, KeyError) as e:  # anvil restarting: try again
                failures += 1
                if failures == 10:
                    log.warning("anvil miner: %s (retrying every %.1f s)", e, self.mine_every)
            pause = mining_pause(self.mine_every, self.last_block_s)

    def mine(self) -> bool:
        """Mines one block if transactions wait in anvil's pool; whether it did."""
        with self._mining:
            status = self._rpc("txpool_status", client=self._miner_http)
            if int(str(status.get("pending") or "0x0"), 16) == 0:
                self.last_block_s = 0.0
                return False
            started = time.monotonic()
            self._rpc("evm_mine", client=self._miner_http)
            self.last_block_s = time.monotonic() - started
            self.mined += 1
            return True

    def changed(self) -> bool:
        """Whether a block mined since the last look holds a transaction (or nothing was saved yet)."""
        head = int(self._rpc("eth_blockNumber"), 16)
        start = head if self._checked is None else self._checked + 1
        if head - start >= 256:
            self._dirty = True  # too many blocks to look at one by one: just save
        elif not self._dirty and start <= head:
            calls = [
                {
                    "jsonrpc": "2.0",
                    "id": n,
                    "method": "eth_getBlockTransactionCountByNumber",
                    "params": [hex(n)],
                }
                for n in range(start, head + 1)
            ]
            replies = self._http.post(self.url, json=calls).json()
            self._dirty = any(int(str(r.get("result") or "0x0"), 16) > 0 for r in replies)
        self._checked = head
        return self._dirty

    def _rpc(self, method: str, *params: Any, client: httpx.Client | None = None) -> Any:
        reply = (client or self._http).post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        )
        body = reply.json()
        if body.get("error"):
            raise ValueError(f"{method}: {body['error']}")
        return body["result"]

    def save(self, wait_for_block: float = 5.0) -> bool:
        """Saves one consistent dump; False if the dump raced a block and was dropped."""
        with self._lock:
            started = time.monotonic()
            if self.mine_every is None:
                # Dump right after a block: anvil mines only on its interval, so it is idle now.
                head = self._rpc("eth_blockNumber")
                deadline = time.monotonic() + wait_for_block
                while self._rpc("eth_blockNumber") == head and time.monotonic() < deadline:
                    time.sleep(0.01)
            with self._mining:  # mining on demand: the miner waits until anvil has dumped
                dumped = str(self._rpc("anvil_dumpState"))
            data = _without_spurious_genesis(gzip.decompress(bytes.fromhex(dumped[2:])))
            del dumped
            best = _best_block(data)
            if not self._consistent(data, best):
                self.skipped += 1
                log.info("anvil state: dropped a dump taken while block %d was mined", best + 1)
                return False
            _write_atomically(self.path, data)
            self.saves += 1
            self._dirty = False
            self._checked = best
            self.last_duration = time.monotonic() - started
            # Said at info level once saving costs something (a large chain); otherwise debug.
            log.log(
                logging.INFO if self.last_duration >= 1.0 else logging.DEBUG,
                "anvil state: saved block %d (%.0f MB) in %.1f s; next look in %.0f s",
                best, len(data) / 1e6, self.last_duration, self.next_wait(),
            )  # fmt: skip
            return True

    def _consistent(self, data: bytes, best: int) -> bool:
        """Whether no account in the dump is ahead of block ``best`` (checked on the next block's senders)."""
        following = self._rpc("eth_getBlockByNumber", hex(best + 1), True)
        if not following:
            return True  # no later block exists: nothing can be ahead
        for sender in {str(tx["from"]).lower() for tx in following["transactions"]}:
            expected = int(self._rpc("eth_getTransactionCount", sender, hex(best)), 16)
            match = re.search(rb'"' + sender.encode() + rb'":\{"nonce":(\d+)', data)
            if match is None or int(match.group(1)) != expected:
                return False
        return True


class KeeperProcess:
    """Runs the ``StateKeeper`` (and, with ``mine_every``, the chain's miner) in a process of its own.

    A save of a large chain moves hundreds of megabytes (hex decoding, decompression,
    checks, the write); in the node's process that would hold its interpreter lock for
    seconds at a time and stall every request. The keeper process ignores Ctrl-C (the
    node stops it, with a final save, on a clean shutdown) and dies with the node.
    """

    def __init__(self, url: str, path: Path, interval: float, mine_every: float | None = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        # A pipe, not multiprocessing.Event: setting an Event waits for its sleepers to wake, so
        # a keeper killed while waiting (OOM killer, an operator's pkill) would hang the node's
        # shutdown for ever; a send to a dead keeper fails at once instead.
        self._orders, orders = ctx.Pipe()
        self._process = ctx.Process(
            target=_keep, args=(url, str(path), interval, mine_every, os.getpid(), orders),
            name="anvil-state", daemon=True,
        )  # fmt: skip

    def start(self) -> None:
        """Starts the keeper process."""
        self._process.start()

    def stop(self, final_save: bool) -> None:
        """Stops the keeper; with ``final_save`` it saves the latest state first (clean shutdown)."""
        if self._process.pid is None:
            return
        with contextlib.suppress(OSError):  # BrokenPipeError: the keeper is gone already
            self._orders.send(final_save)
        self._process.join(timeout=150)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _keep(
    url: str, path: str, interval: float, mine_every: float | None, parent: int, orders: Connection
) -> None:
    """The keeper process: saves (and mines) until told to stop (see ``KeeperProcess``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the node decides
    die_with_parent(parent)
    logs.PROCESS = "state-keeper"
    logs.configure_stderr()
    keeper = StateKeeper(url, Path(path), interval, mine_every=mine_every)
    keeper.start()
    try:
        final_save = bool(orders.recv())  # the node's order: stop, with or without a final save
    except EOFError:  # the node is gone without a word
        final_save = False
    keeper.stop(final_save=final_save)


def _without_spurious_genesis(data: bytes) -> bytes:
    """Drops the extra genesis blocks anvil adds each time it loads a state.

    anvil builds a fresh genesis block (with the current time) before loading the
    saved blocks, and keeps it: every restart adds one more "block 0" to the next
    dump, and a later load may index the wrong one, so the chain's genesis hash
    changes and the node rightly refuses it ("describes another chain"). The real
    genesis is the oldest one.
    """
    start = data.find(b'"blocks":[')
    if start < 0:
        return data
    spans: list[tuple[int, int, int]] = []  # (timestamp, begin, end) of each block 0
    decoder = json.JSONDecoder()
    for m in re.finditer(rb'"number":"0x0",', data[start:]):
        begin = data.rfind(b'{"header":{', start, start + m.start())
        if begin < 0:
            continue
        # A genesis block holds no transactions: a small, ASCII-only object.
        text = data[begin : begin + 100_000].decode("ascii", "replace")
        block, length = decoder.raw_decode(text)
        spans.append((int(block["header"]["timestamp"], 16), begin, begin + length))
    if len(spans) < 2:
        return data
    out = bytearray(data)
    for _, begin, end in sorted(sorted(spans)[1:], key=lambda span: -span[1]):  # back to front
        if out[end : end + 1] == b",":  # keep the array valid: drop one adjacent comma
            del out[begin : end + 1]
        else:
            del out[begin - 1 : end]
    return bytes(out)


def _best_block(data: bytes) -> int:
    match = re.search(rb'"best_block_number":"?(0x[0-9a-fA-F]+|\d+)', data)
    if match is None:
        raise ValueError("anvil state without best_block_number")
    value = match.group(1).decode()
    return int(value, 16) if value.startswith("0x") else int(value)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
