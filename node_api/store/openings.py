"""Restricted content of records, off chain and encrypted at rest.

A record's restricted fields never go on chain (ARCHITECTURE principle 1): the chain holds
``keccak256(salt ‖ content)`` in the payload's ``restricted`` word; the opening (salt and
content) lives here, AES-256-GCM encrypted under a key derived from the node's document key,
with the record uid as associated data (a row copied under another uid fails to decrypt).
Rows are insert-only. The issuing node stores the opening in the same transaction as the
outbox row; another node stores one only after checking it against the on-chain commitment.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from node_api.domain.records import Opening
from node_api.errors import ProjchainError
from node_api.store.database import Database

_NONCE = 12
_SALT = 32


class OpeningCorrupt(ProjchainError):
    """A stored opening failed authentication: tampered, corrupt or the wrong key."""

    code = "opening_corrupt"
    status = 500


class OpeningVault:
    """Seals and unseals openings with the node's key (pure; no storage)."""

    def __init__(self, document_key: bytes) -> None:
        key = hmac.new(document_key, b"projchain/openings/v1", hashlib.sha256).digest()
        self._aead = AESGCM(key)
        self._salt_key = hmac.new(document_key, b"projchain/salts/v1", hashlib.sha256).digest()

    def salt(self, uid: bytes) -> bytes:
        """The salt of a record this node seals: secret, and the same for every retry of the uid."""
        return hmac.new(self._salt_key, uid, hashlib.sha256).digest()

    def seal(self, uid: str, opening: Opening) -> bytes:
        """``nonce ‖ AES-GCM(salt ‖ content)`` bound to ``uid``."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, opening.salt + opening.content, uid.encode())

    def unseal(self, uid: str, sealed: bytes) -> Opening:
        """The opening stored under ``uid``; ``OpeningCorrupt`` if it does not authenticate."""
        try:
            plain = self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], uid.encode())
        except InvalidTag as e:
            raise OpeningCorrupt(f"the stored restricted content of {uid} does not authenticate") from e
        return Opening(salt=plain[:_SALT], content=plain[_SALT:])


class Openings:
    """The ``openings`` table."""

    def __init__(self, db: Database, vault: OpeningVault) -> None:
        self.db = db
        self.vault = vault

    @staticmethod
    def insert(conn: sqlite3.Connection, uid: str, sealed: bytes, source: str) -> None:
        """Stores a sealed opening inside the caller's transaction (the first one stands)."""
        conn.execute(
            "INSERT OR IGNORE INTO openings(uid, sealed, source, stored_at) VALUES(?,?,?,?)",
            (uid, sealed, source, time.time()),
        )

    def put(self, uid: str, opening: Opening, source: str) -> None:
        """Stores an opening in its own transaction."""
        with self.db.transaction() as conn:
            self.insert(conn, uid, self.vault.seal(uid, opening), source)

    def get(self, uid: str) -> Opening | None:
        """The opening of ``uid`` held by this node, if any."""
        row = self.db.one("SELECT sealed FROM openings WHERE uid = ?", (uid,))
        return None if row is None else self.vault.unseal(uid, bytes(row["sealed"]))

    def held(self, uids: list[str]) -> set[str]:
        """The uids among ``uids`` whose opening this node holds (nothing unsealed)."""
        out: set[str] = set()
        for i in range(0, len(uids), 500):
            chunk = uids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            out.update(
                r["uid"] for r in self.db.all(f"SELECT uid FROM openings WHERE uid IN ({marks})", chunk)
            )
        return out

    def get_many(self, uids: list[str]) -> dict[str, Opening]:
        """The openings this node holds among ``uids``."""
        out: dict[str, Opening] = {}
        for i in range(0, len(uids), 500):
            chunk = uids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.all(f"SELECT uid, sealed FROM openings WHERE uid IN ({marks})", chunk):
                out[row["uid"]] = self.vault.unseal(row["uid"], bytes(row["sealed"]))
        return out
