"""Node-to-node requests, signed with the requesting organisation's seal key (see ``node_api.peer``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from node_api.api.deps import AccessDep, DocumentsDep, IndexDep, PeersDep, ReaderDep
from node_api.api.params import ERRORS
from node_api.errors import ForbiddenError, NotFoundError
from node_api.ledger.access import ROLE_READERS, Access
from node_api.ledger.membership import Organization
from node_api.ledger.peers import Peers
from node_api.peer import DOCUMENT, OPENING

router = APIRouter(prefix="/v1/peer", tags=["peer"])

DigestPath = Annotated[str, Path(pattern=r"^0x[0-9a-f]{64}$")]
UidPath = Annotated[str, Path(pattern=r"^0x[0-9a-f]{64}$", description="record uid (0x + 64 lowercase hex)")]


@router.get("/documents/{digest}", responses=ERRORS)
async def peer_document(
    digest: DigestPath, request: Request, peers: PeersDep, access: AccessDep, documents: DocumentsDep
) -> Response:
    """Serve a document to another node whose organisation holds a live grant, checked on chain."""
    org = peers.checked_request(dict(request.headers), DOCUMENT, bytes.fromhex(digest[2:]))
    if not documents.files.exists(digest[2:]):
        raise NotFoundError(f"document {digest} is not stored on this node")
    grant = await _grant_on_chain(peers, access, digest, org)
    if grant is None:
        raise ForbiddenError(f"{org.name} holds no live grant covering document {digest}")
    grant_uid, code = grant
    await access.log(org, "peer.document", digest, code, f"grant:{grant_uid}")
    return Response(documents.files.get(digest[2:]), media_type="application/octet-stream")


async def _grant_on_chain(
    peers: Peers, access: Access, digest: str, org: Organization
) -> tuple[str, str] | None:
    """A grant uid (and project code) covering ``digest`` for ``org`` that the CONTRACT confirms live.

    The document's projects are those its uploader bound it to (``Access.document_projects``);
    the grant's grantee, scope and expiry are the contract's own (indexed from ``entry``), and
    ``hasGrant`` confirms it at the chain's head.
    """
    for p in access.document_projects(digest):
        grant = access.live_grant(org, p["project"], "documents")
        if grant is not None and await peers.grant_live_on_chain(grant, p["project"], org.id):
            return grant, str(p["code"])
    return None


@router.get("/openings/{uid}", responses=ERRORS)
async def peer_opening(
    uid: UidPath, request: Request, peers: PeersDep, access: AccessDep, reader: ReaderDep, index: IndexDep
) -> dict[str, str]:
    """Serve the opening of a record's restricted content to another node whose organisation may read it.

    A reading role, or a live grant covering records on the record's project that the CONTRACT
    confirms (``hasGrant``). The requester checks the opening against the on-chain commitment.
    """
    org = peers.checked_request(dict(request.headers), OPENING, bytes.fromhex(uid[2:]))
    row = reader.chain_row(uid)
    opening = None if row is None else peers.openings.get(uid)
    if row is None or opening is None:
        raise NotFoundError(f"this node holds no restricted content of record {uid}")
    project = str(row["project"])
    code = index.project_code(project)
    basis = await _opening_basis(peers, access, org, project)
    if basis is None:
        raise ForbiddenError(f"{org.name} may not read the restricted content of record {uid}")
    await access.log(org, "peer.opening", uid, code, basis)
    return {"salt": "0x" + opening.salt.hex(), "content": "0x" + opening.content.hex()}


async def _opening_basis(peers: Peers, access: Access, org: Organization, project: str) -> str | None:
    """Why ``org`` may read: "role:…", or "grant:0x…" for a grant of ``project`` that the contract confirms live for ``org``."""
    for role in ROLE_READERS:
        if org.has(role):
            return f"role:{role}"
    if int(project, 16) == 0:
        return None
    grant = access.live_grant(org, project, "records")  # grantee, scope 2/3, expiry, status
    if grant is None or not await peers.grant_live_on_chain(grant, project, org.id):
        return None
    return f"grant:{grant}"
