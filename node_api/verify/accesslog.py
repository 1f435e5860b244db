"""The access log as an RFC 6962 Merkle log whose roots are anchored on chain.

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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from node_api.chain.pipeline import OutboxItem
from node_api.domain.records import ZERO32, Kind, Record, decode_payload, derive_uid, encode_payload
from node_api.errors import ConflictError, ProjchainError
from node_api.ledger.writer import seal_key_name
from node_api.store.database import CANONICAL
from node_api.verify.merkle import MerkleLog

if TYPE_CHECKING:
    from node_api.node import Node

log = logging.getLogger("projchain.accesslog")


@dataclass(frozen=True)
class Anchor:
    """A root of the access log confirmed on chain."""

    tree_size: int
    root: str
    uid: str
    tx_hash: str
    block_number: int

    def as_json(self) -> dict[str, Any]:
        """The anchor as the API shows it."""
        return {"tree_size": self.tree_size, "root": self.root, "uid": self.uid,
                "tx_hash": self.tx_hash, "block_number": self.block_number}  # fmt: skip


@dataclass(frozen=True)
class AnchorState:
    """The outcome of an anchoring request: the anchored size and whether it is on chain yet."""

    tree_size: int
    root: str
    uid: str
    state: str  # confirmed | pending | failed


def anchor_due(unanchored: int, oldest_age: float, every: int, interval: float) -> bool:
    """Whether the log should be anchored now: by count, or by the age of its oldest unanchored entry."""
    return unanchored > 0 and (unanchored >= every or oldest_age >= interval)


def covering_anchor(index: int, sizes: list[int]) -> int | None:
    """Position in ``sizes`` (ascending) of the smallest anchored tree that includes leaf ``index``."""
    pos = bisect.bisect_right(sizes, index)
    return pos if pos < len(sizes) else None


def _api_state(outbox_state: str) -> str:
    return outbox_state if outbox_state in ("confirmed", "failed") else "pending"


def anchor_uid(org_id: int, tree_size: int, root: bytes) -> bytes:
    """uid of the anchor of (tree_size, root) by an organisation: the same anchor is one record."""
    return derive_uid(org_id, Kind.ANCHOR, b"anchor:" + tree_size.to_bytes(8, "big") + root)


class AccessLogAnchorer:
    """Keeps the access log's Merkle tree and anchors its root on chain by count or time."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.tree = MerkleLog()
        self._seqs: list[int] = []
        self._times: list[float] = []
        self._lock = asyncio.Lock()
        self._loaded = False
        self._last: AnchorState | None = None  # the latest anchor written (not failed)
        self._unconfirmed: dict[str, int] = {}  # uid -> tree size, written but not yet in access_anchors
        self._failed_size = -1
        self._warned_at = -60.0
        self._anchors: tuple[tuple[int, int], list[Anchor]] = ((-1, -1), [])

    # -- the log -------------------------------------------------------------------
    def sync(self) -> int:
        """Appends access-log rows written since the last call; returns the tree size."""
        last = self._seqs[-1] if self._seqs else 0
        rows = self.node.db.all(
            "SELECT seq, at, leaf_hash FROM access_log WHERE seq > ? ORDER BY seq", (last,)
        )
        for row in rows:
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
        db = self.node.db
        key = (
            int(db.scalar("SELECT count(*) FROM access_anchors")),
            int(db.scalar("SELECT count(*) FROM chain_orphans")),
        )
        if key != self._anchors[0]:
            rows = db.all(
                f"SELECT a.tree_size, a.root, a.uid, min(r.block_number) AS block_number, r.tx_hash "
                f"FROM access_anchors a JOIN chain_records r ON r.uid = a.uid AND r.digest = a.root "
                f"WHERE r.{CANONICAL} GROUP BY a.tree_size ORDER BY a.tree_size"
            )
            anchors = [Anchor(int(r["tree_size"]), str(r["root"]), str(r["uid"]), str(r["tx_hash"]),
                              int(r["block_number"])) for r in rows]  # fmt: skip
            self._anchors = (key, anchors)
        return self._anchors[1]

    # -- anchoring -----------------------------------------------------------------
    async def run(self) -> None:
        """Background loop: sync the tree, record confirmed anchors, anchor when due."""
        period = max(0.05, min(1.0, self.node.settings.anchor_interval / 4))
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
        s = self.node.settings
        if size > self._failed_size and anchor_due(unanchored, oldest_age, s.anchor_every, s.anchor_interval):
            await self.anchor()

    def _load(self) -> None:
        """Once: the anchors written before this start, and a check that the log still matches them."""
        if self._loaded:
            return
        self._loaded = True
        stored = {str(r[0]) for r in self.node.db.all("SELECT uid FROM access_anchors")}
        for row in self.node.db.all(
            "SELECT uid, digest, payload, state FROM outbox WHERE kind = ? AND state != 'failed' "
            "ORDER BY seq",
            (int(Kind.ANCHOR),),
        ):
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
            state = self.node.db.scalar("SELECT state FROM outbox WHERE uid = ?", (uid,))
            if state == "failed":
                log.warning("anchorer: the anchor of %d entries was refused on chain", size)
                del self._unconfirmed[uid]
                self._failed_size = max(self._failed_size, size)
                if self._last is not None and self._last.uid == uid:
                    self._last = None  # re-anchor from the last good one once the log grows
                    last = self.node.db.one(
                        "SELECT tree_size, root, uid FROM access_anchors ORDER BY tree_size DESC"
                    )
                    if last is not None:
                        self._last = AnchorState(int(last[0]), str(last[1]), str(last[2]), "confirmed")
                continue
            row = self.node.reader.chain_row(uid)
            if row is None:
                continue
            del self._unconfirmed[uid]
            if size > self.tree.size or "0x" + self.tree.root(size).hex() != row["digest"]:
                log.error("anchorer: anchor %s does not match the access log of %d entries", uid, size)
                continue
            self.node.db.conn.execute(
                "INSERT OR IGNORE INTO access_anchors(tree_size, root, uid, created_at) VALUES(?,?,?,?)",
                (size, row["digest"], uid, time.time()),
            )
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
            key = await asyncio.to_thread(self.node.keystore.load, seal_key_name(org_id))
            await self.node.outbox.accept(OutboxItem(record, self.node.sealer.seal(record, key), org_id))
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
            await self.node.wait_for(pending, timeout)
        if await self.anchor() is None and self._last is None:
            return None
        assert self._last is not None
        state = await self.node.wait_for(self._last.uid, timeout)
        self.reconcile()
        return replace(self._last, state=_api_state(state))

    def operator_org(self) -> int | None:
        """The organisation that runs this node: the one whose relayer is ours and whose seal key we hold."""
        relayers: dict[str, int] = {}
        rows = self.node.db.all(
            f"SELECT name, args FROM chain_member_events WHERE name IN ('RelayerAdded', 'RelayerRemoved') "
            f"AND {CANONICAL} ORDER BY block_number, log_index"
        )
        for row in rows:
            a = json.loads(row["args"])
            if row["name"] == "RelayerAdded":
                relayers[str(a["relayer"]).lower()] = int(a["org"])
            else:
                relayers.pop(str(a["relayer"]).lower(), None)
        ours = relayers.get(self.node.relayer.address.lower())
        candidates = [ours] if ours is not None else []
        candidates += sorted(o.id for o in self.node.membership.all() if o.id != ours)
        return next((org_id for org_id in candidates if self._can_seal(org_id)), None)

    def _can_seal(self, org_id: int) -> bool:
        name = seal_key_name(org_id)
        if not self.node.keystore.exists(name):
            return False
        return self.node.membership.active_seal_key(org_id, self.node.keystore.address(name))

    def _pending(self) -> str | None:
        for uid in self._unconfirmed:
            if self.node.db.scalar("SELECT state FROM outbox WHERE uid = ?", (uid,)) in (
                "accepted",
                "submitted",
            ):
                return uid
        return None
