"""A real node as a child process: `projchain run --demo` with its own anvil.

Each NodeProcess is the same program `make run` starts, on free ports and a data
directory of its own, so the tests and the benchmark exercise the real chain,
contracts, pipeline and HTTP server.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from demo.data import ORGANISATIONS


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NodeProcess:
    """One node (and its embedded anvil) as a child process."""

    def __init__(
        self, data_dir: Path, anvil_port: int | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.anvil_port = anvil_port or free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}
        self.org_ids: dict[str, int] = {}
        self.officers: dict[str, dict[str, str]] = {}
        # The operator's credential for /metrics; the node is given only its hash.
        self.metrics_token = "pc_op_" + secrets.token_urlsafe(32)

    @property
    def url(self) -> str:
        """Base URL of the node's API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def rpc_url(self) -> str:
        """JSON-RPC URL of the embedded chain."""
        return f"http://127.0.0.1:{self.anvil_port}"

    def env(self) -> dict[str, str]:
        """Environment of the child process."""
        return {
            **os.environ,
            "PROJCHAIN_ENV": "test",
            "PROJCHAIN_DATA_DIR": str(self.data_dir),
            "PROJCHAIN_PORT": str(self.port),
            "PROJCHAIN_ANVIL_PORT": str(self.anvil_port),
            "PROJCHAIN_METRICS_TOKEN_SHA256": hashlib.sha256(self.metrics_token.encode()).hexdigest(),
            **self.extra_env,
        }

    def start(self, demo: bool = True, timeout: float = 300.0) -> NodeProcess:
        """Starts the node and waits until it serves (and the demo is loaded)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "node-process.log").open("ab")
        args = [sys.executable, "-m", "node_api.cli", "run"] + (["--demo"] if demo else [])
        self.process = subprocess.Popen(args, env=self.env(), stdout=log, stderr=log)
        creds = self.data_dir / "demo" / "credentials.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited with {self.process.returncode}: {self.log_tail()}")
            if self._healthy() and (not demo or creds.exists()):
                break
            time.sleep(0.2)
        else:
            self.kill()
            raise RuntimeError(f"node did not come up within {timeout} s: {self.log_tail()}")
        if demo:
            self._load_credentials(creds)
        return self

    @property
    def operator_headers(self) -> dict[str, str]:
        """The Authorization header of the node's operator (GET /metrics)."""
        return {"Authorization": f"Bearer {self.metrics_token}"}

    def _load_credentials(self, creds: Path) -> None:
        data: list[dict[str, Any]] = json.loads(creds.read_text())
        by_name = {c["name"]: c for c in data}
        for org in ORGANISATIONS:
            c = by_name[org["name"]]
            self.tokens[org["key"]] = c["token"]
            self.org_ids[org["key"]] = int(c["org"])
            if c.get("officer"):
                self.officers[org["key"]] = c["officer"]  # the console officer: username, password

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def log_tail(self, n: int = 4000) -> str:
        """The end of the node's output."""
        path = self.data_dir / "node-process.log"
        return path.read_text(errors="replace")[-n:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM: the node stops its chain, which dumps its state."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL the node only (its chain keeps running, as after a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def client(self, org: str | None = None) -> httpx.Client:
        """An HTTP client, authenticated as a demo organisation if given."""
        headers = {"Authorization": f"Bearer {self.tokens[org]}"} if org else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)
