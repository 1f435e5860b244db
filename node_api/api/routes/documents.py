"""Documents: upload, authorised download, and public digest verification."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from node_api.api.deps import CurrentOrg, NodeDep
from node_api.api.routes.projects import ERRORS
from node_api.api.schemas import DigestIn
from node_api.errors import BadRequestError, ChainError, ForbiddenError, NotFoundError, PayloadTooLargeError
from node_api.ledger.writer import seal_key_name
from node_api.peer import DOCUMENT, fetch_from_peer, sign_request
from node_api.store.database import CANONICAL
from node_api.store.documents import sha256_hex

router = APIRouter(tags=["documents"])

DigestPath = Annotated[str, Path(pattern=r"^(0x)?[0-9a-f]{64}$", description="SHA-256 of the document")]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"document exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"document exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/v1/documents", status_code=201, responses=ERRORS)
async def upload_document(request: Request, org: CurrentOrg, node: NodeDep) -> dict[str, Any]:
    """Store a document (raw body), encrypted at rest; returns its SHA-256 digest."""
    data = await _read_body(request, node.settings.max_document_bytes)
    if not data:
        raise BadRequestError("empty document")
    digest = node.documents.put(data)
    content_type = request.headers.get("content-type", "application/octet-stream")[:100]
    node.db.conn.execute(
        "INSERT OR IGNORE INTO documents(digest, org_id, size, content_type, uploaded_at) VALUES(?,?,?,?,?)",
        ("0x" + digest, org.id, len(data), content_type, time.time()),
    )
    return {"digest": "0x" + digest, "size": len(data)}


@router.get(
    "/v1/documents/{digest}",
    response_class=Response,
    responses={
        **ERRORS,
        200: {
            "description": "the document, as uploaded",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "*/*": {},
            },
        },
    },
)
async def download_document(digest: DigestPath, org: CurrentOrg, node: NodeDep) -> Response:
    """Download a document under authorisation (uploader, role, or a live grant); the read is logged."""
    digest = "0x" + digest.removeprefix("0x")
    decision = node.access.document_basis(org, digest)
    if decision is None:
        raise ForbiddenError(f"{org.name} is not authorised to read document {digest}")
    basis, code = decision
    if node.documents.exists(digest[2:]):
        data = node.documents.get(digest[2:])
    else:
        data = await _from_peers(node, org, digest)
    await node.access.log(org, "document.download", digest, code, basis)
    content_type = node.db.scalar("SELECT content_type FROM documents WHERE digest = ? LIMIT 1", (digest,))
    return Response(data, media_type=str(content_type or "application/octet-stream"),
                    headers={"X-Content-SHA256": digest})  # fmt: skip


async def _from_peers(node: NodeDep, org: Any, digest: str) -> bytes:
    """Fetch a granted document from the node that holds it, then check it against the chain."""
    if not node.settings.peers:
        raise NotFoundError(f"document {digest} is not stored on this node")
    assert node.contracts is not None and node.contracts.deployment is not None
    d = node.contracts.deployment
    if not node.keystore.exists(seal_key_name(org.id)):
        raise ForbiddenError(f"this node holds no seal key of {org.name} to sign a peer request")
    key = node.keystore.load(seal_key_name(org.id))
    last: Exception | None = None
    for peer in node.settings.peers:
        try:
            # Signed for this peer alone (its URL is the audience), so it cannot pass the request on.
            signed = sign_request(
                key,
                d.chain_id,
                d.ledger,
                org=org.id,
                purpose=DOCUMENT,
                subject=bytes.fromhex(digest[2:]),
                audience=peer,
            )
            data = await fetch_from_peer(peer, digest, signed)
        except (NotFoundError, ForbiddenError, ChainError) as e:
            last = e
            continue
        if "0x" + sha256_hex(data) != digest:
            last = ChainError(f"peer {peer} sent bytes that do not match digest {digest}")
            continue
        node.documents.put(data)
        return data
    raise last or NotFoundError(f"document {digest} is not stored on this node")


DigestQuery = Annotated[
    str | None,
    Query(
        pattern=r"^(0[xX])?[0-9a-fA-F]{64}$",
        description="the SHA-256 of the file, instead of the file itself (for files over the upload cap)",
    ),
]


@router.post("/v1/verify/document", responses=ERRORS)
async def verify_document(request: Request, node: NodeDep, digest: DigestQuery = None) -> dict[str, Any]:
    """Is this file on chain, and on which records? Public.

    Send the file as the raw body (up to ``max_verify_bytes``, 5 MB by default; 413 above),
    or its SHA-256 as JSON ``{"digest"}`` or as ``?digest=``.
    """
    if digest is not None:
        digest = "0x" + digest[-64:].lower()
    else:
        data = await _read_body(request, node.settings.max_verify_bytes)
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                digest = DigestIn.model_validate_json(data).digest
            except ValueError as e:
                raise BadRequestError('send the file as the body, or JSON {"digest": "0x…64 hex"}') from e
        else:
            if not data:
                raise BadRequestError('empty body: send the file, JSON {"digest": …} or ?digest=')
            digest = "0x" + sha256_hex(data)
    rows = node.db.all(
        f"SELECT r.uid, r.kind, r.block_number, r.tx_hash, d.role, p.code FROM chain_record_digests d "
        f"JOIN chain_records r ON r.uid = d.uid AND r.block_hash = d.block_hash "
        f"LEFT JOIN chain_projects p ON p.project = r.project WHERE d.digest = ? AND r.{CANONICAL} "
        f"ORDER BY r.block_number",
        (digest,),
    )
    records = [
        {"uid": r["uid"], "kind": node.reader.kind_name(r["kind"]), "project_code": r["code"],
         "status": node.reader.status(r["uid"], r["kind"]).name.lower(), "as": r["role"],
         "block_number": r["block_number"], "tx_hash": r["tx_hash"]}
        for r in rows
    ]  # fmt: skip
    return {"digest": digest, "on_chain": bool(records), "records": records}
