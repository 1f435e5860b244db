"""The embedded development chain: anvil from the npm package @foundry-rs/anvil.

Zero gas price and base fee, as on a permissioned network. anvil writes its state
on exit and every ``state_interval`` seconds, not per block: a crash loses recent
blocks, which the indexer and pipeline detect and repair (ARCHITECTURE principle 7).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx

from node_api.config import REPO_ROOT, Settings
from node_api.errors import ConfigurationError

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


class EmbeddedChain:
    """One anvil process with its state file under the data directory."""

    def __init__(self, settings: Settings, port: int | None = None, state_dir: Path | None = None) -> None:
        self.settings = settings
        self.port = port or settings.anvil_port
        self.state_dir = state_dir or settings.chain_dir
        self.process: subprocess.Popen[bytes] | None = None
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
        """The anvil command line."""
        s = self.settings
        return [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(s.chain_id),
            "--gas-price", "0",
            "--base-fee", "0",
            "--block-time", str(s.block_time),
            "--gas-limit", str(s.block_gas_limit),
            "--accounts", "0",
            "--state", str(self.state_file),
            "--state-interval", str(s.state_interval),
            "--silent",
        ]  # fmt: skip

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
        if self._answers() == self.settings.chain_id:
            self.adopted = True
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
                return
            time.sleep(0.1)
        self.stop()
        raise ConfigurationError(f"anvil did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Stops anvil gracefully (SIGTERM, so it dumps its state)."""
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
        """SIGKILL, as a crash would (state since the last dump is lost)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _stop_adopted(self) -> None:
        import os

        for pid_dir in Path("/proc").iterdir():
            if not pid_dir.name.isdigit():
                continue
            try:
                cmd = (pid_dir / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if (
                cmd
                and cmd[0].endswith(b"anvil")
                and str(self.port).encode() in cmd
                and str(self.state_file).encode() in cmd
            ):
                os.kill(int(pid_dir.name), signal.SIGTERM)
