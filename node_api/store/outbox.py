"""The durable outbox's table: every statement on ``outbox`` rows, and their states.

A row is *accepted* (sealed, durable, waiting), *submitted* (in a transaction sent to the
chain), *confirmed* (the chain holds this very content) or *failed* (refused, or another
record holds its uid). The pipeline (``node_api.chain.pipeline``), the indexer and the
writer change rows only through this module; methods that take a ``conn`` run inside the
caller's transaction.
"""

from __future__ import annotations

import sqlite3
from enum import StrEnum

from node_api.domain.records import Kind, Record
from node_api.store.database import CANONICAL, Database

_CHUNK = 500  # uids per IN (…) query


class OutboxState(StrEnum):
    """Where an accepted record is on its way to the chain."""

    ACCEPTED = "accepted"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        """Confirmed or failed: the row will not move again (unless the chain loses blocks)."""
        return self in (OutboxState.CONFIRMED, OutboxState.FAILED)


A, S, C, F = (f"'{s}'" for s in OutboxState)  # SQL literals of the states
_FINAL = (OutboxState.CONFIRMED, OutboxState.FAILED)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _content(record: Record) -> tuple[int, str, str, str, bytes]:
    return int(record.kind), _hex(record.project), _hex(record.ref), _hex(record.digest), record.payload


class OutboxTable:
    """Repository of the ``outbox`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- acceptance (inside the group commit's transaction) -------------------------------
    @staticmethod
    def insert(
        conn: sqlite3.Connection,
        uid: str,
        org_id: int,
        record: Record,
        seal: bytes,
        now: float,
        node_sealed: bool = False,
    ) -> bool:
        """Adds an accepted row (``node_sealed``: sealed with this node's key, see schema.sql);
        False when the uid is there already."""
        cur = conn.execute(
            f"INSERT OR IGNORE INTO outbox(uid, org_id, kind, project, ref, digest, payload, seal, state,"
            f" accepted_at) VALUES(?,?,?,?,?,?,?,?, {A}, ?)",
            (uid, org_id, *_content(record), seal, now),
        )
        if cur.rowcount != 1:
            return False
        if node_sealed:
            conn.execute("INSERT INTO outbox_node_sealed(seq) VALUES(?)", (cur.lastrowid,))
        return True

    @staticmethod
    def holds_same(conn: sqlite3.Connection, uid: str, record: Record) -> bool:
        """Whether the row of ``uid`` has this payload, digest and ref (a retry, not a clash)."""
        row = conn.execute(
            "SELECT 1 FROM outbox WHERE uid = ? AND payload = ? AND digest = ? AND ref = ?",
            (uid, record.payload, _hex(record.digest), _hex(record.ref)),
        ).fetchone()
        return row is not None

    # -- reads -----------------------------------------------------------------------------
    def state(self, uid: str) -> OutboxState | None:
        """The state of a row, None when the uid was never accepted here."""
        value = self.db.scalar("SELECT state FROM outbox WHERE uid = ?", (uid,))
        return None if value is None else OutboxState(value)

    def error(self, uid: str) -> str | None:
        """Why a row failed."""
        value = self.db.scalar("SELECT error FROM outbox WHERE uid = ?", (uid,))
        return None if value is None else str(value)

    def final_states(self, uids: list[str]) -> dict[str, OutboxState]:
        """Confirmed / failed states among ``uids``; rows still open are left out."""
        out: dict[str, OutboxState] = {}
        for i in range(0, len(uids), _CHUNK):
            chunk = uids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            # The states are compared here, not in SQL: with ``state IN (…)`` in the query, SQLite
            # chose the state index and read every confirmed row (237 against 7 ms for 1,000 uids
            # among 200,000 rows; docs/benchmark.md, "The outbox's states looked up by uid").
            rows = self.db.all(f"SELECT uid, state FROM outbox WHERE uid IN ({marks})", chunk)
            out.update((str(r["uid"]), OutboxState(r["state"])) for r in rows if r["state"] in _FINAL)
        return out

    def depth(self) -> dict[OutboxState, int]:
        """Rows per state (every state present, 0 when none)."""
        counts = {
            OutboxState(r[0]): int(r[1])
            for r in self.db.all("SELECT state, count(*) FROM outbox GROUP BY state")
        }
        return {s: counts.get(s, 0) for s in OutboxState}

    def failed_count(self) -> int:
        """How many rows failed (an index range; cheap to watch)."""
        return int(self.db.scalar(f"SELECT count(*) FROM outbox WHERE state = {F}") or 0)

    def is_live(self, uid: str) -> bool:
        """Whether ``uid`` is accepted here and not failed (on its way, or confirmed)."""
        return self.db.scalar(f"SELECT 1 FROM outbox WHERE uid = ? AND state != {F}", (uid,)) is not None

    def holds_own(self, org_id: int, record: Record) -> bool:
        """Whether this organisation's outbox holds this very record already (not failed)."""
        row = self.db.one(
            f"SELECT kind, project, ref, digest, payload FROM outbox WHERE uid = ? AND org_id = ? AND state != {F}",
            (_hex(record.uid), org_id),
        )
        if row is None:
            return False
        stored = (int(row["kind"]), row["project"], row["ref"], row["digest"], bytes(row["payload"]))
        return stored[1:] == _content(record)[1:]

    def row(self, uid: str) -> sqlite3.Row | None:
        """The whole row of ``uid`` (any state)."""
        return self.db.one("SELECT * FROM outbox WHERE uid = ?", (uid,))

    def open_rows(self, project: str) -> list[sqlite3.Row]:
        """A project's whole rows accepted or submitted (not on chain yet), in acceptance order."""
        return self.db.all(
            f"SELECT * FROM outbox WHERE project = ? AND state IN ({A}, {S}) ORDER BY seq", (project,)
        )

    def registration_live(self, project: str) -> bool:
        """Whether a registration of ``project`` (0x…) is accepted, submitted or confirmed here."""
        return (
            self.db.scalar(
                f"SELECT 1 FROM outbox WHERE project = ? AND kind = ? AND state IN ({A}, {S}, {C})",
                (project, int(Kind.PROJECT)),
            )
            is not None
        )

    def open_change_of(self, ref: str) -> str | None:
        """A record changing ``ref`` that is accepted or submitted but not on chain yet."""
        value = self.db.scalar(f"SELECT uid FROM outbox WHERE ref = ? AND state IN ({A}, {S})", (ref,))
        return None if value is None else str(value)

    def rows_of_kind(self, kind: Kind) -> list[sqlite3.Row]:
        """Rows of one kind that did not fail, in acceptance order (uid, digest, payload, state)."""
        return self.db.all(
            f"SELECT uid, digest, payload, state FROM outbox WHERE kind = ? AND state != {F} ORDER BY seq",
            (int(kind),),
        )

    # -- the submitter ---------------------------------------------------------------------
    def next_accepted(self, limit: int) -> list[sqlite3.Row]:
        """The oldest accepted rows, for the next transaction."""
        return self.db.all(
            f"SELECT o.seq, uid, org_id, kind, project, ref, digest, payload, seal, attempts,"
            f" n.seq IS NOT NULL AS node_sealed FROM outbox o LEFT JOIN outbox_node_sealed n ON n.seq = o.seq"
            f" WHERE state = {A} ORDER BY o.seq LIMIT ?",
            (limit,),
        )

    def mark_submitted(self, sent: list[tuple[str, int, list[int]]], now: float) -> None:
        """Accepted rows now travel in transactions: (tx hash, nonce, seqs) each, one commit."""
        with self.db.transaction() as conn:
            conn.executemany(
                f"UPDATE outbox SET state = {S}, tx_hash = ?, nonce = ?, submitted_at = ?, "
                f"attempts = attempts + 1 WHERE seq = ? AND state = {A}",
                [(tx_hash, nonce, now, seq) for tx_hash, nonce, seqs in sent for seq in seqs],
            )

    def fail_accepted(self, errors: list[tuple[str, int]]) -> None:
        """Fails accepted rows that can never be sent: (error, seq) pairs."""
        with self.db.transaction() as conn:
            conn.executemany(
                f"UPDATE outbox SET state = {F}, error = ? WHERE seq = ? AND state = {A}", errors
            )

    def submitted_transactions(self, before: float | None = None) -> list[str]:
        """Transactions that rows are submitted in (only those sent before ``before``, at most 500)."""
        if before is None:
            rows = self.db.all(f"SELECT DISTINCT tx_hash FROM outbox WHERE state = {S}")
        else:
            rows = self.db.all(
                f"SELECT DISTINCT tx_hash FROM outbox WHERE state = {S} AND submitted_at < ? LIMIT 500",
                (before,),
            )
        return [str(r[0]) for r in rows]

    def requeue_lost(self, tx_hashes: list[str]) -> None:
        """Rows of transactions the chain lost go back to the queue."""
        with self.db.transaction() as conn:
            conn.executemany(
                f"UPDATE outbox SET state = {A}, tx_hash = NULL, nonce = NULL WHERE state = {S} AND tx_hash = ?",
                [(h,) for h in tx_hashes],
            )

    def requeue_reverted(self, tx_hash: str, max_attempts: int = 3) -> int:
        """Rows of a reverted transaction go again, or fail after ``max_attempts``; how many failed."""
        with self.db.transaction() as conn:
            failed = int(
                conn.execute(
                    f"SELECT count(*) FROM outbox WHERE tx_hash = ? AND state = {S} AND attempts >= ?",
                    (tx_hash, max_attempts),
                ).fetchone()[0]
            )
            conn.execute(
                f"UPDATE outbox SET state = CASE WHEN attempts >= ? THEN {F} ELSE {A} END, "
                f"error = CASE WHEN attempts >= ? THEN 'transaction reverted' ELSE error END "
                f"WHERE tx_hash = ? AND state = {S}",
                (max_attempts, max_attempts, tx_hash),
            )
        return failed

    # -- the indexer (inside its transaction) ---------------------------------------------
    @staticmethod
    def settle(conn: sqlite3.Connection, uid: str, record: Record | None) -> tuple[int, int]:
        """Confirms the row of ``uid`` if the chain holds its very content, fails it otherwise;
        (rows confirmed, rows failed).

        ``record`` is what the chain holds under the uid (None: nothing readable). The content
        (kind, project, ref, digest, payload) decides, not the uid alone; the issuer is the uid's
        own (the contract refuses a uid outside its sealer's namespace). One statement on the
        common path (the node's own record, confirmed).
        """
        if record is not None:
            cur = conn.execute(
                f"UPDATE outbox SET state = {C}, error = NULL WHERE uid = ? AND state != {C}"
                f" AND kind = ? AND project = ? AND ref = ? AND digest = ? AND payload = ?",
                (uid, *_content(record)),
            )
            if cur.rowcount:
                return cur.rowcount, 0
        cur = conn.execute(
            f"UPDATE outbox SET state = {F}, error = ? WHERE uid = ? AND state IN ({A}, {S})",
            ("the chain holds another record under this uid; this one was not recorded", uid),
        )
        return 0, cur.rowcount

    @staticmethod
    def settle_many(
        conn: sqlite3.Connection, landed: list[tuple[str, Record | None]]
    ) -> tuple[list[str], int, int]:
        """``settle`` for each (uid, record) in order, with one read and two statements for all:
        (uids of rows that settled, rows confirmed, rows failed). Uids without a row (records of
        other nodes) settle nothing."""
        rows: dict[str, list[object]] = {}
        uids = list(dict.fromkeys(uid for uid, _ in landed))
        for i in range(0, len(uids), _CHUNK):
            chunk = uids[i : i + _CHUNK]
            for r in conn.execute(
                f"SELECT uid, state, kind, project, ref, digest, payload FROM outbox "
                f"WHERE uid IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                rows[str(r[0])] = list(r[1:])
        settled: list[str] = []
        counts = {OutboxState.CONFIRMED: 0, OutboxState.FAILED: 0}
        final: dict[str, OutboxState] = {}  # each row's state after the whole list, in turn
        for uid, record in landed:
            row = rows.get(uid)
            if row is None:
                continue
            state = OutboxState(str(row[0]))
            if record is not None and state != OutboxState.CONFIRMED and tuple(row[1:]) == _content(record):
                state = OutboxState.CONFIRMED
            elif state in (OutboxState.ACCEPTED, OutboxState.SUBMITTED):
                state = OutboxState.FAILED
            else:
                continue
            row[0] = final[uid] = state
            counts[state] += 1
            settled.append(uid)
        conn.executemany(
            f"UPDATE outbox SET state = {C}, error = NULL WHERE uid = ?",
            [(u,) for u, s in final.items() if s == OutboxState.CONFIRMED],
        )
        conn.executemany(
            f"UPDATE outbox SET state = {F}, error = ? WHERE uid = ?",
            [
                ("the chain holds another record under this uid; this one was not recorded", u)
                for u, s in final.items()
                if s == OutboxState.FAILED
            ],
        )
        return settled, counts[OutboxState.CONFIRMED], counts[OutboxState.FAILED]

    @staticmethod
    def submitted_in(conn: sqlite3.Connection, uid: str, tx_hash: str) -> bool:
        """Whether the row of ``uid`` is submitted in transaction ``tx_hash``."""
        row = conn.execute(
            f"SELECT 1 FROM outbox WHERE uid = ? AND state = {S} AND tx_hash = ?", (uid, tx_hash)
        ).fetchone()
        return row is not None

    @staticmethod
    def fail_submitted(conn: sqlite3.Connection, uid: str, tx_hash: str, reason: str) -> int:
        """The chain refused the row of ``uid`` sent in ``tx_hash``: it fails with the reason."""
        cur = conn.execute(
            f"UPDATE outbox SET state = {F}, error = ? WHERE uid = ? AND state = {S} AND tx_hash = ?",
            (reason, uid, tx_hash),
        )
        return int(cur.rowcount)

    @staticmethod
    def requeue_orphaned(conn: sqlite3.Connection) -> None:
        """After a rewind: rows whose only inclusion (or refusal) was lost go back to the queue.

        Submitted rows are checked by the submitter's resync against receipts.
        """
        conn.execute(
            f"UPDATE outbox SET state = {A}, tx_hash = NULL, nonce = NULL, error = NULL "
            f"WHERE state = {C} AND uid NOT IN (SELECT uid FROM chain_records WHERE {CANONICAL})"
        )
        conn.execute(
            f"UPDATE outbox SET state = {A}, tx_hash = NULL, nonce = NULL, error = NULL "
            f"WHERE state = {F} "
            f"AND uid IN (SELECT uid FROM chain_rejections WHERE block_hash IN (SELECT hash FROM chain_orphans)) "
            f"AND uid NOT IN (SELECT uid FROM chain_rejections WHERE {CANONICAL})"
        )
