"""Project codes read by the rules of their shape (public, no registration needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from node_api.api.params import ERRORS, CodePath
from node_api.domain.project_code import parse_project_code

router = APIRouter(prefix="/v1/project-codes", tags=["projects"])


@router.get("/{code}", responses=ERRORS)
async def read_code(code: CodePath) -> dict[str, Any]:
    """Whether a project code is well-formed, its shape, year, division and each segment's meaning.

    Well-formed only: no check character is verified, so this does not show that the code
    was ever assigned to a project (docs/project-codes.md).
    A malformed code is a 422 naming what is wrong.
    """
    return parse_project_code(code, "code").as_dict()
