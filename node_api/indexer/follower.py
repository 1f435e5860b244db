"""The indexer: follows contract events from a checkpoint (block number + hash).

``RecordAdded`` names an accepted record (uid, project); the record's content and seal are
read from the transaction that carried it (for a record of a ``submitGroups`` group, its seal
is its group's and its path to the group's root, recomputed from the input as the ledger did:
``node_api.chain.group``) — the node's own transactions from the input it signed
(``sent_copies``: the records the submitter put in it, not read back), others by one batched ``eth_getTransactionByHash`` per step for the distinct
transactions, each input decoded once — so records sent by any node are indexed alike. The
rest follows from that copy: the issuer is the uid's first four bytes (the ledger accepts no
other), the sealer the key its seal or its group's seal recovers (as the ledger did; a group's
recovered once, ``node_api.chain.seal``), the record hash its EIP-712 hash. The index holds
exactly what the contract accepted (ARCHITECTURE principle 8): of the copies a crafted input
may carry under one uid, only the k-th is taken when the ``RecordAdded`` is the k-th of the
ledger's ``RecordAdded`` / ``RecordRejected`` logs naming that uid in the transaction
(``CopyCounter``: the ledger answers every record of an input in order, with exactly one of
them), and only if it is of the project the log names; a record whose content is missing or
does not decode is kept as unreadable, never fatal. Grants are indexed from the contract's own
``entry(uid)``, and an outbox row is confirmed only when the chain holds that row's
content from that issuer.

It backfills from its checkpoint on start, checks at every step that the
checkpoint block is still on the chain (by hash, not number), and when the chain
went backwards (a reorganisation, or an anvil restarted from an older state) it
finds the last common block, records the lost blocks as orphaned — nothing is
deleted — and hands the records they held back to the pipeline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from node_api.chain.contracts import Contracts, Copy, CopyCounter, accepted_copy
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import Sealer
from node_api.domain.records import Kind, PayloadError, Record, decode_payload, key_text
from node_api.errors import ChainError
from node_api.store.database import Database
from node_api.store.index import IndexTable, IndexWriter, Where
from node_api.store.outbox import OutboxTable
from node_api.store.search_rows import SearchWriter

log = logging.getLogger("projchain.indexer")

MAX_RANGE = 2000
TX_BATCH = 100  # eth_getTransactionByHash calls per JSON-RPC batch
REWIND_CHUNK = 100  # indexed blocks compared with the chain per JSON-RPC batch while rewinding


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)


class Indexer:
    """Builds the read model from RecordAdded / StatusChanged / RecordRejected and membership events."""

    def __init__(
        self,
        db: Database,
        index: IndexTable,
        rpc: RpcClient,
        contracts: Contracts,
        poll: float = 0.1,
        on_confirmed: Callable[[list[str]], None] | None = None,
        on_rewind: Callable[[], None] | None = None,
        sent_copies: Callable[[str], dict[bytes, list[Copy | None]] | None] | None = None,
    ) -> None:
        assert contracts.deployment is not None
        self.db = db  # for its transactions; the statements are IndexWriter's
        self.index = index
        self.rpc = rpc
        self.contracts = contracts
        self.deployment = contracts.deployment
        self.poll = poll
        self.on_confirmed = on_confirmed or (lambda uids: None)
        self.on_rewind = on_rewind or (lambda: None)
        # The records of a transaction this node's submitter signed, as its input carries them
        # (None: fetch the transaction and read its input).
        self.sent_copies = sent_copies or (lambda tx_hash: None)
        self.head = 0
        self.rewinds = 0
        # Transactions whose records were read: from this node's submitter (own) or fetched back.
        self.stats = {"records_confirmed": 0, "records_failed": 0, "txs_own": 0, "txs_fetched": 0}
        self.updated = asyncio.Event()
        self.sealer = Sealer(self.deployment.chain_id, self.deployment.ledger)
        self._search_checked = False
        self._touched: set[str] = set()  # projects whose search row this step re-derives
        self._decoded: dict[str, dict[str, Any]] = {}  # registrations decoded in this step, by uid
        self._landed: list[tuple[str, Record | None]] = []  # outbox rows to settle, in chain order
        self._rows: list[Any] = []  # chain_records rows not yet written, in chain order
        self._digests: list[tuple[str, str, str, str]] = []  # their chain_record_digests rows
        self._approvals: list[tuple[str, str, dict[str, Any]]] = []  # their approvals, for the search rows

    def checkpoint(self) -> tuple[int, str | None]:
        """The last block fully indexed, and its hash."""
        checkpoint = self.index.checkpoint()
        return (self.deployment.block - 1, None) if checkpoint is None else checkpoint

    @property
    def lag(self) -> int:
        """Blocks the chain is ahead of the index."""
        return max(0, self.head - self.checkpoint()[0])

    async def run(self) -> None:
        """Follows the chain forever; chain errors only delay it."""
        while True:
            try:
                progressed = await self.step()
            except ChainError as e:
                log.warning("indexer: chain error: %s", e.detail)
                await asyncio.sleep(0.5)
                continue
            except Exception:
                # A bug or a log we cannot decode must not stop the index (and with it
                # confirmations and reads) without a trace; log it and try again.
                log.exception("indexer: unexpected error")
                await asyncio.sleep(1.0)
                continue
            if not progressed:
                await asyncio.sleep(self.poll)

    async def step(self) -> bool:
        """Indexes one range of blocks; True if it made progress."""
        if not self._search_checked:
            self._check_search()
        head = await self.rpc.block_number()
        if head < self.head:
            # The chain went backwards. If the index is beyond the new head, the hash check
            # below rewinds it; if not, transactions mined after the restored state are
            # gone all the same and the submitter must re-read nonces and receipts now.
            log.warning("indexer: chain head went back from %d to %d", self.head, head)
            self.on_rewind()
        self.head = head
        number, block_hash = self.checkpoint()
        if block_hash is not None:
            current = await self.rpc.block(number)
            if current is None or current["hash"] != block_hash:
                await self.rewind()
                return True
        if self.head <= number:
            return False
        to = min(self.head, number + MAX_RANGE)
        logs = await self.rpc.logs([self.deployment.consortium, self.deployment.ledger], number + 1, to)
        block_numbers = sorted({int(lg["blockNumber"], 16) for lg in logs} | {to})
        headers = await self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in block_numbers])
        blocks: dict[int, dict[str, Any]] = {}
        for n, header in zip(block_numbers, headers, strict=True):
            if not isinstance(header, dict):
                return False  # the chain moved under us; try again
            blocks[n] = header
        if any(blocks[int(lg["blockNumber"], 16)]["hash"] != lg["blockHash"] for lg in logs):
            return False  # logs and headers from different forks: retry next round
        carried = await self._carried(logs)
        if carried is None:
            return False  # a transaction moved (reorganisation): retry next round
        grants = await self._grant_entries(carried, to)
        if grants is None:
            return False
        confirmed = self._store(logs, blocks, to, carried, grants)
        if confirmed:
            self.on_confirmed(confirmed)
        self.updated.set()
        self.updated.clear()
        return True

    def _check_search(self) -> None:
        """Rebuilds the search read model once if it was derived by other rules (or never)."""
        with self.db.transaction() as conn:
            if not SearchWriter.current(conn):
                log.info("indexer: deriving the search tables from the ledger")
                SearchWriter.rebuild(conn)
        self._search_checked = True

    async def _carried(self, logs: list[dict[str, Any]]) -> dict[str, dict[bytes, list[Copy | None]]] | None:
        """The records (with seals) of each transaction holding a RecordAdded log, by tx hash then uid
        (every copy of a uid, in input order: ``copies_by_uid``).

        None when a transaction is gone or sits in another block than its log says.
        """
        topic = self.contracts.event_topic("RecordAdded")
        hashes = sorted({lg["transactionHash"] for lg in logs if lg["topics"] and lg["topics"][0] == topic})
        out: dict[str, dict[bytes, list[Copy | None]]] = {}
        where = {lg["transactionHash"]: str(lg["blockHash"]).lower() for lg in logs}
        ledger = self.deployment.ledger.lower()
        fetch: list[str] = []
        for tx_hash in hashes:
            # The node's own transactions: the records of the input it signed (a transaction hash
            # commits to its input; the log's block was checked against the headers above).
            sent = self.sent_copies(tx_hash)
            if sent is None:
                fetch.append(tx_hash)
            else:
                out[tx_hash] = sent
                self.stats["txs_own"] += 1
        self.stats["txs_fetched"] += len(fetch)
        for i in range(0, len(fetch), TX_BATCH):
            chunk = fetch[i : i + TX_BATCH]
            replies = await self.rpc.batch([("eth_getTransactionByHash", [h]) for h in chunk])
            for tx_hash, tx in zip(chunk, replies, strict=True):
                if not isinstance(tx, dict) or str(tx.get("blockHash")).lower() != where[tx_hash]:
                    return None
                # Relayers call the ledger directly (a relayer is an account, not a contract).
                direct = str(tx.get("to")).lower() == ledger
                out[tx_hash] = self.contracts.carried_records(tx["input"], tx.get("from")) if direct else {}
        return out

    async def _grant_entries(
        self, carried: dict[str, dict[bytes, list[Copy | None]]], to: int
    ) -> dict[str, tuple[int, int, int]] | None:
        """The contract's own entry (grantee, scope, expiry) of every accepted grant among ``carried``.

        Asked only for uids of which the inputs carry a grant (one ``eth_call`` each, so the bulk
        path of other kinds pays nothing), read at block ``to`` with ``entry(uid)`` (kind,
        subject, level and expiry never change once written); only uids whose entry is a grant
        are kept. None when the chain moved.
        """
        uids = sorted(
            {_hex(uid) for by_uid in carried.values() for uid, copies in by_uid.items()
             if any(copy is not None and copy[0].kind == Kind.GRANT for copy in copies)}
        )  # fmt: skip
        if not uids:
            return {}
        ledger = self.contracts.ledger
        replies = await self.rpc.batch(
            [
                ("eth_call", [{"to": ledger.address, "data": ledger.encode_abi("entry", [u])}, hex(to)])
                for u in uids
            ]
        )
        out: dict[str, tuple[int, int, int]] = {}
        for uid, raw in zip(uids, replies, strict=True):
            if not isinstance(raw, str):
                return None
            entry = self.contracts.decode_entry(raw)
            if entry["kind"] == Kind.GRANT:
                out[uid] = (entry["subject"], entry["level"], entry["expiresAt"])
        return out

    def _store(
        self,
        logs: list[dict[str, Any]],
        blocks: dict[int, dict[str, Any]],
        to: int,
        carried: dict[str, dict[bytes, list[Copy | None]]],
        grants: dict[str, tuple[int, int, int]],
    ) -> list[str]:
        confirmed: list[str] = []
        now = time.time()
        self._touched, self._decoded, self._landed, self._rows, self._digests = set(), {}, [], [], []
        self._approvals = []
        with self.db.transaction() as conn:
            for n, header in blocks.items():
                IndexWriter.add_block(conn, n, header["hash"], int(header["timestamp"], 16), now)
            copies_named = CopyCounter(self.deployment.ledger)
            for lg in logs:
                copy = copies_named.copy_of(lg)
                decoded = self.contracts.decode_log(lg)
                if decoded is None:
                    continue
                name, args = decoded
                where: Where = (
                    int(lg["blockNumber"], 16),
                    lg["blockHash"],
                    lg["transactionHash"],
                    int(lg["logIndex"], 16),
                )
                if name == "RecordAdded":
                    copies = carried[where[2]].get(bytes(args["uid"]), [])
                    content = accepted_copy(copies, copy, bytes(args["project"]))
                    self._record_added(conn, args, content, where, grants)
                    continue
                # Every other log may read the records before it: write and settle them first.
                confirmed += self._flush(conn)
                if name == "StatusChanged":
                    IndexWriter.add_status(
                        conn, _hex(args["uid"]), int(args["status"]), _hex(args["cause"]), where
                    )
                    changed = SearchWriter.changed(conn, _hex(args["uid"]))
                    if changed is not None:
                        self._touched.add(changed)
                elif name == "RecordRejected":
                    self._record_rejected(conn, args, where)
                else:
                    member_args = json.dumps(
                        {k: _hex(v) if isinstance(v, bytes) else v for k, v in args.items()}
                    )
                    IndexWriter.add_member_event(conn, name, member_args, where)
            confirmed += self._flush(conn)
            for project in self._touched:
                SearchWriter.refresh(conn, project, self._decoded)
            IndexWriter.set_checkpoint(conn, to, blocks[to]["hash"])
        return confirmed

    def _record_added(
        self,
        conn: Any,
        args: dict[str, Any],
        content: tuple[Record, bytes] | None,
        where: Where,
        grants: dict[str, tuple[int, int, int]],
    ) -> None:
        """Indexes one accepted record; its outbox row (if any) settles with the step's others.

        Its issuer is the uid's namespace (the ledger checked that it is the sealer's organisation);
        its sealer and record hash come from the accepted copy (its seal, or its group's)."""
        uid, issuer = _hex(args["uid"]), int.from_bytes(bytes(args["uid"])[:4], "big")
        if content is None:
            # Accepted on chain, content not in its transaction's input (only possible through
            # a call this indexer cannot read): kept as unreadable, never guessed; so is its sealer.
            zero = _hex(b"\0" * 32)
            self._rows.append(
                (uid, 0, _hex(args["project"]), zero, issuer, "0x" + "00" * 20, zero, b"", b"",
                 *where, zero, "the record's content is not in its transaction's input")
            )  # fmt: skip
            self._landed.append((uid, None))
            return
        record, seal = content
        record_hash = _hex(self.sealer.digest(record))
        digest = _hex(record.digest)
        fields: dict[str, Any] | None
        try:
            fields = decode_payload(record.kind, record.payload)
            problem = None
        except PayloadError as e:
            fields, problem = None, str(e)
        self._rows.append(
            (uid, int(record.kind), _hex(record.project), _hex(record.ref), issuer,
             self.sealer.signer(record, seal), digest, record.payload, seal, *where, record_hash, problem)
        )  # fmt: skip
        if any(record.digest):
            self._digests.append((digest, uid, where[1], "digest"))
        if record.kind == Kind.EVENT and fields is not None:
            self._digests += [(d, uid, where[1], "evidence") for d in fields["evidence"]]
        if record.kind == Kind.PROJECT and fields is not None:
            code = key_text(fields, "code")  # a code read with U+FFFD is not the key on chain
            if code is not None:
                IndexWriter.add_project(conn, _hex(record.project), code)
            self._touched.add(_hex(record.project))
            self._decoded[uid] = fields
        elif record.kind == Kind.APPROVAL and fields is not None:
            self._approvals.append((uid, _hex(record.project), fields))
        grant = grants.get(uid)
        if record.kind == Kind.GRANT and grant is not None:
            IndexWriter.add_grant(conn, uid, where[1], _hex(record.project), grant)
        self._landed.append((uid, record))

    def _flush(self, conn: Any) -> list[str]:
        """Writes the rows of the records indexed since the last call (one statement per table) and
        settles their outbox rows; the uids that settled."""
        if not self._landed:
            return []
        IndexWriter.add_records(conn, self._rows)
        IndexWriter.add_digests(conn, self._digests)
        SearchWriter.reach(conn, self._approvals)
        self._rows, self._digests, self._approvals = [], [], []
        settled, confirmed, failed = OutboxTable.settle_many(conn, self._landed)
        self._landed = []
        self.stats["records_confirmed"] += confirmed
        self.stats["records_failed"] += failed
        return settled

    def _settle_outbox(self, conn: Any, uid: str, record: Record | None = None) -> list[str]:
        confirmed, failed = OutboxTable.settle(conn, uid, record)
        self.stats["records_confirmed"] += confirmed
        self.stats["records_failed"] += failed
        return [uid] if confirmed or failed else []

    def _record_rejected(self, conn: Any, args: dict[str, Any], where: Where) -> None:
        uid = _hex(args["uid"])
        decoded = self.contracts.decode_revert(bytes(args["reason"]))
        reason = decoded.describe() if decoded else "0x" + bytes(args["reason"]).hex()
        IndexWriter.add_rejection(conn, uid, reason, where)
        if decoded is not None and decoded.name == "LedgerDuplicateRecord":
            # A re-sent record that had landed already: the first inclusion stands — if it is
            # this row's content. A different record under the uid fails this row.
            row = IndexWriter.landed(conn, uid)
            landed = None if row is None else Record.from_row({**dict(row), "uid": uid})
            if landed is not None or OutboxTable.submitted_in(conn, uid, where[2]):
                self._settle_outbox(conn, uid, landed)
            return
        self.stats["records_failed"] += OutboxTable.fail_submitted(conn, uid, where[2], reason)

    async def rewind(self) -> None:
        """Finds the last block still on the chain; orphans the ones after it."""
        base_number, base_hash = self.deployment.block - 1, None
        below = 2**62
        while chunk := self.index.live_blocks_below(below, REWIND_CHUNK):
            below = chunk[-1]["number"]
            headers = await self.rpc.batch(
                [("eth_getBlockByNumber", [hex(r["number"]), False]) for r in chunk]
            )
            match = next(
                (
                    r
                    for r, h in zip(chunk, headers, strict=True)
                    if isinstance(h, dict) and h["hash"] == r["hash"]
                ),
                None,
            )
            if match is not None:
                base_number, base_hash = match["number"], match["hash"]
                break
        now = time.time()
        with self.db.transaction() as conn:
            IndexWriter.orphan_blocks_after(conn, base_number, now)
            OutboxTable.requeue_orphaned(conn)
            SearchWriter.refresh_after(conn, base_number)
            if base_hash is None:
                IndexWriter.clear_checkpoint(conn)
            else:
                IndexWriter.set_checkpoint(conn, base_number, base_hash)
        self.rewinds += 1
        log.warning("indexer: chain went backwards; re-indexing from block %d", base_number + 1)
        self.on_rewind()
