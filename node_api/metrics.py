"""Prometheus metrics and their HTTP middleware (to be built)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Adds request metrics to the app."""
