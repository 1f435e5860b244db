"""GET /health: node, chain and indexer status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from node_api.api.deps import StatusDep

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "degraded: chain unreachable"}})
async def health(status: StatusDep) -> JSONResponse:
    """Chain id, contract addresses, latest block, indexer lag and outbox depth."""
    chain = await status.chain()
    depth = status.outbox_depth()
    d = status.deployment
    body: dict[str, Any] = {
        "status": "ok" if chain["reachable"] else "degraded",
        "node": status.node_name,
        "chain": chain,
        "contracts": {"consortium": d.consortium, "ledger": d.ledger, "deployed_at_block": d.block},
        "relayer": status.relayer,
        "outbox": {s: depth.get(s, 0) for s in ("accepted", "submitted", "confirmed", "failed")},
    }
    return JSONResponse(body, status_code=200 if chain["reachable"] else 503)
