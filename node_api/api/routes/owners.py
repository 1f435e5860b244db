"""Project owners (项目单位): the credit profile (信用画像) and the history of its grade (docs/credit.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from node_api.api.deps import OptionalOrg, ProfilesDep
from node_api.api.params import ERRORS
from node_api.domain.credit import rules_document
from node_api.ledger.profile_views import history_view, profile_view

router = APIRouter(tags=["owners"])

UsccPath = Annotated[
    str,
    Path(
        description="the owner's Unified Social Credit Code (GB 32100-2015)", examples=["91620825MA72BT6H8M"]
    ),
]
AsOfBlock = Annotated[
    int | None,
    Query(
        ge=0,
        description="compute from the records of blocks ≤ N, time-dependent rules at block N's timestamp",
    ),
]


@router.get("/v1/owners/{uscc}/profile", responses=ERRORS)
async def owner_profile(
    uscc: UsccPath, org: OptionalOrg, profiles: ProfilesDep, as_of_block: AsOfBlock = None
) -> dict[str, Any]:
    """The owner's credit profile and grade: the public part for anyone, more by role or grant.

    A reading role sees every fact; a bank the public part and the rest of the projects it holds a
    live grant on; anyone else the public part. The grade is computed over exactly those facts
    (``grade.basis``). A read by an organisation is logged.
    """
    return profile_view(await profiles.profile(uscc, as_of_block=as_of_block, viewer=org))


@router.get("/v1/owners/{uscc}/grade-history", responses=ERRORS)
async def owner_grade_history(
    uscc: UsccPath, org: OptionalOrg, profiles: ProfilesDep, as_of_block: AsOfBlock = None
) -> dict[str, Any]:
    """Every change of the owner's grade up to the block, each with the records or the time that caused it."""
    profile, changes = await profiles.grade_history(uscc, as_of_block=as_of_block, viewer=org)
    return history_view(profile, changes)


@router.get("/v1/credit/rules")
async def credit_rules() -> dict[str, Any]:
    """The grade's rules in force: version, each rule's grade and condition (docs/credit.md)."""
    return dict(rules_document())
