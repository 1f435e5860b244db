"""The node's data key: documents at rest, and the openings vault derived from it.

The key is ``scrypt(keystore password, salt)`` with a **random per-node salt** (32 bytes,
hex) kept beside the document store in ``documents/key-salt``. It is not secret: it makes
each node's key its own, so a dictionary of passwords run through scrypt once cannot be
used against every node, and one node's files do not open on another node that happens
to share the password. (Before, the salt was the fixed string ``projchain/documents/v1``.)

Upgrade of a node whose documents and openings were written under the fixed-salt key —
the simpler safe path, **re-encrypt once, then one key**: while ``key-salt`` does not exist,
a new salt is written to ``key-salt.new``; every document file of the old format and every
stored opening that authenticates under the old key is re-encrypted under the new key;
only then is ``key-salt.new`` renamed to ``key-salt``. Each step is atomic (a document by
rename, the openings in one transaction) and whatever is already under the new key is
recognised (file format; authentication tag) and skipped, so an interrupted upgrade simply
runs again at the next start. Afterwards the old key is never derived again. The primary
process does this before it serves (workers start after it); a lock file keeps two
processes from doing it at once all the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from node_api.store.database import Database
from node_api.store.documents import DocumentStore, fsync_dir
from node_api.store.openings import OpeningCorrupt, OpeningVault

log = logging.getLogger("projchain.store")

SALT_FILE = "key-salt"  # in the document store's root; never a digest's name
LEGACY_SALT = b"projchain/documents/v1"
_SALT_BYTES = 32


def derive(password: str, salt: bytes) -> bytes:
    """The 32-byte key of a password and salt (scrypt n=2^14, r=8, p=1: ≈ 50 ms, 16 MB)."""
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def document_key(root: Path, password: str, db: Database) -> bytes:
    """The node's data key, for the document store at ``root``; upgrades a fixed-salt node first."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    final, pending = root / SALT_FILE, root / (SALT_FILE + ".new")
    if final.exists():
        return derive(password, _read_salt(final))
    with _locked(root / (SALT_FILE + ".lock")):
        if final.exists():  # another process finished it while this one waited
            return derive(password, _read_salt(final))
        if not pending.exists():
            _write_new(pending, os.urandom(_SALT_BYTES).hex() + "\n")
        key = derive(password, _read_salt(pending))
        legacy = cache(lambda: derive(password, LEGACY_SALT))
        moved, failed = DocumentStore(root, key).reencrypt_legacy(legacy)
        resealed, unreadable = _reseal_openings(db, OpeningVault(key), legacy)
        if moved or resealed or failed or unreadable:
            log.warning(
                "data key: per-node salt made; re-encrypted %d documents and %d openings from the fixed-salt "
                "key; %d documents and %d openings authenticate under neither key and were left as they are",
                moved, resealed, len(failed), len(unreadable),
            )  # fmt: skip
        os.replace(pending, final)
        fsync_dir(root)
    return key


def _reseal_openings(db: Database, vault: OpeningVault, legacy: Callable[[], bytes]) -> tuple[int, list[str]]:
    """Re-seals, in one transaction, the openings that authenticate under the legacy key only."""
    rows = db.all("SELECT uid, sealed FROM openings")
    if not rows:
        return 0, []
    resealed: list[tuple[bytes, str]] = []
    unreadable: list[str] = []
    old: OpeningVault | None = None
    for row in rows:
        uid, sealed = str(row["uid"]), bytes(row["sealed"])
        with contextlib.suppress(OpeningCorrupt):
            vault.unseal(uid, sealed)
            continue  # already under the new key
        old = old or OpeningVault(legacy())
        try:
            opening = old.unseal(uid, sealed)
        except OpeningCorrupt:
            unreadable.append(uid)
            continue
        resealed.append((vault.seal(uid, opening), uid))
    if resealed:
        with db.transaction() as conn:
            conn.executemany("UPDATE openings SET sealed = ? WHERE uid = ?", resealed)
    return len(resealed), unreadable


def _read_salt(path: Path) -> bytes:
    salt = bytes.fromhex(path.read_text().strip())
    if len(salt) != _SALT_BYTES:
        raise ValueError(f"{path} does not hold a {_SALT_BYTES}-byte salt")
    return salt


def _write_new(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
