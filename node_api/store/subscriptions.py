"""Webhook subscriptions and their durable delivery queue (``subscriptions``, ``deliveries``).

A subscription's signing secret is needed in the clear to sign each delivery (HMAC), so it
cannot be stored as a hash like an API token: it is sealed with AES-256-GCM under a key
derived from the node's data key (as the openings are, ``store/openings.py``), with the
subscription id as associated data, and unsealed only to sign.

The queue: ``enqueue`` writes the deliveries found in a range of the index together with the
cursor past that range, in one commit, so a crash loses nor repeats nothing; a row is
``pending`` until its first attempt, ``failing`` after a failed one (with the last error and
the time of the next), ``delivered`` after a 2xx, and ``dead`` after the last attempt (or when
it may not be sent any more). Rows are never deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
from collections.abc import Iterable
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from node_api.errors import ProjchainError
from node_api.store.database import Database

_NONCE = 12
RECORD_CURSOR = "notifications.rowid"  # the newest chain_records rowid whose events are queued
WARNING_CURSOR = "notifications.warning_seq"  # the newest warning_history seq whose events are queued
_CHUNK = 500


class DeliveryState(StrEnum):
    """Where a delivery is."""

    PENDING = "pending"
    FAILING = "failing"
    DELIVERED = "delivered"
    DEAD = "dead"


_OPEN = f"state IN ('{DeliveryState.PENDING}', '{DeliveryState.FAILING}')"


class SecretCorrupt(ProjchainError):
    """A stored subscription secret failed authentication: tampered, corrupt or the wrong key."""

    code = "secret_corrupt"
    status = 500


class SecretVault:
    """Seals and unseals secrets with a key derived from the node's data key for one ``purpose``
    (webhook signing secrets; officers' TOTP secrets), each bound to its owner's id (pure; no storage)."""

    def __init__(self, document_key: bytes, purpose: bytes = b"projchain/webhook-secrets/v1") -> None:
        key = hmac.new(document_key, purpose, hashlib.sha256).digest()
        self._aead = AESGCM(key)

    def seal(self, subscription_id: str, secret: str) -> bytes:
        """``nonce ‖ AES-GCM(secret)`` bound to the subscription id."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, secret.encode(), subscription_id.encode())

    def unseal(self, subscription_id: str, sealed: bytes) -> str:
        """The secret stored for ``subscription_id``; ``SecretCorrupt`` if it does not authenticate."""
        try:
            plain = self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], subscription_id.encode())
        except InvalidTag as e:
            raise SecretCorrupt(
                f"the stored secret of subscription {subscription_id} does not authenticate"
            ) from e
        return plain.decode()


class SubscriptionTable:
    """Repository of ``subscriptions`` and ``deliveries``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- subscriptions ---------------------------------------------------------------------
    def insert(
        self,
        subscription_id: str,
        org_id: int,
        url: str,
        filters: str,
        events: str,
        sealed_secret: bytes,
        token_id: int | None,
        now: float,
    ) -> None:
        """A new subscription (``filters`` and ``events`` as JSON), of the records indexed after it.

        Its ``from_rowid`` is the newest index row when it commits (read in the same statement), so
        a scan that read the index before it saw no such subscription misses nothing of its.
        """
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO subscriptions(id, org_id, url, filters, events, secret, from_rowid, created_at,"
                " token_id) VALUES(?,?,?,?,?,?, (SELECT coalesce(max(rowid), 0) FROM chain_records), ?,?)",
                (subscription_id, org_id, url, filters, events, sealed_secret, now, token_id),
            )

    def count_active(self, org_id: int) -> int:
        """The organisation's subscriptions not deactivated."""
        return int(
            self.db.scalar(
                "SELECT count(*) FROM subscriptions WHERE org_id = ? AND deactivated_at IS NULL", (org_id,)
            )
        )

    def get(self, subscription_id: str) -> sqlite3.Row | None:
        """One subscription (the sealed secret included)."""
        return self.db.one("SELECT * FROM subscriptions WHERE id = ?", (subscription_id,))

    def of_org(self, org_id: int) -> list[sqlite3.Row]:
        """An organisation's subscriptions, newest first."""
        return self.db.all(
            "SELECT * FROM subscriptions WHERE org_id = ? ORDER BY created_at DESC, id", (org_id,)
        )

    def active(self) -> list[sqlite3.Row]:
        """Every subscription not deactivated, oldest first."""
        return self.db.all("SELECT * FROM subscriptions WHERE deactivated_at IS NULL ORDER BY created_at, id")

    def deactivate(self, subscription_id: str, now: float) -> None:
        """Marks a subscription deactivated (the row stays) and its open deliveries dead, in one commit."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE subscriptions SET deactivated_at = ? WHERE id = ? AND deactivated_at IS NULL",
                (now, subscription_id),
            )
            conn.execute(
                f"UPDATE deliveries SET state = '{DeliveryState.DEAD}', last_error = 'subscription deactivated'"
                f" WHERE subscription_id = ? AND {_OPEN}",
                (subscription_id,),
            )

    # -- the queue: filling it ---------------------------------------------------------------
    def cursor(self, key: str = RECORD_CURSOR) -> int | None:
        """The newest index rowid (or, with ``WARNING_CURSOR``, warning-history seq) whose events are
        queued; None before the first look."""
        value = self.db.get_meta(key)
        return None if value is None else int(value)

    def enqueue(
        self, rows: Iterable[tuple[object, ...]], cursor: int, now: float, key: str = RECORD_CURSOR
    ) -> int:
        """Queues deliveries and moves the cursor ``key``, in one commit; how many were new.

        Each row is (id, subscription_id, event_key, type, subject, project, project_code); a
        (subscription, event) already queued is left as it is.
        """
        added = 0
        with self.db.transaction() as conn:
            for row in rows:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO deliveries(id, subscription_id, event_key, type, subject, project,"
                    f" project_code, created_at, state, next_at) VALUES(?,?,?,?,?,?,?,?, '{DeliveryState.PENDING}', ?)",
                    (*row, now, now),
                )
                added += cur.rowcount
            conn.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, str(cursor)),
            )
        return added

    # -- the queue: working it ----------------------------------------------------------------
    def due(self, now: float, limit: int, skip: set[str]) -> list[sqlite3.Row]:
        """Open deliveries whose time has come, earliest first, leaving out the ids in ``skip``."""
        rows = self.db.all(
            f"SELECT * FROM deliveries WHERE {_OPEN} AND next_at <= ? ORDER BY next_at, seq LIMIT ?",
            (now, limit + len(skip)),
        )
        return [r for r in rows if r["id"] not in skip][:limit]

    def next_due(self, skip: set[str]) -> float | None:
        """When the earliest open delivery not in ``skip`` is due (None: there is none)."""
        rows = self.db.all(
            f"SELECT id, next_at FROM deliveries WHERE {_OPEN} ORDER BY next_at LIMIT ?", (len(skip) + 1,)
        )
        return next((float(r["next_at"]) for r in rows if r["id"] not in skip), None)

    def delivered(self, delivery_id: str, status: int, attempts: int, now: float) -> None:
        """The receiver answered 2xx: delivered, whatever the row said meanwhile."""
        self.db.conn.execute(
            f"UPDATE deliveries SET state = '{DeliveryState.DELIVERED}', last_status = ?, last_error = NULL,"
            " attempts = ?, delivered_at = ? WHERE id = ?",
            (status, attempts, now, delivery_id),
        )

    def failed(
        self, delivery_id: str, attempts: int, status: int | None, error: str, next_at: float | None
    ) -> None:
        """An attempt failed: ``failing`` until ``next_at``, or ``dead`` when there is none (still open rows only)."""
        state = DeliveryState.DEAD if next_at is None else DeliveryState.FAILING
        self.db.conn.execute(
            f"UPDATE deliveries SET state = ?, attempts = ?, last_status = ?, last_error = ?,"
            f" next_at = coalesce(?, next_at) WHERE id = ? AND {_OPEN}",
            (str(state), attempts, status, error, next_at, delivery_id),
        )

    def redeliver(self, delivery_id: str, now: float) -> bool:
        """A dead delivery is pending again, with its attempts counted afresh; False if it was not dead."""
        cur = self.db.conn.execute(
            f"UPDATE deliveries SET state = '{DeliveryState.PENDING}', attempts = 0, next_at = ?"
            f" WHERE id = ? AND state = '{DeliveryState.DEAD}'",
            (now, delivery_id),
        )
        return cur.rowcount == 1

    # -- what the subscriber sees ------------------------------------------------------------
    def delivery(self, subscription_id: str, delivery_id: str) -> sqlite3.Row | None:
        """One delivery of a subscription."""
        return self.db.one(
            "SELECT * FROM deliveries WHERE id = ? AND subscription_id = ?", (delivery_id, subscription_id)
        )

    def counts(self, subscription_ids: list[str]) -> dict[str, dict[str, int]]:
        """Deliveries per state of each subscription (states with none are left out)."""
        out: dict[str, dict[str, int]] = {}
        for i in range(0, len(subscription_ids), _CHUNK):
            chunk = subscription_ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.db.all(
                f"SELECT subscription_id, state, count(*) FROM deliveries WHERE subscription_id IN ({marks})"
                " GROUP BY subscription_id, state",
                chunk,
            ):
                out.setdefault(str(row[0]), {})[str(row[1])] = int(row[2])
        return out

    def deliveries(
        self, subscription_id: str, state: str | None, before_seq: int | None, limit: int
    ) -> list[sqlite3.Row]:
        """A subscription's deliveries, newest first, optionally in one state and before a ``seq``."""
        where: list[str] = ["subscription_id = ?"]
        params: list[object] = [subscription_id]
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if before_seq is not None:
            where.append("seq < ?")
            params.append(before_seq)
        return self.db.all(
            f"SELECT * FROM deliveries WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?",
            (*params, limit),
        )
