"""``scripts/bench.py`` (``make bench``): options, one run, JSON + PNG + Markdown table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.runner import Bench, Options

RESULTS = Path(__file__).resolve().parent / "results"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/bench.py",
        description="Benchmark a fresh projchain node against a naive web3.py loop measured in the same run.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick", action="store_true", help="smoke run (seconds plus node start-up), tiny sizes"
    )
    mode.add_argument("--scale", action="store_true", help="fill the ledger to 1,000,000 records (long)")
    p.add_argument(
        "--prefill", type=int, help="records in the ledger before the second suite (default 50,000)"
    )
    p.add_argument("--seconds", type=float, help="measurement window of each write phase")
    p.add_argument("--read-seconds", type=float, help="measurement window of each read phase")
    p.add_argument("--concurrency", type=int, help="clients of the single-record saturation phase")
    p.add_argument("--light-concurrency", type=int, help="clients of the single-record light-load phase")
    p.add_argument("--bulk-clients", type=int, help="concurrent batch clients")
    p.add_argument("--batch-size", type=int, help="records per batch request (max 1000)")
    p.add_argument("--read-concurrency", type=int, help="clients of each read phase")
    p.add_argument("--baseline-seconds", type=float, help="duration of the naive loop (automine)")
    p.add_argument(
        "--workers-sweep",
        help="PROJCHAIN_WORKERS values of the bulk-write sweep after the run, e.g. 1,2,4"
        " (default 1, 2, then doubling up to the cores; 'none' skips it)",
    )
    p.add_argument(
        "--sweep-single",
        action="store_true",
        help="the sweep also measures single-record writes (saturation clients) on each node",
    )
    p.add_argument(
        "--sweep-only",
        action="store_true",
        help="the baseline and the workers sweep only (bulk and single writes), for a many-core machine",
    )
    p.add_argument(
        "--node-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="setting for the node, e.g. PROJCHAIN_BATCH_SIZE=500 (repeatable)",
    )
    p.add_argument(
        "--data-dir", type=Path, help="where the node and chain keep their data (default: a temp dir)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="results folder (default bench/results)",
    )
    p.add_argument("--name", default="latest", help="file name stem of the JSON and PNG (default latest)")
    return p


def options(args: argparse.Namespace) -> Options:
    """Options from the command line."""
    o = Options.quick() if args.quick else Options.scale() if args.scale else Options()
    for attr, value in (
        ("prefill", args.prefill),
        ("write_seconds", args.seconds),
        ("read_seconds", args.read_seconds),
        ("concurrency", args.concurrency),
        ("light_concurrency", args.light_concurrency),
        ("bulk_clients", args.bulk_clients),
        ("batch_size", args.batch_size),
        ("read_concurrency", args.read_concurrency),
        ("baseline_seconds", args.baseline_seconds),
        ("data_dir", args.data_dir),
    ):
        if value is not None:
            setattr(o, attr, value)
    for item in args.node_env:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("PROJCHAIN_"):
            raise SystemExit(f"--node-env wants PROJCHAIN_KEY=VALUE, got {item!r}")
        o.node_env[key] = value
    if args.workers_sweep is not None:
        o.workers_sweep = (
            [] if args.workers_sweep == "none" else [int(v) for v in args.workers_sweep.split(",")]
        )
    o.sweep_only = args.sweep_only
    o.sweep_single = args.sweep_single or args.sweep_only
    if o.sweep_only and not o.workers_sweep:
        raise SystemExit("--sweep-only needs a workers sweep (--workers-sweep 1,2,…)")
    if not 1 <= o.batch_size <= 1000:
        raise SystemExit("--batch-size must be 1..1000 (the endpoint's limit)")
    return o


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; writes ``<out>/<name>.json`` and ``.png``; prints the table."""
    import uvloop

    from bench import report

    args = _parser().parse_args(argv)
    opts = options(args)

    def log(msg: str) -> None:
        print(msg, flush=True)

    result = uvloop.run(Bench(opts, log).run())
    json_path = args.out / f"{args.name}.json"
    png_path = args.out / f"{args.name}.png"
    report.write_json(result, json_path)
    if opts.sweep_only:  # no chart: its panels are the main suite's phases
        print()
        print(report.sweep_markdown(result))
        print()
        print(f"wrote {json_path}")
        return 0
    report.chart(result, png_path)
    print()
    print(report.markdown(result))
    print()
    print(f"wrote {json_path} and {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
