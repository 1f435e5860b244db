"""Node-to-node requests, signed with the requesting organisation's seal key (see ``node_api.peer``)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from node_api.api.deps import NodeDep
from node_api.api.routes.projects import ERRORS
from node_api.domain.records import Kind, decode_payload, project_id
from node_api.errors import ForbiddenError, NotFoundError
from node_api.ledger.access import ROLE_READERS
from node_api.ledger.membership import Organization
from node_api.peer import DOCUMENT, MAX_SKEW, OPENING, recover_request
from node_api.store.database import CANONICAL
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
    grant = await _grant_on_chain(node, digest, org.id)
    if grant is None:
        raise ForbiddenError(f"{org.name} holds no live grant covering document {digest}")
    grant_uid, code = grant
    await node.access.log(org, "peer.document", digest, code, f"grant:{grant_uid}")
    return Response(node.documents.get(digest[2:]), media_type="application/octet-stream")


async def _grant_on_chain(node: NodeDep, digest: str, org_id: int) -> tuple[str, str] | None:
    """A grant uid (and project code) that the CONTRACT confirms is live for ``org_id``."""
    assert node.contracts is not None and node.rpc is not None
    rows = node.db.all(
        f"SELECT DISTINCT g.uid, p.code FROM chain_record_digests d "
        f"JOIN chain_records r ON r.uid = d.uid AND r.block_hash = d.block_hash "
        f"JOIN chain_records g ON g.project = r.project AND g.kind = {int(Kind.GRANT)} "
        f"JOIN chain_projects p ON p.project = r.project "
        f"WHERE d.digest = ? AND r.{CANONICAL} AND g.{CANONICAL}",
        (digest,),
    )
    ledger = node.contracts.ledger
    for row in rows:
        data = ledger.encode_abi("hasGrant", [bytes.fromhex(row["uid"][2:]), project_id(row["code"]), org_id])
        raw = await node.rpc.eth_call(ledger.address, data)
        if int(raw, 16) != 1:
            continue
        # The contract checks grantee, project, status and expiry; the scope must cover documents.
        grant = node.reader.chain_row(row["uid"])
        if grant is not None and int(decode_payload(Kind.GRANT, bytes(grant["payload"]))["scope"]) in (1, 3):
            return str(row["uid"]), str(row["code"])
    return None


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
    if grant is None:
        return None
    assert node.contracts is not None and node.rpc is not None
    ledger = node.contracts.ledger
    data = ledger.encode_abi("hasGrant", [bytes.fromhex(grant[2:]), bytes.fromhex(project[2:]), org.id])
    raw = await node.rpc.eth_call(ledger.address, data)
    return f"grant:{grant}" if int(raw, 16) == 1 else None
