"""How the API answers accepted writes (202, or 200 once confirmed with ?wait=true)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse

from node_api.api.schemas import Accepted
from node_api.domain.records import Kind, payload_uint
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.writer import Accepted as WriterAccepted
from node_api.store.outbox import OutboxState


async def accepted(
    confirmations: Confirmations, result: WriterAccepted, wait: bool, extra: dict[str, Any] | None = None
) -> Response:
    """202 with the uid; with ``wait`` 200 once confirmed, or 202 if still pending at the timeout.

    ``extra`` joins the body (an approval's item version, a catalogue item's code and version).
    A commitment accepted with an approval is named ``commitment_uid``; with ``wait`` the answer
    waits for it too (it goes to the chain right after the approval).
    """
    state = "pending"
    error = None
    outbox = confirmations.outbox
    extra = dict(extra or {})
    if result.attached is not None:
        extra["commitment_uid"] = result.attached.uid
        if wait:
            await confirmations.wait_for(result.attached.uid, confirmations.wait_timeout)
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
        {**body.model_dump(), **extra}, status_code=status, headers={"Location": f"/v1/records/{result.uid}"}
    )


def approval_extra(result: WriterAccepted) -> dict[str, Any]:
    """What an approval's answer adds: the catalogue item version the approval names."""
    if result.record.kind != Kind.APPROVAL:
        return {}
    # The one field, read from the payload's head: decoding the whole payload again was ≈ 4 % of a
    # single-record write's CPU (docs/benchmark.md, "A single write's answer").
    return {"item_version": payload_uint(Kind.APPROVAL, result.record.payload, "item_version")}
