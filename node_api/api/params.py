"""Path, query and header parameters the routes share, and their documented error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Query

from node_api.api.schemas import Accepted, ErrorOut
from node_api.domain.project_code import parse_project_code

CodePath = Annotated[
    str,
    Path(
        description="project code, classic or GB/T 40058-2021 (docs/project-codes.md)",
        examples=["2026-620825-44-01-000123"],
    ),
]
Wait = Annotated[bool, Query(description="answer once the record is confirmed on chain")]
IDEMPOTENCY_KEY_MAX = 200
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_MAX)]
ERRORS: dict[int | str, dict[str, Any]] = {
    c: {"model": ErrorOut} for c in (400, 401, 403, 404, 409, 413, 422, 429)
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"model": Accepted, "description": "confirmed on chain (?wait=true)"},
}


def checked_code(code: str) -> str:
    """A well-formed project code or 422."""
    return parse_project_code(code.strip(), "code").code
