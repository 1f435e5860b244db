"""Encrypted key files (Web3 Secret Storage v3, scrypt) for seal, relayer and admin keys.

Private keys never touch the database or the logs; they live only in these files,
encrypted with the node's keystore password, and in memory once loaded.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from node_api.errors import ConfigurationError, NotFoundError

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# scrypt n=2^15: ~0.1 s per unlock; a node unlocks each key once at start.
_SCRYPT_N = 2**15


class KeyStore:
    """A directory of named, encrypted keys."""

    def __init__(self, directory: Path, password: str) -> None:
        self.directory = directory
        self._password = password
        self._cache: dict[str, LocalAccount] = {}
        self._unlocking: dict[str, threading.Lock] = {}
        self._locks = threading.Lock()

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ConfigurationError(f"invalid key name {name!r}")
        return self.directory / f"{name}.json"

    def exists(self, name: str) -> bool:
        """Whether a key of this name exists."""
        return self._path(name).exists()

    def create(self, name: str) -> LocalAccount:
        """Generates a key, writes it encrypted and returns it."""
        path = self._path(name)
        if path.exists():
            raise ConfigurationError(f"key {name!r} exists already")
        account: LocalAccount = Account.create()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        encrypted = Account.encrypt(account.key, self._password, kdf="scrypt", iterations=_SCRYPT_N)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(encrypted, f)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
        self._cache[name] = account
        return account

    def load(self, name: str) -> LocalAccount:
        """Decrypts a key (once per process, however many threads ask for it at once)."""
        if name in self._cache:
            return self._cache[name]
        with self._locks:
            lock = self._unlocking.setdefault(name, threading.Lock())
        # One unlock per key: requests arriving together for a key not yet unlocked (an
        # organisation admitted after this process started) wait for the first one's
        # ≈ 0.1 s of scrypt instead of each paying it (measured: ≈ 40 % of a gateway worker's
        # CPU over a 15 s phase of 1,024 clients' single writes, `python -m bench.profile`).
        with lock:
            if name in self._cache:
                return self._cache[name]
            return self._unlock(name)

    def _unlock(self, name: str) -> LocalAccount:
        path = self._path(name)
        if not path.exists():
            raise NotFoundError(f"no key named {name!r}")
        try:
            key = Account.decrypt(json.loads(path.read_text()), self._password)
        except ValueError as e:
            raise ConfigurationError(f"cannot unlock key {name!r}: wrong keystore password") from e
        account: LocalAccount = Account.from_key(key)
        self._cache[name] = account
        return account

    def cached(self, name: str) -> LocalAccount | None:
        """A key already unlocked in this process, or None."""
        return self._cache.get(name)

    def rename(self, old: str, new: str) -> None:
        """Renames a key file (keeping it unlocked if it was)."""
        self._path(old).rename(self._path(new))
        if old in self._cache:
            self._cache[new] = self._cache.pop(old)

    def preload(self, prefix: str) -> int:
        """Decrypts every key whose name starts with ``prefix`` now (call it in a thread at start).

        Unlocking costs ~0.1 s of CPU per key; done on a request's path it would stall
        every other request of the process for that long.
        """
        names = [p.stem for p in sorted(self.directory.glob(f"{prefix}*.json")) if _NAME.match(p.stem)]
        for name in names:
            self.load(name)
        return len(names)

    def get_or_create(self, name: str) -> LocalAccount:
        """Loads a key, creating it on first use."""
        return self.load(name) if self.exists(name) else self.create(name)

    def address(self, name: str) -> str:
        """A key's address without decrypting it (the v3 file carries it)."""
        data = json.loads(self._path(name).read_text())
        return "0x" + str(data["address"]).removeprefix("0x")
