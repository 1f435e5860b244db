"""Content-addressed document store, encrypted at rest with AES-256-GCM.

A document is addressed by the SHA-256 of its plaintext (what goes on chain), and lives at
``root/ab/cd/<digest>`` as ``version (1 byte) || nonce (12 bytes) || ciphertext+tag``.
The digest is the AEAD's associated data, so a valid file copied or renamed under another
digest fails authentication instead of serving the wrong document.

Version 2 files are encrypted under the node's key with a per-node random salt (see
``node_api.store.keys``); version 1 files, under the key of the old fixed salt, are
re-encrypted once by ``reencrypt_legacy`` when a node first starts with per-node salts.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from node_api.errors import NotFoundError, ProjchainError, ValidationError
from node_api.store.database import Database

FORMAT_VERSION = 2
LEGACY_FORMAT_VERSION = 1  # the key of the fixed salt; re-encrypted at upgrade
KEY_SIZE = 32
_NONCE_SIZE = 12
_TAG_SIZE = 16
_OVERHEAD = 1 + _NONCE_SIZE + _TAG_SIZE
_DIGEST = re.compile(r"[0-9a-f]{64}")


class IntegrityError(ProjchainError):
    """A stored document failed decryption or its hash check: tampered, corrupt or wrong key."""

    code = "document_corrupt"
    status = 500


def sha256_hex(data: bytes) -> str:
    """The lowercase hex SHA-256 of `data`: a document's address."""
    return hashlib.sha256(data).hexdigest()


def fsync_dir(path: Path) -> None:
    """Makes a rename or a new entry in ``path`` durable: only a synced directory keeps it."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DocumentStore:
    """Documents on disk under `root`, encrypted with one 32-byte AES-GCM key."""

    def __init__(self, root: Path, key: bytes) -> None:
        """Open (without creating yet) the store at `root`; `key` must be 32 bytes."""
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_SIZE:
            raise ValueError(f"document key must be {KEY_SIZE} bytes")
        self._root = Path(root)
        self._aead = AESGCM(bytes(key))

    def _path(self, digest: str) -> Path:
        # The strict check is what keeps caller-supplied strings from escaping `root`.
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise ValidationError("digest", "must be 64 lowercase hex characters")
        return self._root / digest[:2] / digest[2:4] / digest

    def _make_dirs(self, directory: Path) -> None:
        missing: list[Path] = []
        d = directory
        while not d.exists():
            missing.append(d)
            d = d.parent
        directory.mkdir(parents=True, exist_ok=True)
        for created in missing:
            fsync_dir(created.parent)

    def put(self, data: bytes) -> str:
        """Store `data` (a no-op if already stored) and return its hex SHA-256 digest."""
        digest = sha256_hex(data)
        path = self._path(digest)
        if path.exists():
            return digest
        self._write(path, self._encrypt(digest, data))
        return digest

    def _encrypt(self, digest: str, data: bytes) -> bytes:
        nonce = os.urandom(_NONCE_SIZE)
        return bytes([FORMAT_VERSION]) + nonce + self._aead.encrypt(nonce, data, digest.encode("ascii"))

    def _write(self, path: Path, blob: bytes) -> None:
        self._make_dirs(path.parent)
        # Write aside then rename: readers and crashes see either no file or a whole one.
        # The ".tmp-" prefix can never match a digest, so strays are never served.
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        fsync_dir(path.parent)

    def get(self, digest: str) -> bytes:
        """The plaintext stored under `digest`, authenticated and hash-checked."""
        path = self._path(digest)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"document {digest} not found") from None
        if len(blob) < _OVERHEAD or blob[0] != FORMAT_VERSION:
            raise IntegrityError(f"document {digest} is truncated or of an unknown format")
        nonce, ciphertext = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
        try:
            data = self._aead.decrypt(nonce, ciphertext, digest.encode("ascii"))
        except InvalidTag:
            raise IntegrityError(f"document {digest} failed authentication") from None
        # Belt and braces: GCM already binds the digest, but the address must be the content's hash.
        if not hmac.compare_digest(sha256_hex(data), digest):
            raise IntegrityError(f"document {digest} does not match its digest")
        return data

    def reencrypt_legacy(self, legacy_key: Callable[[], bytes]) -> tuple[int, list[str]]:
        """Re-encrypts every version-1 file under this store's key: (files re-encrypted, digests
        of those that failed authentication under the legacy key, left as they are).

        Each file is replaced atomically, and version-2 files are skipped, so an interrupted
        run is simply run again. ``legacy_key`` is called only if there is a version-1 file.
        """
        done = 0
        failed: list[str] = []
        old: AESGCM | None = None
        if not self._root.is_dir():
            return done, failed
        for path in sorted(self._root.glob("??/??/*")):
            digest = path.name
            if not _DIGEST.fullmatch(digest) or path.parent.parent.name + path.parent.name != digest[:4]:
                continue
            blob = path.read_bytes()
            if len(blob) < _OVERHEAD or blob[0] != LEGACY_FORMAT_VERSION:
                continue
            old = old or AESGCM(legacy_key())
            try:
                data = old.decrypt(blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :], digest.encode("ascii"))
            except InvalidTag:
                failed.append(digest)
                continue
            if not hmac.compare_digest(sha256_hex(data), digest):
                failed.append(digest)
                continue
            self._write(path, self._encrypt(digest, data))
            done += 1
        return done, failed

    def exists(self, digest: str) -> bool:
        """Whether a document is stored under `digest` (not checked for integrity)."""
        return self._path(digest).is_file()

    def size(self, digest: str) -> int | None:
        """The plaintext size of the document under `digest`, or None if absent."""
        try:
            stored = self._path(digest).stat().st_size
        except FileNotFoundError:
            return None
        if stored < _OVERHEAD:
            raise IntegrityError(f"document {digest} is truncated")
        return stored - _OVERHEAD


class DocumentTable:
    """Repository of the ``documents`` table: who uploaded which digest, its size and content type."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record_upload(self, digest: str, org_id: int, size: int, content_type: str) -> None:
        """Notes an upload (once per digest and organisation)."""
        self.db.conn.execute(
            "INSERT OR IGNORE INTO documents(digest, org_id, size, content_type, uploaded_at) VALUES(?,?,?,?,?)",
            (digest, org_id, size, content_type, time.time()),
        )

    def content_type(self, digest: str) -> str | None:
        """The content type the document was first uploaded with."""
        value = self.db.scalar("SELECT content_type FROM documents WHERE digest = ? LIMIT 1", (digest,))
        return None if value is None else str(value)

    def uploaders(self, digest: str) -> list[int]:
        """The organisations that uploaded the document to this node."""
        return [int(r[0]) for r in self.db.all("SELECT org_id FROM documents WHERE digest = ?", (digest,))]

    def uploaded_by(self, digest: str, org_id: int) -> bool:
        """Whether ``org_id`` uploaded the document to this node."""
        return (
            self.db.scalar("SELECT 1 FROM documents WHERE digest = ? AND org_id = ?", (digest, org_id))
            is not None
        )
