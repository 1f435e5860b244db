"""One benchmark run: a fresh node and chain, the baseline and every figure, same run.

Order of a run (each phase is measured on its own; the pipeline drains in between):

1. start ``projchain run --demo`` on free ports with its own anvil (the program
   ``make run`` starts), register the projects the load writes to;
2. admit the baseline organisation; run the naive loop once on the node's own
   chain settings (interval mining);
3. the suite on the (nearly) empty ledger: single-record writes at saturation and
   at light load, bulk writes, reads of records and of document digests, gas;
4. pre-fill the ledger to ``prefill`` records through the batch endpoint;
5. the same suite on the filled ledger;
5a. search (``bench/search.py``): projects registered up to ``search_projects``, then
   ``GET /v1/projects`` by owner USCC and by name, one request after another;
6. the naive loop again with anvil switched to automine, its best case: every
   figure's ratio is taken against this (the conservative choice), as are naive
   ``eth_call`` reads. Automine cannot be switched back to sub-second interval
   mining over RPC, which is why this phase comes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import baseline as naive
from bench import gas, search
from bench.loadgen import Checker, HttpClient, Run, closed_loop, percentile
from bench.sysstat import CpuMeter, node_pids
from bench.workload import (
    APPROVERS,
    RECORDS_PER_PROJECT,
    Sample,
    approval_body,
    approval_item,
    approver,
    document_digest,
    project_code,
    project_item,
)
from localnode import NodeProcess
from node_api.chain.embedded import anvil_pids
from node_api.config import REPO_ROOT
from node_api.workers import worker_pids

READERS = ("sjj", "zjj")  # auditor, and an authority that also supervises
HOT_PROJECTS = 1000  # ≈ 30–50 records per project by the end of a run, like a real county project


@dataclass
class Options:
    """Knobs of a run; defaults are the documented ``make bench`` run."""

    prefill: int = 50_000
    warmup: float = 3.0
    write_seconds: float = 12.0
    read_seconds: float = 8.0
    concurrency: int = 1024
    light_concurrency: int = 64
    bulk_clients: int = 8  # enough connections to spread over the node's processes (SO_REUSEPORT)
    batch_size: int = 1000
    read_concurrency: int = 32
    baseline_seconds: float = 10.0
    baseline_interval_seconds: float = 4.0
    prefill_clients: int = 8
    filings: int = 20  # 秒批秒办 filings, one after another: request → confirmed → 备案证 served
    search_projects: int = 50_000  # projects in the search table for the search phase (registered up to it)
    search_requests: int = 300  # measured searches of each kind, one after another
    node_env: dict[str, str] = field(default_factory=dict)
    # PROJCHAIN_WORKERS values of the sweep after the run: a fresh node each, bulk writes only.
    # Default 1, 2, then doubling up to the machine's cores.
    workers_sweep: list[int] = field(default_factory=lambda: _sweep_default(os.cpu_count() or 1))
    sweep_projects: int = 200  # projects each sweep node registers for its bulk writes
    sweep_single: bool = False  # the sweep also measures single-record writes at ``concurrency`` clients
    sweep_only: bool = False  # baseline and sweep only: the many-core machine's run (docs/benchmark.md)
    data_dir: Path | None = None
    label: str = "default"

    @classmethod
    def quick(cls) -> Options:
        """A smoke run of seconds (plus node start-up): every phase, tiny sizes."""
        return cls(
            prefill=10_000,
            warmup=1.0,
            write_seconds=2.0,
            read_seconds=1.5,
            concurrency=128,
            light_concurrency=16,
            bulk_clients=2,
            batch_size=250,
            read_concurrency=8,
            baseline_seconds=2.0,
            baseline_interval_seconds=1.5,
            filings=5,
            search_projects=10_000,
            search_requests=100,
            label="quick",
        )

    @classmethod
    def scale(cls) -> Options:
        """The growth target's run: 1,000,000 records in the ledger before the second suite."""
        return cls(prefill=1_000_000, label="scale")


def _sweep_default(cores: int) -> list[int]:
    """1, 2, 4, … up to ``cores`` (at least 1 and 2)."""
    counts, n = [1, 2], 4
    while n <= cores:
        counts.append(n)
        n *= 2
    return counts


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _latency(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    return {
        "p50": round(percentile(values, 50), 4),
        "p95": round(percentile(values, 95), 4),
        "p99": round(percentile(values, 99), 4),
        "max": round(max(values), 4),
    }


class Bench:
    """Drives one run and collects every figure into a JSON-ready dict."""

    def __init__(self, opts: Options, log: Callable[[str], None] = print) -> None:
        self.opts = opts
        self.log = log
        self.run_id = random.randrange(1, 1 << 30)
        self.rng = random.Random(self.run_id)
        self.sample = Sample()
        self.next_record = 0
        self.next_project = 0
        self.hot: list[str] = []
        self.result: dict[str, Any] = {}
        self._assessed = (0.0, 0.0)  # warning assessments and their seconds at the last look

    # -- plumbing ------------------------------------------------------------------
    def _new_codes(self, n: int) -> list[str]:
        codes = [project_code(self.next_project + i, self.run_id) for i in range(n)]
        self.next_project += n
        return codes

    def _take(self, n: int) -> range:
        r = range(self.next_record, self.next_record + n)
        self.next_record += n
        return r

    async def _post(self, path: str, body: Any, token: str | None = None, timeout: float = 120) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(base_url=self.node.url, timeout=timeout) as c:
            r = await c.post(path, json=body, headers=headers)
        if r.status_code >= 300:
            raise RuntimeError(f"{path} answered {r.status_code}: {r.text[:500]}")
        return r.json()

    async def _health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.node.url, timeout=60) as c:
            return dict((await c.get("/health")).json())

    async def _drain(self, timeout: float = 600) -> dict[str, int]:
        """Waits until the node has nothing accepted or submitted; returns the outbox counts."""
        deadline = time.monotonic() + timeout
        while True:
            outbox = (await self._health())["outbox"]
            if outbox["accepted"] + outbox["submitted"] == 0 or time.monotonic() > deadline:
                return dict(outbox)
            await asyncio.sleep(0.5)

    async def _register(self, codes: list[str]) -> None:
        token = self.node.tokens["fgj"]
        for i in range(0, len(codes), 1000):
            chunk = codes[i : i + 1000]
            items = [project_item(c, self.next_project + j) for j, c in enumerate(chunk)]
            out = await self._post("/v1/records:batch?wait=true", {"records": items}, token, timeout=600)
            bad = [r for r in out["results"] if r.get("state") != "confirmed"]
            if bad:
                raise RuntimeError(f"project registration failed: {bad[:3]}")

    # -- the run -----------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        """The whole run; returns the result document."""
        o = self.opts
        started = time.time()
        base = o.data_dir or Path(tempfile.mkdtemp(prefix="projchain-bench-"))
        self._scratch = [] if o.data_dir else [base]  # removed after the run (the chain state is large)
        try:
            result = await (self._sweep_run() if o.sweep_only else self._main_node(base, started))
            # After the main node is gone, so that it takes no CPU from the sweep's nodes.
            if o.workers_sweep:
                result["workers_sweep"] = await self._workers_sweep(o.workers_sweep)
            result["meta"]["duration_s"] = round(time.time() - started, 1)
            return result
        finally:
            for path in self._scratch:
                shutil.rmtree(path, ignore_errors=True)

    async def _main_node(self, base: Path, started: float) -> dict[str, Any]:
        """A fresh node and chain in ``base``, the main suite on them (``_run``), the node stopped."""
        o = self.opts
        self.log(f"starting a fresh node and chain in {base} …")
        t0 = time.perf_counter()
        self.node = NodeProcess(base / "node", env=o.node_env)
        await asyncio.to_thread(self.node.start)
        startup = time.perf_counter() - t0
        try:
            return await self._run(started, startup)
        finally:
            chain_pid = _chain_pid(self.node.anvil_port)
            await asyncio.to_thread(self.node.stop)
            if chain_pid is not None:
                await asyncio.to_thread(_stop_leftover, chain_pid, self.node.anvil_port)

    async def _run(self, started: float, startup: float) -> dict[str, Any]:
        o = self.opts
        health = await self._health()
        self.relayer = health["relayer"]
        self.ledger = health["contracts"]["ledger"]
        self.rpc_url = self.node.rpc_url
        anvil_pid = _chain_pid(self.node.anvil_port)
        assert self.node.process is not None
        self.cpu = CpuMeter(self.node.process.pid, anvil_pid)
        self.client = HttpClient("127.0.0.1", self.node.port)
        self.result = {"meta": self._meta(startup), "phases": {}}
        self.log(f"node up in {startup:.1f} s at {self.node.url}; registering {HOT_PROJECTS} projects")
        self.hot = self._new_codes(HOT_PROJECTS)
        await self._register(self.hot)
        self.result["client_calibration"] = await self._calibrate()

        self.log(
            "baseline, best case: the naive web3.py loop on a second anvil (same binary and flags, automine)"
        )
        self.result["baseline"] = await self._naive_best_case()
        self.log("baseline organisation on the node's chain: admitted through two consortium admins")
        self.base = await naive.on_node_chain(self.node.data_dir, self.rpc_url)
        self.base_project = self._new_codes(1)[0]
        await self._register([self.base_project])
        self.log(f"naive loop on the node's own chain ({self._block_time()} s interval mining)")
        interval = await self._naive_writes(self.base, self.base_project, o.baseline_interval_seconds)
        interval.mining = f"interval {self._block_time()} s (the node's chain)"
        self.result["baseline_interval_mining"] = self._naive_dict(interval)

        self.result["gas_alone_api"] = await self._gas_alone()
        self.result["filings"] = await self._filings(o.filings)
        self.result["phases"]["empty"] = await self._suite("empty")
        self.result["prefill"] = await self._prefill(o.prefill)
        self.result["phases"]["grown"] = await self._suite("grown")
        self.result["search"] = await self._search(o.search_projects, o.search_requests)
        reads = self.result["phases"]["empty"].get("naive_reads")
        if reads is not None:
            self.result["baseline"]["reads"] = reads
        self.result["meta"]["duration_s"] = round(time.time() - started, 1)
        return self.result

    async def _sweep_run(self) -> dict[str, Any]:
        """``--sweep-only``: the same-run baseline; ``run`` adds the workers sweep, and nothing else runs.

        For a machine of many cores and little time: the main suite's phases take ≈ 8 minutes.
        """
        self.cpu = CpuMeter(None, None)  # the baseline's loop runs in this process
        self.result = {"meta": self._meta(0.0), "phases": {}}
        self.log("sweep only: the baseline, then a fresh node per PROJCHAIN_WORKERS value")
        self.result["baseline"] = await self._naive_best_case()
        return self.result

    async def _workers_sweep(self, counts: list[int]) -> list[dict[str, Any]]:
        """Bulk writes on a fresh node per ``PROJCHAIN_WORKERS`` value: throughput and serial cost.

        The serial cost (CPU of the primary plus anvil per record) is what more processes cannot
        share; the sweep shows whether throughput follows the processes or that cost. Bulk clients
        are at least four per process, so that every process has requests to serve; with
        ``sweep_single`` the same node then takes single-record writes at ``concurrency`` clients.
        """
        o = self.opts
        main = (
            getattr(self, "node", None),
            getattr(self, "client", None),
            self.cpu,
            self.hot,
        )  # none: --sweep-only
        out: list[dict[str, Any]] = []
        try:
            for workers in counts:
                what = "bulk then single-record writes" if o.sweep_single else "bulk writes only"
                self.log(f"== workers sweep: PROJCHAIN_WORKERS={workers} (fresh node, {what}) ==")
                base = Path(tempfile.mkdtemp(prefix=f"projchain-sweep-{workers}-"))
                self._scratch.append(base)
                self.node = NodeProcess(base / "node", env={**o.node_env, "PROJCHAIN_WORKERS": str(workers)})
                await asyncio.to_thread(self.node.start)
                try:
                    assert self.node.process is not None
                    self.cpu = CpuMeter(self.node.process.pid, _chain_pid(self.node.anvil_port))
                    self.client = HttpClient("127.0.0.1", self.node.port)
                    self.hot = self._new_codes(o.sweep_projects)
                    await self._register(self.hot)
                    bulk = await self._bulk(max(o.bulk_clients, 4 * workers))
                    row: dict[str, Any] = {"workers": workers, **bulk}
                    if o.sweep_single:
                        await self._drain()
                        row["single"] = await self._single(o.concurrency, "single-record writes, saturation")
                    out.append(row)
                finally:
                    chain_pid = _chain_pid(self.node.anvil_port)
                    await asyncio.to_thread(self.node.stop)
                    if chain_pid is not None:
                        await asyncio.to_thread(_stop_leftover, chain_pid, self.node.anvil_port)
        finally:
            if main[0] is not None and main[1] is not None:
                self.node, self.client = main[0], main[1]
            self.cpu, self.hot = main[2], main[3]
        return out

    async def _search(self, projects: int, requests: int) -> dict[str, Any]:
        """Registers projects up to ``projects`` (named by town and kind), then times searches (bench/search.py)."""
        extra = max(0, projects - self.next_project)
        self.log(
            f"search: registering {extra:,} more projects ({projects:,} in all), then {requests} searches each"
        )
        numbers = [search.NUMBERS_FROM + i for i in range(extra)]
        t0 = time.perf_counter()
        codes = list(zip(numbers, self._new_codes(extra), strict=True))
        await search.register(self._post, self.node.tokens["fgj"], codes)
        registered = time.perf_counter() - t0
        records = (await self._drain())["confirmed"]
        # The new projects' warnings are assessed in the background (≈ 10 ms each): measured after, not during.
        settled = await self._warnings_current()
        figures = await search.measure(self.node.url, self.node.tokens["bank"], numbers, requests, self.rng)
        for label, f in figures.items():
            lat = f["latency_ms"]
            self.log(f"  search by {label}: p50 {lat['p50']} ms, p99 {lat['p99']} ms ({f['errors']} errors)")
        return {"projects_registered": self.next_project, "extra_projects": extra, "ledger_records": records,
                "registration_s": round(registered, 1), "settled_s": round(settled, 1), **figures}  # fmt: skip

    async def _filings(self, n: int) -> dict[str, Any]:
        """秒批秒办: POST /v1/filings (checks, code, registration, filing approval, 一张清单, all confirmed,
        备案证 rendered) and then GET the 备案证, one filing after another; latency of each part and in all."""
        self.log(f"filings: {n} 秒批秒办 filings, request → confirmed → 备案证 served")
        token = self.node.tokens["fgj"]
        headers = {"Authorization": f"Bearer {token}"}
        body = {
            "name": "庄浪县基准测试备案项目", "owner_uscc": "91620825MA74XK9R6N", "owner_name": "庄浪县基准测试有限公司",
            "region_code": "620825", "industry_code": "44", "total_investment": "1000000.00",
            "construction_content": "基准测试：建设内容", "pledge_digest": "0x" + "ab" * 32,
        }  # fmt: skip
        filed: list[float] = []
        served: list[float] = []
        total: list[float] = []
        async with httpx.AsyncClient(base_url=self.node.url, timeout=120, headers=headers) as c:
            for _ in range(n):
                t0 = time.perf_counter()
                r = await c.post("/v1/filings", json=body)
                if r.status_code != 201:
                    raise RuntimeError(f"/v1/filings answered {r.status_code}: {r.text[:500]}")
                t1 = time.perf_counter()
                pdf = await c.get(r.json()["certificate_url"])
                if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF-"):
                    raise RuntimeError(f"the 备案证 answered {pdf.status_code}")
                t2 = time.perf_counter()
                filed.append(t1 - t0)
                served.append(t2 - t1)
                total.append(t2 - t0)
        return {"count": n, "request_to_certificate_s": _latency(total), "filing_request_s": _latency(filed),
                "certificate_get_s": _latency(served), "block_time_s": self._block_time()}  # fmt: skip

    async def _naive_best_case(self) -> dict[str, Any]:
        """The naive loop on its own automining anvil: the baseline of every ratio."""
        work = Path(tempfile.mkdtemp(prefix="projchain-bench-naive-"))
        self._scratch.append(work)
        fresh = naive.FreshChain(work, self.opts.node_env)
        await asyncio.to_thread(fresh.start)
        try:
            code = self._new_codes(1)[0]
            b = await fresh.setup(code)
            best = await self._naive_writes(b, code, self.opts.baseline_seconds)
        finally:
            await asyncio.to_thread(fresh.stop)
        best.mining = "automine (second anvil, same binary and flags)"
        return self._naive_dict(best)

    def _block_time(self) -> float:
        from node_api.config import Settings

        default = Settings.model_fields["block_time"].default
        return float(
            self.opts.node_env.get("PROJCHAIN_BLOCK_TIME", os.environ.get("PROJCHAIN_BLOCK_TIME", default))
        )

    async def _naive_writes(self, b: naive.Baseline, code: str, seconds: float) -> naive.LoopResult:
        bodies = [naive.approval_payload_fields(approval_body(self.run_id, n)) for n in self._take(20_000)]
        meter = self.cpu.start()
        out = await asyncio.to_thread(naive.naive_writes, b, code, bodies, seconds)
        out_cpu = self.cpu.share(meter)
        if out.errors:
            self.log(f"  naive loop errors: {out.errors[:3]}")
        self.log(f"  naive loop: {out.records} records in {out.seconds:.1f} s = {out.rate:.1f}/s")
        self._last_naive_cpu = out_cpu.as_dict()
        return out

    def _naive_dict(self, r: naive.LoopResult, gas: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "mining": r.mining,
            "records": r.records,
            "seconds": round(r.seconds, 2),
            "per_s": round(r.rate, 1),
            "latency_s": _latency(r.latencies),
            "errors": r.errors[:5],
        }
        if gas:
            d["gas_per_record"] = round(sum(r.gas) / len(r.gas)) if r.gas else None
            d["cpu_cores"] = getattr(self, "_last_naive_cpu", None)
        return d

    async def _gas_alone(self) -> dict[str, Any]:
        """One record through the API with nothing else going on: a submitBatch of one."""
        n = self._take(1)[0]
        before = gas.block_number(self.rpc_url)
        out = await self._post(
            f"/v1/projects/{self.hot[0]}/approvals?wait=true",
            approval_body(self.run_id, n, "fgj"),
            self.node.tokens["fgj"],
        )
        after = gas.block_number(self.rpc_url)
        txs = await asyncio.to_thread(
            gas.node_transactions, self.rpc_url, self.relayer, self.ledger, before, after
        )
        self.sample.add(out["uid"], document_digest(self.run_id, n))
        return gas.summarize(txs)

    async def _calibrate(self) -> dict[str, Any]:
        """Client CPU per request: this load generator vs httpx.AsyncClient, same requests."""
        path = f"/v1/projects/{self.hot[0]}"
        n = 600

        def check(status: int, body: bytes) -> int:
            if status != 200:
                raise ValueError(f"{status}")
            return 1

        raw = self.client.build("GET", path)
        c0 = time.process_time()
        await closed_loop(self.client, lambda i: (raw, check), 16, 0.0, 0.0, max_requests=n)
        ours = (time.process_time() - c0) / n
        c0 = time.process_time()
        async with httpx.AsyncClient(base_url=self.node.url, limits=httpx.Limits(max_connections=16)) as c:
            sem = asyncio.Semaphore(16)

            async def one() -> None:
                async with sem:
                    (await c.get(path)).raise_for_status()

            await asyncio.gather(*(one() for _ in range(n)))
        theirs = (time.process_time() - c0) / n
        self.log(
            f"client CPU per request: this load generator {ours * 1e6:.0f} µs, httpx {theirs * 1e6:.0f} µs"
        )
        return {"loadgen_us_per_request": round(ours * 1e6), "httpx_us_per_request": round(theirs * 1e6)}

    # -- one suite -------------------------------------------------------------------
    async def _suite(self, label: str) -> dict[str, Any]:
        o = self.opts
        outbox = await self._drain()
        size = outbox["confirmed"]
        self.log(f"== suite on the {label} ledger ({size:,} records) ==")
        suite: dict[str, Any] = {"ledger_records": size, "rss_mb_at_start": self.cpu.memory()}
        b0 = gas.block_number(self.rpc_url)
        suite["single"] = await self._single(o.concurrency, "single-record writes, saturation")
        b1 = gas.block_number(self.rpc_url)
        await self._drain()
        suite["single_light"] = await self._single(o.light_concurrency, "single-record writes, light load")
        await self._drain()
        b2 = gas.block_number(self.rpc_url)
        suite["bulk"] = await self._bulk()
        b3 = gas.block_number(self.rpc_url)
        await self._drain()
        single_txs = await asyncio.to_thread(
            gas.node_transactions, self.rpc_url, self.relayer, self.ledger, b0, b1
        )
        bulk_txs = await asyncio.to_thread(
            gas.node_transactions, self.rpc_url, self.relayer, self.ledger, b2, b3
        )
        suite["gas_single_load"] = gas.summarize(single_txs)
        suite["gas_bulk"] = gas.summarize(bulk_txs)
        suite["warnings"] = await self._warnings()
        suite["read_record"] = await self._reads("record")
        suite["read_verify"] = await self._reads("verify")
        uids = [self.sample.pick(self.rng)[0] for _ in range(2000)]
        seconds = min(5.0, o.read_seconds)
        naive_reads = await asyncio.to_thread(naive.naive_reads, self.base, uids, seconds)
        suite["naive_reads"] = self._naive_dict(naive_reads, gas=False)
        self.log(f"  naive eth_call reads (one at a time): {naive_reads.rate:,.0f}/s")
        suite["rss_mb_at_end"] = self.cpu.memory()
        self.log(f"  resident memory (MB): {suite['rss_mb_at_end']}")
        return suite

    async def _metric(self, name: str) -> float | None:
        async with httpx.AsyncClient(base_url=self.node.url, timeout=30) as c:
            text = (await c.get("/metrics", headers=self.node.operator_headers)).text
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "_total "):
                return float(line.split()[-1])
        return None

    async def _warnings_current(self, timeout: float = 600) -> float:
        """Waits until no project's warnings are due for re-assessment; the seconds it took."""
        t0 = time.perf_counter()
        while (
            await self._metric("projchain_warning_projects_due") or 0
        ) > 0 and time.perf_counter() - t0 < timeout:
            await asyncio.sleep(0.5)
        return time.perf_counter() - t0

    async def _warnings(self) -> dict[str, Any]:
        """The cost of keeping the warnings current over the writes of this phase: every project that got
        a record is re-assessed once (incremental, never a full scan); waits until none is due."""
        caught_up = await self._warnings_current()
        assessments = await self._metric("projchain_warning_assessments") or 0.0
        seconds = await self._metric("projchain_warning_assessment_seconds") or 0.0
        done, spent = assessments - self._assessed[0], seconds - self._assessed[1]
        self._assessed = (assessments, seconds)
        d = {
            "assessments": int(done),
            "seconds": round(spent, 3),
            "per_project_s": spent / done if done else None,
            "caught_up_after_s": round(caught_up, 2),
            "open": await self._metric("projchain_warnings_open"),
        }
        self.log(
            f"  warnings: {int(done):,} project re-assessments ({_ms(d['per_project_s'])} each),"
            f" caught up {caught_up:.1f} s after the writes drained"
        )
        return d

    def _phase(
        self, run: Run, seconds: float, meter: dict[str, float], title: str, clients: int
    ) -> dict[str, Any]:
        window = run.in_window()
        ok = [s.latency for s in window if s.ok]
        records = sum(s.records for s in window)
        share = self.cpu.share(meter)
        cpu = share.as_dict()
        done = sum(s.records for s in run.samples)  # the whole phase, as the CPU counters
        lat = _latency(ok)
        d: dict[str, Any] = {
            "clients": clients,
            "window_s": seconds,
            "requests": len(window),
            "failed_requests": sum(1 for s in window if not s.ok),
            "records": records,
            "per_s": round(records / seconds, 1),
            "latency_s": lat,
            "cpu_cores": cpu,
            # Node CPU per record: the efficiency figure least disturbed by other jobs on the machine.
            "node_cpu_ms_per_record": round(share.node * share.wall / done * 1000, 3) if done else None,
            # The serial cost: CPU of the primary (submitter, indexer, confirmations) plus anvil per record.
            "serial_us_per_record": _round(share.serial_us_per_record(done)),
            "errors": run.errors[:5],
        }
        self.log(
            f"  {title}: {d['per_s']:,.0f}/s, p50 {_ms(lat['p50'])} p95 {_ms(lat['p95'])}"
            f" p99 {_ms(lat['p99'])}"
            f" ({clients} clients; node CPU {d['node_cpu_ms_per_record'] or 0:.2f} ms/record;"
            f" serial (primary + anvil) {d['serial_us_per_record'] or 0:,.0f} µs/record;"
            f" cores node {cpu['node']:.2f} chain {cpu['chain']:.2f}"
            f" loadgen {cpu['loadgen']:.2f} other {cpu['others']:.2f})"
        )
        if run.errors:
            self.log(f"    errors: {run.errors[:3]}")
        return d

    async def _single(self, clients: int, title: str) -> dict[str, Any]:
        written: list[tuple[str, str]] = []
        hot = self.hot

        def factory(i: int) -> tuple[bytes, Checker]:
            n = self._take(1)[0]
            code = hot[n % len(hot)]
            body = json.dumps(approval_body(self.run_id, n)).encode()  # an item of approver(n)'s
            raw = self.client.build(
                "POST", f"/v1/projects/{code}/approvals?wait=true", body, token=self.node.tokens[approver(n)]
            )

            def check(status: int, answer: bytes) -> int:
                if status != 200:
                    raise ValueError(f"HTTP {status}: {answer[:200]!r}")
                doc = json.loads(answer)
                if doc.get("state") != "confirmed":
                    raise ValueError(f"not confirmed: {answer[:200]!r}")
                written.append((doc["uid"], document_digest(self.run_id, n)))
                return 1

            return raw, check

        meter = self.cpu.start()
        run = await closed_loop(self.client, factory, clients, self.opts.warmup, self.opts.write_seconds)
        for uid, digest in written:
            self.sample.add(uid, digest)
        return self._phase(run, self.opts.write_seconds, meter, title, clients)

    def _batch_request(
        self, n_records: int, i: int, wait: bool, out: list[tuple[str, str]], codes: list[str]
    ) -> tuple[bytes, Checker]:
        org = APPROVERS[i % len(APPROVERS)]  # one organisation sends the batch: its items only
        numbers = list(self._take(n_records))
        items = [approval_item(self.run_id, n, codes[n % len(codes)], org) for n in numbers]
        raw = self.client.build(
            "POST",
            "/v1/records:batch" + ("?wait=true" if wait else ""),
            json.dumps({"records": items}).encode(),
            token=self.node.tokens[org],
        )

        def check(status: int, answer: bytes) -> int:
            if status not in ((200, 202) if wait else (202,)):
                raise ValueError(f"HTTP {status}: {answer[:200]!r}")
            doc = json.loads(answer)
            good = 0
            for r, n in zip(doc["results"], numbers, strict=True):
                if "uid" in r and (not wait or r["state"] == "confirmed"):
                    good += 1
                    out.append((r["uid"], document_digest(self.run_id, n)))
            if good != len(numbers):
                bad = [r for r in doc["results"] if "error" in r or r.get("state") != "confirmed"]
                raise ValueError(f"{len(numbers) - good} of {len(numbers)} not confirmed: {bad[:2]}")
            return good

        return raw, check

    async def _bulk(self, clients: int | None = None) -> dict[str, Any]:
        o = self.opts
        clients = clients or o.bulk_clients
        written: list[tuple[str, str]] = []
        meter = self.cpu.start()
        run = await closed_loop(
            self.client,
            lambda i: self._batch_request(o.batch_size, i, True, written, self.hot),
            clients,
            o.warmup,
            o.write_seconds,
        )
        for uid, digest in written:
            self.sample.add(uid, digest)
        d = self._phase(run, o.write_seconds, meter, f"bulk writes ({o.batch_size} per request)", clients)
        d["batch_size"] = o.batch_size
        return d

    async def _reads(self, what: str) -> dict[str, Any]:
        o = self.opts
        tokens = [self.node.tokens[k] for k in READERS]
        rng = random.Random(self.run_id + len(what))

        def check_record(status: int, answer: bytes) -> int:
            if status != 200 or b'"state":"confirmed"' not in answer:
                raise ValueError(f"HTTP {status}: {answer[:200]!r}")
            return 1

        def check_verify(status: int, answer: bytes) -> int:
            if status != 200 or b'"on_chain":true' not in answer:
                raise ValueError(f"HTTP {status}: {answer[:200]!r}")
            return 1

        def factory(i: int) -> tuple[bytes, Checker]:
            uid, digest = self.sample.pick(rng)
            if what == "record":
                return self.client.build("GET", f"/v1/records/{uid}", token=tokens[i % 2]), check_record
            body = json.dumps({"digest": digest}).encode()
            return self.client.build("POST", "/v1/verify/document", body), check_verify

        meter = self.cpu.start()
        run = await closed_loop(self.client, factory, o.read_concurrency, min(2.0, o.warmup), o.read_seconds)
        title = "reads GET /v1/records/{uid}" if what == "record" else "reads POST /v1/verify/document"
        return self._phase(run, o.read_seconds, meter, title, o.read_concurrency)

    # -- pre-fill ------------------------------------------------------------------------
    async def _prefill(self, target: int) -> dict[str, Any]:
        o = self.opts
        have = (await self._drain())["confirmed"]
        need = max(0, target - have)
        self.log(
            f"pre-filling the ledger from {have:,} to {target:,} records"
            f" ({need:,} through the batch endpoint)"
        )
        if need == 0:
            return {"target": target, "records": 0}
        t0 = time.perf_counter()
        codes = self._new_codes(max(1, need // RECORDS_PER_PROJECT))
        await self._register(codes)
        registered = time.perf_counter() - t0
        written: list[tuple[str, str]] = []
        batch = 1000
        requests = -(-need // batch)
        counter = iter(range(requests))
        meter = self.cpu.start()
        t1 = time.perf_counter()
        last_log = t1

        async def client() -> None:
            nonlocal last_log
            conn = await self.client.connect()
            for i in counter:
                size = min(batch, need - i * batch)
                raw, check = self._batch_request(size, i, False, written, codes)
                status, body = await self.client.send(conn, raw)
                check(status, body)
                if time.perf_counter() - last_log > 15:
                    last_log = time.perf_counter()
                    self.log(f"  … {len(written):,} of {need:,} accepted")
            if conn.transport is not None:
                conn.transport.close()

        await asyncio.gather(*(client() for _ in range(o.prefill_clients)))
        accepted = time.perf_counter() - t1
        outbox = await self._drain(timeout=7200)
        confirmed_after = time.perf_counter() - t1
        for uid, digest in written:
            self.sample.add(uid, digest)
        cpu = self.cpu.share(meter).as_dict()
        d = {
            "target": target,
            "records": need,
            "projects": len(codes),
            "project_registration_s": round(registered, 1),
            "accept_s": round(accepted, 1),
            "confirmed_s": round(confirmed_after, 1),
            "accepted_per_s": round(need / accepted, 1),
            "confirmed_per_s": round(need / confirmed_after, 1),
            "failed": outbox["failed"],
            "cpu_cores": cpu,
        }
        self.log(
            f"  pre-fill: {need:,} records accepted at {d['accepted_per_s']:,.0f}/s, all confirmed after"
            f" {confirmed_after:.0f} s ({d['confirmed_per_s']:,.0f}/s)"
        )
        return d

    # -- metadata ------------------------------------------------------------------------
    def _meta(self, startup: float) -> dict[str, Any]:
        def run(*cmd: str) -> str:
            try:
                return subprocess.run(
                    cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=10
                ).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                return ""

        cpu_model = ""
        with contextlib.suppress(OSError, StopIteration):
            cpu_model = next(
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            )
        env = {k: v for k, v in os.environ.items() if k.startswith("PROJCHAIN_")} | self.opts.node_env
        node: NodeProcess | None = getattr(self, "node", None)  # none yet in a --sweep-only run
        process = node.process if node else None
        return {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git_commit": run("git", "rev-parse", "--short", "HEAD"),
            "git_dirty": bool(run("git", "status", "--porcelain", "--untracked-files=no")),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu": cpu_model,
            "cores": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "node_startup_s": round(startup, 1),
            "node_processes": len(node_pids(process.pid if process else None)),
            "node_api_processes": 1 + len(worker_pids(process.pid)) if process else 1,
            "node_env_overrides": env,
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.opts).items()},
            "run_id": self.run_id,
        }


def _chain_pid(port: int) -> int | None:
    """The anvil serving ``port`` (None if there is none)."""
    return next(iter(anvil_pids(port)), None)


def _stop_leftover(pid: int, port: int) -> None:
    """Stops this run's anvil if it outlived its node.

    The node saves the chain's state on stop; with a large ledger that takes longer than
    the launcher waits before it kills the node, and the chain would stay behind.
    """
    import signal

    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        if _chain_pid(port) != pid:
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.2)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:,.0f} ms"
