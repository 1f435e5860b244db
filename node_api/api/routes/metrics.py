"""GET /metrics in Prometheus format (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])
