"""How the API answers accepted writes (202, or 200 once confirmed with ?wait=true)."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import JSONResponse

from node_api.api.schemas import Accepted
from node_api.ledger.writer import Accepted as WriterAccepted
from node_api.node import Node


async def accepted(node: Node, result: WriterAccepted, wait: bool) -> Response:
    """202 with the uid; with ``wait`` 200 once confirmed, or 202 if still pending at the timeout."""
    state = "pending"
    error = None
    if wait:
        final = await node.wait_for(result.uid, node.settings.wait_timeout)
        if final in ("confirmed", "failed"):
            state = final
            if final == "failed":
                error = node.db.scalar("SELECT error FROM outbox WHERE uid = ?", (result.uid,))
    elif not result.created:
        current = node.db.scalar("SELECT state FROM outbox WHERE uid = ?", (result.uid,))
        state = current if current in ("confirmed", "failed") else "pending"
    body = Accepted(uid=result.uid, state=state, duplicate=not result.created, error=error)  # type: ignore[arg-type]
    status = 202 if state == "pending" else (200 if state == "confirmed" else 409)
    return JSONResponse(
        body.model_dump(), status_code=status, headers={"Location": f"/v1/records/{result.uid}"}
    )
