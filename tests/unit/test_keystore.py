"""A key is unlocked once per process, even when many requests ask for it at the same moment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from node_api.chain.keystore import KeyStore


def test_concurrent_first_loads_decrypt_the_key_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created = KeyStore(tmp_path, "pw").create("seal-7")
    store = KeyStore(tmp_path, "pw")  # another process's view: nothing unlocked yet
    calls: list[int] = []
    real = Account.decrypt

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return bytes(real(*args, **kwargs))

    monkeypatch.setattr(Account, "decrypt", staticmethod(counting))
    with ThreadPoolExecutor(16) as pool:
        loaded = list(pool.map(lambda _: store.load("seal-7"), range(64)))
    assert len(calls) == 1
    assert {a.address for a in loaded} == {created.address}
