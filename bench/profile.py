"""Where the primary's CPU goes during bulk writes: py-spy samples of the node's primary process.

    .venv/bin/python -m bench.profile [--seconds 30] [--batch-size 1000] [--clients 8] [--single] [--prefill 50000]

Starts a fresh node and chain (as ``make bench`` does), registers the projects the load writes to,
then runs bulk writes (or, with ``--single``, single-record writes at 1,024 clients) for
``--seconds`` while ``py-spy record`` samples the primary (submitter, indexer, confirmations: the
serial path of issue #15) or, with ``--process worker``, gateway worker 1 (which also assesses the warnings). Prints the phase's figures (records/s, serial µs per record) and the
functions holding the primary's samples, by own time and by inclusive time, as µs per confirmed
record; writes the raw collapsed stacks to ``bench/results/profile-*.txt`` for a flame graph.

py-spy is a development dependency (``.[dev]``); the machine must allow ptrace of one's own
processes (``/proc/sys/kernel/yama/ptrace_scope`` 0 or 1 with the same user as parent is not
enough: the profiler is not the node's parent, so 0 is needed).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.loadgen import HttpClient
from bench.runner import Bench, Options, _chain_pid, _stop_leftover
from bench.sysstat import CpuMeter
from localnode import NodeProcess
from node_api.config import REPO_ROOT
from node_api.workers import worker_index, worker_pids

RESULTS = REPO_ROOT / "bench" / "results"


def _collapsed(path: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw output: one ``frame;frame;… count`` line per distinct stack."""
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames:
            stacks.append((frames.split(";"), int(count)))
    return stacks


def _short(frame: str) -> str:
    """``fn (path/to/module.py:12)`` → ``fn (module.py)``: lines of one function together."""
    name, _, where = frame.partition(" (")
    file = where.split(":")[0].rsplit("/", 1)[-1]
    return f"{name} ({file})"


def summary(path: Path, records: int, rate: int, process: str = "primary", top: int = 30) -> str:
    """Own and inclusive µs per record of the busiest functions (samples at ``rate`` Hz)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _collapsed(path):
        total += count
        names = [_short(f) for f in frames]
        own[names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    per = 1e6 / rate / max(records, 1)
    lines = [
        f"{process}: {total} samples at {rate} Hz = {total / rate:.1f} CPU s, {total * per:,.0f} µs/record"
    ]
    for title, counter in (("own time", own), ("inclusive time", inclusive)):
        lines.append(f"-- by {title} (µs per confirmed record) --")
        lines += [f"{n * per:9.1f}  {name}" for name, n in counter.most_common(top)]
    return "\n".join(lines)


async def _profile(args: argparse.Namespace) -> int:
    opts = Options(
        write_seconds=args.seconds, warmup=2.0, batch_size=args.batch_size, bulk_clients=args.clients,
        concurrency=args.concurrency,
    )  # fmt: skip
    bench = Bench(opts)
    base = Path(tempfile.mkdtemp(prefix="projchain-profile-"))
    bench.node = NodeProcess(base / "node", env=dict(kv.split("=", 1) for kv in args.node_env))
    await asyncio.to_thread(bench.node.start)
    spy: subprocess.Popen[bytes] | None = None
    try:
        assert bench.node.process is not None
        primary = bench.node.process.pid
        bench.cpu = CpuMeter(primary, _chain_pid(bench.node.anvil_port))
        target = primary if args.process == "primary" else _worker_one(primary)
        bench.client = HttpClient("127.0.0.1", bench.node.port)
        bench.hot = bench._new_codes(args.projects)
        await bench._register(bench.hot)
        if args.prefill:
            await bench._prefill(args.prefill)  # as make bench fills the ledger before its second suite
        await bench._drain()
        out = RESULTS / f"profile-{'single' if args.single else 'bulk'}-{args.process}.txt"
        spy_bin = Path(sys.executable).with_name("py-spy")
        spy = subprocess.Popen(
            [str(spy_bin), "record", "--pid", str(target), "--rate", str(args.rate), "--format", "raw",
             "--output", str(out), "--duration", str(int(opts.warmup + opts.write_seconds + 2)), "--nonblocking"]
            + (["--idle"] if args.idle else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        before = (await bench._health())["outbox"]["confirmed"]
        await (bench._single(opts.concurrency, "single-record writes") if args.single else bench._bulk())
        await asyncio.to_thread(spy.wait, 120)
        confirmed = (await bench._health())["outbox"]["confirmed"] - before  # while py-spy sampled
        print(summary(out, confirmed, args.rate, args.process))
        print(f"collapsed stacks: {out}")
        return 0
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        chain_pid = _chain_pid(bench.node.anvil_port)
        await asyncio.to_thread(bench.node.stop)
        if chain_pid is not None:
            await asyncio.to_thread(_stop_leftover, chain_pid, bench.node.anvil_port)
        shutil.rmtree(base, ignore_errors=True)


def _worker_one(primary: int) -> int:
    """Gateway worker 1's pid (the worker that also assesses the warnings)."""
    return next(pid for pid in worker_pids(primary) if worker_index(pid) == 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--concurrency", type=int, default=1024)
    p.add_argument("--projects", type=int, default=1000)
    p.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="records in the ledger before the profile (as make bench's filled ledger)",
    )
    p.add_argument("--rate", type=int, default=200)
    p.add_argument("--single", action="store_true", help="single-record writes instead of bulk")
    p.add_argument(
        "--idle", action="store_true",
        help="sample idle threads too: where the process waits (sqlite locks, fsync, the event loop's select)",
    )  # fmt: skip
    p.add_argument(
        "--process", choices=("primary", "worker"), default="primary",
        help="the process sampled: the primary (the serial path) or gateway worker 1 (it assesses the warnings)",
    )  # fmt: skip
    p.add_argument("--node-env", action="append", default=[], metavar="KEY=VALUE")
    return asyncio.run(_profile(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
