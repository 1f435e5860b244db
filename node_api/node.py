"""The service node: wires settings, chain, keys, pipeline, indexer and stores.

``Node.start`` brings everything up (embedded chain if no RPC URL is set, deploy on
first start, background tasks); ``Node.stop`` takes it down cleanly. The FastAPI
app and the CLI both use it.

A node runs as one **primary** process, optionally with gateway **workers**
(``PROJCHAIN_WORKERS``, see ``node_api/workers.py``). Only the primary owns the
chain side: the embedded chain, deployment, the submitter (it alone holds the relayer
nonce), the indexer and the access-log anchoring. A worker serves the same API over
the same database: it seals and accepts records into the shared outbox (the
primary's submitter picks them up), answers reads from the shared read model, and
learns of confirmations by following the index the primary writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from typing import Literal

from eth_account.signers.local import LocalAccount

from node_api.chain.compiler import load_artifacts
from node_api.chain.consortium import ConsortiumAdmin, deploy
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.embedded import EmbeddedChain
from node_api.chain.keystore import KeyStore
from node_api.chain.pipeline import Outbox, Submitter
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import Sealer
from node_api.config import Settings
from node_api.errors import ChainError, ConfigurationError
from node_api.indexer.follower import Indexer
from node_api.ledger.access import Access
from node_api.ledger.membership import Membership
from node_api.ledger.reader import Reader
from node_api.ledger.writer import SEAL_KEY_PREFIX, Writer
from node_api.store import keys
from node_api.store.database import Database
from node_api.store.documents import DocumentStore
from node_api.store.openings import Openings, OpeningVault
from node_api.verify.accesslog import AccessLogAnchorer

log = logging.getLogger("projchain.node")

RELAYER_KEY = "relayer"
DEPLOYER_KEY = "deployer"
ADMIN_KEYS = ("admin-1", "admin-2", "admin-3")

Role = Literal["primary", "worker"]
CONFIRMATION_POLL = 0.01  # seconds between a worker's looks at the index (one range query)


class Node:
    """One projchain service node (its primary process, or one of its gateway workers)."""

    def __init__(self, settings: Settings, role: Role = "primary") -> None:
        self.settings = settings
        self.role: Role = role
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.keystore = KeyStore(settings.keystore_dir, settings.password)
        self.db = Database(settings.database_path)
        self.chain: EmbeddedChain | None = None
        self.rpc: RpcClient | None = None
        self.contracts: Contracts | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self._waiters: dict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self.started_at = time.time()

    # -- lifecycle -------------------------------------------------------------
    async def start(self, background: bool = True) -> None:
        """Starts (or connects to) the chain, deploys on first start, starts the pipeline."""
        try:
            await self._start(background)
        except BaseException:
            if self.chain is not None:
                await asyncio.to_thread(self.chain.stop)
            raise

    async def _start(self, background: bool) -> None:
        s = self.settings
        if self.role == "worker":
            # The primary owns the chain; a worker only talks to it (and never deploys).
            url = s.rpc_url or f"http://127.0.0.1:{s.anvil_port}"
        elif s.rpc_url is None:
            self.chain = EmbeddedChain(s)
            await asyncio.to_thread(self.chain.start)
            url = self.chain.url
        else:
            url = s.rpc_url
        self.rpc = RpcClient(url)
        artifacts = await asyncio.to_thread(load_artifacts, s.evm_version)
        deployment = await self._deployment(artifacts)
        self.contracts = Contracts(artifacts, deployment)
        self.membership = Membership(self.db)
        document_key = self._document_key()
        self.openings = Openings(self.db, OpeningVault(document_key))
        self.reader = Reader(self.db, self.membership, self.openings)
        self.sealer = Sealer(deployment.chain_id, deployment.ledger)
        self.outbox = Outbox(self.db)
        self.relayer = self.keystore.get_or_create(RELAYER_KEY)
        self.submitter = Submitter(self.db, self.rpc, self.contracts, self.relayer, s, self.outbox)
        self.indexer = Indexer(
            self.db, self.rpc, self.contracts, s.indexer_poll,
            on_confirmed=self._confirmed, on_rewind=self.submitter.request_resync,
        )  # fmt: skip
        self.writer = Writer(
            self.db,
            self.reader,
            self.membership,
            self.sealer,
            self.keystore,
            self.outbox,
            self.openings.vault,
        )
        self.documents = DocumentStore(s.documents_dir, document_key)
        # Seal keys are unlocked before serving, off the event loop (see KeyStore.preload).
        await asyncio.to_thread(self.keystore.preload, SEAL_KEY_PREFIX)
        self.access = Access(self.db, self.reader)
        self.anchorer = AccessLogAnchorer(self)
        self.admin = ConsortiumAdmin(self.rpc, self.contracts, deployment.chain_id)
        if self.role == "worker":
            if background:
                self.tasks = [
                    asyncio.create_task(self.outbox.run(), name="outbox"),
                    asyncio.create_task(self._follow_confirmations(), name="confirmations"),
                ]
            return
        # Catch up before serving, so reads reflect the chain from the first request.
        while await self.indexer.step():
            pass
        if background:
            self.tasks = [
                asyncio.create_task(self.outbox.run(), name="outbox"),
                asyncio.create_task(self.submitter.run(), name="submitter"),
                asyncio.create_task(self.indexer.run(), name="indexer"),
                asyncio.create_task(self.anchorer.run(), name="anchorer"),
            ]
            if s.workers > 1:
                self.tasks.append(asyncio.create_task(self._publish_stats(), name="stats"))

    async def stop(self) -> None:
        """Stops background tasks, the chain (state dumped) and closes stores."""
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.rpc is not None:
            await self.rpc.close()
        if self.chain is not None:
            await asyncio.to_thread(self.chain.stop)
        self.db.close()

    async def _deployment(self, artifacts: dict[str, dict[str, object]]) -> Deployment:
        assert self.rpc is not None
        path = self.settings.deployment_path
        if not path.exists() and self.settings.deployment_file is not None:
            Deployment.load(self.settings.deployment_file).save(path)
        if path.exists():
            deployment = Deployment.load(path)
            genesis = await self.rpc.block(0)
            if genesis is None or genesis["hash"] != deployment.genesis_hash:
                raise ConfigurationError(
                    f"{path} describes another chain (genesis differs); move the data directory aside"
                )
            return deployment
        if self.settings.rpc_url is not None or self.role == "worker":
            # Only the embedded chain is deployed automatically, by its primary; a shared chain has one deployment.
            raise ConfigurationError(
                f"no deployment at {path}: set PROJCHAIN_DEPLOYMENT_FILE to the consortium's deployment file"
            )
        deployer = self.keystore.get_or_create(DEPLOYER_KEY)
        admins = [self.keystore.get_or_create(k) for k in ADMIN_KEYS]
        deployment = await deploy(
            self.rpc, artifacts, deployer, [a.address for a in admins], self.settings.admin_threshold
        )
        deployment.save(path)
        log.info("deployed Consortium %s and ProjectLedger %s", deployment.consortium, deployment.ledger)
        return deployment

    def _document_key(self) -> bytes:
        # Derived from the keystore password (one secret to guard) with this node's own random
        # salt; a node of the fixed-salt days is re-encrypted first (see node_api.store.keys).
        return keys.document_key(self.settings.documents_dir, self.settings.password, self.db)

    # -- confirmations -----------------------------------------------------------
    def _confirmed(self, uids: list[str]) -> None:
        for uid in uids:
            for f in self._waiters.pop(uid, []):
                if not f.done():
                    f.set_result(None)

    async def _follow_confirmations(self) -> None:
        """Worker: wakes the waiters of records the primary's indexer has just stored.

        New index rows are found by rowid (rows are only ever appended), one cheap
        range query per poll however many requests wait.
        """
        last = int(self.db.scalar("SELECT coalesce(max(rowid), 0) FROM chain_records"))
        while True:
            # Short: under load every poll period is paid again in event-loop lag (measured:
            # 50 ms cost a worker's requests ≈ 0.35 s at the median against the primary's).
            await asyncio.sleep(CONFIRMATION_POLL)
            rows = self.db.all("SELECT rowid, uid FROM chain_records WHERE rowid > ? ORDER BY rowid", (last,))
            if rows:
                last = int(rows[-1][0])
                if self._waiters:
                    self._confirmed([str(r[1]) for r in rows])

    async def wait_for(self, uid: str, timeout: float) -> str:
        """Waits until a record is confirmed or failed; returns its outbox state."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.db.scalar("SELECT state FROM outbox WHERE uid = ?", (uid,))
            if state in ("confirmed", "failed") or (state is None and self.reader.chain_row(uid) is not None):
                return str(state or "confirmed")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return str(state or "unknown")
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters[uid].append(future)
            # asyncio.timeout, not wait_for: no extra task per waiting request.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 0.5)):
                    await future
            self._forget(uid, future)

    def _forget(self, uid: str, future: asyncio.Future[None]) -> None:
        waiting = self._waiters.get(uid)
        if waiting is not None and future in waiting:
            waiting.remove(future)
            if not waiting:
                del self._waiters[uid]

    async def wait_for_many(self, uids: list[str], timeout: float) -> dict[str, str]:
        """Waits until every record is confirmed or failed (or the timeout); returns their states.

        One future per uid in the waiter table (resolved as the index confirms records),
        so there is no per-uid polling. Refusals (``failed``) fire no callback: the count
        of failed outbox rows (an index range, cheap) is watched every 0.5 s, and only
        when it moved are this call's open records looked up.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        futures: dict[str, asyncio.Future[None]] = {}
        for uid in uids:
            futures[uid] = loop.create_future()
            self._waiters[uid].append(futures[uid])
        try:
            failed_seen = self._failed_count()
            known = self.outbox_states(uids)  # after registering: nothing confirmed in between is missed
            while True:
                for uid, f in futures.items():
                    if f.done() and uid not in known:
                        known[uid] = "confirmed"
                open_ = [f for uid, f in futures.items() if uid not in known]
                left = deadline - loop.time()
                if not open_:
                    return known
                if left <= 0:
                    known.update(self.outbox_states([u for u in uids if u not in known]))
                    return known
                await asyncio.wait(open_, timeout=min(left, 0.5), return_when=asyncio.ALL_COMPLETED)
                failed_now = self._failed_count()
                if failed_now != failed_seen:
                    failed_seen = failed_now
                    known.update(
                        self.outbox_states([u for u, f in futures.items() if u not in known and not f.done()])
                    )
        finally:
            for uid, f in futures.items():
                if not f.done():
                    f.cancel()
                    self._forget(uid, f)

    def _failed_count(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM outbox WHERE state = 'failed'") or 0)

    def outbox_states(self, uids: list[str]) -> dict[str, str]:
        """Final states (confirmed / failed) among ``uids``; records still open are left out."""
        out: dict[str, str] = {}
        for i in range(0, len(uids), 500):
            chunk = uids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.all(
                f"SELECT uid, state FROM outbox WHERE uid IN ({marks}) AND state IN ('confirmed', 'failed')",
                chunk,
            )
            out.update((r["uid"], r["state"]) for r in rows)
        return out

    # -- figures for /metrics --------------------------------------------------------
    def pipeline_stats(self) -> dict[str, float]:
        """Submitter and indexer counters: the primary's own; in a worker, the primary's last snapshot."""
        if self.role == "worker":
            published = self.db.get_meta("node.pipeline_stats")
            return dict(json.loads(published)) if published else {}
        stats, istats, indexer = self.submitter.stats, self.indexer.stats, self.indexer
        return {
            "records_sent": stats["records_sent"],
            "records_confirmed": istats["records_confirmed"],
            "records_failed": istats["records_failed"] + stats["records_failed"],
            "txs_sent": stats["txs_sent"],
            "resyncs": stats["resyncs"],
            "rewinds": indexer.rewinds,
            "inflight": len(self.submitter.inflight),
            "lag": indexer.lag,
            "head": indexer.head,
            "indexed": indexer.checkpoint()[0],
        }

    async def _publish_stats(self) -> None:
        """Primary with workers: a snapshot of ``pipeline_stats`` for the workers' /metrics, every second."""
        while True:
            await asyncio.sleep(1.0)
            self.db.set_meta("node.pipeline_stats", json.dumps(self.pipeline_stats()))

    # -- helpers for admin flows -------------------------------------------------
    def admin_keys(self) -> list[LocalAccount]:
        """The admin keys this (development) node holds, threshold first."""
        return [self.keystore.load(k) for k in ADMIN_KEYS if self.keystore.exists(k)]

    async def chain_status(self) -> dict[str, object]:
        """Chain id, head and indexer position for /health."""
        assert self.rpc is not None and self.contracts is not None and self.contracts.deployment is not None
        try:
            head = await self.rpc.block_number()
            reachable = True
        except ChainError:
            head, reachable = self.indexer.head, False
        checkpoint, _ = self.indexer.checkpoint()
        return {
            "reachable": reachable,
            "chain_id": self.contracts.deployment.chain_id,
            "latest_block": head,
            "indexed_block": checkpoint,
            "indexer_lag": max(0, head - checkpoint),
        }
