"""Verification certificates (项目核验凭证 / 信用核查报告): issue one, fetch it (JSON, PDF), and the public check page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse

from node_api.api.certificate_page import certificate_page, lookup_page
from node_api.api.deps import CertificatesDep, CurrentOrg, StatusDep
from node_api.api.params import ERRORS, CodePath, checked_code
from node_api.api.routes.qr import PAGE_HEADERS
from node_api.errors import NotFoundError
from node_api.store.certificates import CertificateRow

router = APIRouter(tags=["certificates"])

CertificateId = Annotated[str, Path(description="certificate id: vc- and 32 hex digits", max_length=64)]
_JSON: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"content": {"application/json": {}}, "description": "the sealed certificate"},
}
_ISSUED: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    201: {"content": {"application/json": {}}, "description": "the sealed certificate, just issued"},
}
_PAGE: dict[int | str, dict[str, Any]] = {
    404: {"description": "no certificate of this id (the page says NOT FOUND)", "content": {"text/html": {}}},
}
_PDF: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"content": {"application/pdf": {}}, "description": "the certificate with its JSON attached"},
}
# The lookup form submits to /verify itself; otherwise as strict as the 扫码亮证 page.
_FORM_HEADERS = {**PAGE_HEADERS, "Content-Security-Policy": PAGE_HEADERS["Content-Security-Policy"].replace(
    "form-action 'none'", "form-action 'self'")}  # fmt: skip


def _json(row: CertificateRow, status_code: int = 200) -> Response:
    url = f"/v1/certificates/{row.id}"
    return Response(
        row.document,
        status_code=status_code,
        media_type="application/json",
        headers={"Location": url, "Link": f'<{url}/pdf>; rel="alternate"; type="application/pdf"',
                 "Content-Disposition": f'inline; filename="{row.id}.json"'},
    )  # fmt: skip


@router.post("/v1/projects/{code}/certificates", status_code=201, responses=_ISSUED)
async def issue_certificate(code: CodePath, org: CurrentOrg, certificates: CertificatesDep) -> Response:
    """Issue a verification certificate on the project and its owner, sealed by the caller's organisation.

    Needs what reading the project's records needs (a role, or a live grant covering records); the
    issuance is an access-log entry. Answers 201 with the sealed JSON (the PDF: ``Link``).
    """
    row = await certificates.issue(org, checked_code(code))
    return _json(row, 201)


@router.get("/v1/certificates/{certificate_id}", responses=_JSON)
async def get_certificate(
    certificate_id: CertificateId, org: CurrentOrg, certificates: CertificatesDep
) -> Response:
    """A certificate this node issued, as sealed JSON (same grant as reading its project; logged)."""
    return _json(await certificates.read(org, certificate_id))


@router.get("/v1/certificates/{certificate_id}/pdf", responses=_PDF)
async def get_certificate_pdf(
    certificate_id: CertificateId, org: CurrentOrg, certificates: CertificatesDep
) -> Response:
    """The certificate's PDF (the sealed JSON attached as certificate.json; same grant; logged)."""
    row, pdf = await certificates.pdf(org, certificate_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{row.id}.pdf"'})  # fmt: skip


@router.get("/verify", response_class=HTMLResponse, tags=["scan-to-verify"], responses=_PAGE)
async def verify_certificate_page(
    certificates: CertificatesDep,
    status: StatusDep,
    certificate: Annotated[str | None, Query(description="certificate id from the QR")] = None,
) -> HTMLResponse:
    """Public page: does the certificate of this id still hold (current / no longer current / invalid)?"""
    if certificate is None or not certificate.strip():
        return HTMLResponse(lookup_page(status.chain_info()), headers=_FORM_HEADERS)
    wanted = certificate.strip()[:200]
    try:
        standing = certificates.standing(wanted)
    except NotFoundError:
        page = certificate_page(wanted[:64], None, status.chain_info())
        return HTMLResponse(page, status_code=404, headers=_FORM_HEADERS)
    return HTMLResponse(certificate_page(wanted, standing, status.chain_info()), headers=PAGE_HEADERS)
