"""Small helpers for calling a node's API in tests."""

from __future__ import annotations

from typing import Any

import httpx


def write_confirmed(client: httpx.Client, path: str, body: dict[str, Any]) -> str:
    """POSTs a write with ``?wait=true``; the uid of the record, once confirmed on chain."""
    r = client.post(path + "?wait=true", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["uid"])
