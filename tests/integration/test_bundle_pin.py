"""verify-bundle with the consortium's ledger address pinned."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from node_api.demo import HEATING
from tests.support.cluster import NodeProcess

pytestmark = pytest.mark.chain


def _verify(node: NodeProcess, path: Path, ledger: str) -> subprocess.CompletedProcess[str]:
    args = [
        sys.executable,
        "-m",
        "node_api.cli",
        "verify-bundle",
        str(path),
        "--rpc",
        node.rpc_url,
        "--ledger",
        ledger,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_bundle_naming_another_ledger_than_the_pinned_one_fails(node: NodeProcess, tmp_path: Path) -> None:
    with node.client("sjj") as auditor:
        bundle = auditor.get(f"/v1/audit/projects/{HEATING}/bundle").json()
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    ledger = bundle["contracts"]["ledger"]

    good = _verify(node, path, ledger)
    bad = _verify(node, path, "0x" + "12" * 20)

    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 1
    assert "not the pinned" in bad.stdout
