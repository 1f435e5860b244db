"""The benchmark (``make bench``, ``scripts/bench.py``): a fresh node and chain against a naive web3.py loop.

Not part of the node: it starts one with ``localnode`` and measures it from outside
(see docs/benchmark.md). Results are written to ``bench/results/``.
"""
