"""The composition root: ``open_node`` builds every service of a node, fully initialised.

``open_node`` starts (or connects to) the chain, deploys on first start (embedded chain
only), and wires the stores, the chain side and the ledger services into one ``Node``
whose every attribute is set. ``Node.start`` catches the index up and starts the
background tasks; ``Node.stop`` takes them down. The FastAPI app (``node_api.main``)
hands routes only the narrow services they declare (``node_api.api.deps``), and the CLI
drives the lifecycle; nothing else builds services.

A node runs as one **primary** process, optionally with gateway **workers**
(``PROJCHAIN_WORKERS``, see ``node_api/workers.py``). Only the primary owns the
chain side: the embedded chain, deployment, the submitter (it alone holds the relayer
nonce), the indexer, the access-log anchoring and the webhook deliveries. A worker
serves the same API over the same database: it seals and accepts records into the
shared outbox (the primary's submitter picks them up), answers reads from the shared
read model, and learns of confirmations by following the index the primary writes.
Exactly one process assesses the warnings (``runs_supervision``): gateway worker 1 when
there are workers, which keeps that work off the primary's serial path (issue #15), else
the primary.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from eth_account.signers.local import LocalAccount

from node_api.chain.capacity import ChainMemoryGuard
from node_api.chain.compiler import load_artifacts
from node_api.chain.consortium import ConsortiumAdmin, deploy
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.embedded import EmbeddedChain
from node_api.chain.keystore import KeyStore
from node_api.chain.pipeline import GroupSealing, Outbox, Submitter
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import Sealer
from node_api.config import Settings
from node_api.domain.filing import scripted
from node_api.errors import ConfigurationError
from node_api.indexer.follower import Indexer
from node_api.ledger.access import Access
from node_api.ledger.anchorer import AccessLogAnchorer
from node_api.ledger.auth import AuthGuard, Credentials
from node_api.ledger.catalogue import Catalogue
from node_api.ledger.certificates import CertificateFont
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.documents import Documents
from node_api.ledger.evidence import Evidence
from node_api.ledger.facts import KEPT_ENTRIES, Facts
from node_api.ledger.filings import Filings
from node_api.ledger.membership import Membership
from node_api.ledger.notifications import Notifications
from node_api.ledger.officers import TOTP_PURPOSE, Officers
from node_api.ledger.peers import Peers
from node_api.ledger.profiles import Profiles
from node_api.ledger.reader import Reader
from node_api.ledger.search import ProjectSearch
from node_api.ledger.status import NodeStatus
from node_api.ledger.supervision import Supervision
from node_api.ledger.verification_certificates import VerificationCertificates, profile_grader
from node_api.ledger.writer import SEAL_KEY_PREFIX, Writer, seal_key_name
from node_api.store import keys
from node_api.store.access_log import AccessLogTable
from node_api.store.catalogue import CatalogueTable
from node_api.store.certificates import CertificateTable
from node_api.store.database import Database, DatabaseError
from node_api.store.documents import DocumentStore, DocumentTable
from node_api.store.filings import FilingTable
from node_api.store.index import IndexTable
from node_api.store.officers import OfficerTable
from node_api.store.openings import Openings, OpeningVault
from node_api.store.owners import OwnerIndex
from node_api.store.search import SearchTable
from node_api.store.subscriptions import SecretVault, SubscriptionTable
from node_api.store.warnings import WarningTable

log = logging.getLogger("projchain.node")

RELAYER_KEY = "relayer"
DEPLOYER_KEY = "deployer"
ADMIN_KEYS = ("admin-1", "admin-2", "admin-3")

Role = Literal["primary", "worker"]
STATS_KEY = "node.pipeline_stats"  # the primary's pipeline counters, for its workers' /metrics


def runs_supervision(settings: Settings, role: Role) -> bool:
    """Whether this process assesses the warnings (``Supervision.run``); exactly one of a node's does.

    Without workers (PROJCHAIN_WORKERS=1) the primary; with workers, gateway worker 1 (there is one
    in either gateway layout, and the primary starts it again when it dies), so that the primary's
    CPU stays on the serial path of writes (issue #15). Supervision only reads the index the
    primary writes and writes its own tables, so it may run in any process over the database; a
    worker polls (``supervision.POLL``) where the primary is woken by its indexer.
    """
    if settings.workers == 1:
        return role == "primary"
    return role == "worker" and settings.worker_index == 1


@dataclass
class Node:
    """One projchain service node (its primary process, or one of its gateway workers): every service."""

    settings: Settings
    role: Role
    db: Database
    keystore: KeyStore
    chain: (
        EmbeddedChain | None
    )  # None when the node uses a chain it does not run (PROJCHAIN_RPC_URL, workers)
    rpc: RpcClient
    deployment: Deployment
    contracts: Contracts
    relayer: LocalAccount
    index: IndexTable
    membership: Membership
    openings: Openings
    catalogue: Catalogue
    reader: Reader
    sealer: Sealer
    outbox: Outbox
    submitter: Submitter
    indexer: Indexer
    confirmations: Confirmations
    writer: Writer
    documents: Documents
    access: Access
    anchorer: AccessLogAnchorer
    admin: ConsortiumAdmin
    peers: Peers
    status: NodeStatus
    evidence: Evidence
    credentials: Credentials
    notifications: Notifications
    filings: Filings
    supervision: Supervision
    certificates: VerificationCertificates
    profiles: Profiles
    officers: Officers
    search: ProjectSearch
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)

    # -- lifecycle -------------------------------------------------------------
    async def start(self, background: bool = True) -> None:
        """Catches the index up (primary), then starts the background tasks of this process's role."""
        if self.role == "primary":
            # Catch up before serving, so reads reflect the chain from the first request.
            while await self.indexer.step():
                pass
        if not background:
            return
        self._spawn(self.outbox.run(), "outbox")
        if runs_supervision(self.settings, self.role):
            coverage = self.supervision.calendar.coverage_warning(dt.datetime.now(dt.UTC))
            if coverage is not None:
                log.warning("%s", coverage)
            self._spawn(self.supervision.run(), "supervision")
        if self.role == "worker":
            self._spawn(self.confirmations.follow(), "confirmations")
            return
        self._spawn(self.submitter.run(), "submitter")
        self._spawn(self.indexer.run(), "indexer")
        self._spawn(self.anchorer.run(), "anchorer")
        self._spawn(self.notifications.run(), "notifications")
        if self.settings.workers > 1:
            self._spawn(self._publish_stats(), "stats")

    def _spawn(self, job: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.create_task(job, name=name))

    async def stop(self) -> None:
        """Stops background tasks, the chain (state dumped) and closes stores."""
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.rpc.close()
        if self.chain is not None:
            await asyncio.to_thread(self.chain.stop)
        self.db.close()

    # -- figures for /metrics --------------------------------------------------------
    def pipeline_stats(self) -> dict[str, float]:
        """Submitter and indexer counters (``pipeline_counters``) and supervision's figures, which every
        process reads where supervision runs (``Supervision.figures``)."""
        return {**self.pipeline_counters(), **self.supervision.figures()}

    def pipeline_counters(self) -> dict[str, float]:
        """Submitter and indexer counters: the primary's own; in a worker, the primary's last snapshot
        (empty before the first)."""
        if self.role == "worker":
            published = self.db.get_meta(STATS_KEY)
            return dict(json.loads(published)) if published else {}
        stats, istats, indexer = self.submitter.stats, self.indexer.stats, self.indexer
        return {
            "records_sent": stats["records_sent"],
            "records_confirmed": istats["records_confirmed"],
            "records_failed": istats["records_failed"] + stats["records_failed"],
            "txs_sent": stats["txs_sent"],
            "resyncs": stats["resyncs"],
            "receipts": stats["receipts"],
            "rewinds": indexer.rewinds,
            "txs_indexed_own": istats["txs_own"],
            "txs_indexed_fetched": istats["txs_fetched"],
            "inflight": len(self.submitter.inflight),
            "lag": indexer.lag,
            "head": indexer.head,
            "indexed": indexer.checkpoint()[0],
        }

    async def _publish_stats(self) -> None:
        """Primary with workers: a snapshot of ``pipeline_counters`` for the workers' /metrics, every second.

        Written in a thread on a connection of its own: the write waits for the workers' outbox
        commits and then syncs, which on the event loop held up the indexer and the submitter
        (≈ 6 % of the loop's time under bulk writes; docs/benchmark.md, "Transactions sent together").
        """
        loop = asyncio.get_running_loop()
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stats")  # one: the close comes last
        opened = thread.submit(Database, self.settings.database_path)
        try:
            db = await asyncio.wrap_future(opened)
            while True:
                await asyncio.sleep(1.0)
                snapshot = json.dumps(self.pipeline_counters())
                try:
                    await loop.run_in_executor(thread, db.set_meta, STATS_KEY, snapshot)
                except DatabaseError as e:  # busy past the timeout: the next second tries again
                    log.warning("pipeline counters not published: %s", e)
        finally:
            thread.submit(_close_opened, opened)  # after whatever write still runs on that thread
            thread.shutdown(wait=False)

    # -- helpers for admin flows -------------------------------------------------
    def admin_keys(self) -> list[LocalAccount]:
        """The admin keys this (development) node holds, threshold first."""
        return [self.keystore.load(k) for k in ADMIN_KEYS if self.keystore.exists(k)]


def _close_opened(opened: Future[Database]) -> None:
    """Closes a connection opened earlier on this same thread (none when the open failed or was cancelled)."""
    if not opened.cancelled() and opened.exception() is None:
        opened.result().close()


async def open_node(settings: Settings, role: Role = "primary") -> Node:
    """Builds every service of a node: chain (started or connected), deployment, stores, pipeline, ledger.

    Nothing is started in the background yet (``Node.start``). If building fails, whatever was
    started (the embedded chain, the database) is stopped again.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keystore = KeyStore(settings.keystore_dir, settings.password)
    db = Database(settings.database_path)
    chain: EmbeddedChain | None = None
    rpc: RpcClient | None = None
    try:
        if role == "worker":
            # The primary owns the chain; a worker only talks to it (and never deploys).
            url = settings.rpc_url or f"http://127.0.0.1:{settings.anvil_port}"
        elif settings.rpc_url is None:
            chain = EmbeddedChain(settings)
            await asyncio.to_thread(chain.start)
            url = chain.url
        else:
            url = settings.rpc_url
        rpc = RpcClient(url)
        artifacts = await asyncio.to_thread(load_artifacts, settings.evm_version)
        deployment = await _deployment(settings, role, rpc, keystore, artifacts)
        node = _compose(settings, role, db, keystore, chain, rpc, artifacts, deployment)
        # Seal keys are unlocked before serving, off the event loop (see KeyStore.preload).
        await asyncio.to_thread(keystore.preload, SEAL_KEY_PREFIX)
        return node
    except BaseException:
        if rpc is not None:
            await rpc.close()
        if chain is not None:
            await asyncio.to_thread(chain.stop)
        db.close()
        raise


def _compose(
    s: Settings,
    role: Role,
    db: Database,
    keystore: KeyStore,
    chain: EmbeddedChain | None,
    rpc: RpcClient,
    artifacts: dict[str, dict[str, object]],
    deployment: Deployment,
) -> Node:
    """The wiring itself: each service once, from its collaborators."""
    contracts = Contracts(artifacts, deployment)
    relayer = keystore.get_or_create(RELAYER_KEY)
    # Derived from the keystore password (one secret to guard) with this node's own random
    # salt; a node of the fixed-salt days is re-encrypted first (see node_api.store.keys).
    document_key = keys.document_key(s.documents_dir, s.password, db)
    index = IndexTable(db)
    membership = Membership(index)
    openings = Openings(db, OpeningVault(document_key))
    outbox = Outbox(db)
    catalogue = Catalogue(CatalogueTable(db), outbox.table, membership)
    reader = Reader(index, outbox.table, membership, openings, catalogue)
    sealer = Sealer(deployment.chain_id, deployment.ledger)
    confirmations = Confirmations(outbox.table, index, s.wait_timeout)
    grouping = GroupSealing(
        sealer,
        lambda org: keystore.cached(seal_key_name(org)),
        lambda org: keystore.load(seal_key_name(org)) if keystore.exists(seal_key_name(org)) else None,
    )
    submitter = Submitter(rpc, contracts, relayer, s, outbox, index, grouping)
    indexer = Indexer(
        db, index, rpc, contracts, s.indexer_poll,
        on_confirmed=confirmations.confirmed, on_rewind=submitter.request_resync,
        sent_copies=submitter.landed_copies,
    )  # fmt: skip
    writer = Writer(
        index,
        reader,
        membership,
        sealer,
        keystore,
        outbox,
        openings.vault,
        catalogue,
        ChainMemoryGuard(s),
        defer_seals=s.group_seals,
    )
    files = DocumentStore(s.documents_dir, document_key)
    document_table = DocumentTable(db)
    access_log = AccessLogTable(db)
    access = Access(index, document_table, access_log, reader)
    anchorer = AccessLogAnchorer(
        s, access_log, index, reader, membership, outbox, confirmations, keystore, sealer, relayer
    )
    peers = Peers(s, db, reader, membership, openings, files, keystore, contracts, deployment, rpc)
    notifications = Notifications(
        s,
        SubscriptionTable(db),
        SecretVault(document_key),
        index,
        reader,
        membership,
        access,
        WarningTable(db),
        indexer.updated,
    )
    owners = OwnerIndex(db)
    # A project's records and their status changes, for supervision and profiles; the process that
    # assesses the warnings keeps the projects' records between its assessments.
    facts = Facts(owners, KEPT_ENTRIES if runs_supervision(s, role) else 0)
    supervision = Supervision(
        WarningTable(db), index, facts, catalogue, access, indexer.updated, filing_item=s.filing_item
    )
    profiles = Profiles(owners, facts, reader, access, supervision, rpc, indexer.checkpoint)
    font = CertificateFont(s.certificate_font, s.certificate_font_face)
    certificates = VerificationCertificates(
        reader, access, membership, index, CertificateTable(db), deployment, indexer.checkpoint,
        writer.seal_key, s.base_url, font, profile_grader(profiles.grade),
    )  # fmt: skip
    guard = AuthGuard(db, s.auth_failures_per_minute, s.trusted_proxies)
    officers = Officers(
        OfficerTable(db), membership, guard, s.console_idle_seconds, s.console_session_seconds,
        s.console_lockout_failures, s.console_lockout_seconds, SecretVault(document_key, TOTP_PURPOSE),
    )  # fmt: skip
    # Embedded: this node's primary runs the chain (no rpc_url), whichever process answers.
    status = NodeStatus(
        s.node_name, deployment, rpc, indexer, outbox.table, relayer.address, s.rpc_url is None
    )
    return Node(
        settings=s,
        role=role,
        db=db,
        keystore=keystore,
        chain=chain,
        rpc=rpc,
        deployment=deployment,
        contracts=contracts,
        relayer=relayer,
        index=index,
        membership=membership,
        openings=openings,
        catalogue=catalogue,
        reader=reader,
        sealer=sealer,
        outbox=outbox,
        submitter=submitter,
        indexer=indexer,
        confirmations=confirmations,
        writer=writer,
        documents=Documents(files, document_table, peers),
        access=access,
        anchorer=anchorer,
        admin=ConsortiumAdmin(rpc, contracts, deployment.chain_id),
        peers=peers,
        status=status,
        evidence=Evidence(reader, membership, openings, sealer, deployment, indexer.checkpoint, s.node_name),
        credentials=Credentials(db, membership, guard),
        notifications=notifications,
        filings=Filings(
            writer,
            catalogue,
            confirmations,
            reader,
            membership,
            FilingTable(db),
            s.filing_item,
            deployment.chain_id,
            deployment.ledger,
            s.base_url,
            font,
            scripted(s.filing_code_candidates),
        ),
        supervision=supervision,
        certificates=certificates,
        profiles=profiles,
        officers=officers,
        search=ProjectSearch(SearchTable(db), access, reader),
    )


async def _deployment(
    settings: Settings,
    role: Role,
    rpc: RpcClient,
    keystore: KeyStore,
    artifacts: dict[str, dict[str, object]],
) -> Deployment:
    """The consortium's deployment: this data directory's, the configured file's, or a new one (embedded chain)."""
    path = settings.deployment_path
    if not path.exists() and settings.deployment_file is not None:
        Deployment.load(settings.deployment_file).save(path)
    if path.exists():
        deployment = Deployment.load(path)
        genesis = await rpc.block(0)
        if genesis is None or genesis["hash"] != deployment.genesis_hash:
            raise ConfigurationError(
                f"{path} describes another chain (genesis differs); move the data directory aside"
            )
        return deployment
    if settings.rpc_url is not None or role == "worker":
        # Only the embedded chain is deployed automatically, by its primary; a shared chain has one deployment.
        raise ConfigurationError(
            f"no deployment at {path}: set PROJCHAIN_DEPLOYMENT_FILE to the consortium's deployment file"
        )
    deployer = keystore.get_or_create(DEPLOYER_KEY)
    admins = [keystore.get_or_create(k) for k in ADMIN_KEYS]
    deployment = await deploy(rpc, artifacts, deployer, [a.address for a in admins], settings.admin_threshold)
    deployment.save(path)
    log.info("deployed Consortium %s and ProjectLedger %s", deployment.consortium, deployment.ledger)
    return deployment
