"""Shared fixtures. Markers: `chain` (real anvil), `browser` (Debian chromium), `slow`.

The session-scoped `node` is a real `projchain run --demo` process with its own
anvil chain; tests stay independent by creating their own projects (unique codes).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from localnode import NodeProcess


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """A running node with the 庄浪县 demo organisations and their tokens.

    It trusts 127.0.0.5 as a reverse proxy (X-Forwarded-For), for the auth-guard tests.
    """
    proc = NodeProcess(tmp_path_factory.mktemp("node"), env={"PROJCHAIN_TRUSTED_PROXIES": '["127.0.0.5"]'})
    proc.start()
    yield proc
    proc.stop()


_used: set[str] = set()


def unique_code(year: int = 2026, industry: str = "48", kind: str = "01") -> str:
    """A well-formed project code of 庄浪县 not used before in this session."""
    while True:
        code = f"{year}-620825-{industry}-{kind}-{random.randint(0, 999_999):06d}"
        if code not in _used:
            _used.add(code)
            return code


@pytest.fixture
def code() -> str:
    """A fresh project code."""
    return unique_code()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where test artefacts (screenshots, bundles) are kept."""
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
