"""Audit: evidence bundles and the access log with Merkle proofs (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/audit", tags=["audit"])
