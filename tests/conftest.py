"""Shared fixtures. Markers: `chain` (real anvil), `browser` (Debian chromium), `slow`.

The session-scoped `node` is a real `projchain run --demo` process with its own
anvil chain; tests stay independent by creating their own projects (unique codes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localnode import NodeProcess
from tests.support.records import unique_code


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """A running node with the 庄浪县 demo organisations and their tokens.

    It trusts 127.0.0.5 as a reverse proxy (X-Forwarded-For), for the auth-guard tests.
    """
    proc = NodeProcess(tmp_path_factory.mktemp("node"), env={"PROJCHAIN_TRUSTED_PROXIES": '["127.0.0.5"]'})
    proc.start()
    yield proc
    proc.stop()


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
