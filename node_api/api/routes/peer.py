"""Node-to-node requests, signed with the requesting organisation's seal key (see ``node_api.peer``)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from node_api.api.deps import NodeDep
from node_api.api.routes.projects import ERRORS
from node_api.errors import ForbiddenError, NotFoundError
from node_api.ledger.access import ROLE_READERS
from node_api.ledger.membership import Organization
from node_api.peer import DOCUMENT, MAX_SKEW, OPENING, recover_request
from node_api.store.peer_nonces import remember_nonce

router = APIRouter(prefix="/v1/peer", tags=["peer"])

DigestPath = Annotated[str, Path(pattern=r"^0x[0-9a-f]{64}$")]
UidPath = Annotated[str, Path(pattern=r"^0x[0-9a-f]{64}$", description="record uid (0x + 64 lowercase hex)")]


def checked_peer_request(node: NodeDep, request: Request, purpose: str, subject: bytes) -> Organization:
    """The organisation that sealed a signed peer request for ``purpose``/``subject`` meant for this node.

    Checks the target, freshness, nonce form and signature (``recover_request``), that the
    signer is an active seal key of the named organisation, and that the nonce was never
    served before (remembered in the database, for all the node's processes). Whether the
    organisation may have what it asks is the caller's to check, on chain.
    """
    assert node.contracts is not None and node.contracts.deployment is not None
    d = node.contracts.deployment
    req = recover_request(
        d.chain_id,
        d.ledger,
        purpose=purpose,
        subject=subject,
        audience=node.settings.peer_audience,
        headers=dict(request.headers),
    )
    org = node.membership.get(req.org)
    if org is None or not node.membership.active_seal_key(req.org, req.signer):
        raise ForbiddenError("the request is not sealed by an active seal key of the named organisation")
    if not remember_nonce(node.db, req.nonce, req.org, req.timestamp, time.time() - MAX_SKEW):
        raise ForbiddenError("this signed request was used before (replay)")
    return org


@router.get("/documents/{digest}", responses=ERRORS)
async def peer_document(digest: DigestPath, request: Request, node: NodeDep) -> Response:
    """Serve a document to another node whose organisation holds a live grant, checked on chain."""
    org = checked_peer_request(node, request, DOCUMENT, bytes.fromhex(digest[2:]))
    if not node.documents.exists(digest[2:]):
        raise NotFoundError(f"document {digest} is not stored on this node")
    grant = await _grant_on_chain(node, digest, org)
    if grant is None:
        raise ForbiddenError(f"{org.name} holds no live grant covering document {digest}")
    grant_uid, code = grant
    await node.access.log(org, "peer.document", digest, code, f"grant:{grant_uid}")
    return Response(node.documents.get(digest[2:]), media_type="application/octet-stream")


async def _grant_on_chain(node: NodeDep, digest: str, org: Organization) -> tuple[str, str] | None:
    """A grant uid (and project code) covering ``digest`` for ``org`` that the CONTRACT confirms live.

    The document's projects are those its uploader bound it to (``Access.document_projects``);
    the grant's grantee, scope and expiry are the contract's own (indexed from ``entry``), and
    ``hasGrant`` confirms it at the chain's head.
    """
    for p in node.access.document_projects(digest):
        grant = node.access.live_grant(org, p["project"], "documents")
        if grant is not None and await _live_on_chain(node, grant, p["project"], org.id):
            return grant, str(p["code"])
    return None


async def _live_on_chain(node: NodeDep, grant: str, project: str, org_id: int) -> bool:
    """The ledger's own ``hasGrant(grant, project, org)``: grantee, project, status, expiry, project open."""
    assert node.contracts is not None and node.rpc is not None
    ledger = node.contracts.ledger
    data = ledger.encode_abi("hasGrant", [bytes.fromhex(grant[2:]), bytes.fromhex(project[2:]), org_id])
    return int(await node.rpc.eth_call(ledger.address, data), 16) == 1


@router.get("/openings/{uid}", responses=ERRORS)
async def peer_opening(uid: UidPath, request: Request, node: NodeDep) -> dict[str, str]:
    """Serve the opening of a record's restricted content to another node whose organisation may read it.

    A reading role, or a live grant covering records on the record's project that the CONTRACT
    confirms (``hasGrant``). The requester checks the opening against the on-chain commitment.
    """
    org = checked_peer_request(node, request, OPENING, bytes.fromhex(uid[2:]))
    row = node.reader.chain_row(uid)
    opening = None if row is None else node.openings.get(uid)
    if row is None or opening is None:
        raise NotFoundError(f"this node holds no restricted content of record {uid}")
    project = str(row["project"])
    code = node.db.scalar("SELECT code FROM chain_projects WHERE project = ?", (project,))
    basis = await _opening_basis(node, org, project)
    if basis is None:
        raise ForbiddenError(f"{org.name} may not read the restricted content of record {uid}")
    await node.access.log(org, "peer.opening", uid, None if code is None else str(code), basis)
    return {"salt": "0x" + opening.salt.hex(), "content": "0x" + opening.content.hex()}


async def _opening_basis(node: NodeDep, org: Organization, project: str) -> str | None:
    """Why ``org`` may read: "role:…", or "grant:0x…" for a grant of ``project`` that the contract confirms live for ``org``."""
    for role in ROLE_READERS:
        if org.has(role):
            return f"role:{role}"
    if int(project, 16) == 0:
        return None
    grant = node.access.live_grant(org, project, "records")  # grantee, scope 2/3, expiry, status
    if grant is None or not await _live_on_chain(node, grant, project, org.id):
        return None
    return f"grant:{grant}"
