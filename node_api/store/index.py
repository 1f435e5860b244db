"""The chain index's tables (``chain_*``) and the indexer's checkpoint.

``IndexWriter`` holds the indexer's statements: it appends rows and moves the checkpoint
inside the indexer's transaction (its methods take that ``conn``); nothing changes a row
once written. Rows of orphaned blocks stay (the index is append-only) and ``IndexTable``,
the services' read side, leaves them out with ``CANONICAL``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from node_api.domain.records import ZERO32, Kind, Status
from node_api.store.database import CANONICAL, Database

# chain_blocks names its hash column "hash", not "block_hash" like the other chain_* tables.
_LIVE_BLOCK = "hash NOT IN (SELECT hash FROM chain_orphans)"
# The last block fully indexed (number, hash), in the meta table.
_BLOCK_KEY, _HASH_KEY = "indexer.block", "indexer.hash"

# Where a log sits: block number, block hash, transaction hash, log index.
Where = tuple[int, str, str, int]

_CHUNK = 500  # values per IN (…) list


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _marks(values: Sequence[str]) -> str:
    return ",".join("?" * len(values))


class IndexTable:
    """Repository of the chain index's tables: what the indexer stored, as the services read it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the indexer's own reads (outside its transactions) -------------------------------
    def checkpoint(self) -> tuple[int, str | None] | None:
        """The last block fully indexed and its hash; None before the first step."""
        number = self.db.get_meta(_BLOCK_KEY)
        if number is None:
            return None
        return int(number), self.db.get_meta(_HASH_KEY)

    def live_blocks_below(self, below: int, limit: int) -> list[sqlite3.Row]:
        """Indexed blocks not orphaned, numbered below ``below``, newest first (number, hash)."""
        return self.db.all(
            f"SELECT number, hash FROM chain_blocks WHERE {_LIVE_BLOCK} AND number < ? "
            f"ORDER BY number DESC LIMIT ?",
            (below, limit),
        )

    # -- records -------------------------------------------------------------------------
    def last_rowid(self) -> int:
        """The rowid of the newest ``chain_records`` row (0 when empty)."""
        return int(self.db.scalar("SELECT coalesce(max(rowid), 0) FROM chain_records"))

    def uids_after(self, rowid: int) -> tuple[int, list[str]]:
        """Uids of the ``chain_records`` rows after ``rowid``, and the newest rowid seen."""
        rows = self.db.all("SELECT rowid, uid FROM chain_records WHERE rowid > ? ORDER BY rowid", (rowid,))
        if not rows:
            return rowid, []
        return int(rows[-1][0]), [str(r[1]) for r in rows]

    def records_after(self, rowid: int, limit: int) -> list[sqlite3.Row]:
        """Canonical ``chain_records`` rows after ``rowid`` in the order they were indexed
        (rowid, uid, kind, project), at most ``limit``."""
        return self.db.all(
            f"SELECT rowid, uid, kind, project FROM chain_records WHERE rowid > ? AND {CANONICAL} "
            f"ORDER BY rowid LIMIT ?",
            (rowid, limit),
        )

    def registrations(self, project: str) -> list[sqlite3.Row]:
        """The readable canonical project records (registration, corrections) of ``project``, oldest first (payload)."""
        return self.db.all(
            f"SELECT payload FROM chain_records WHERE project = ? AND kind = ? AND problem IS NULL AND {CANONICAL} "
            f"ORDER BY block_number, log_index",
            (project, int(Kind.PROJECT)),
        )

    def holds(self, uid: str) -> bool:
        """Whether a canonical record of ``uid`` is indexed."""
        return (
            self.db.scalar(f"SELECT 1 FROM chain_records WHERE uid = ? AND {CANONICAL}", (uid,)) is not None
        )

    def first_inclusion(self, uid: str) -> sqlite3.Row | None:
        """The canonical ``chain_records`` row of ``uid`` from the earliest block (the one that counts)."""
        return self.db.one(
            f"SELECT * FROM chain_records WHERE uid = ? AND {CANONICAL} ORDER BY block_number LIMIT 1", (uid,)
        )

    def project_rows(self, project: str) -> list[sqlite3.Row]:
        """A project's canonical ``chain_records`` rows in chain order (a uid included twice appears twice)."""
        return self.db.all(
            f"SELECT * FROM chain_records WHERE project = ? AND {CANONICAL} ORDER BY block_number, log_index",
            (project,),
        )

    def uids_of_kind(self, project: str, kind: Kind) -> list[str]:
        """Uids of a project's canonical records of one kind."""
        rows = self.db.all(
            f"SELECT uid FROM chain_records WHERE project = ? AND kind = ? AND {CANONICAL}",
            (project, int(kind)),
        )
        return [str(r["uid"]) for r in rows]

    def registrant(self, project: str) -> int | None:
        """The organisation whose registration of ``project`` (a project record without ref) is on chain."""
        issuer = self.db.scalar(
            f"SELECT issuer FROM chain_records WHERE project = ? AND kind = ? AND ref = ? AND {CANONICAL}",
            (project, int(Kind.PROJECT), "0x" + ZERO32.hex()),
        )
        return None if issuer is None else int(issuer)

    def latest_issuer(self, ref: str, kind: Kind) -> int | None:
        """The issuer of the latest canonical record of ``kind`` that refers to ``ref``."""
        issuer = self.db.scalar(
            f"SELECT issuer FROM chain_records WHERE ref = ? AND +kind = ? AND {CANONICAL} "
            f"ORDER BY block_number DESC, log_index DESC LIMIT 1",
            (ref, int(kind)),
        )
        return None if issuer is None else int(issuer)

    def commitments_naming(self, project: str, approval: str) -> list[sqlite3.Row]:
        """A project's readable canonical commitments whose payload holds the bytes of ``approval`` (a uid,
        0x…), oldest first (uid, ref, issuer, payload); the caller decodes and compares the bound approval."""
        return self.db.all(
            f"SELECT uid, ref, issuer, payload FROM chain_records WHERE project = ? AND kind = ? AND problem IS NULL "
            f"AND instr(payload, ?) > 0 AND {CANONICAL} ORDER BY block_number, log_index",
            (project, int(Kind.COMMITMENT), bytes.fromhex(approval[2:])),
        )

    def revoked_registration(self, project: str) -> bool:
        """Whether a canonical project record (registration or correction) of ``project`` has the
        status ``revoked`` as its latest status change, in one query."""
        latest = (
            f"SELECT s.status FROM chain_status s WHERE s.uid = r.uid AND s.{CANONICAL} "
            f"ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1"
        )
        return (
            self.db.scalar(
                f"SELECT 1 FROM chain_records r WHERE r.project = ? AND r.kind = ? AND r.{CANONICAL} "
                f"AND ({latest}) = ? LIMIT 1",
                (project, int(Kind.PROJECT), int(Status.REVOKED)),
            )
            is not None
        )

    def revoked_registrations(self, projects: Sequence[str]) -> set[str]:
        """The projects among ``projects`` (0x…) whose registration was revoked: ``revoked_registration``
        for a batch's projects in a query per ``_CHUNK``."""
        latest = (
            f"SELECT s.status FROM chain_status s WHERE s.uid = r.uid AND s.{CANONICAL} "
            f"ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1"
        )
        out: set[str] = set()
        for chunk in _chunks(projects):
            rows = self.db.all(
                f"SELECT DISTINCT r.project FROM chain_records r WHERE r.project IN ({_marks(chunk)}) "
                f"AND r.kind = ? AND r.{CANONICAL} AND ({latest}) = ?",
                (*chunk, int(Kind.PROJECT), int(Status.REVOKED)),
            )
            out.update(str(r["project"]) for r in rows)
        return out

    # -- status --------------------------------------------------------------------------
    def latest_status(self, uid: str) -> int | None:
        """The status the chain set last for ``uid`` (None: never changed since recorded)."""
        status = self.db.scalar(
            f"SELECT status FROM chain_status WHERE uid = ? AND {CANONICAL} "
            f"ORDER BY block_number DESC, log_index DESC LIMIT 1",
            (uid,),
        )
        return None if status is None else int(status)

    def status_changes(self, uid: str) -> list[sqlite3.Row]:
        """Every status change of ``uid``, oldest first (status, cause, block_number)."""
        return self.db.all(
            f"SELECT status, cause, block_number FROM chain_status WHERE uid = ? AND {CANONICAL} "
            f"ORDER BY block_number, log_index",
            (uid,),
        )

    # -- projects ------------------------------------------------------------------------
    def registered_project(self, code: str) -> str | None:
        """The id (0x…) of the project of this code, when a canonical registration of it is indexed."""
        pid = self.db.scalar(
            f"SELECT p.project FROM chain_projects p WHERE p.code = ? AND EXISTS (SELECT 1 FROM chain_records r "
            f"WHERE r.project = p.project AND r.kind = {int(Kind.PROJECT)} AND r.{CANONICAL})",
            (code,),
        )
        return None if pid is None else str(pid)

    def registered_projects(self, codes: Sequence[str]) -> set[str]:
        """The codes among ``codes`` whose project has a canonical registration indexed:
        ``registered_project`` for a batch's codes in a query per ``_CHUNK``."""
        out: set[str] = set()
        for chunk in _chunks(codes):
            rows = self.db.all(
                f"SELECT p.code FROM chain_projects p WHERE p.code IN ({_marks(chunk)}) AND EXISTS (SELECT 1 "
                f"FROM chain_records r WHERE r.project = p.project AND r.kind = {int(Kind.PROJECT)} "
                f"AND r.{CANONICAL})",
                chunk,
            )
            out.update(str(r["code"]) for r in rows)
        return out

    def project_code(self, project: str) -> str | None:
        """The code of a project id (0x…), None when no registration was indexed."""
        code = self.db.scalar("SELECT code FROM chain_projects WHERE project = ?", (project,))
        return None if code is None else str(code)

    def projects_in_region(self, region_prefix: str) -> list[sqlite3.Row]:
        """Projects with a canonical registration whose code's region starts with ``region_prefix`` (project, code)."""
        return self.db.all(
            f"SELECT DISTINCT p.project, p.code FROM chain_projects p JOIN chain_records r ON r.project = p.project "
            f"WHERE r.kind = {int(Kind.PROJECT)} AND r.{CANONICAL} AND substr(p.code, 6, 6) LIKE ?",
            (region_prefix + "%",),
        )

    # -- documents -----------------------------------------------------------------------
    def records_binding(self, digest: str) -> list[sqlite3.Row]:
        """Canonical records that bind a document digest (uid, kind, block, tx, role, project code)."""
        return self.db.all(
            f"SELECT r.uid, r.kind, r.block_number, r.tx_hash, d.role, p.code FROM chain_record_digests d "
            f"JOIN chain_records r ON r.uid = d.uid AND r.block_hash = d.block_hash "
            f"LEFT JOIN chain_projects p ON p.project = r.project WHERE d.digest = ? AND r.{CANONICAL} "
            f"ORDER BY r.block_number",
            (digest,),
        )

    def projects_binding(self, digest: str, issuers: list[int]) -> list[sqlite3.Row]:
        """The projects (project, code) of canonical records binding a digest; only records of
        ``issuers`` when that list is not empty."""
        by = f" AND r.issuer IN ({','.join('?' * len(issuers))})" if issuers else ""
        return self.db.all(
            f"SELECT DISTINCT r.project, p.code FROM chain_record_digests d JOIN chain_records r "
            f"ON r.uid = d.uid AND r.block_hash = d.block_hash LEFT JOIN chain_projects p ON p.project = r.project "
            f"WHERE d.digest = ? AND r.{CANONICAL}{by}",
            (digest, *issuers),
        )

    # -- grants and blocks ---------------------------------------------------------------
    def grants(self, project: str, grantee: int) -> list[sqlite3.Row]:
        """Canonical grants of ``project`` to ``grantee`` as the contract holds them (uid, scope, expires_at)."""
        return self.db.all(
            f"SELECT uid, scope, expires_at FROM chain_grants WHERE project = ? AND grantee = ? AND {CANONICAL}",
            (project, grantee),
        )

    def granted_projects(self, grantee: int) -> list[str]:
        """The projects ``grantee`` was ever granted (live or not: the caller checks)."""
        rows = self.db.all(
            f"SELECT DISTINCT project FROM chain_grants WHERE grantee = ? AND {CANONICAL}", (grantee,)
        )
        return [str(r["project"]) for r in rows]

    def block_timestamp(self, block_hash: str) -> int | None:
        """The timestamp of an indexed block."""
        ts = self.db.scalar("SELECT timestamp FROM chain_blocks WHERE hash = ?", (block_hash,))
        return None if ts is None else int(ts)

    # -- membership events ---------------------------------------------------------------
    def stamp(self) -> tuple[int, int]:
        """The database's change stamp (``Database.stamp``): equal, nothing changed."""
        return self.db.stamp()

    def member_events_version(self) -> tuple[int, int]:
        """Changes whenever the canonical membership events may have: (events, orphaned blocks), one query."""
        row = self.db.one(
            "SELECT (SELECT count(*) FROM chain_member_events), (SELECT count(*) FROM chain_orphans)"
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    def member_events(self) -> list[sqlite3.Row]:
        """Canonical Consortium events in chain order (name, args JSON)."""
        return self.db.all(
            f"SELECT name, args FROM chain_member_events WHERE {CANONICAL} ORDER BY block_number, log_index"
        )

    def relayer_events(self) -> list[sqlite3.Row]:
        """RelayerAdded / RelayerRemoved events in chain order (name, args JSON)."""
        return self.db.all(
            f"SELECT name, args FROM chain_member_events WHERE name IN ('RelayerAdded', 'RelayerRemoved') "
            f"AND {CANONICAL} ORDER BY block_number, log_index"
        )


class IndexWriter:
    """The indexer's statements, each inside its transaction (``conn``): rows appended, checkpoint moved.

    One statement per call, in the order the indexer calls them; ``INSERT OR IGNORE`` makes
    re-indexing a range (after a crash between steps) harmless.
    """

    @staticmethod
    def add_block(
        conn: sqlite3.Connection, number: int, block_hash: str, timestamp: int, seen_at: float
    ) -> None:
        """A block header seen by the indexer."""
        conn.execute(
            "INSERT OR IGNORE INTO chain_blocks(number, hash, timestamp, seen_at) VALUES(?,?,?,?)",
            (number, block_hash, timestamp, seen_at),
        )

    @staticmethod
    def add_records(
        conn: sqlite3.Connection,
        rows: list[
            tuple[str, int, str, str, int, str, str, bytes, bytes, int, str, str, int, str, str | None]
        ],
    ) -> None:
        """Records accepted on chain, one statement for all: each row is (uid, kind, project, ref,
        issuer, sealer, digest, payload, seal, block number, block hash, tx hash, log index, record
        hash, problem); ``problem`` says why the content is unreadable (None: it reads)."""
        conn.executemany(
            "INSERT OR IGNORE INTO chain_records(uid, kind, project, ref, issuer, sealer, digest, payload,"
            " seal, block_number, block_hash, tx_hash, log_index, record_hash, problem)"
            " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )

    @staticmethod
    def add_digests(conn: sqlite3.Connection, rows: list[tuple[str, str, str, str]]) -> None:
        """The document digests records bind, as (digest, uid, block hash, role) rows (one statement)."""
        conn.executemany(
            "INSERT OR IGNORE INTO chain_record_digests(digest, uid, block_hash, role) VALUES(?,?,?,?)", rows
        )

    @staticmethod
    def add_project(conn: sqlite3.Connection, project: str, code: str) -> None:
        """A project id and its code, from a readable registration."""
        conn.execute("INSERT OR IGNORE INTO chain_projects(project, code) VALUES(?, ?)", (project, code))

    @staticmethod
    def add_grant(
        conn: sqlite3.Connection, uid: str, block_hash: str, project: str, entry: tuple[int, int, int]
    ) -> None:
        """A grant as the contract's ``entry(uid)`` holds it: ``entry`` is (grantee, scope, expires_at)."""
        conn.execute(
            "INSERT OR IGNORE INTO chain_grants(uid, block_hash, project, grantee, scope, expires_at)"
            " VALUES(?,?,?,?,?,?)",
            (uid, block_hash, project, *entry),
        )

    @staticmethod
    def add_status(conn: sqlite3.Connection, uid: str, status: int, cause: str, where: Where) -> None:
        """A StatusChanged event."""
        conn.execute(
            "INSERT OR IGNORE INTO chain_status(uid, status, cause, block_number, block_hash,"
            " log_index) VALUES(?,?,?,?,?,?)",
            (uid, status, cause, where[0], where[1], where[3]),
        )

    @staticmethod
    def add_rejection(conn: sqlite3.Connection, uid: str, reason: str, where: Where) -> None:
        """A RecordRejected event, with its reason decoded."""
        conn.execute(
            "INSERT OR IGNORE INTO chain_rejections(uid, reason, block_number, block_hash, tx_hash)"
            " VALUES(?,?,?,?,?)",
            (uid, reason, where[0], where[1], where[2]),
        )

    @staticmethod
    def add_member_event(conn: sqlite3.Connection, name: str, args: str, where: Where) -> None:
        """A Consortium event (``args`` as JSON)."""
        conn.execute(
            "INSERT OR IGNORE INTO chain_member_events(block_number, block_hash, log_index, name,"
            " args) VALUES(?,?,?,?,?)",
            (where[0], where[1], where[3], name, args),
        )

    @staticmethod
    def landed(conn: sqlite3.Connection, uid: str) -> sqlite3.Row | None:
        """The readable content of ``uid``'s first canonical inclusion (kind, project, ref, digest, payload)."""
        row: sqlite3.Row | None = conn.execute(
            f"SELECT kind, project, ref, digest, payload FROM chain_records WHERE uid = ? AND {CANONICAL}"
            f" AND problem IS NULL ORDER BY block_number LIMIT 1",
            (uid,),
        ).fetchone()
        return row

    @staticmethod
    def orphan_blocks_after(conn: sqlite3.Connection, number: int, detected_at: float) -> None:
        """Marks every live block numbered above ``number`` orphaned (the chain lost them)."""
        conn.execute(
            f"INSERT OR IGNORE INTO chain_orphans(hash, detected_at) "
            f"SELECT hash, ? FROM chain_blocks WHERE number > ? AND {_LIVE_BLOCK}",
            (detected_at, number),
        )

    @staticmethod
    def set_checkpoint(conn: sqlite3.Connection, number: int, block_hash: str) -> None:
        """The last block fully indexed, and its hash."""
        conn.execute(
            f"INSERT INTO meta(key, value) VALUES('{_BLOCK_KEY}', ?), ('{_HASH_KEY}', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(number), block_hash),
        )

    @staticmethod
    def clear_checkpoint(conn: sqlite3.Connection) -> None:
        """Forgets the checkpoint: the index starts again from the deployment block."""
        conn.execute(f"DELETE FROM meta WHERE key IN ('{_BLOCK_KEY}', '{_HASH_KEY}')")
