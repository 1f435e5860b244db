"""A real webhook receiver for the tests: stdlib ``http.server`` on a free port, in a thread.

It keeps every request it gets, checks each signature the way docs/notifications.md tells a
receiver to (HMAC-SHA256 of ``timestamp.body`` with the subscription's secret), answers with
the status codes it is told to (200 once they run out), can hold requests unanswered until
released, and can be taken down and brought back up on the same port.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localnode import free_port


@dataclass
class Received:
    """One request as the receiver got it."""

    headers: dict[str, str]
    body: bytes
    verified: bool  # the signature is right for the subscription's secret
    answered: int

    @property
    def id(self) -> str:
        return self.headers["x-projchain-id"]

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check of ``X-Projchain-Signature`` (as in docs/notifications.md)."""
    timestamp = headers.get("x-projchain-timestamp", "")
    expected = (
        "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, headers.get("x-projchain-signature", ""))


class Receiver:
    """A webhook receiver on ``url``; ``secrets`` maps subscription ids to their secrets."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/projchain"
        self.secrets: dict[str, str] = {}
        self.received: list[Received] = []
        self.answers: list[int] = []  # status codes to answer next, in order; then 200
        self.always: int = 200
        self.release = threading.Event()
        self.release.set()  # clear() to hold requests unanswered
        self.held = 0  # requests waiting for release now
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- life ------------------------------------------------------------------------------
    def up(self) -> Receiver:
        """Serves (again) on its port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.held += 1
                receiver.release.wait()
                with receiver._lock:
                    receiver.held -= 1
                    status = receiver.answers.pop(0) if receiver.answers else receiver.always
                    secret = receiver.secrets.get(headers.get("x-projchain-subscription", ""), "")
                    receiver.received.append(Received(headers, body, verify(secret, headers, body), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        """Stops serving: connections to its port are refused until ``up`` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- what came -------------------------------------------------------------------------
    def got(self, status: int | None = 200) -> list[Received]:
        """The requests answered with ``status`` (None: all of them), in arrival order."""
        with self._lock:
            return [r for r in self.received if status is None or r.answered == status]

    def subjects(self, subscription: str) -> dict[str, str]:
        """Record uid → delivery id of the deliveries of ``subscription`` answered 2xx."""
        return {
            r.json["data"]["uid"]: r.id
            for r in self.got()
            if r.headers.get("x-projchain-subscription") == subscription
        }
