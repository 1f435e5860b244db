"""The embedded chain's state keeper saves a changed chain, skips an idle one, and bounds its cost.

A real anvil (the node's binary and flags, 0.5 s blocks); a transaction is a plain
value transfer from a key the test funds with ``anvil_setBalance``.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from localnode import free_port
from node_api.chain.embedded import EmbeddedChain, KeeperProcess, StateKeeper
from node_api.config import Settings
from tests.support.polling import wait_until

SENDER = Account.from_key(b"\x01" * 32)


def rpc(url: str, method: str, *params: object) -> object:
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).json()
    assert "error" not in body, body
    return body["result"]


def wait_blocks(url: str, n: int) -> None:
    start = int(str(rpc(url, "eth_blockNumber")), 16)
    wait_until(lambda: int(str(rpc(url, "eth_blockNumber")), 16) >= start + n, 10, f"anvil mines {n} blocks")


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
        wait_blocks(chain.url, 3)  # empty blocks only
        assert not keeper.changed(), "an idle chain (empty blocks) must not be saved again"

        send_transfer(chain, 0)
        wait_blocks(chain.url, 2)
        assert keeper.changed(), "a block with a transaction since the last save must be saved"
        assert keeper.save()
        assert not keeper.changed()
        assert keeper.saves == 2
    finally:
        keeper.stop(final_save=False)


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
        send_transfer(chain, 0)
        wait_blocks(chain.url, 2)
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
