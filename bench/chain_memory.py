"""anvil's memory per record over a bulk fill of real ledger records (issue #15).

    .venv/bin/python -m bench.chain_memory --records 200000 --variant node

Starts anvil exactly as the node does (``anvil_command``: the node's settings, interval
mining, ``--prune-history``), deploys the project's contracts with the node's own
``deploy`` and admits one organisation (approval authority and catalogue role, with a
relayer) through two consortium admins, as the benchmark's baseline does. Then it fills
the ledger at bulk speed with the benchmark's approvals (``bench.workload``): one project
registration per ``RECORDS_PER_PROJECT`` approvals, restricted fields behind their
commitment (``seal_payload``), uids derived as the node derives them, sent as the node's
submitter sends its own rows — ``submitGroups`` of ``--batch`` records with one group seal
(``Contracts.submit_groups_data``, the node's gas allowance), from one relayer.

Every ``--sample-every`` records (once every sent transaction is mined, its receipt
checked: status 1 and one ``RecordAdded`` per record) it reads anvil's ``VmRSS`` and
``VmHWM`` from ``/proc``, its CPU time, the blocks mined and the state keeper's last save.
A variant names what differs from the node: extra anvil flags, the keeper's interval
(or no keeper at all), allocator settings in anvil's environment. After the fill it can
take one ``anvil_dumpState`` and measure it by part (accounts and storage, blocks,
transactions with receipts and traces), then watch anvil idle for ``--settle`` seconds.

Per-record memory is (RSS at the end − RSS after deployment) / records, and the slope
of RSS over the last half of the fill (the steady growth). The JSON goes to
``bench/results/chain-memory/``; docs/chain-memory.md explains the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from bench.baseline import BASELINE_ITEMS, BASELINE_ORG, BASELINE_USCC, approval_payload_fields
from bench.gas import RECORD_ADDED
from bench.workload import RECORDS_PER_PROJECT, approval_body, owner_uscc, project_code
from localnode import free_port
from node_api.chain.compiler import load_artifacts
from node_api.chain.consortium import ConsortiumAdmin, deploy
from node_api.chain.contracts import Contracts, Deployment
from node_api.chain.embedded import KEPT_STATES, KeeperProcess, anvil_command
from node_api.chain.group import root_of
from node_api.chain.pipeline import GAS_PER_RECORD, GAS_PER_TX
from node_api.chain.rpc import RpcClient
from node_api.chain.seal import Sealer, struct_hash
from node_api.config import REPO_ROOT, Settings
from node_api.domain.records import ZERO32, Kind, Record, derive_uid, project_id, seal_payload

RESULTS = REPO_ROOT / "bench" / "results" / "chain-memory"
NODE = Settings()  # the node's defaults: chain id, block time, gas limit, state interval


@dataclass(frozen=True)
class Variant:
    """What a run changes against the node's embedded chain."""

    about: str
    flags: tuple[str, ...] = ()  # anvil flags added to the node's command line
    keeper: float | None = NODE.state_interval  # the state keeper's interval (s); None: no saves
    kept_states: int | None = KEPT_STATES  # --prune-history N (None: the flag is left out)
    mining: str = NODE.chain_mining  # "on_demand" (the keeper's process mines), "interval", "automine"
    env: dict[str, str] = field(default_factory=dict)  # added to anvil's environment
    block_time: float = NODE.block_time  # the block interval (s), or the miner's tick on demand


# jemalloc (anvil links it statically, with the _rjem_ prefix, so it reads _RJEM_MALLOC_CONF):
# a background thread returns freed pages after a second instead of on the next allocation.
_JEMALLOC_RETURN = {"_RJEM_MALLOC_CONF": "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"}
_NO_SAVES = "; no state saves"


def _interval(about: str, **changes: Any) -> Variant:
    """anvil's own interval mining (the node before), no state saves."""
    return Variant(about + _NO_SAVES, mining="interval", keeper=None, **changes)


VARIANTS: dict[str, Variant] = {
    # The node as it is configured now: mining on demand, the keeper saving as the node does.
    "node": Variant(
        "the node: --no-mining, its keeper mining on demand and saving every state_interval (2 s)"
    ),
    "nosave": Variant("the node's flags, mining on demand" + _NO_SAVES, keeper=None),
    "save60": Variant("the node's flags, mining on demand; the keeper looks every 60 s", keeper=60.0),
    "tbk": Variant(
        "mining on demand, --transaction-block-keeper 8 (old blocks' transactions, receipts and "
        "logs dropped)" + _NO_SAVES,
        flags=("--transaction-block-keeper", "8"),
        keeper=None,
    ),
    "prune1": Variant("mining on demand, --prune-history 1" + _NO_SAVES, kept_states=1, keeper=None),
    "jemalloc": Variant("the node, and jemalloc returning freed pages after 1 s", env=_JEMALLOC_RETURN),
    # The node as it was: anvil mining every 0.5 s (empty blocks too), --prune-history 8.
    "interval": Variant(
        "the node before: --block-time 0.5, --prune-history 8, the keeper saving every 2 s", mining="interval"
    ),
    "interval-nosave": _interval("--block-time 0.5, --prune-history 8"),
    "interval-jemalloc-nosave": _interval(
        "--block-time 0.5; jemalloc returns freed pages after 1 s", env=_JEMALLOC_RETURN
    ),
    "interval-prune1": _interval("--block-time 0.5, --prune-history 1", kept_states=1),
    "interval-noprune": _interval("--block-time 0.5 without --prune-history", kept_states=None),
    "interval-block3": _interval("--block-time 3 (over anvil's 2 s threshold)", block_time=3.0),
    "interval-block01": _interval("--block-time 0.1 (anvil's state limit reached 5x sooner)", block_time=0.1),
    "automine": Variant(
        "one block per transaction (anvil's automine)" + _NO_SAVES, mining="automine", keeper=None
    ),
}


@dataclass
class Sample:
    """anvil at one point of the fill."""

    records: int
    seconds: float
    block: int
    rss_mb: float
    hwm_mb: float
    cpu_s: float
    saves: int = 0
    state_mb: float = 0.0


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Chain:
    """anvil started as the node starts it, with a variant's changes, and its keeper."""

    def __init__(self, variant: Variant, work: Path) -> None:
        self.variant = variant
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_file = work / "anvil-state.json"
        mining = "interval" if variant.mining == "interval" else "on_demand"
        settings = NODE.model_copy(update={"block_time": variant.block_time, "chain_mining": mining})
        automine = variant.mining == "automine"
        cmd = anvil_command(settings, self.port, automine=automine, kept_states=variant.kept_states)
        self.command = [*cmd[:-1], *variant.flags, cmd[-1]]  # the flags before --silent
        self.keeper: KeeperProcess | None = None
        self._log = (work / "anvil.log").open("ab")
        self.process = subprocess.Popen(
            self.command,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
            env={**os.environ, **variant.env},
        )
        self.http = httpx.Client(timeout=600)
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                self.rpc("eth_chainId")
                break
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"anvil did not start; see {work}/anvil.log")
            time.sleep(0.1)

    def rpc(self, method: str, *params: Any) -> Any:
        body = self.http.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        ).json()
        if body.get("error"):
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        replies = {r["id"]: r for r in self.http.post(self.url, json=body).json()}
        return [replies[i].get("result") for i in range(len(calls))]

    def start_keeper(self) -> None:
        """The node's state keeper (and miner), in its own process as the node runs it."""
        mine_every = self.variant.block_time if self.variant.mining == "on_demand" else None
        if self.variant.keeper is not None or mine_every is not None:
            interval = self.variant.keeper if self.variant.keeper is not None else 1e9  # 1e9: never saves
            self.keeper = KeeperProcess(self.url, self.state_file, interval, mine_every)
            self.keeper.start()

    def sample(self, records: int, started: float, saves: int) -> Sample:
        status = proc_status(self.process.pid)
        state = self.state_file.stat().st_size / 1e6 if self.state_file.exists() else 0.0
        return Sample(
            records=records,
            seconds=round(time.monotonic() - started, 1),
            block=int(self.rpc("eth_blockNumber"), 16),
            rss_mb=round(status["VmRSS"], 1),
            hwm_mb=round(status["VmHWM"], 1),
            cpu_s=round(cpu_seconds(self.process.pid), 1),
            saves=saves,
            state_mb=round(state, 1),
        )

    def stop(self) -> None:
        if self.keeper is not None:
            self.keeper.stop(final_save=False)
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.http.close()
        self._log.close()


class Watcher(threading.Thread):
    """Counts the keeper's saves (the state file's changes) and keeps anvil's RSS once a second."""

    def __init__(self, chain: Chain, started: float) -> None:
        super().__init__(name="watcher", daemon=True)
        self.chain = chain
        self.started = started
        self.saves = 0
        self.series: list[tuple[float, float]] = []  # (s since the fill started, RSS MB)
        self.halt = threading.Event()

    def run(self) -> None:
        seen: float | None = None
        last = 0.0
        while not self.halt.wait(0.2):
            with contextlib.suppress(OSError):
                mtime = self.chain.state_file.stat().st_mtime
                if mtime != seen:
                    self.saves += 1
                    seen = mtime
            now = time.monotonic()
            if now - last >= 1.0:
                with contextlib.suppress(OSError, KeyError):
                    rss = proc_status(self.chain.process.pid)["VmRSS"]
                    self.series.append((round(now - self.started, 1), round(rss, 1)))
                last = now


@dataclass
class Member:
    """The filling organisation: its id, seal key, relayer, and the deployment."""

    org_id: int
    seal_key: LocalAccount
    relayer: LocalAccount
    deployment: Deployment
    contracts: Contracts


async def _setup(url: str) -> Member:
    """Deploys the contracts and admits the organisation (two of three admins confirm)."""
    artifacts = load_artifacts(NODE.evm_version)
    admins: list[LocalAccount] = [Account.create() for _ in range(3)]
    rpc = RpcClient(url)
    try:
        deployment = await deploy(rpc, artifacts, Account.create(), [a.address for a in admins], 2)
        contracts = Contracts(artifacts, deployment)
        seal_key, relayer = Account.create(), Account.create()
        org_id = await ConsortiumAdmin(rpc, contracts, deployment.chain_id).admit(
            admins[:2],
            BASELINE_ORG,
            BASELINE_USCC,
            ["approval_authority", "catalogue"],
            seal_key.address,
            relayer.address,
        )
    finally:
        await rpc.close()
    return Member(org_id, seal_key, relayer, deployment, contracts)


class Filler:
    """Builds and sends the fill's transactions: ``submitGroups`` of one group, as the node's submitter."""

    def __init__(self, chain: Chain, member: Member, batch: int, run: int) -> None:
        self.chain = chain
        self.m = member
        self.batch = batch
        self.run = run
        self.sealer = Sealer(NODE.chain_id, member.deployment.ledger)
        self.nonce = int(chain.rpc("eth_getTransactionCount", member.relayer.address, "pending"), 16)
        self.written = 0  # records built so far (approvals and registrations)
        self.approvals = 0
        self.projects = 0
        self.pending: list[tuple[str, int]] = []  # (tx hash, records) sent, not yet checked
        self.first: tuple[str, int, int] | None = None  # the fill's first transaction: hash, block, records

    def _record(self, kind: Kind, code: str, fields: dict[str, Any], digest: bytes) -> Record:
        payload, _ = seal_payload(kind, fields)  # restricted fields behind a fresh salt
        key = hashlib.sha256(json.dumps([code, kind, digest.hex(), sorted(fields.items())]).encode()).digest()
        uid = derive_uid(self.m.org_id, kind, b"c:" + key)
        return Record(
            uid=uid, kind=kind, project=project_id(code), ref=ZERO32, digest=digest, payload=payload
        )

    def catalogue(self) -> None:
        """The organisation's catalogue items, one per stage (set-up, not counted)."""
        records = []
        for stage, code in BASELINE_ITEMS.items():
            fields = {
                "code": code,
                "version": 1,
                "name": f"基准对照事项（第{stage}阶段）",
                "stage": stage,
                "list": 1,
                "department": self.m.org_id,
                "time_limit_days": 20,
                "on_the_spot": 0,
                "commitment": 0,
                "retired": 0,
                "depends_on": [],
                "guide": b"\0" * 32,
            }
            payload, _ = seal_payload(Kind.CATALOGUE, fields)
            uid = derive_uid(self.m.org_id, Kind.CATALOGUE, code.encode())
            records.append(Record(uid, Kind.CATALOGUE, ZERO32, ZERO32, ZERO32, payload))
        self.send(records)
        self.check()

    def next_records(self) -> list[Record]:
        """The next transaction's records: a project's registration before its approvals."""
        out: list[Record] = []
        while len(out) < self.batch:
            if (
                self.approvals % RECORDS_PER_PROJECT == 0
                and self.projects <= self.approvals // RECORDS_PER_PROJECT
            ):
                self.projects += 1
                code = project_code(self.projects, self.run)
                fields = {
                    "code": code,
                    "name": f"庄浪县基准测试建设项目 {self.projects}",
                    "owner_uscc": owner_uscc(self.projects),
                    "project_type": 1,
                    "region_code": "620825",
                    "industry_code": code[12:14],
                    "total_investment_fen": 100_000_000 + self.projects,
                    "note": "",
                }
                out.append(self._record(Kind.PROJECT, code, fields, ZERO32))
                continue
            n = self.approvals
            code = project_code(n // RECORDS_PER_PROJECT + 1, self.run)
            approval = approval_payload_fields(approval_body(self.run, n))
            digest = bytes.fromhex(approval.pop("digest")[2:])
            out.append(self._record(Kind.APPROVAL, code, approval, digest))
            self.approvals += 1
        return out

    def send(self, records: list[Record]) -> None:
        root = root_of([struct_hash(r) for r in records])
        seal = self.sealer.seal_group(root, len(records), self.m.relayer.address, self.m.seal_key)
        data = self.m.contracts.submit_groups_data(records, [0] * len(records), [seal])
        tx: dict[str, Any] = {
            "to": self.m.deployment.ledger,
            "data": data,
            "value": 0,
            "gas": min(GAS_PER_TX + GAS_PER_RECORD * len(records), NODE.block_gas_limit // 2),
            "gasPrice": 0,
            "nonce": self.nonce,
            "chainId": NODE.chain_id,
        }
        raw = self.m.relayer.sign_transaction(tx).raw_transaction
        tx_hash = self.chain.rpc("eth_sendRawTransaction", "0x" + raw.hex())
        self.nonce += 1
        self.pending.append((str(tx_hash), len(records)))
        self.written += len(records)

    def check(self, keep: int = 0, timeout: float = 600.0) -> None:
        """Waits until all but the last ``keep`` sent transactions are mined; each must have
        succeeded with one ``RecordAdded`` per record."""
        while len(self.pending) > keep:
            tx_hash, n = self.pending[0]
            deadline = time.monotonic() + timeout
            receipt = None
            while receipt is None:
                receipt = self.chain.rpc("eth_getTransactionReceipt", tx_hash)
                if receipt is None:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"transaction {tx_hash} not mined within {timeout:.0f} s")
                    time.sleep(0.05)
            added = sum(1 for lg in receipt["logs"] if lg["topics"] and lg["topics"][0] == RECORD_ADDED)
            if int(receipt["status"], 16) != 1 or added != n:
                raise RuntimeError(
                    f"transaction {tx_hash}: status {receipt['status']}, {added} of {n} records"
                )
            if self.first is None and self.written > n:  # not the catalogue's set-up transaction
                self.first = (tx_hash, int(receipt["blockNumber"], 16), n)
            self.pending.pop(0)

    def history(self) -> dict[str, Any]:
        """Whether the fill's first transaction, its receipt and its logs can still be read back
        (what the indexer needs to index the ledger again, and evidence bundles need)."""
        if self.first is None:
            return {}
        tx_hash, block, n = self.first
        logs = self.chain.rpc(
            "eth_getLogs",
            {"address": self.m.deployment.ledger, "fromBlock": hex(block), "toBlock": hex(block),
             "topics": [RECORD_ADDED]},
        )  # fmt: skip
        return {
            "first_block": block,
            "transaction_found": self.chain.rpc("eth_getTransactionByHash", tx_hash) is not None,
            "receipt_found": self.chain.rpc("eth_getTransactionReceipt", tx_hash) is not None,
            "record_logs_found": sum(1 for lg in logs if lg["transactionHash"] == tx_hash),
            "record_logs_expected": n,
        }


def dump_parts(chain: Chain) -> dict[str, Any]:
    """One ``anvil_dumpState``: its time, RSS around it, and its size by part (MB, uncompressed JSON)."""
    before = proc_status(chain.process.pid)["VmRSS"]
    t0 = time.monotonic()
    hexed = str(chain.rpc("anvil_dumpState"))
    seconds = time.monotonic() - t0
    after = proc_status(chain.process.pid)
    compressed = len(hexed) // 2 - 1
    data = gzip.decompress(bytes.fromhex(hexed[2:]))
    del hexed
    parts: dict[str, float] = {}
    if len(data) < 400e6:  # parsed only when small enough to parse in this process's memory
        for name, value in json.loads(data).items():
            parts[name] = round(len(json.dumps(value, separators=(",", ":"))) / 1e6, 2)
            if name == "transactions" and value:  # a mined transaction's parts (receipt, traces, ...)
                for key in value[0]:
                    size = sum(len(json.dumps(t.get(key), separators=(",", ":"))) for t in value)
                    parts[f"transactions.{key}"] = round(size / 1e6, 2)
                    if key == "info":
                        for sub in value[0]["info"]:
                            size = sum(
                                len(json.dumps(t["info"].get(sub), separators=(",", ":"))) for t in value
                            )
                            parts[f"transactions.info.{sub}"] = round(size / 1e6, 2)
    return {
        "seconds": round(seconds, 1),
        "rss_mb_before": round(before, 1),
        "rss_mb_after": round(after["VmRSS"], 1),
        "hwm_mb_after": round(after["VmHWM"], 1),
        "gzip_mb": round(compressed / 1e6, 1),
        "json_mb": round(len(data) / 1e6, 1),
        "parts_mb": parts,
    }


def per_record_kb(samples: list[Sample], base: Sample) -> dict[str, float | None]:
    """KB per record overall (end − after deployment) and the slope over the fill's last half."""
    end = samples[-1]
    filled = end.records - base.records
    overall = (end.rss_mb - base.rss_mb) * 1024 / filled if filled else None
    half = [s for s in samples if s.records >= base.records + filled / 2]
    slope = None
    if len(half) >= 2 and half[-1].records > half[0].records:
        xs = [s.records for s in half]
        ys = [s.rss_mb for s in half]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 1024 if var else None
    return {
        "kb_per_record": None if overall is None else round(overall, 2),
        "kb_per_record_last_half": None if slope is None else round(slope, 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    variant = VARIANTS[args.variant]
    flags = (*variant.flags, *args.flag)
    keeper = variant.keeper if args.keeper is None else (None if args.keeper <= 0 else args.keeper)
    env = {**variant.env, **dict(e.split("=", 1) for e in args.env)}
    variant = dataclasses.replace(variant, flags=flags, keeper=keeper, env=env)
    work = Path(tempfile.mkdtemp(prefix="chain-memory-"))
    chain = Chain(variant, work)
    out: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git_commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                cwd=REPO_ROOT,
                check=False,
            ).stdout.strip(),
            "platform": platform.platform(),
            "cores": os.cpu_count(),
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
            "anvil": subprocess.run(
                [chain.command[0], "--version"], capture_output=True, text=True, check=False
            ).stdout.splitlines()[0],
        },
        "variant": args.variant,
        "about": variant.about,
        "command": [Path(chain.command[0]).name, *chain.command[1:]],
        "env": variant.env,
        "keeper_interval_s": variant.keeper,
        "records_target": args.records,
        "batch": args.batch,
    }
    samples: list[Sample] = []
    watcher: Watcher | None = None
    try:
        chain.start_keeper()  # as the node: the keeper (and miner) runs from the chain's start
        member = asyncio.run(_setup(chain.url))
        filler = Filler(chain, member, args.batch, run=int(time.time()) % 1000)
        filler.catalogue()
        started = time.monotonic()
        watcher = Watcher(chain, started)
        watcher.start()
        base = chain.sample(0, started, 0)
        samples.append(base)
        print(f"[{args.variant}] after deployment: {base.rss_mb:.0f} MB", flush=True)
        next_sample = args.sample_every
        while filler.written < args.records:
            filler.send(filler.next_records())
            filler.check(keep=args.inflight)
            if filler.written >= next_sample or filler.written >= args.records:
                filler.check()
                s = chain.sample(filler.written, started, watcher.saves)
                samples.append(s)
                next_sample += args.sample_every
                print(
                    f"[{args.variant}] {s.records:>7} records  {s.seconds:>6.0f} s  block {s.block:>5}  "
                    f"RSS {s.rss_mb:>7.0f} MB  HWM {s.hwm_mb:>7.0f} MB  cpu {s.cpu_s:>6.0f} s  "
                    f"state {s.state_mb:>6.0f} MB",
                    flush=True,
                )
                if s.rss_mb > args.max_rss_mb:
                    print(f"[{args.variant}] stopped: RSS over --max-rss-mb {args.max_rss_mb}", flush=True)
                    out["stopped_at_rss_limit"] = True
                    break
        fill_s = time.monotonic() - started
        out["fill"] = {
            "records": filler.written,
            "projects": filler.projects,
            "transactions": filler.nonce,
            "seconds": round(fill_s, 1),
            "records_per_s": round(filler.written / fill_s, 1),
            "rss_mb_after_deployment": base.rss_mb,
            "rss_mb_end": samples[-1].rss_mb,
            "hwm_mb_end": samples[-1].hwm_mb,
            "state_file_mb_end": samples[-1].state_mb,
            **per_record_kb(samples, base),
        }
        out["history"] = filler.history()
        if chain.keeper is not None:  # no more saves (or blocks) from here on: the rest is anvil alone
            chain.keeper.stop(final_save=False)
            chain.keeper = None
        if args.settle > 0:
            settle = []
            t0 = time.monotonic()
            while time.monotonic() - t0 < args.settle:
                time.sleep(min(5.0, args.settle))
                settle.append(chain.sample(filler.written, started, 0))
            out["settle"] = [asdict(s) for s in settle]
            print(f"[{args.variant}] idle {args.settle:.0f} s: RSS {settle[-1].rss_mb:.0f} MB", flush=True)
        if args.final_dump:
            out["dump"] = dump_parts(chain)
            time.sleep(10)
            out["dump"]["rss_mb_10s_after"] = round(proc_status(chain.process.pid)["VmRSS"], 1)
            print(f"[{args.variant}] one dump: {json.dumps(out['dump'])}", flush=True)
    finally:
        out["samples"] = [asdict(s) for s in samples]
        if watcher is not None:
            watcher.halt.set()
            out["saves"] = watcher.saves
            out["rss_series"] = watcher.series
        chain.stop()
        for p in work.iterdir():
            p.unlink()
        work.rmdir()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.chain_memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=20_000, help="records to write (default 20,000)")
    p.add_argument(
        "--variant",
        choices=sorted(VARIANTS),
        default="node",
        help="; ".join(f"{k}: {v.about}" for k, v in VARIANTS.items()),
    )
    p.add_argument(
        "--flag", action="append", default=[], help="one more anvil argument (repeat: --flag=--x --flag=1)"
    )
    p.add_argument("--keeper", type=float, default=None, help="the keeper's interval in s (0: no saves)")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE in anvil's environment")
    p.add_argument("--batch", type=int, default=NODE.batch_size, help="records per transaction (the node's)")
    p.add_argument("--inflight", type=int, default=8, help="transactions sent ahead of the last one checked")
    p.add_argument("--sample-every", type=int, default=5_000, help="records between samples")
    p.add_argument("--settle", type=float, default=0.0, help="seconds to watch anvil idle after the fill")
    p.add_argument(
        "--final-dump", action="store_true", help="one anvil_dumpState after the fill, measured by part"
    )
    p.add_argument("--max-rss-mb", type=float, default=12_000, help="stop the fill once anvil uses more")
    p.add_argument("--label", default="", help="added to the result's file name")
    p.add_argument("--out", type=Path, default=None, help="result file (default bench/results/chain-memory/)")
    args = p.parse_args(argv)
    out = run(args)
    path = (
        args.out
        or RESULTS / f"{args.variant}{'-' + args.label if args.label else ''}-{args.records // 1000}k.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    fill = out.get("fill", {})
    print(
        f"[{args.variant}] {fill.get('records')} records: {fill.get('rss_mb_after_deployment')} → "
        f"{fill.get('rss_mb_end')} MB, {fill.get('kb_per_record')} KB/record, last half "
        f"{fill.get('kb_per_record_last_half')} KB/record; {path}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
