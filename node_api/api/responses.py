"""How the API answers accepted writes (202, or 200 once confirmed with ?wait=true)."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import JSONResponse

from node_api.api.schemas import Accepted
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.writer import Accepted as WriterAccepted
from node_api.store.outbox import OutboxState


async def accepted(confirmations: Confirmations, result: WriterAccepted, wait: bool) -> Response:
    """202 with the uid; with ``wait`` 200 once confirmed, or 202 if still pending at the timeout."""
    state = "pending"
    error = None
    outbox = confirmations.outbox
    if wait:
        final = await confirmations.wait_for(result.uid, confirmations.wait_timeout)
        if final in (OutboxState.CONFIRMED, OutboxState.FAILED):
            state = final
            if final == OutboxState.FAILED:
                error = outbox.error(result.uid)
    elif not result.created:
        current = outbox.state(result.uid)
        state = str(current) if current is not None and current.final else "pending"
    body = Accepted(uid=result.uid, state=state, duplicate=not result.created, error=error)  # type: ignore[arg-type]
    status = 202 if state == "pending" else (200 if state == OutboxState.CONFIRMED else 409)
    return JSONResponse(
        body.model_dump(), status_code=status, headers={"Location": f"/v1/records/{result.uid}"}
    )
