"""The write pipeline: durable outbox → batched transactions → tracked receipts.

* ``Outbox.accept`` group-commits accepted records (one fsync for many requests)
  before the API answers 202; a record uid is accepted once (idempotency).
* ``Submitter`` owns the relayer's nonces: it reads the chain's confirmed count at
  start and after any loss, never guesses from ``pending``, packs up to
  ``batch_size`` records per ``submitBatch`` transaction and keeps several
  transactions in flight without waiting for each receipt.
* Records this node sealed itself travel under one seal per organisation and transaction
  (``submitGroups``: the seal signs the Merkle root of the organisation's records in it, see
  ``node_api.chain.group``); pre-sealed records, and every record when ``group_seals`` is
  off or the node does not hold the organisation's key, travel with their own seals
  (``submitBatch``). A batch of both is sent as consecutive transactions, in outbox order.
* Whatever the chain lost (node crash, chain crash, dropped transaction) goes back
  to ``accepted`` and is sent again; the contract accepts a uid only once, so a
  record reaches the chain exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from node_api.chain.contracts import Contracts, Copy, compact_seal, expand_seal, sent_copies
from node_api.chain.group import encoded_proofs, tree_of
from node_api.chain.ledger_layout import access_list
from node_api.chain.rpc import RpcClient, RpcError
from node_api.chain.seal import Sealer, struct_hash
from node_api.chain.signer import TransactionSigner
from node_api.config import Settings
from node_api.domain.records import Record
from node_api.errors import ChainError, ConflictError, ProjchainError
from node_api.store.database import Database
from node_api.store.index import IndexTable
from node_api.store.openings import Openings
from node_api.store.outbox import OutboxTable

log = logging.getLogger("projchain.pipeline")

# Gas: measured ≈ 40k per record in a batch (a registration ≈ 80k); the ledger stops a batch
# with LedgerBatchOutOfGas when less than 150k is left before a record. Leave headroom, the
# unused part is free.
GAS_PER_RECORD = 120_000
GAS_PER_TX = 100_000
MAX_GROUPS = 256  # groups per submitGroups transaction (a record names its group in one byte)
SEND_CALL_BYTES = 1_000_000  # raw transactions (0x-hex) in one eth_sendRawTransaction batch call at most
SENT_COPIES = 64  # the records (with seals) of the latest transactions, kept for the indexer


DEFERRED_SEAL = b""  # an outbox row's seal that the submitter makes when it sends the record


@dataclass(frozen=True)
class GroupSealing:
    """What the submitter needs to seal groups, and records whose seal was deferred to it: the
    ledger's EIP-712 domain, the seal key this node holds for an organisation if unlocked in this
    process (``key``; None when it holds none, or has not unlocked it), and the key unlocked now
    (``load``, blocking: scrypt; None when this node holds no key of the organisation)."""

    sealer: Sealer
    key: Callable[[int], LocalAccount | None]
    load: Callable[[int], LocalAccount | None]


@dataclass(frozen=True)
class OutboxItem:
    """An accepted record waiting for the chain, sealed, or with ``DEFERRED_SEAL`` (``node_sealed``
    only): the submitter seals it with this node's key of the organisation when it sends it."""

    record: Record
    seal: bytes
    org_id: int
    opening: bytes | None = None  # the restricted content, sealed by OpeningVault (stored with the row)
    node_sealed: bool = False  # sealed with this node's key: the submitter may group-seal it


class Outbox:
    """Durable acceptance with group commit."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = OutboxTable(db)
        self._pending: list[tuple[OutboxItem, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self.accepted = asyncio.Event()  # set whenever new rows are committed

    async def accept(self, item: OutboxItem) -> bool:
        """Stores the item durably; True if new, False if this uid was accepted before."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        return await future

    async def accept_each(self, items: list[OutboxItem]) -> list[bool | ProjchainError]:
        """Stores the items durably in one commit, in order; for each, True if new, False if this very
        record was accepted before, or the ``ConflictError`` of a uid holding other content. A failed
        commit raises (nothing was stored)."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[bool]] = []
        for item in items:  # queued together, so one flush takes them all
            future: asyncio.Future[bool] = loop.create_future()
            self._pending.append((item, future))
            futures.append(future)
        self._wake.set()
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, ProjchainError):
                raise outcome
        return [o for o in outcomes if isinstance(o, bool | ProjchainError)]

    async def run(self) -> None:
        """Flush loop: commits whatever accumulated, then resolves the waiters."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0)  # let concurrent requests join this commit
            batch, self._pending = self._pending, []
            if batch:
                self._flush(batch)

    def _flush(self, batch: list[tuple[OutboxItem, asyncio.Future[bool]]]) -> None:
        results: list[bool | Exception] = []
        now = time.time()
        try:
            with self.db.transaction() as conn:
                for item, _ in batch:
                    r = item.record
                    uid = "0x" + r.uid.hex()
                    if OutboxTable.insert(conn, uid, item.org_id, r, item.seal, now, item.node_sealed):
                        if item.opening is not None:
                            Openings.insert(conn, uid, item.opening, "issued")
                        results.append(True)
                        continue
                    results.append(
                        False
                        if OutboxTable.holds_same(conn, uid, r)
                        else ConflictError(f"record {uid} was accepted before with different content")
                    )
        except Exception as e:  # the whole commit failed: every waiter learns it
            for _, future in batch:
                if not future.done():
                    future.set_exception(e)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
        self.accepted.set()


@dataclass(frozen=True)
class _Signed:
    """A transaction ready to send: its hash, raw bytes (0x-hex), nonce, the records its input carries
    (``sent_copies``) and their outbox rows."""

    tx_hash: str
    raw: str
    nonce: int
    copies: dict[bytes, list[Copy | None]]
    seqs: list[int]


class Submitter:
    """Sends accepted records to the chain in batches; owns the relayer nonce."""

    def __init__(
        self,
        rpc: RpcClient,
        contracts: Contracts,
        relayer: LocalAccount,
        settings: Settings,
        outbox: Outbox,
        index: IndexTable,
        grouping: GroupSealing | None = None,
    ) -> None:
        self.sealing = grouping  # seals records whose seal was deferred (DEFERRED_SEAL)
        self.grouping = grouping if settings.group_seals else None
        self.index = index  # the indexer's checkpoint, checked against the chain after a resync
        self.rpc = rpc
        self.contracts = contracts
        self.relayer = relayer
        self.settings = settings
        self.outbox = outbox
        self.table = outbox.table
        self.chain_id = contracts.deployment.chain_id if contracts.deployment else settings.chain_id
        self.signer = TransactionSigner(relayer.key, self.chain_id)
        self.nonce: int | None = None
        self.inflight: dict[str, float] = {}  # tx hash -> sent at
        # The records (with seals) of each transaction this submitter signed lately, by its hash, as
        # its input carries them: the indexer takes its own records from here instead of fetching
        # the transaction back or decoding its input (the hash commits to the input, so a log
        # naming this hash names this input; docs/benchmark.md, "Own records not read back").
        self.sent_copies: OrderedDict[str, dict[bytes, list[Copy | None]]] = OrderedDict()
        self._resync = True
        self._swept_at = 0.0
        self.stats = {"txs_sent": 0, "records_sent": 0, "records_failed": 0, "resyncs": 0, "receipts": 0}

    def landed_copies(self, tx_hash: str) -> dict[bytes, list[Copy | None]] | None:
        """The records of a transaction this submitter signed lately, as its input carries them
        (``copies_by_uid``'s answer for that input); None for any other.

        The indexer asks when it reads the transaction's ``RecordAdded`` logs. A transaction with
        logs did not revert, so the receipt tracker forgets it here instead of fetching its
        receipt (a 1,000-record transaction's receipt holds its 1,000 logs again).
        """
        copies = self.sent_copies.get(tx_hash)
        if copies is None:
            return None
        self.inflight.pop(tx_hash, None)
        return copies

    def request_resync(self) -> None:
        """Asks the submitter to re-read the chain (after a reorg or a chain restart)."""
        self._resync = True
        self.outbox.accepted.set()

    async def run(self) -> None:
        """Main loop; never exits on chain errors, only waits and resyncs."""
        tracker = asyncio.create_task(self._track_receipts())
        try:
            while True:
                try:
                    if self._resync:
                        await self.resync()
                    await self._send_some()
                except ChainError as e:
                    log.warning("submitter: chain error, will resync: %s", e.detail)
                    self._resync = True
                    await asyncio.sleep(0.5)
                except Exception:
                    # Anything else must not end the task silently: the API would go on
                    # answering 202 while nothing reaches the chain.
                    log.exception("submitter: unexpected error; resync and retry")
                    self._resync = True
                    await asyncio.sleep(1.0)
        finally:
            tracker.cancel()

    async def resync(self) -> None:
        """Re-reads the confirmed nonce and returns unmined records to the queue."""
        # If the chain went backwards past the index, the indexer must first return the
        # records of the lost blocks to the queue: sending before that could land a status
        # change ahead of the record it changes (refused as unknown, i.e. failed for good).
        await self._await_index_consistent()
        address = self.relayer.address
        latest = await self.rpc.nonce(address, "latest")
        # Let transactions still in the chain's pool mine before deciding what was lost.
        deadline = time.monotonic() + max(3.0, self.settings.block_time * 6)
        while time.monotonic() < deadline:
            pending = await self.rpc.nonce(address, "pending")
            latest = await self.rpc.nonce(address, "latest")
            if pending <= latest:
                break
            await asyncio.sleep(self.settings.block_time / 2)
        hashes = self.table.submitted_transactions()
        lost: list[str] = []
        for tx_hash, receipt in zip(hashes, await self._receipts(hashes), strict=True):
            if receipt is None:
                lost.append(tx_hash)
            elif int(receipt["status"], 16) != 1:
                # Reverted while nobody tracked it (e.g. the node was down): the tracker
                # would have requeued it; without this its rows stayed 'submitted' forever.
                self._requeue_reverted(tx_hash)
        if lost:
            self.table.requeue_lost(lost)
            log.warning("submitter: %d transaction(s) lost by the chain; their records go again", len(lost))
        self.nonce = latest
        self.inflight.clear()
        self._resync = False
        self._swept_at = time.monotonic()
        self.stats["resyncs"] += 1

    async def _receipts(self, hashes: list[str]) -> list[dict[str, Any] | None]:
        """Receipts of many transactions (None if unknown), in batches; ChainError if unreachable."""
        out: list[dict[str, Any] | None] = []
        for i in range(0, len(hashes), 100):
            chunk = hashes[i : i + 100]
            for reply in await self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in chunk]):
                if isinstance(reply, RpcError):
                    raise reply
                out.append(reply if isinstance(reply, dict) else None)
        return out

    async def _await_index_consistent(self, timeout: float = 30.0) -> None:
        """Waits until the indexer's checkpoint block is on the chain (by hash)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            checkpoint = self.index.checkpoint()
            if checkpoint is None or checkpoint[1] is None:
                return
            number, block_hash = checkpoint
            block = await self.rpc.block(number)
            if block is not None and block["hash"] == block_hash:
                return
            await asyncio.sleep(0.1)  # the indexer rewinds within one poll
        log.warning("submitter: the index still disagrees with the chain; sending anyway")

    async def _send_some(self) -> None:
        if len(self.inflight) >= self.settings.max_inflight_txs:
            await asyncio.sleep(self.settings.block_time / 4)
            return
        rows = self._next_rows()
        if not rows:
            self.outbox.accepted.clear()
            # This process's own acceptances wake the submitter at once; gateway workers
            # (other processes) commit to the shared outbox unseen, so with workers the
            # outbox is also looked at every linger period (one indexed query).
            poll = 0.5 if self.settings.workers == 1 else self.settings.batch_linger
            try:
                await asyncio.wait_for(self.outbox.accepted.wait(), timeout=poll)
            except TimeoutError:
                if self.settings.workers == 1:
                    return
            else:
                # Linger a moment so a burst of requests shares one transaction.
                await asyncio.sleep(self.settings.batch_linger)
            rows = self._next_rows()
            if not rows:
                return
        await self._send(rows)

    def _room(self) -> int:
        """Transactions the next send may take: ``sends_per_call``, fewer when fewer may be in flight."""
        return max(1, min(self.settings.sends_per_call, self.settings.max_inflight_txs - len(self.inflight)))

    def _next_rows(self) -> list[Any]:
        return self.table.next_accepted(self.settings.batch_size * self._room())

    async def _send(self, rows: list[Any]) -> None:
        """Signs the rows' transactions (at most ``_room``: a run of pre-sealed rows between
        group-sealed ones is a transaction of its own, so rows may make more than the room; the rest
        stay accepted) and sends them in nonce order, several in each JSON-RPC call, each call's rows
        marked in one commit before it goes. One call and one commit a transaction cost the submitter
        a round trip through a busy event loop each, which bounded bulk writes (docs/benchmark.md,
        "Transactions sent together")."""
        rows = await self._with_deferred_keys(self._without_uncompactable_seals(rows))
        assert self.nonce is not None
        runs = self._runs(rows)[: self._room()]
        signed = [self._signed(run, keys, self.nonce + i) for i, (run, keys) in enumerate(runs)]
        for call in _calls(signed):
            if self._resync:
                return  # one before was refused: these rows were neither marked nor sent
            # Marked first, then sent: a crash between the two leaves rows 'submitted' with
            # transactions the chain never saw, which resync returns to the queue.
            self.table.mark_submitted([(t.tx_hash, t.nonce, t.seqs) for t in call], time.time())
            for t in call:
                self.sent_copies[t.tx_hash] = t.copies
                self.sent_copies.move_to_end(t.tx_hash)  # a transaction signed again is the newest
            while len(self.sent_copies) > SENT_COPIES:
                self.sent_copies.popitem(last=False)
            replies = await self.rpc.batch([("eth_sendRawTransaction", [t.raw]) for t in call])
            now = time.monotonic()
            for t, reply in zip(call, replies, strict=True):
                if isinstance(reply, RpcError):
                    # The call's later transactions went too; they wait behind the missing nonce and
                    # the resync returns their rows to the queue (docs/reliability.md, "send").
                    log.warning("submitter: transaction refused (%s); resync", reply.message)
                    self._resync = True
                    break
                self.inflight[t.tx_hash] = now
                self.nonce += 1
                self.stats["txs_sent"] += 1
                self.stats["records_sent"] += len(t.seqs)

    def _runs(self, rows: list[Any]) -> list[tuple[list[Any], dict[int, LocalAccount] | None]]:
        """The rows cut into consecutive runs, each one transaction, in outbox order: runs of
        rows this node may group-seal (with each organisation's key) and runs of rows that
        keep their own seals (keys None)."""
        runs: list[tuple[list[Any], dict[int, LocalAccount] | None]] = []
        for row in rows:
            key = self._group_key(row)
            last = runs[-1] if runs else None
            if last is not None and len(last[0]) >= self.settings.batch_size:
                last = None  # a transaction holds at most batch_size records
            if key is None:
                if last is not None and last[1] is None:
                    last[0].append(row)
                else:
                    runs.append(([row], None))
                continue
            org = int(row["org_id"])
            if last is None or last[1] is None or (org not in last[1] and len(last[1]) == MAX_GROUPS):
                runs.append(([row], {org: key}))
            else:
                last[0].append(row)
                last[1].setdefault(org, key)
        return runs

    def _group_key(self, row: Any) -> LocalAccount | None:
        if self.grouping is None or not row["node_sealed"]:
            return None
        return self.grouping.key(int(row["org_id"]))

    def _signed(self, rows: list[Any], keys: dict[int, LocalAccount] | None, nonce: int) -> _Signed:
        """One transaction of ``rows`` (group-sealed with ``keys``, or each with its own seal), signed."""
        records = [Record.from_row(r) for r in rows]
        # One record alone travels with its own seal: a group of one would only add the tree.
        if keys is None or self.grouping is None or len(rows) == 1:
            seals = [self._own_seal(r, record) for r, record in zip(rows, records, strict=True)]
            data = self.contracts.submit_batch_data(records, seals)
        else:
            data, seals = self._groups_data(
                records, [int(r["org_id"]) for r in rows], keys, self.grouping.sealer
            )
        gas = min(GAS_PER_TX + GAS_PER_RECORD * len(rows), self.settings.block_gas_limit // 2)
        ledger, body = self.contracts.ledger.address, bytes.fromhex(data[2:])
        # The ledger slots the records read, warm from the start when that saves gas (EIP-2930).
        access = access_list(ledger, records)
        if access is None:
            tx = self.signer.sign(nonce, 0, gas, ledger, 0, body)
        else:
            tx = self.signer.sign_with_access_list(nonce, 0, gas, ledger, 0, body, access)
        copies = sent_copies(records, seals)
        return _Signed(
            "0x" + tx.hash.hex(), "0x" + tx.raw.hex(), nonce, copies, [int(r["seq"]) for r in rows]
        )

    def _groups_data(
        self, records: list[Record], orgs: list[int], keys: dict[int, LocalAccount], sealer: Sealer
    ) -> tuple[str, list[bytes]]:
        """``submitGroups`` calldata: one group per organisation (numbered in order of first
        appearance), its seal over the root of its records in input order, for this relayer; and
        each record's encoded ``GroupProof`` (what the indexer reads back from the input)."""
        number = {org: g for g, org in enumerate(keys)}
        group_of = [number[org] for org in orgs]
        members: list[list[int]] = [[] for _ in keys]
        for i, g in enumerate(group_of):
            members[g].append(i)
        relayer = self.relayer.address
        seals: list[bytes] = []
        proof_of: list[bytes] = [b""] * len(records)
        for org, at in zip(keys, members, strict=True):
            hashes = [struct_hash(records[i]) for i in at]
            tree = tree_of(hashes)
            seal = sealer.seal_group(tree[-1][0], len(hashes), relayer, keys[org])
            seals.append(seal)
            carried = expand_seal(*compact_seal(seal))  # as the indexer reads it from the input
            for i, proof in zip(at, encoded_proofs(tree, hashes, carried, relayer), strict=True):
                proof_of[i] = proof
        return self.contracts.submit_groups_data(records, group_of, seals), proof_of

    def _own_seal(self, row: Any, record: Record) -> bytes:
        """A row's seal: the one it was accepted with, or, deferred, this node's seal made now (its
        key unlocked by ``_with_deferred_keys``; RFC 6979, so a resend carries the same seal)."""
        if not _deferred(row):
            return bytes(row["seal"])
        assert self.sealing is not None  # a deferred row is failed when there is none
        key = self.sealing.key(int(row["org_id"]))
        assert key is not None  # unlocked by _with_deferred_keys, or the row was failed
        return self.sealing.sealer.seal(record, key)

    async def _with_deferred_keys(self, rows: list[Any]) -> list[Any]:
        """The rows, each deferred seal's key unlocked in this process (the writer that accepted the
        row may have run in a worker); fails a deferred row whose organisation's key this node does
        not hold (any more) instead of letting it stall every batch."""
        deferred = [r for r in rows if _deferred(r)]
        keys = self.sealing.key if self.sealing is not None else lambda org: None
        missing = {int(r["org_id"]) for r in deferred if keys(int(r["org_id"])) is None}
        if not missing:
            return rows
        why: dict[int, str] = {}
        for org in missing:
            try:
                if self.sealing is not None and await asyncio.to_thread(self.sealing.load, org) is not None:
                    continue
                why[org] = f"this node holds no seal key of organisation {org} to seal it"
            except ProjchainError as e:  # a key file that cannot be unlocked: no retry mends it
                why[org] = f"the seal key of organisation {org} cannot be unlocked: {e.detail}"
        bad = [
            (f"seal refused: {why[int(r['org_id'])]}", r["seq"]) for r in deferred if int(r["org_id"]) in why
        ]
        return self._fail(rows, bad)

    def _fail(self, rows: list[Any], bad: list[tuple[str, int]]) -> list[Any]:
        """``rows`` less those of ``bad`` (reason, seq), which fail for good."""
        if not bad:
            return rows
        self.table.fail_accepted(bad)
        self.stats["records_failed"] += len(bad)
        failed = {seq for _, seq in bad}
        return [r for r in rows if r["seq"] not in failed]

    def _without_uncompactable_seals(self, rows: list[Any]) -> list[Any]:
        """Fails rows whose seal has no compact (EIP-2098) form instead of letting them stall every batch.

        The writer accepts only 65-byte low-s seals, which always convert; this guards the queue.
        """
        bad: list[tuple[str, int]] = []
        for r in rows:
            if _deferred(r):
                continue  # sealed when sent
            try:
                compact_seal(bytes(r["seal"]))
            except ValueError as e:
                bad.append((f"seal refused: {e}", r["seq"]))
        return self._fail(rows, bad)

    async def _track_receipts(self) -> None:
        while True:
            await asyncio.sleep(max(0.1, self.settings.block_time / 2))
            try:
                await self._track_once()
            except Exception:
                log.exception("submitter: receipt tracking failed; resync")
                self._resync = True

    async def _track_once(self) -> None:
        if time.monotonic() - self._swept_at > self.settings.resubmit_after / 2:
            await self._sweep()
        if not self.inflight:
            return
        # A young transaction is left to the indexer (``landed_copies``): only one it has not
        # read after two blocks' time (reverted, still waiting, or lost) costs a receipt.
        young = time.monotonic() - 2 * self.settings.block_time
        hashes = [h for h, sent_at in self.inflight.items() if sent_at <= young]
        if not hashes:
            return
        self.stats["receipts"] += len(hashes)
        try:
            receipts = await self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        except ChainError:
            self._resync = True
            return
        now = time.monotonic()
        for tx_hash, receipt in zip(hashes, receipts, strict=True):
            if isinstance(receipt, dict):
                self.inflight.pop(tx_hash, None)
                if int(receipt["status"], 16) != 1:
                    self._requeue_reverted(tx_hash)
            elif now - self.inflight.get(tx_hash, now) > self.settings.resubmit_after:
                log.warning("submitter: %s: no receipt in %.0f s", tx_hash, now - self.inflight[tx_hash])
                self._resync = True

    async def _sweep(self) -> None:
        """Finds records left 'submitted' whose transaction the chain no longer knows.

        The tracker forgets a transaction once it has a receipt; if the chain then loses
        that block (anvil restarted from an older state) before the indexer confirmed
        the records, and the index itself was not affected, nothing else would notice:
        the records stayed 'submitted' forever.
        """
        self._swept_at = time.monotonic()
        cutoff = time.time() - self.settings.resubmit_after
        hashes = [h for h in self.table.submitted_transactions(before=cutoff) if h not in self.inflight]
        if not hashes:
            return
        try:
            receipts = await self._receipts(hashes)
        except ChainError:
            self._resync = True
            return
        if any(r is None or int(r["status"], 16) != 1 for r in receipts):
            log.warning("submitter: submitted records without a transaction on chain; resync")
            self._resync = True
            self.outbox.accepted.set()

    def _requeue_reverted(self, tx_hash: str) -> None:
        # A whole-transaction revert (e.g. relayer suspended) fails records after 3 tries.
        self.stats["records_failed"] += self.table.requeue_reverted(tx_hash)
        self.outbox.accepted.set()


def _calls(signed: list[_Signed]) -> list[list[_Signed]]:
    """Consecutive transactions cut into JSON-RPC calls of at most ``SEND_CALL_BYTES`` (one larger
    transaction goes alone): anvil refuses a request body over 2 MiB, geth one over 5 MB."""
    calls: list[list[_Signed]] = []
    size = 0
    for t in signed:
        if calls and size + len(t.raw) <= SEND_CALL_BYTES:
            calls[-1].append(t)
            size += len(t.raw)
        else:
            calls.append([t])
            size = len(t.raw)
    return calls


def _deferred(row: Any) -> bool:
    """Whether an outbox row's seal is left to the submitter (``DEFERRED_SEAL``)."""
    return bytes(row["seal"]) == DEFERRED_SEAL
