"""GET /health: node, chain and indexer status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from node_api.api.deps import NodeDep

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "degraded: chain unreachable"}})
async def health(node: NodeDep) -> JSONResponse:
    """Chain id, contract addresses, latest block, indexer lag and outbox depth."""
    assert node.contracts is not None and node.contracts.deployment is not None
    chain = await node.chain_status()
    depth = {
        r["state"]: r["n"] for r in node.db.all("SELECT state, count(*) AS n FROM outbox GROUP BY state")
    }
    d = node.contracts.deployment
    body: dict[str, Any] = {
        "status": "ok" if chain["reachable"] else "degraded",
        "node": node.settings.node_name,
        "chain": {**chain, "embedded": node.chain is not None},
        "contracts": {"consortium": d.consortium, "ledger": d.ledger, "deployed_at_block": d.block},
        "relayer": node.relayer.address,
        "outbox": {"accepted": depth.get("accepted", 0), "submitted": depth.get("submitted", 0),
                   "confirmed": depth.get("confirmed", 0), "failed": depth.get("failed", 0)},
    }  # fmt: skip
    return JSONResponse(body, status_code=200 if chain["reachable"] else 503)
