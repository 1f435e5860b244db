"""Node-to-node requests signed with an organisation's seal key (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/peer", tags=["peer"])
