"""`make bench`: a fresh node and chain, every figure against a naive web3.py loop of the same run.

Thin entry point; the benchmark is the package ``bench`` (see docs/benchmark.md).
Options: ``--quick`` (smoke, seconds), ``--scale`` (1,000,000 records), ``--help``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where `bench` would be this very file
# (scripts/bench.py), not the installed package `bench`: take the folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

from bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
