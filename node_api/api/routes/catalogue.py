"""The catalogue (事项库): list and search it (public), an item with its versions (public), a new version (catalogue role)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from node_api.api.deps import CatalogueDep, ConfirmationsDep, CurrentOrg, WriterDep
from node_api.api.params import ERRORS, WRITE_RESPONSES, IdemKey, Wait
from node_api.api.payloads import catalogue_item
from node_api.api.responses import accepted
from node_api.api.schemas import CatalogueAccepted, CatalogueItemIn
from node_api.domain.catalogue import CODE_PATTERN
from node_api.errors import NotFoundError
from node_api.ledger.catalogue import MAX_PAGE

router = APIRouter(prefix="/v1/catalogue", tags=["catalogue"])

ItemCodePath = Annotated[str, Path(pattern=CODE_PATTERN, description="the item's code, e.g. ZL-S1-005")]


@router.get("", responses=ERRORS)
async def list_catalogue(
    catalogue: CatalogueDep,
    stage: Annotated[int | None, Query(ge=1, le=4, description="only items of this stage")] = None,
    list_name: Annotated[
        Literal["approval", "intermediary", "technical_review"] | None,
        Query(alias="list", description="only items of this list (审批 / 中介服务 / 技术审查)"),
    ] = None,
    department: Annotated[int | None, Query(ge=1, description="only items this organisation decides")] = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the item's name or code")] = None,
    include_retired: Annotated[bool, Query(description="retired items too")] = False,
    cursor: Annotated[
        str | None, Query(pattern=CODE_PATTERN, description="next_cursor of the page before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> dict[str, Any]:
    """The catalogue's items in force, by code (public): filter by stage, list, department and text."""
    page = catalogue.search(stage, list_name, department, q, include_retired, cursor, limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{code}", responses=ERRORS)
async def get_item(code: ItemCodePath, catalogue: CatalogueDep) -> dict[str, Any]:
    """A catalogue item (public): its version in force and every version, newest first, with its record."""
    detail = catalogue.detail(code)
    if detail is None:
        raise NotFoundError(f"catalogue item {code} does not exist")
    return detail


@router.post(
    "/items", status_code=202, response_model=CatalogueAccepted,
    responses={**WRITE_RESPONSES, 200: {"model": CatalogueAccepted, "description": "confirmed on chain (?wait=true)"}},
)  # fmt: skip
async def put_item(
    body: CatalogueItemIn, org: CurrentOrg, writer: WriterDep, confirmations: ConfirmationsDep,
    wait: Wait = False, idempotency_key: IdemKey = None,
) -> Response:  # fmt: skip
    """Write a catalogue item as its next version (catalogue role): a new item is version 1.

    The node numbers the version (the version in force + 1); earlier versions and the
    approvals that named them stay as they are. Retire an item with ``retired: true``.
    Sending what the version in force says already changes nothing (``duplicate``).
    """
    result, version = await writer.write_catalogue(org, catalogue_item(body), idempotency_key)
    return await accepted(confirmations, result, wait, {"code": body.code, "version": version})
