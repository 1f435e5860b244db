"""A lean HTTP/1.1 load generator on asyncio (uvloop) with httptools' response parser.

Why not httpx here: on this 2-core machine the load generator shares the CPU with
the node and the chain, and httpx spends well over a millisecond of CPU per request
(every run measures both clients on the same requests: ``client_calibration`` in
the JSON, see docs/benchmark.md), CPU the node under test would not get. This client keeps one keep-alive
connection per worker and costs a few tens of microseconds per request, loopback
only. Correctness is checked on every response (status code and body).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httptools


class HttpConnectionError(Exception):
    """The connection closed or failed before a full response arrived."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.BaseTransport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.keep_alive = True
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's TCPTransport is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._fail(HttpConnectionError(f"bad response: {e}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(HttpConnectionError(f"connection lost: {exc}"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        body, self.body = b"".join(self.body), []
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, body))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


class HttpClient:
    """A connection-per-caller HTTP/1.1 client for one ``host:port``."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        base = {"Host": f"{host}:{port}", **(headers or {})}
        self._header_block = "".join(f"{k}: {v}\r\n" for k, v in base.items())

    async def connect(self) -> _Connection:
        """Opens a connection."""
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(_Connection, self.host, self.port)
        return proto

    def build(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "", token: str = ""
    ) -> bytes:
        """The raw request bytes (``token``: a bearer token for this request)."""
        head = f"{method} {path} HTTP/1.1\r\n{self._header_block}"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body is not None:
            ctype = content_type or "application/json"
            head += f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        raw = (head + "\r\n").encode()
        return raw + body if body else raw

    async def send(self, conn: _Connection, raw: bytes) -> tuple[int, bytes]:
        """Sends one request on ``conn`` and waits for its response."""
        assert conn.transport is not None
        fut: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        conn.waiter = fut
        conn.transport.write(raw)  # type: ignore[attr-defined]
        return await fut


@dataclass
class Sample:
    """One completed request."""

    end: float  # perf_counter at completion
    latency: float  # seconds
    ok: bool
    records: int  # records this request confirmed (or read)


@dataclass
class Run:
    """Samples of a closed-loop run and its measurement window."""

    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    window: tuple[float, float] = (0.0, 0.0)

    def in_window(self) -> list[Sample]:
        """Samples that completed inside the measurement window."""
        lo, hi = self.window
        return [s for s in self.samples if lo <= s.end <= hi]


# A request factory returns (raw request bytes, checker); the checker maps (status, body)
# to the number of records the request achieved, or raises ValueError for a wrong answer.
Checker = Callable[[int, bytes], int]
Factory = Callable[[int], tuple[bytes, Checker]]


async def closed_loop(
    client: HttpClient,
    factory: Factory,
    concurrency: int,
    warmup: float,
    duration: float,
    max_errors: int = 50,
    connect_rate: int = 500,
    on_tick: Callable[[], Awaitable[None]] | None = None,
    max_requests: int | None = None,
) -> Run:
    """``concurrency`` workers, each sending its next request as soon as the last answered.

    Samples completing in ``[start + warmup, start + warmup + duration]`` are measured;
    the run stops at the end of the window (requests still in flight are not counted).
    With ``max_requests`` the run instead ends once that many requests were answered.
    """
    run = Run()
    stop = asyncio.Event()
    counter = iter(range(max_requests if max_requests is not None else 1 << 62))

    async def worker(conn: _Connection) -> None:
        while not stop.is_set():
            n = next(counter, None)
            if n is None:
                return
            raw, check = factory(n)
            t0 = time.perf_counter()
            try:
                status, body = await client.send(conn, raw)
                records = check(status, body)
                ok = True
            except (HttpConnectionError, ValueError) as e:
                records, ok = 0, False
                if len(run.errors) < max_errors:
                    run.errors.append(str(e)[:300])
            t1 = time.perf_counter()
            run.samples.append(Sample(t1, t1 - t0, ok, records))
            if conn.closed or not conn.keep_alive:
                if conn.transport is not None:
                    conn.transport.close()
                conn = await client.connect()

    # Open connections gradually so the server's accept backlog never overflows.
    conns: list[_Connection] = []
    for i in range(0, concurrency, connect_rate):
        conns += await asyncio.gather(*(client.connect() for _ in range(min(connect_rate, concurrency - i))))
    run.started = time.perf_counter()
    run.window = (run.started + warmup, run.started + warmup + duration)
    tasks = [asyncio.create_task(worker(c)) for c in conns]
    if max_requests is not None:
        await asyncio.gather(*tasks)
        run.window = (run.started, time.perf_counter())
    end = run.window[1]
    while (now := time.perf_counter()) < end:
        await asyncio.sleep(min(0.25, end - now))
        if on_tick is not None:
            await on_tick()
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    return run


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]
