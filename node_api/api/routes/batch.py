"""Bulk writes: many records in one request (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["records"])
