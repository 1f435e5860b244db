"""The layer contract (pyproject.toml, import-linter) holds, and breaks when a layer is crossed.

Each case copies the package into a scratch directory, adds one forbidden import to one
module and runs ``lint-imports`` there with the project's own contracts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "250"},
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "node_api", tmp_path / "node_api", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("api/routes/health.py", "import sqlite3", "Routes run no SQL"),
        ("indexer/follower.py", "import sqlite3", "SQL only in the store"),
        ("ledger/reader.py", "from sqlite3 import Row", "SQL only in the store"),
        ("api/routes/records.py", "from node_api.store.database import Database", "Routes run no SQL"),
        ("api/routes/projects.py", "from node_api.node import Node", "Routes take narrow services"),
        ("verify/merkle.py", "from node_api.ledger import reader", "verify is pure"),
        ("store/database.py", "from node_api.ledger import access", "Layers"),
        ("chain/rpc.py", "from node_api.indexer import follower", "Layers"),
        ("cli.py", "from demo import load_demo", "The runtime package imports no tests"),
        ("chain/embedded.py", "from tests.support import chaos", "The runtime package imports no tests"),
    ],
)
def test_a_crossed_layer_breaks_the_contract(tree: Path, module: str, line: str, contract: str) -> None:
    path = tree / "node_api" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    broken = [ln for ln in result.stdout.splitlines() if ln.rstrip().endswith("BROKEN")]
    assert any(ln.startswith(contract) for ln in broken), result.stdout
