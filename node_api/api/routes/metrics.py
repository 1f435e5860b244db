"""GET /metrics in Prometheus text format (see ``node_api.metrics`` for what is exported).

Operator only: ``Authorization: Bearer <token>`` whose SHA-256 is PROJCHAIN_METRICS_TOKEN_SHA256
(``projchain metrics-token`` makes one); failures count in the token-guessing guard.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from node_api.api.deps import require_operator
from node_api.api.schemas import ErrorOut

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"description": "Prometheus text format", "content": {"text/plain": {}}},
        **{c: {"model": ErrorOut} for c in (401, 403, 429)},
    },
    dependencies=[Depends(require_operator)],
)
async def metrics(request: Request) -> Response:
    """Request counts and latency by route, outbox depth, pipeline and indexer counters, chain height."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
