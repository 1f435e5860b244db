"""Console officers, their sessions and the records they had sealed (tables ``officers``,
``officer_sessions``, ``record_officers``).

Rows are never deleted: an officer who leaves is disabled, a session that ends is marked
ended, and a record's officer is written once.
"""

from __future__ import annotations

import sqlite3
import time

from node_api.store.database import Database


class OfficerTable:
    """Repository of officers, sessions and record attributions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- officers ---------------------------------------------------------------------
    def insert(
        self, org_id: int, username: str, display_name: str, password_hash: str,
        totp_secret: str | None, roles: str | None,
    ) -> int | None:  # fmt: skip
        """Adds an officer; returns its id, or None when the username is taken."""
        try:
            cur = self.db.conn.execute(
                "INSERT INTO officers(org_id, username, display_name, password_hash, totp_secret, roles,"
                " created_at) VALUES(?,?,?,?,?,?,?)",
                (org_id, username, display_name, password_hash, totp_secret, roles, time.time()),
            )
        except sqlite3.IntegrityError:
            return None
        return int(cur.lastrowid or 0)

    def by_username(self, username: str) -> sqlite3.Row | None:
        """The officer of this username, disabled or not."""
        return self.db.one("SELECT * FROM officers WHERE username = ?", (username,))

    def by_id(self, officer_id: int) -> sqlite3.Row | None:
        """The officer of this id."""
        return self.db.one("SELECT * FROM officers WHERE id = ?", (officer_id,))

    def all(self) -> list[sqlite3.Row]:
        """Every officer, without secrets."""
        return self.db.all(
            "SELECT id, org_id, username, display_name, roles, locked_until, created_at, disabled_at,"
            " totp_secret IS NOT NULL AS has_totp FROM officers ORDER BY id"
        )

    def failed(self, officer_id: int, limit: int, lock_until: float) -> bool:
        """Counts a failed sign-in; at ``limit`` failures the account locks until ``lock_until``.

        Returns whether this failure locked it. One statement, so concurrent failures count.
        """
        with self.db.transaction() as conn:
            conn.execute("UPDATE officers SET failed_logins = failed_logins + 1 WHERE id = ?", (officer_id,))
            cur = conn.execute(
                "UPDATE officers SET failed_logins = 0, locked_until = ? WHERE id = ? AND failed_logins >= ?",
                (lock_until, officer_id, limit),
            )
            return cur.rowcount == 1

    def succeeded(self, officer_id: int) -> None:
        """Forgets the failed sign-ins before a successful one."""
        self.db.conn.execute("UPDATE officers SET failed_logins = 0 WHERE id = ?", (officer_id,))

    def set_password(self, officer_id: int, password_hash: str) -> None:
        """Replaces an officer's password hash (a rehash with newer parameters, or a reset)."""
        self.db.conn.execute(
            "UPDATE officers SET password_hash = ? WHERE id = ?", (password_hash, officer_id)
        )

    def unlock(self, officer_id: int) -> None:
        """Lifts a lock-out (an administrator's decision)."""
        self.db.conn.execute(
            "UPDATE officers SET failed_logins = 0, locked_until = 0 WHERE id = ?", (officer_id,)
        )

    def disable(self, officer_id: int) -> bool:
        """Disables an officer and ends their sessions; False if there was no enabled officer of this id."""
        now = time.time()
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE officers SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL", (now, officer_id)
            )
            conn.execute(
                "UPDATE officer_sessions SET ended_at = ? WHERE officer_id = ? AND ended_at IS NULL",
                (now, officer_id),
            )
            return cur.rowcount == 1

    # -- sessions ---------------------------------------------------------------------
    def open_session(self, token_hash: str, officer_id: int, csrf: str) -> None:
        """Records a new session."""
        now = time.time()
        self.db.conn.execute(
            "INSERT INTO officer_sessions(token_hash, officer_id, csrf, created_at, last_seen) VALUES(?,?,?,?,?)",
            (token_hash, officer_id, csrf, now, now),
        )

    def session(self, token_hash: str) -> sqlite3.Row | None:
        """A live (not ended) session of this hash."""
        return self.db.one(
            "SELECT s.token_hash, s.officer_id, s.csrf, s.created_at, s.last_seen FROM officer_sessions s"
            " WHERE s.token_hash = ? AND s.ended_at IS NULL",
            (token_hash,),
        )

    def touch(self, token_hash: str, at: float) -> None:
        """Notes a session's latest use (its idle clock restarts)."""
        self.db.conn.execute(
            "UPDATE officer_sessions SET last_seen = ? WHERE token_hash = ?", (at, token_hash)
        )

    def end_sessions(self, officer_id: int, keep: str | None) -> None:
        """Ends an officer's sessions but the one of hash ``keep`` (a password change, a lock-out)."""
        self.db.conn.execute(
            "UPDATE officer_sessions SET ended_at = ? WHERE officer_id = ? AND ended_at IS NULL"
            " AND token_hash IS NOT ?",
            (time.time(), officer_id, keep),
        )

    def end_session(self, token_hash: str) -> None:
        """Ends a session (sign-out, idle timeout)."""
        self.db.conn.execute(
            "UPDATE officer_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
            (time.time(), token_hash),
        )

    # -- attribution ------------------------------------------------------------------
    def attribute(self, uid: str, officer_id: int, officer: str, org_id: int, action: str) -> None:
        """Records which officer had the node seal a record (kept from the first write: a retry adds nothing)."""
        self.db.conn.execute(
            "INSERT OR IGNORE INTO record_officers(uid, officer_id, officer, org_id, action, at)"
            " VALUES(?,?,?,?,?,?)",
            (uid, officer_id, officer, org_id, action, time.time()),
        )

    def attributions(self, uids: list[str]) -> dict[str, sqlite3.Row]:
        """The officer rows of those records that have one, by uid."""
        if not uids:
            return {}
        marks = ",".join("?" * len(uids))
        rows = self.db.all(f"SELECT * FROM record_officers WHERE uid IN ({marks})", uids)
        return {str(r["uid"]): r for r in rows}
