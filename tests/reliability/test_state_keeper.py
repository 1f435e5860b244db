"""The embedded chain's state keeper saves a changed chain, skips an idle one, and bounds its cost;
its process mines on demand (a block when transactions wait, none while the chain is idle).

A real anvil (the node's binary and flags: ``--no-mining``, the chain's own keeper mining every
0.5 s); a transaction is a plain value transfer from a key the test funds with ``anvil_setBalance``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from localnode import free_port
from node_api.chain.embedded import IDLE_LOOKS, EmbeddedChain, KeeperProcess, StateKeeper, mining_pause
from node_api.config import Settings
from tests.support.polling import wait_until

SENDER = Account.from_key(b"\x01" * 32)


def rpc(url: str, method: str, *params: object) -> object:
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).json()
    assert "error" not in body, body
    return body["result"]


def head(url: str) -> int:
    return int(str(rpc(url, "eth_blockNumber")), 16)


def wait_mined(url: str, before: int) -> None:
    """Until a block after ``before`` (the head read before the transaction was sent) is mined."""
    wait_until(lambda: head(url) > before, 10, f"a block after {before} is mined")


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[EmbeddedChain]:
    settings = Settings(data_dir=tmp_path, anvil_port=free_port(), block_time=0.5, state_interval=3600)
    c = EmbeddedChain(settings)
    c.start()  # the chain's own keeper waits an hour: the test drives a keeper of its own
    try:
        yield c
    finally:
        c.kill()


def test_saves_only_after_a_transaction(chain: EmbeddedChain, tmp_path: Path) -> None:
    keeper = StateKeeper(chain.url, tmp_path / "state.json", interval=0.5)
    try:
        assert keeper.changed(), "a chain never saved counts as changed"
        assert keeper.save()
        idle = head(chain.url)
        time.sleep(2)  # four block intervals with nothing to mine
        assert head(chain.url) == idle, "an idle chain mines no (empty) blocks"
        assert not keeper.changed(), "an idle chain must not be saved again"

        send_transfer(chain, 0)
        wait_mined(chain.url, idle)  # the chain's own keeper mines the waiting transfer
        assert keeper.changed(), "a block with a transaction since the last save must be saved"
        assert keeper.save()
        assert not keeper.changed()
        assert keeper.saves == 2
    finally:
        keeper.stop(final_save=False)


def test_the_miner_keeps_a_fixed_cadence_until_blocks_get_expensive() -> None:
    """Blocks start a block time apart while mining is cheap (the pause is what is left of it); once a
    block takes more than a third of the block time the pause is twice the block's own time."""
    assert mining_pause(0.5, 0.0) == pytest.approx(0.5 / IDLE_LOOKS)  # nothing was due: look again soon
    assert mining_pause(0.5, 0.1) == pytest.approx(0.4)  # the next block starts 0.5 s after this one
    assert mining_pause(0.5, 0.5 / 3) == pytest.approx(0.5 * 2 / 3)  # the turning point
    assert mining_pause(0.5, 0.4) == pytest.approx(0.8)  # a large chain: anvil mines a third of the time
    assert mining_pause(0.5, 2.0) == pytest.approx(4.0)


def test_the_miner_times_the_blocks_it_mines(tmp_path: Path) -> None:
    """``last_block_s`` is the time of the latest ``evm_mine`` on a real anvil, 0 when nothing waited."""
    bare = keeperless_chain(Settings(data_dir=tmp_path, anvil_port=free_port(), state_interval=3600))
    keeper = StateKeeper(bare.url, bare.state_file, interval=3600, mine_every=3600)
    try:
        assert not keeper.mine() and keeper.last_block_s == 0.0
        send_transfer(bare, 0)
        assert keeper.mine() and head(bare.url) == 1
        assert keeper.last_block_s > 0.0
        # A one-transfer block keeps the cadence (a block time of 5 s: a loaded machine mines slowly).
        assert mining_pause(5.0, keeper.last_block_s) < 5.0
        assert not keeper.mine() and keeper.last_block_s == 0.0
    finally:
        keeper.stop(final_save=False)
        bare.kill()


def keeperless_chain(settings: Settings) -> EmbeddedChain:
    """The node's anvil on its command line with no keeper (so nothing mines), once it answers."""
    chain = EmbeddedChain(settings)
    chain.keeper = None
    chain.state_dir.mkdir(parents=True, exist_ok=True)
    chain.process = subprocess.Popen(chain.command(), start_new_session=True)
    try:
        wait_until(lambda: chain._answers() is not None, 20, "anvil answers")
    except BaseException:
        chain.kill()
        raise
    return chain


def send_transfer(chain: EmbeddedChain, nonce: int) -> None:
    rpc(chain.url, "anvil_setBalance", SENDER.address, hex(10**18))
    transfer = {"to": "0x" + "22" * 20, "value": 1, "gas": 21_000, "gasPrice": 0, "nonce": nonce}
    tx = SENDER.sign_transaction({**transfer, "chainId": chain.settings.chain_id})
    rpc(chain.url, "eth_sendRawTransaction", "0x" + tx.raw_transaction.hex())


def test_keeper_process_saves_survives_ctrl_c_and_stops_cleanly(chain: EmbeddedChain, tmp_path: Path) -> None:
    path = tmp_path / "kept.json"
    keeper = KeeperProcess(chain.url, path, interval=0.5)
    keeper.start()
    try:
        wait_until_file(path)
        pid = keeper._process.pid
        assert pid is not None
        os.kill(pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the node's whole process group
        before = head(chain.url)
        send_transfer(chain, 0)
        wait_mined(chain.url, before)
        keeper.stop(final_save=True)
        assert keeper._process.exitcode == 0, "the keeper must survive Ctrl-C and stop when the node says so"
        saved = path.read_bytes()
        sender = SENDER.address.lower().encode()
        assert re.search(rb'"' + sender + rb'":\{"nonce":1\b', saved), "the saved state lacks the transfer"
    finally:
        keeper.stop(final_save=False)


def test_stopping_a_keeper_that_was_killed_does_not_hang_the_node(
    chain: EmbeddedChain, tmp_path: Path
) -> None:
    """An OOM kill or an operator's pkill of the keeper must not block the node's shutdown for ever."""
    keeper = KeeperProcess(chain.url, tmp_path / "kept.json", interval=3600)
    keeper.start()
    pid = keeper._process.pid
    assert pid is not None
    wait_until_waiting(pid)
    os.kill(pid, signal.SIGKILL)
    keeper._process.join()
    stopping = threading.Thread(target=keeper.stop, args=(True,), daemon=True)
    stopping.start()
    stopping.join(timeout=30)
    assert not stopping.is_alive(), "stopping a dead keeper hangs"


def wait_until_waiting(pid: int) -> None:
    """Until the keeper's start-up is done: its saving thread runs and its main thread sleeps for orders."""
    deadline = time.monotonic() + 30
    while True:
        tasks = len(list(Path(f"/proc/{pid}/task").iterdir()))
        blocked = Path(f"/proc/{pid}/wchan").read_text().strip() not in ("", "0")
        if tasks >= 2 and blocked:
            return
        assert time.monotonic() < deadline, "the keeper process did not start"
        time.sleep(0.1)


def wait_until_file(path: Path) -> None:
    wait_until(path.exists, 30, "the keeper process saves the state")


def test_wait_after_an_expensive_save_is_stretched(tmp_path: Path) -> None:
    keeper = StateKeeper("http://127.0.0.1:1", tmp_path / "state.json", interval=2, cost_factor=20)
    try:
        assert keeper.next_wait() == 2
        keeper.last_duration = 0.05  # cheap save: the interval rules
        assert keeper.next_wait() == 2
        keeper.last_duration = 1.5  # a save of a large chain: at most 1/20 of the time
        assert keeper.next_wait() == pytest.approx(30)
    finally:
        keeper.stop(final_save=False)


def test_the_node_starts_anvil_without_mining_of_its_own(tmp_path: Path) -> None:
    """On demand (the default) anvil mines nothing itself and keeps 8 states; interval mining is the
    old command line."""
    on_demand = EmbeddedChain(Settings(data_dir=tmp_path)).command()
    assert "--no-mining" in on_demand and "--block-time" not in on_demand
    assert on_demand[on_demand.index("--prune-history") + 1] == "8"
    interval = EmbeddedChain(Settings(data_dir=tmp_path, chain_mining="interval", block_time=0.5)).command()
    assert "--no-mining" not in interval and interval[interval.index("--block-time") + 1] == "0.5"


def test_a_final_save_mines_what_waits_and_the_saved_state_reloads(tmp_path: Path) -> None:
    """A clean stop leaves no sent transaction behind, and anvil restarted on the save carries on."""
    settings = Settings(data_dir=tmp_path, anvil_port=free_port(), state_interval=3600)
    first = keeperless_chain(settings)
    keeper = StateKeeper(first.url, first.state_file, interval=3600, mine_every=0.5)
    try:
        send_transfer(first, 0)
        time.sleep(1)
        assert head(first.url) == 0, "anvil must not mine on its own"
        keeper.stop(final_save=True)  # mines the waiting transfer, then saves
        assert keeper.mined == 1 and keeper.saves == 1
        assert head(first.url) == 1
    finally:
        keeper.stop(final_save=False)
        first.kill()
    second = EmbeddedChain(settings)
    assert "--load-state" in second.command()
    second.start()
    try:
        assert head(second.url) == 1, "the saved block comes back"
        assert int(str(rpc(second.url, "eth_getTransactionCount", SENDER.address, "latest")), 16) == 1
        send_transfer(second, 1)
        wait_mined(second.url, 1)  # the restarted chain's keeper mines on demand
        assert int(str(rpc(second.url, "eth_getTransactionCount", SENDER.address, "latest")), 16) == 2
    finally:
        second.kill()
