"""Structured logs: one JSON object per line, to stderr and ``data_dir/node.log``.

Every line carries the id of the HTTP request it was written under (a context
variable set by ``metrics.RequestObserver``), so an operator can follow one
request through the gateway, the writer and the pipeline. Each request ends with
one ``request`` line: request id, method, path, status, duration, organisation.

Secrets never belong in a log: no handler logs headers or bodies, and as a last
line of defence anything shaped like an API token or a bearer credential is
masked before a line is written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from node_api.config import Settings

request_id: ContextVar[str | None] = ContextVar("projchain_request_id", default=None)

access = logging.getLogger("projchain.access")

# Which of the node's processes wrote a line: the primary or a gateway worker (workers.py).
_WORKER = os.environ.get("PROJCHAIN_WORKER_INDEX")
PROCESS = f"worker-{_WORKER}" if _WORKER else "primary"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# API tokens ("pc_" + 43 url-safe chars) and the credential after "Bearer ", stopping at a
# quote or backslash so that masking never breaks the JSON line it is applied to.
_SECRET = re.compile(r'pc_[A-Za-z0-9_-]{20,}|(?i:bearer)\s+[^\s"\\]+')


def redact(text: str) -> str:
    """Masks token-shaped substrings (cheap when there are none)."""
    if "pc_" not in text and "earer" not in text:
        return text
    return _SECRET.sub("[redacted]", text)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: ts, level, logger, process, msg, request_id and extras."""

    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        """The record as compact JSON (non-ASCII kept readable), made once for all the handlers that
        share this formatter (a record passes them one after another, unchanged)."""
        kept = record.__dict__.get("_json_line")
        if isinstance(kept, tuple) and kept[0] is self:
            return str(kept[1])
        line = self._line(record)
        record.__dict__["_json_line"] = (self, line)
        return line

    def _line(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # strftime once a second, not once a line
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        out: dict[str, Any] = {
            "ts": f"{self._stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "process": PROCESS,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=str))


def configure(settings: Settings, level: int = logging.INFO) -> None:
    """Sends all logs as JSON lines to stderr and ``settings.log_path`` (called once by the CLI)."""
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    _install(
        [logging.StreamHandler(sys.stderr), logging.FileHandler(Path(settings.log_path), encoding="utf-8")],
        level,
    )


def configure_stderr(level: int = logging.INFO) -> None:
    """JSON lines to stderr only: for helper processes whose parent keeps the log file."""
    _install([logging.StreamHandler(sys.stderr)], level)


def _install(handlers: list[logging.Handler], level: int) -> None:
    formatter = JsonFormatter()
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        h.setFormatter(formatter)
        root.addHandler(h)
    root.setLevel(level)
    # Library chatter (one line per JSON-RPC call) would drown the node's own lines.
    for noisy in ("httpx", "httpcore", "web3", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_request(rid: str, method: str, path: str, status: int, duration: float, org_id: int | None) -> None:
    """The one line written per HTTP request (no query string, headers or body: they may hold secrets)."""
    if not access.isEnabledFor(logging.INFO):
        return
    extra: dict[str, Any] = {
        "request_id": rid,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(duration * 1000, 2),
    }
    if org_id is not None:
        extra["org_id"] = org_id
    access.info("request", extra=extra)
