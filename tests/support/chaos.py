"""Load, crashes and the on-chain ground truth for the crash tests.

``Writers`` are client threads that post records with unique content, retry a
request whose answer was lost (connection refused or reset while the node was
down) until they get one, and remember every 202 uid and every refusal.
``Anvil`` finds, kills and restarts a node's embedded chain from outside.
``onchain_records`` reads RecordAdded logs (and the content from the transactions
that carried them) straight from the chain, so the checks do not trust the node's own index.
The moments of a crash are conditions counted in records (``Writers.wait_accepted``,
``records_after`` the saved state), not seconds: a test means the same on any machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_utils import keccak

from localnode import NodeProcess
from node_api.chain.embedded import EmbeddedChain, _best_block, anvil_pids
from node_api.config import Settings
from node_api.verify.bundle_check import carried_records
from tests.support.polling import wait_until

RECORD_ADDED = "0x" + keccak(text="RecordAdded(bytes32,bytes32)").hex()


def digest_of(text: str) -> str:
    """A unique SHA-256 digest (0x-hex) naming one request's content."""
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Request:
    """One logical client request (retried as is until answered)."""

    org: str
    path: str
    body: dict[str, Any]
    digest: str
    expect: tuple[int, ...]
    headers: dict[str, str] = field(default_factory=dict)
    answer_lost: bool = False  # an earlier attempt's answer was lost (the node died meanwhile)


@dataclass
class Outcomes:
    """What the node answered, over all writers."""

    accepted: dict[str, str] = field(default_factory=dict)  # uid -> digest
    refused: dict[str, int] = field(default_factory=dict)  # digest -> status
    answered: dict[str, Request] = field(default_factory=dict)  # uid -> request (for replays)
    unexpected: list[str] = field(default_factory=list)
    lost: int = 0  # requests that got no answer (node down, connection reset) and were tried again
    retried_after_loss: int = 0
    duplicates_checked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Writers:
    """Client threads posting approvals and events (and some doomed requests) to one project.

    With ``status_changes`` the supervisor also resolves its own earlier events, so
    records that depend on other records are in flight when something crashes.
    """

    def __init__(
        self, node: NodeProcess, code: str, seed: int, threads: int = 6, status_changes: bool = False
    ) -> None:
        self.node = node
        self.code = code
        self.seed = seed
        self.status_changes = status_changes
        self.outcomes = Outcomes()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def __enter__(self) -> Writers:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops the writers and waits for their last answers."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def accepted(self) -> int:
        """How many distinct records the node has answered 202 so far."""
        with self.outcomes.lock:
            return len(self.outcomes.accepted)

    def wait_accepted(self, n: int, timeout: float = 90.0) -> None:
        """Waits until the node has accepted ``n`` more records than now."""
        target = self.accepted() + n
        wait_until(lambda: self.accepted() >= target, timeout, f"the node accepts {n} more records")

    def wait_lost(self, n: int, timeout: float = 30.0) -> None:
        """Waits until ``n`` more requests than now went unanswered (while the node is down)."""

        def lost() -> int:
            with self.outcomes.lock:
                return self.outcomes.lost

        target = lost() + n
        wait_until(lambda: lost() >= target, timeout, f"{n} more requests go unanswered")

    def request(self, rng: random.Random, tag: str, events: list[tuple[str, float]]) -> Request:
        """A random request with unique content; ~15% are meant to be refused."""
        d = digest_of(f"{self.seed}/{tag}")
        if self.status_changes and events and events[0][1] < time.monotonic() - 1.5 and rng.random() < 0.2:
            uid, _ = events.pop(0)  # resolve an event of ours (409 while it is not on chain yet)
            body = {"reason": f"已整改 {tag}", "document_digest": d}
            return Request("scjgj", f"/v1/records/{uid}/resolve", body, d, (202, 409), {"X-Target": uid})
        stage = rng.randint(1, 2)  # 发改局's demo catalogue items are of stages 1 and 2
        approval = {"stage": stage, "item": {1: "ZL-S1-002", 2: "ZL-S2-003"}[stage], "decision": "approved",
                    "document_no": f"可靠性批复 {tag}", "document_digest": d, "issued_at": "2026-05-01"}  # fmt: skip
        event = {"category": "质量安全", "severity": "slight", "description_digest": d,
                 "occurred_at": "2026-07-01"}  # fmt: skip
        p = f"/v1/projects/{self.code}"
        roll = rng.random()
        if roll < 0.60:
            req = Request("fgj", p + "/approvals", approval, d, (202,))
        elif roll < 0.85:
            req = Request("scjgj", p + "/events", event, d, (202,))
        elif roll < 0.90:
            req = Request("bank", p + "/approvals", approval, d, (403,))  # no approval role
        elif roll < 0.95:
            req = Request("fgj", p + "/events", event, d, (403,))  # not a supervisor
        else:
            req = Request("fgj", p + "/approvals", {**approval, "stage": 9}, d, (422,))
        if req.expect == (202,) and rng.random() < 0.3:
            req.headers["Idempotency-Key"] = f"{self.code}/{self.seed}/{tag}"
        return req

    def post(self, client: httpx.Client, req: Request, deadline: float) -> httpx.Response:
        """Posts until the node answers (its answer may be lost in a crash: then retry as is)."""
        lost = False
        while True:
            try:
                r = client.post(req.path, json=req.body, headers={
                    "Authorization": f"Bearer {self.node.tokens[req.org]}", **req.headers})  # fmt: skip
                if r.status_code < 500:
                    if lost:
                        with self.outcomes.lock:
                            self.outcomes.retried_after_loss += 1
                    req.answer_lost = lost
                    return r
            except httpx.TransportError:
                pass
            lost = True
            with self.outcomes.lock:
                self.outcomes.lost += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {req.path} for 90 s")
            time.sleep(0.1)

    def _run(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        o = self.outcomes
        events: list[tuple[str, float]] = []  # this thread's open events, oldest first
        with httpx.Client(base_url=self.node.url, timeout=10) as client:
            i = 0
            while not self._stop.is_set():
                i += 1
                req = self.request(rng, f"{index}/{i}", events)
                target = req.headers.pop("X-Target", None)
                r = self.post(client, req, time.monotonic() + 90)
                if req.answer_lost and req.expect == (202,) and _confirmed_duplicate(r):
                    # The first attempt was accepted before the node died and its record confirmed
                    # by the time this retry got through: the retry's answer is 200 (confirmed),
                    # with the same uid and duplicate=true, instead of the 202 a first answer gives.
                    r = httpx.Response(202, json=r.json(), request=r.request)
                if r.status_code not in req.expect:
                    with o.lock:
                        o.unexpected.append(f"{req.path} as {req.org}: {r.status_code} {r.text[:200]}")
                    continue
                if r.status_code != 202:
                    with o.lock:
                        o.refused[req.digest] = r.status_code
                    if target is not None:
                        events.append((target, time.monotonic()))  # try again later
                    continue
                uid = r.json()["uid"]
                with o.lock:
                    if uid in o.accepted and o.accepted[uid] != req.digest:
                        o.unexpected.append(f"uid {uid} answered for two different requests")
                    o.accepted[uid] = req.digest
                    if target is None:
                        o.answered[uid] = req
                if req.path.endswith("/events"):
                    events.append((uid, time.monotonic()))
                # A client retrying at once must get the same uid (status changes are not
                # replayed: see test_security / docs/reliability.md on their idempotency).
                if target is None and rng.random() < 0.1:
                    again = self.post(client, req, time.monotonic() + 90)
                    self._check_replay(req, uid, again)

    def _check_replay(self, req: Request, uid: str, r: httpx.Response) -> None:
        o = self.outcomes
        with o.lock:
            o.duplicates_checked += 1
            body = r.json() if r.status_code in (200, 202) else {}
            if body.get("uid") != uid or body.get("duplicate") is not True:
                o.unexpected.append(f"retry of {uid} answered {r.status_code} {r.text[:200]}")

    def replay_some(self, rng: random.Random, n: int = 20) -> None:
        """Re-posts earlier accepted requests (e.g. after a restart): same uid, duplicate=true."""
        with self.outcomes.lock:
            sample = rng.sample(sorted(self.outcomes.answered), min(n, len(self.outcomes.answered)))
        with httpx.Client(base_url=self.node.url, timeout=10) as client:
            for uid in sample:
                req = self.outcomes.answered[uid]
                self._check_replay(req, uid, self.post(client, req, time.monotonic() + 60))


def _confirmed_duplicate(r: httpx.Response) -> bool:
    """A retry's answer for a record already on chain: 200, duplicate, confirmed."""
    if r.status_code != 200:
        return False
    body = r.json()
    return body.get("duplicate") is True and body.get("state") == "confirmed"


def wait_drained(node: NodeProcess, timeout: float = 90.0) -> dict[str, Any]:
    """Waits until nothing is accepted or submitted and the index is at the head; returns /health."""
    deadline = time.monotonic() + timeout
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            r = httpx.get(node.url + "/health", timeout=5)
            health = r.json()
            box, chain = health["outbox"], health["chain"]
            idle = box["accepted"] == 0 and box["submitted"] == 0 and chain["indexer_lag"] == 0
            if r.status_code == 200 and idle:
                return health
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"outbox did not drain within {timeout} s: {health}")


def rpc(url: str, method: str, *params: Any) -> Any:
    """One JSON-RPC call to the chain."""
    call = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    reply = httpx.post(url, json=call, timeout=30)
    body = reply.json()
    assert "error" not in body, body
    return body["result"]


def records_after(node: NodeProcess, code: str, block: int) -> int:
    """How many RecordAdded of a project the chain itself holds in blocks after ``block``."""
    deployment = json.loads((node.data_dir / "deployment.json").read_text())
    if int(rpc(node.rpc_url, "eth_blockNumber"), 16) <= block:
        return 0  # nothing after it yet (anvil refuses a range that starts past its head)
    logs = rpc(node.rpc_url, "eth_getLogs", {
        "address": deployment["ledger"], "fromBlock": hex(block + 1), "toBlock": "latest",
        "topics": [RECORD_ADDED, None, "0x" + keccak(text=code).hex()]})  # fmt: skip
    return len(logs)


def onchain_records(node: NodeProcess, code: str) -> list[tuple[str, str]]:
    """(uid, digest) of every RecordAdded of a project on the chain itself, in chain order."""
    deployment = json.loads((node.data_dir / "deployment.json").read_text())
    project = "0x" + keccak(text=code).hex()
    logs = rpc(node.rpc_url, "eth_getLogs", {
        "address": deployment["ledger"], "fromBlock": hex(deployment["block"]), "toBlock": "latest",
        "topics": [RECORD_ADDED, None, project]})  # fmt: skip
    # The event names the record; its content is in the input of the transaction that carried it.
    carried = {}
    for tx_hash in {lg["transactionHash"] for lg in logs}:
        carried[tx_hash] = carried_records(rpc(node.rpc_url, "eth_getTransactionByHash", tx_hash)) or {}
    out = []
    for lg in logs:
        record, _seal = carried[lg["transactionHash"]][bytes.fromhex(lg["topics"][1][2:])]
        out.append((lg["topics"][1], "0x" + record.digest.hex()))
    return out


def assert_chain_holds_exactly(node: NodeProcess, code: str, project_uid: str, outcomes: Outcomes) -> None:
    """Every 202 uid is on chain exactly once with its content; nothing else, nothing refused."""
    records = onchain_records(node, code)
    counts = Counter(uid for uid, _ in records)
    twice = [uid for uid, n in counts.items() if n > 1]
    assert not twice, f"records on chain more than once: {twice[:5]}"
    onchain = {uid: d for uid, d in records if uid != project_uid}
    missing = set(outcomes.accepted) - set(onchain)
    extra = set(onchain) - set(outcomes.accepted)
    assert not missing, f"{len(missing)} accepted record(s) not on chain, e.g. {sorted(missing)[:3]}"
    assert not extra, f"{len(extra)} record(s) on chain never answered 202, e.g. {sorted(extra)[:3]}"
    wrong = [uid for uid, d in onchain.items() if outcomes.accepted[uid] != d]
    assert not wrong, f"records on chain with other content than accepted: {wrong[:3]}"
    leaked = set(outcomes.refused) & set(onchain.values())
    assert not leaked, f"refused requests reached the chain: {sorted(leaked)[:3]}"


class Anvil:
    """The embedded chain of a node, controlled from outside the node."""

    def __init__(self, node: NodeProcess) -> None:
        self.node = node
        self.restarted: list[subprocess.Popen[bytes]] = []
        self._saved: tuple[int, int] | None = None  # (mtime, block) of the state file last read

    def pids(self) -> list[int]:
        """Processes of anvil listening on the node's chain port."""
        return anvil_pids(self.node.anvil_port)

    def chain(self) -> EmbeddedChain:
        """The node's EmbeddedChain, built from the node's own settings."""
        settings = Settings(env="test", data_dir=self.node.data_dir, anvil_port=self.node.anvil_port)
        return EmbeddedChain(settings)

    def command(self) -> list[str]:
        """The command line the node itself would start its anvil with (loads the last saved state)."""
        return self.chain().command()

    @property
    def state_file(self) -> Path:
        """Where the node saves the chain's state."""
        return self.chain().state_file

    def saved_block(self) -> int:
        """The newest block in the node's saved state (-1 before the first save)."""
        path = self.state_file
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return -1
        if self._saved is None or self._saved[0] != mtime:  # the file is replaced whole, never rewritten
            self._saved = (mtime, _best_block(path.read_bytes()))
        return self._saved[1]

    def head(self) -> int:
        """Current block number."""
        return int(rpc(self.node.rpc_url, "eth_blockNumber"), 16)

    def block_hash(self, number: int) -> str | None:
        """The hash of block ``number`` on the chain now (None: the chain has no such block)."""
        block = rpc(self.node.rpc_url, "eth_getBlockByNumber", hex(number), False)
        return None if block is None else str(block["hash"])

    def kill(self) -> None:
        """SIGKILLs anvil: the state since the last save is lost."""
        pids = self.pids()
        assert len(pids) == 1, f"expected one anvil on port {self.node.anvil_port}, found {pids}"
        os.kill(pids[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pids[0] in self.pids() and time.monotonic() < deadline:
            time.sleep(0.02)

    def start(self, timeout: float = 20.0) -> None:
        """Starts anvil again with the node's command line (it loads the last saved state)."""
        log = (self.node.data_dir / "chain" / "anvil-restarted.log").open("ab")
        cmd = self.command()
        assert "--load-state" in cmd, cmd
        self.restarted.append(subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.head()
                return
            except (httpx.HTTPError, AssertionError):
                time.sleep(0.05)
        raise AssertionError(f"restarted anvil did not answer within {timeout} s")

    def cleanup(self) -> None:
        """Kills every anvil on the node's port (ours or the node's): nothing may outlive a test."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for p in self.restarted:
            p.wait(timeout=10)
