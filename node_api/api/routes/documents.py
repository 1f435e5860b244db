"""Documents: upload, authorised download, and public digest verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from node_api.api.deps import AccessDep, CurrentOrg, DocumentsDep, IndexDep, ReaderDep, SettingsDep
from node_api.api.params import ERRORS
from node_api.api.schemas import DigestIn
from node_api.errors import BadRequestError, ForbiddenError, PayloadTooLargeError
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


_BINARY = {"schema": {"type": "string", "format": "binary"}}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the document's bytes, as they are (any content type; kept with the document)",
        "content": {"application/octet-stream": _BINARY, "*/*": _BINARY},
    }
}
VERIFY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": 'the file itself (any content type), or JSON {"digest": "0x…"}; '
        "no body when ?digest= is given",
        "content": {
            "application/json": {"schema": DigestIn.model_json_schema()},
            "application/octet-stream": _BINARY,
            "*/*": _BINARY,
        },
    }
}


@router.post("/v1/documents", status_code=201, responses=ERRORS, openapi_extra=UPLOAD_BODY)
async def upload_document(
    request: Request, org: CurrentOrg, documents: DocumentsDep, settings: SettingsDep
) -> dict[str, Any]:
    """Store a document (raw body), encrypted at rest; returns its SHA-256 digest."""
    data = await _read_body(request, settings.max_document_bytes)
    if not data:
        raise BadRequestError("empty document")
    content_type = request.headers.get("content-type", "application/octet-stream")
    digest = documents.upload(org, data, content_type)
    return {"digest": digest, "size": len(data)}


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
async def download_document(
    digest: DigestPath, org: CurrentOrg, access: AccessDep, documents: DocumentsDep
) -> Response:
    """Download a document under authorisation (uploader, role, or a live grant); the read is logged."""
    digest = "0x" + digest.removeprefix("0x")
    decision = access.document_basis(org, digest)
    if decision is None:
        raise ForbiddenError(f"{org.name} is not authorised to read document {digest}")
    basis, code = decision
    data, content_type = await documents.read(org, digest)
    await access.log(org, "document.download", digest, code, basis)
    return Response(data, media_type=content_type, headers={"X-Content-SHA256": digest})


DigestQuery = Annotated[
    str | None,
    Query(
        pattern=r"^(0[xX])?[0-9a-fA-F]{64}$",
        description="the SHA-256 of the file, instead of the file itself (for files over the upload cap)",
    ),
]


@router.post("/v1/verify/document", responses=ERRORS, openapi_extra=VERIFY_BODY)
async def verify_document(
    request: Request, settings: SettingsDep, index: IndexDep, reader: ReaderDep, digest: DigestQuery = None
) -> dict[str, Any]:
    """Is this file on chain, and on which records? Public.

    Send the file as the raw body (up to ``max_verify_bytes``, 5 MB by default; 413 above),
    or its SHA-256 as JSON ``{"digest"}`` or as ``?digest=``.
    """
    if digest is not None:
        digest = "0x" + digest[-64:].lower()
    else:
        data = await _read_body(request, settings.max_verify_bytes)
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                digest = DigestIn.model_validate_json(data).digest
            except ValueError as e:
                raise BadRequestError('send the file as the body, or JSON {"digest": "0x…64 hex"}') from e
        else:
            if not data:
                raise BadRequestError('empty body: send the file, JSON {"digest": …} or ?digest=')
            digest = "0x" + sha256_hex(data)
    records = [
        {"uid": r["uid"], "kind": reader.kind_name(r["kind"]), "project_code": r["code"],
         "status": reader.status(r["uid"], r["kind"]).name.lower(), "as": r["role"],
         "block_number": r["block_number"], "tx_hash": r["tx_hash"]}
        for r in index.records_binding(digest)
    ]  # fmt: skip
    return {"digest": digest, "on_chain": bool(records), "records": records}
