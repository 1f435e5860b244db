"""`make bench`: a fresh node and chain, every figure against a naive web3.py loop of the same run.

Thin entry point; the benchmark lives in ``node_api.bench`` (see docs/benchmark.md).
Options: ``--quick`` (smoke, seconds), ``--scale`` (1,000,000 records), ``--help``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The repository root, so the node launcher of the test support (tests/support/cluster.py,
# the same `projchain run --demo` program `make run` starts) is importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from node_api.bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
