"""The access-log anchorer: the log as an RFC 6962 Merkle tree whose roots are anchored on chain.

Every restricted read is a row of ``access_log`` (see ``ledger/access.py``); its
``leaf_hash`` is the RFC 6962 leaf hash of the entry's canonical JSON, and the rows
in ``seq`` order are the leaves of one append-only Merkle log. The anchorer keeps
that log in memory and, when ``anchor_every`` entries are unanchored or the oldest
unanchored one is ``anchor_interval`` seconds old, writes an ANCHOR record
``(tree_size, root)`` sealed by the node operator's organisation. An anchor counts
(``access_anchors``) only once its record is confirmed on chain with that root.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import time
from dataclasses import dataclass, field, replace

from eth_account.signers.local import LocalAccount

from node_api.chain.keystore import KeyStore
from node_api.chain.pipeline import Outbox, OutboxItem
from node_api.chain.seal import Sealer
from node_api.config import Settings
from node_api.domain.records import ZERO32, Kind, Record, decode_payload, encode_payload
from node_api.errors import ConflictError, ProjchainError
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.membership import Membership
from node_api.ledger.reader import Reader
from node_api.ledger.writer import seal_key_name
from node_api.store.access_log import AccessLogTable
from node_api.store.index import IndexTable
from node_api.store.outbox import OutboxState
from node_api.verify.accesslog import Anchor, anchor_due, anchor_uid
from node_api.verify.merkle import MerkleLog

log = logging.getLogger("projchain.accesslog")


@dataclass(frozen=True)
class AnchorState:
    """The outcome of an anchoring request: the anchored size and whether it is on chain yet."""

    tree_size: int
    root: str
    uid: str
    state: str  # confirmed | pending | failed


def _api_state(outbox_state: str) -> str:
    return outbox_state if outbox_state in (OutboxState.CONFIRMED, OutboxState.FAILED) else "pending"


@dataclass
class AccessLogAnchorer:
    """Keeps the access log's Merkle tree and anchors its root on chain by count or time."""

    settings: Settings
    log_table: AccessLogTable
    index: IndexTable
    reader: Reader
    membership: Membership
    outbox: Outbox
    confirmations: Confirmations
    keystore: KeyStore
    sealer: Sealer
    relayer: LocalAccount
    tree: MerkleLog = field(init=False, default_factory=MerkleLog)
    _seqs: list[int] = field(init=False, default_factory=list)  # access-log seq of each leaf
    _times: list[float] = field(init=False, default_factory=list)  # when each leaf was logged
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _loaded: bool = field(init=False, default=False)
    _last: AnchorState | None = field(init=False, default=None)  # the latest anchor written (not failed)
    # uid -> tree size, written but not yet in access_anchors
    _unconfirmed: dict[str, int] = field(init=False, default_factory=dict)
    _failed_size: int = field(init=False, default=-1)
    _warned_at: float = field(init=False, default=-60.0)
    _anchors: tuple[tuple[int, int], list[Anchor]] = field(init=False, default=((-1, -1), []))

    # -- the log -------------------------------------------------------------------
    def sync(self) -> int:
        """Appends access-log rows written since the last call; returns the tree size."""
        last = self._seqs[-1] if self._seqs else 0
        for row in self.log_table.leaves_after(last):
            self.tree.append(bytes.fromhex(str(row["leaf_hash"]).removeprefix("0x")))
            self._seqs.append(int(row["seq"]))
            self._times.append(float(row["at"]))
        return self.tree.size

    def index_of(self, seq: int) -> int:
        """Leaf index of the access-log row ``seq`` (rows are leaves in seq order)."""
        pos = bisect.bisect_left(self._seqs, seq)
        if pos == len(self._seqs) or self._seqs[pos] != seq:
            raise LookupError(f"access-log row {seq} is not in the tree yet")
        return pos

    def seq_before(self, index: int) -> int:
        """The seq of the row just before leaf ``index`` (0 before the first): where a page starts."""
        if index <= 0 or not self._seqs:
            return 0
        return self._seqs[min(index, len(self._seqs)) - 1]

    def anchors(self) -> list[Anchor]:
        """Anchors confirmed on chain and still canonical, smallest tree first."""
        key = self.log_table.anchors_version()
        if key != self._anchors[0]:
            rows = self.log_table.confirmed_anchors()
            anchors = [Anchor(int(r["tree_size"]), str(r["root"]), str(r["uid"]), str(r["tx_hash"]),
                              int(r["block_number"])) for r in rows]  # fmt: skip
            self._anchors = (key, anchors)
        return self._anchors[1]

    # -- anchoring -----------------------------------------------------------------
    async def run(self) -> None:
        """Background loop: sync the tree, record confirmed anchors, anchor when due."""
        period = max(0.05, min(1.0, self.settings.anchor_interval / 4))
        while True:
            try:
                await self.step()
            except ProjchainError as e:
                # Say it once a minute, not every round (e.g. while no organisation is admitted).
                if time.monotonic() - self._warned_at > 60:
                    log.warning("anchorer: %s", e.detail)
                    self._warned_at = time.monotonic()
            await asyncio.sleep(period)

    async def step(self) -> None:
        """One round: record confirmations, then anchor if due by count or time."""
        size = self.sync()
        self._load()
        self.reconcile()
        if self._pending() is not None:
            return  # one anchor in flight at a time keeps anchors in tree order
        anchored = self._last.tree_size if self._last else 0
        if anchored > size:
            return  # fewer entries than were anchored: _load reported it
        unanchored = size - anchored
        oldest_age = time.time() - self._times[anchored] if unanchored > 0 else 0.0
        s = self.settings
        if size > self._failed_size and anchor_due(unanchored, oldest_age, s.anchor_every, s.anchor_interval):
            await self.anchor()

    def _load(self) -> None:
        """Once: the anchors written before this start, and a check that the log still matches them."""
        if self._loaded:
            return
        self._loaded = True
        stored = self.log_table.anchor_uids()
        for row in self.outbox.table.rows_of_kind(Kind.ANCHOR):
            size = int(decode_payload(Kind.ANCHOR, bytes(row["payload"]))["tree_size"])
            self._last = AnchorState(size, str(row["digest"]), str(row["uid"]), _api_state(str(row["state"])))
            if row["uid"] not in stored:
                self._unconfirmed[str(row["uid"])] = size
        for a in self.anchors():
            if a.tree_size > self.tree.size or "0x" + self.tree.root(a.tree_size).hex() != a.root:
                log.error("anchorer: the access log no longer matches anchor %s of %d entries (tampering?)",
                          a.uid, a.tree_size)  # fmt: skip

    def reconcile(self) -> None:
        """Records anchors whose record is now confirmed on chain with the root we computed."""
        for uid, size in list(self._unconfirmed.items()):
            if self.outbox.table.state(uid) == OutboxState.FAILED:
                log.warning("anchorer: the anchor of %d entries was refused on chain", size)
                del self._unconfirmed[uid]
                self._failed_size = max(self._failed_size, size)
                if self._last is not None and self._last.uid == uid:
                    self._last = None  # re-anchor from the last good one once the log grows
                    last = self.log_table.largest_anchor()
                    if last is not None:
                        self._last = AnchorState(int(last[0]), str(last[1]), str(last[2]), "confirmed")
                continue
            row = self.reader.chain_row(uid)
            if row is None:
                continue
            del self._unconfirmed[uid]
            if size > self.tree.size or "0x" + self.tree.root(size).hex() != row["digest"]:
                log.error("anchorer: anchor %s does not match the access log of %d entries", uid, size)
                continue
            self.log_table.record_anchor(size, str(row["digest"]), uid)
            if self._last is not None and self._last.uid == uid:
                self._last = replace(self._last, state="confirmed")

    async def anchor(self) -> AnchorState | None:
        """Anchors the current tree (if it grew since the last anchor); None when nothing to do."""
        async with self._lock:
            size = self.sync()
            self._load()
            if size == 0 or size <= (self._last.tree_size if self._last else 0):
                return None
            org_id = self.operator_org()
            if org_id is None:
                raise ConflictError(
                    "this node holds no active seal key of a member organisation to anchor with"
                )
            root = self.tree.root(size)
            record = Record(
                uid=anchor_uid(org_id, size, root), kind=Kind.ANCHOR, project=ZERO32, ref=ZERO32,
                digest=root, payload=encode_payload(Kind.ANCHOR, {"tree_size": size}),
            )  # fmt: skip
            key = await asyncio.to_thread(self.keystore.load, seal_key_name(org_id))
            await self.outbox.accept(
                OutboxItem(record, self.sealer.seal(record, key), org_id, node_sealed=True)
            )
            uid = "0x" + record.uid.hex()
            self._unconfirmed[uid] = size
            self._last = AnchorState(size, "0x" + root.hex(), uid, "pending")
            log.info("anchorer: anchoring %d entries, root %s", size, root.hex())
            return self._last

    async def anchor_now(self, timeout: float) -> AnchorState | None:
        """Anchors now and waits for the chain; the latest anchor if nothing is new; None if empty."""
        self.sync()
        self._load()
        pending = self._pending()
        if pending is not None:
            await self.confirmations.wait_for(pending, timeout)
        if await self.anchor() is None and self._last is None:
            return None
        assert self._last is not None
        state = await self.confirmations.wait_for(self._last.uid, timeout)
        self.reconcile()
        return replace(self._last, state=_api_state(state))

    def operator_org(self) -> int | None:
        """The organisation that runs this node: the one whose relayer is ours and whose seal key we hold."""
        relayers: dict[str, int] = {}
        for row in self.index.relayer_events():
            a = json.loads(row["args"])
            if row["name"] == "RelayerAdded":
                relayers[str(a["relayer"]).lower()] = int(a["org"])
            else:
                relayers.pop(str(a["relayer"]).lower(), None)
        ours = relayers.get(self.relayer.address.lower())
        candidates = [ours] if ours is not None else []
        candidates += sorted(o.id for o in self.membership.all() if o.id != ours)
        return next((org_id for org_id in candidates if self._can_seal(org_id)), None)

    def _can_seal(self, org_id: int) -> bool:
        name = seal_key_name(org_id)
        if not self.keystore.exists(name):
            return False
        return self.membership.active_seal_key(org_id, self.keystore.address(name))

    def _pending(self) -> str | None:
        for uid in self._unconfirmed:
            if self.outbox.table.state(uid) in (OutboxState.ACCEPTED, OutboxState.SUBMITTED):
                return uid
        return None
