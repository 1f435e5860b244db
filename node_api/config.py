"""The node's one settings object (environment prefix ``PROJCHAIN_``)."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from node_api.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent
# Debian's fonts-noto-cjk: the CJK font the 备案证 PDF embeds (a subset of one face of this collection).
DEBIAN_CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DEBIAN_CJK_FACE = "Noto Sans CJK SC"


def _physical_memory_mb() -> int:
    """The machine's physical memory in MB."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20


class Settings(BaseSettings):
    """Everything a node needs to know, from env vars or defaults."""

    model_config = SettingsConfigDict(env_prefix="PROJCHAIN_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = REPO_ROOT / "data"
    node_name: str = "zhuanglang-county-node"

    # Chain: no rpc_url means "start the embedded anvil chain".
    rpc_url: str | None = None
    chain_id: int = 620825  # 庄浪县's division code, so a dev chain is recognisable
    anvil_port: int = 18545
    # Seconds between blocks while writes flow; the floor of request→confirmed latency and the
    # period of a closed loop of writers (README "Embedded chain", docs/benchmark.md "The block time").
    block_time: float = 0.25
    # How the embedded anvil mines: "on_demand" (the node mines a block every block_time seconds
    # when transactions wait, none while idle) or "interval" (anvil mines every block_time
    # seconds, empty or not). On demand keeps anvil's memory bounded: at sub-2 s intervals anvil
    # holds up to 1,500 full copies of the state, and empty blocks pile up (docs/chain-memory.md).
    chain_mining: Literal["on_demand", "interval"] = "on_demand"
    block_gas_limit: int = 1_000_000_000
    # The node saves the embedded chain's state every N seconds (atomically, see StateKeeper):
    # a chain crash loses at most that much, which the pipeline re-sends. Larger = cheaper.
    state_interval: int = 2
    # The most resident memory (MB) the embedded anvil may use: past it the node refuses writes
    # (503 chain_memory_limit) instead of letting the chain grow until the machine swaps or the
    # kernel kills it. anvil keeps every block, receipt and the whole state in memory (see
    # docs/benchmark.md, "anvil memory"); volumes beyond it belong on a real chain (README,
    # "Running on a production network"). 0: no limit. Default: half the machine's memory.
    chain_memory_limit_mb: int = Field(default_factory=lambda: _physical_memory_mb() // 2, ge=0)
    evm_version: str = "shanghai"  # the floor that Besu and ganache both run

    # A node joining an existing chain reads the consortium's deployment from here.
    deployment_file: Path | None = None
    # Other nodes of the consortium to fetch granted documents from (their base URLs).
    peers: list[str] = Field(default_factory=list)
    # This node's URL as other nodes list it in their PROJCHAIN_PEERS: a signed peer request
    # must name it (see node_api/peer.py). Default: public_url, else http://host:port.
    peer_url: str | None = None

    # HTTP gateway.
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    # Processes serving the API (see node_api/workers.py): 1, the primary itself; N > 1, N gateway
    # workers on the same port while the primary keeps to the serial part of writes (submitter,
    # indexer, confirmations). One Python process uses one core; more workers than cores left
    # over by the chain and the primary only add contention (docs/benchmark.md, workers sweep).
    workers: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1), ge=1, le=64)
    # With workers (N > 1): whether the primary serves the API beside N - 1 workers instead of
    # leaving it to N workers and keeping its core for the serial path (node_api/workers.py).
    # Measured on 2 cores, the two layouts' throughput differs by less than run-to-run noise
    # (docs/benchmark.md, "Issue #15"); apart, the primary's CPU is the serial path alone.
    primary_serves: bool = False
    # Set by the primary for each gateway worker it starts (1..N; 0: the primary itself). Worker 1
    # also assesses the warnings (node_api/node.py, ``runs_supervision``).
    worker_index: int = Field(default=0, ge=0)
    # The single-record writes under a project answered ahead of FastAPI's dependency solving
    # (node_api/api/direct.py): same checks and answers, less CPU a request. Off: FastAPI alone.
    direct_writes: bool = True
    # GET /v1/records/{uid} answered the same way (node_api/api/direct.py). Off: FastAPI alone.
    direct_reads: bool = True
    max_body_bytes: int = 1_000_000
    max_document_bytes: int = 20_000_000
    # Files sent to the public POST /v1/verify/document (anyone may call it): larger files are
    # checked by their SHA-256 (JSON {"digest"} or ?digest=), which costs the node nothing.
    max_verify_bytes: int = 5_000_000

    # Secrets. In development a random password is generated once and kept in the
    # data directory; production refuses to start without one from the environment.
    keystore_password: SecretStr | None = None

    # Pipeline.
    batch_size: int = 200
    batch_linger: float = 0.05
    # One seal per organisation and transaction over a Merkle root of its records
    # (``submitGroups``) for records this node sealed itself; pre-sealed records keep their own.
    group_seals: bool = True
    # Transactions sent and not yet read back by the indexer. 64 × batch_size (200) records stay
    # well inside one block's gas limit; 16 capped bulk writes near 16 × 200 records per block
    # round on a 2-core machine (docs/benchmark.md, "The transactions in flight").
    max_inflight_txs: int = 64
    # Transactions the submitter signs and sends together: JSON-RPC batch calls of at most 1 MB
    # (pipeline.SEND_CALL_BYTES), each call's rows marked in one commit. 8 raised bulk writes ≈ 14 % on a
    # 2-core machine against one call a transaction (docs/benchmark.md, "Transactions sent together").
    sends_per_call: int = Field(default=8, ge=1, le=64)  # ≤ pipeline.SENT_COPIES, kept for the indexer
    resubmit_after: float = 10.0
    indexer_poll: float = 0.05
    wait_timeout: float = 30.0

    # Access log anchoring (RFC 6962 root on chain) by count or time.
    anchor_every: int = 100
    anchor_interval: float = 60.0

    # Token guessing defence: failed authentications a minute per (client address, token
    # selector), counted in the database for all processes (see api/deps.py AuthGuard).
    auth_failures_per_minute: int = 20
    # Reverse proxies (addresses or networks, e.g. "10.0.0.5" or "10.0.0.0/24") whose
    # X-Forwarded-For names the client. Nobody else's X-Forwarded-For is believed.
    trusted_proxies: list[str] = Field(default_factory=list)
    # The operator's credential for GET /metrics: the SHA-256 (hex) of a token made with
    # `projchain metrics-token`; the token itself is never stored. Unset: /metrics answers 403.
    metrics_token_sha256: str | None = None

    # The font of the 备案证 PDF (node_api/ledger/certificates.py): a .ttc/.otc collection and the
    # face to use in it, or a single .otf/.ttf. Read from disk at render time, never downloaded.
    certificate_font: Path = DEBIAN_CJK_FONT
    certificate_font_face: str = DEBIAN_CJK_FACE
    # The catalogue item a 秒批秒办 filing records (POST /v1/filings, docs/filings.md): the demo's
    # 企业投资项目备案; its department is the filing authority.
    filing_item: str = "ZL-S1-001"
    # Tests only: the random parts the code allocator draws first, in order (six digits each), before
    # `secrets`; the integration tests force two nodes onto the same first code with it.
    filing_code_candidates: list[str] = Field(default_factory=list)

    # Webhooks (docs/notifications.md). A failed delivery is tried again after base, 2 × base,
    # 4 × base … seconds (at most max apart) until it has been tried max_attempts times; then it
    # is dead (a dead letter the subscriber may redeliver).
    webhook_retry_base: float = Field(default=10.0, gt=0)
    webhook_retry_max: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=16, ge=1)
    webhook_timeout: float = Field(default=10.0, gt=0)  # seconds per attempt, connect to answer
    webhook_concurrency: int = Field(default=8, ge=1)  # attempts in flight at once
    webhook_max_subscriptions: int = Field(default=20, ge=1)  # active subscriptions per organisation
    # Where webhooks may go: host patterns (shell-style, "hooks.bank.example.cn", "*.gov.cn",
    # "10.12.*"), matched against the URL's host. Empty = anywhere, for development only: a
    # production node should list its members' receivers (and restrict egress in its network),
    # or any member can make the node POST to hosts on the node's own network.
    webhook_allowed_hosts: list[str] = Field(default_factory=list)

    # The console (docs/console.md): officers' sessions end after this long idle, or this long
    # after sign-in; this many failed sign-ins in a row lock an account for lockout_seconds.
    console_idle_seconds: float = Field(default=1800.0, gt=0)
    console_session_seconds: float = Field(default=43200.0, gt=0)
    console_lockout_failures: int = Field(default=5, ge=1)
    console_lockout_seconds: float = Field(default=900.0, gt=0)
    # npm packages the node serves itself (Swagger UI for /docs, htmx for the console): the
    # node_modules of `make install`; nothing is loaded from a CDN.
    assets_dir: Path = REPO_ROOT / "node_modules"

    admin_threshold: int = 2
    extra_cors: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as e:
                raise ConfigurationError(
                    f"PROJCHAIN_TRUSTED_PROXIES: {entry!r} is not an address or network"
                ) from e
        return value

    @field_validator("metrics_token_sha256")
    @classmethod
    def _sha256_hex(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", value):
            raise ConfigurationError("PROJCHAIN_METRICS_TOKEN_SHA256 must be 64 hex characters (a SHA-256)")
        return None if value is None else value.lower()

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.env == "production":
            if self.keystore_password is None or len(self.keystore_password.get_secret_value()) < 16:
                raise ConfigurationError("production needs PROJCHAIN_KEYSTORE_PASSWORD of 16+ characters")
            if self.rpc_url is None:
                raise ConfigurationError("production needs PROJCHAIN_RPC_URL (no embedded chain)")
        return self

    @property
    def chain_dir(self) -> Path:
        """Where the embedded chain keeps its state."""
        return self.data_dir / "chain"

    @property
    def keystore_dir(self) -> Path:
        """Encrypted key files (seal, relayer, admin)."""
        return self.data_dir / "keystore"

    @property
    def documents_dir(self) -> Path:
        """Encrypted content-addressed documents."""
        return self.data_dir / "documents"

    @property
    def database_path(self) -> Path:
        """SQLite read model, outbox and tokens."""
        return self.data_dir / "node.sqlite3"

    @property
    def deployment_path(self) -> Path:
        """Contract addresses of the chain this node serves."""
        return self.data_dir / "deployment.json"

    @property
    def log_path(self) -> Path:
        """The node's structured log file."""
        return self.data_dir / "node.log"

    @property
    def base_url(self) -> str:
        """Public URL of this node, used in QR codes."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def peer_audience(self) -> str:
        """The URL signed peer requests must name to be served here."""
        return self.peer_url or self.base_url

    @cached_property
    def password(self) -> str:
        """The keystore password (generated once in development)."""
        if self.keystore_password is not None:
            return self.keystore_password.get_secret_value()
        if self.env == "production":
            raise ConfigurationError("PROJCHAIN_KEYSTORE_PASSWORD is required in production")
        path = self.data_dir / "secrets" / "keystore-password"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()
