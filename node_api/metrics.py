"""Prometheus metrics and the request observer middleware.

Per request the hot path costs one counter increment and one histogram
observation on cached label children, plus the access-log line. Everything about
the node (outbox depth, records submitted / confirmed / failed, transactions,
resyncs, indexer lag, chain height) is read at scrape time by ``NodeCollector``
from counters the pipeline and indexer keep anyway: nothing extra per write.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node_api import logs

log = logging.getLogger("projchain.api")

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_OUTBOX_STATES = ("accepted", "submitted", "confirmed", "failed")


class RequestMetrics:
    """Request counters and latency histogram, label children cached per (route, method, status)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "projchain_http_requests",
            "HTTP requests by route template, method and status.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "projchain_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ("route", "method"),
            buckets=_BUCKETS,
            registry=registry,
        )
        direct = Counter(
            "projchain_http_direct_requests",
            "Requests to a direct route (the single-record writes, the record read) answered by it (answered) "
            "or handed to FastAPI's route (handed_on).",
            ("outcome",),
            registry=registry,
        )
        self.direct = {outcome: direct.labels(outcome) for outcome in ("answered", "handed_on")}
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Counts one finished request."""
        key = (route, method, status)
        child = self._children.get(key)
        if child is None:
            child = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
            self._children[key] = child
        child[0].inc()
        child[1].observe(seconds)


class NodeCollector(Collector):
    """Reads the node's state when Prometheus scrapes (nothing on the write path)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        """Outbox depth, pipeline and indexer counters, chain height."""
        node = getattr(self.app.state, "node", None)
        if node is None or not hasattr(node, "indexer"):
            return
        depth = GaugeMetricFamily("projchain_outbox_records", "Outbox records by state.", labels=["state"])
        counts = node.status.outbox_depth()
        for state in _OUTBOX_STATES:
            depth.add_metric([state], counts.get(state, 0))
        yield depth
        # The primary's own counters; a gateway worker reads the snapshot the primary publishes.
        # Supervision's figures come from wherever it runs (Supervision.figures).
        p: dict[str, float] = node.pipeline_stats()
        if "records_sent" in p:  # a worker before the primary's first snapshot has none yet
            yield from _pipeline(p)
        if "warning_assessments" in p:
            yield _counter(
                "projchain_warning_assessments",
                "Projects whose warnings were re-assessed.",
                p["warning_assessments"],
            )
            yield _counter(
                "projchain_warning_assessment_seconds", "Seconds spent re-assessing warnings.",
                p["warning_assessment_seconds"],
            )  # fmt: skip
            yield _gauge(
                "projchain_warning_projects_due", "Projects due for re-assessment.", p["warning_projects_due"]
            )
            yield _gauge("projchain_warnings_open", "Open risk warnings.", p["warnings_open"])


def _pipeline(p: dict[str, float]) -> Iterator[Metric]:
    """The submitter's and the indexer's counters."""
    yield _counter("projchain_records_submitted", "Records sent in transactions.", p["records_sent"])
    yield _counter(
        "projchain_records_confirmed", "Outbox records confirmed on chain.", p["records_confirmed"]
    )
    yield _counter(
        "projchain_records_failed", "Outbox records the chain refused for good.", p["records_failed"]
    )
    yield _counter("projchain_transactions_sent", "Transactions sent by the relayer.", p["txs_sent"])
    yield _counter("projchain_submitter_resyncs", "Resyncs with the chain.", p["resyncs"])
    if "receipts" in p:  # a worker's snapshot from a primary of before it lacks it
        yield _counter(
            "projchain_submitter_receipts",
            "Receipts the submitter fetched (a transaction the indexer read first needs none).",
            p["receipts"],
        )
    yield _counter("projchain_indexer_rewinds", "Times the chain went backwards.", p["rewinds"])
    if "txs_indexed_own" in p:  # a worker's snapshot from a primary of before them lacks them
        read = CounterMetricFamily(
            "projchain_indexer_transactions",
            "Transactions whose records the indexer read: own (the input this node signed) or fetched.",
            labels=["source"],
        )
        read.add_metric(["own"], p["txs_indexed_own"])
        read.add_metric(["fetched"], p["txs_indexed_fetched"])
        yield read
    yield _gauge("projchain_transactions_inflight", "Transactions awaiting a receipt.", p["inflight"])
    yield _gauge("projchain_indexer_lag_blocks", "Blocks the index is behind.", p["lag"])
    yield _gauge("projchain_chain_height", "Latest block number seen.", p["head"])
    yield _gauge("projchain_indexed_block", "Last block fully indexed.", p["indexed"])


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class RequestObserver:
    """Outermost middleware: request id, metrics, one access-log line, last-resort JSON 500.

    A pure ASGI middleware (no per-request task or stream, unlike ``@app.middleware``),
    so it costs a few microseconds. The route label is the matched template
    (``/v1/records/{uid}``), never the raw path, so label cardinality stays bounded.
    """

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status = 0  # not answered yet
        header = (b"x-request-id", rid.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error")
            if status == 0:  # nothing sent yet: answer in the API's error format
                await _internal_error(send_wrapper, rid)
        finally:
            status = status or 500
            duration = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            self.metrics.observe(template, method, status, duration)
            logs.log_request(rid, scope["method"], scope["path"], status, duration, state.get("org_id"))
            logs.request_id.reset(token)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = bytes(value[:64]).decode("latin-1")
            if given and all((c.isascii() and c.isalnum()) or c in "-_." for c in given):
                return given
            break
    return os.urandom(8).hex()


async def _internal_error(send: Send, rid: str) -> None:
    body = b'{"error":"internal_error","detail":"internal error; request id ' + rid.encode() + b'"}'
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI) -> None:
    """Adds the request observer (outermost) and a per-app registry at ``app.state.metrics``.

    With gateway workers (``PROMETHEUS_MULTIPROC_DIR`` set by ``projchain run`` before
    anything imports prometheus_client) every process keeps its request metrics in
    memory-mapped files and a scrape, whichever process answers it, sums them all.
    Process metrics (CPU, memory) are then left out: they would describe only the
    process that happened to answer.
    """
    disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: just noise
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        request_metrics = RequestMetrics(CollectorRegistry())  # values live in the shared files
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        request_metrics = RequestMetrics(registry)
        ProcessCollector(registry=registry)
    registry.register(NodeCollector(app))
    app.state.metrics = registry
    app.state.request_metrics = request_metrics
    app.add_middleware(RequestObserver, metrics=request_metrics)
