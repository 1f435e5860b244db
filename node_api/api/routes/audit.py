"""Audit: evidence bundles, and the access log with Merkle proofs against roots anchored on chain."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from node_api.api.deps import AccessDep, AnchorerDep, ConfirmationsDep, CurrentOrg, EvidenceDep
from node_api.api.params import ERRORS, CodePath, checked_code
from node_api.errors import ConflictError, ForbiddenError, NotFoundError
from node_api.ledger.access import entry_json
from node_api.ledger.anchorer import AccessLogAnchorer
from node_api.ledger.membership import Organization
from node_api.verify.accesslog import Anchor, covering_anchor

router = APIRouter(prefix="/v1/audit", tags=["audit"])

BUNDLE_ROLES = ("auditor", "supervisor")


def _require(org: Organization, roles: tuple[str, ...], what: str) -> str:
    for role in roles:
        if org.has(role):
            return f"role:{role}"
    raise ForbiddenError(f"{org.name} may not read {what}; needs role {' or '.join(roles)}")


@router.get("/projects/{code}/bundle", responses=ERRORS)
async def project_bundle(
    code: CodePath, org: CurrentOrg, evidence: EvidenceDep, access: AccessDep
) -> JSONResponse:
    """Self-contained evidence bundle of a project (auditor, supervisor); see docs/bundle.md."""
    code = checked_code(code)
    basis = _require(org, BUNDLE_ROLES, "evidence bundles")
    bundle = evidence.bundle(code)
    if bundle is None:
        raise NotFoundError(f"project {code} is not registered")
    await access.log(org, "project.bundle", code, code, basis)
    filename = f"projchain-bundle-{code}.json"
    return JSONResponse(bundle, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/access-log", responses=ERRORS)
async def access_log(
    org: CurrentOrg,
    anchorer: AnchorerDep,
    access: AccessDep,
    project_code: Annotated[str | None, Query(description="only reads of this project")] = None,
    org_id: Annotated[
        int | None, Query(ge=1, le=2**32 - 1, description="only reads by this organisation")
    ] = None,
    since: Annotated[
        dt.datetime | None, Query(description="ISO 8601 time (UTC if no offset) or unix seconds")
    ] = None,
    from_index: Annotated[int, Query(ge=0, description="first leaf index (for paging)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Who read what and when (auditor): entries with RFC 6962 inclusion proofs against anchored roots.

    Each entry's proof is against the smallest anchored tree that includes it; entries
    not anchored yet have ``anchor: null``. ``consistency`` links each listed anchor to
    the next, up to the latest anchor. This read is itself logged.
    """
    code = checked_code(project_code) if project_code is not None else None
    basis = _require(org, ("auditor",), "the access log")
    await access.log(org, "access_log.read", _describe(code, org_id, since, from_index), code, basis)
    anchorer.sync()
    anchors = anchorer.anchors()
    sizes = [a.tree_size for a in anchors]
    entries: list[dict[str, Any]] = []
    used: set[int] = set()
    rows = anchorer.log_table.entries(anchorer.seq_before(from_index), limit, code, org_id, since)
    for row in rows:
        index = anchorer.index_of(int(row["seq"]))
        pos = covering_anchor(index, sizes)
        entry: dict[str, Any] = {
            "index": index,
            "entry": entry_json(row["at"], row["org_id"], row["org_name"], row["action"], row["subject"],
                                row["project_code"], row["basis"], row["token_id"], row["officer"]),
            "leaf_hash": "0x" + str(row["leaf_hash"]).removeprefix("0x"),
            "anchor": None,
            "inclusion_proof": [],
        }  # fmt: skip
        if pos is not None:
            a = anchors[pos]
            used.add(pos)
            entry["anchor"] = {"tree_size": a.tree_size, "root": a.root}
            entry["inclusion_proof"] = [
                "0x" + p.hex() for p in anchorer.tree.inclusion_proof(index, a.tree_size)
            ]
        entries.append(entry)
    listed = [anchors[i] for i in sorted(used | ({len(anchors) - 1} if anchors else set()))]
    return {
        "tree_size": anchorer.tree.size,
        "anchors": [a.as_json() for a in listed],
        "entries": entries,
        "consistency": _consistency(anchorer, listed),
    }


def _describe(code: str | None, org_id: int | None, since: dt.datetime | None, from_index: int) -> str:
    parts = {"project_code": code, "org_id": org_id, "since": since.isoformat() if since else None,
             "from_index": from_index or None}  # fmt: skip
    return "access-log?" + "&".join(f"{k}={v}" for k, v in parts.items() if v is not None)


def _consistency(anchorer: AccessLogAnchorer, anchors: list[Anchor]) -> list[dict[str, Any]]:
    tree = anchorer.tree
    return [
        {"from_size": a.tree_size, "to_size": b.tree_size,
         "proof": ["0x" + p.hex() for p in tree.consistency_proof(a.tree_size, b.tree_size)]}
        for a, b in itertools.pairwise(anchors)
    ]  # fmt: skip


@router.post("/access-log/anchor", responses=ERRORS)
async def anchor_access_log(
    org: CurrentOrg, anchorer: AnchorerDep, confirmations: ConfirmationsDep
) -> JSONResponse:
    """Anchor the access log's root on chain now (auditor); answers once confirmed (200) or pending (202).

    The node anchors on its own every ``anchor_every`` entries or ``anchor_interval``
    seconds; this lets an auditor close the log before an inspection.
    """
    _require(org, ("auditor",), "the access log")
    result = await anchorer.anchor_now(confirmations.wait_timeout)
    if result is None:
        raise ConflictError("the access log is empty; there is nothing to anchor")
    status = {"confirmed": 200, "pending": 202}.get(result.state, 409)
    body = {"tree_size": result.tree_size, "root": result.root, "uid": result.uid, "state": result.state}
    return JSONResponse(body, status_code=status)
