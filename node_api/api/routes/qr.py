"""扫码亮证: the project's QR code and the public verification page (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["scan-to-verify"])
