"""扫码亮证: the project's QR code and the public verification page it opens.

The QR carries one URL, ``{base_url}/verify/{code}?uscc={owner USCC}``: the project
code and the owner's Unified Social Credit Code together are the project's identity
for its whole life. The page checks both against the chain, so a sign whose QR was
made for another owner, or for a code never registered, shows NOT VERIFIED.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import HTMLResponse

from node_api.api.deps import ReaderDep, SettingsDep, StatusDep
from node_api.api.pages import Verdict, verify_page
from node_api.api.params import CodePath, checked_code
from node_api.api.schemas import ErrorOut
from node_api.domain.links import verification_url
from node_api.errors import ConflictError, NotFoundError, ValidationError

router = APIRouter(tags=["scan-to-verify"])

QrKind = Literal["png", "svg"]
MEDIA_TYPES: dict[QrKind, str] = {"png": "image/png", "svg": "image/svg+xml"}
# The page is self-contained: no scripts, no fetches, nothing from another origin.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_QR_ERRORS: dict[int | str, dict[str, Any]] = {c: {"model": ErrorOut} for c in (404, 409, 422)}
_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    c: {"description": d, "content": {"text/html": {}}}
    for c, d in ((404, "project not registered (page says NOT VERIFIED)"), (422, "malformed code (same)"))
}


def qr_image(url: str, kind: QrKind, scale: int, title: str = "") -> bytes:
    """The QR code of a URL as PNG or SVG, with the standard 4-module quiet zone."""
    # Level Q survives ~25% damage: the code hangs on a construction-site sign.
    qr = segno.make_qr(url, error="q")
    out = io.BytesIO()
    if kind == "svg":
        qr.save(out, kind="svg", scale=scale, border=4, title=title or None, encoding="utf-8")
    else:
        qr.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def _quality(accept: str, media_type: str) -> float:
    """The q-value an Accept header gives a media type (most specific range wins)."""
    family = media_type.split("/")[0] + "/*"
    best, rank = 0.0, -1
    for item in accept.split(","):
        name, *params = (p.strip() for p in item.split(";"))
        name = name.lower()
        this = {media_type: 2, family: 1, "*/*": 0}.get(name, -1)
        if this <= rank:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best, rank = q, this
    return best


def negotiated_kind(fmt: QrKind | None, accept: str | None) -> QrKind:
    """``?format=`` wins; else SVG only when Accept prefers it to PNG."""
    if fmt is not None:
        return fmt
    if accept and _quality(accept, MEDIA_TYPES["svg"]) > _quality(accept, MEDIA_TYPES["png"]):
        return "svg"
    return "png"


@router.get(
    "/v1/projects/{code}/qr",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}, **_QR_ERRORS},
)
async def project_qr(
    code: CodePath,
    reader: ReaderDep,
    settings: SettingsDep,
    fmt: Annotated[QrKind | None, Query(alias="format", description="png (default) or svg")] = None,
    scale: Annotated[int, Query(ge=1, le=40, description="pixels (PNG) or user units (SVG) per module")] = 8,
    accept: Annotated[
        str | None, Header(description="image/svg+xml preferred to image/png gives SVG")
    ] = None,
) -> Response:
    """The project's 扫码亮证 QR code: its verification URL with the code and the owner's USCC."""
    code = checked_code(code)
    summary = reader.project_summary(code, detailed=False)
    if summary is None:
        raise NotFoundError(f"project {code} is not registered")
    if summary["status"] != "active":
        raise ConflictError(f"project {code} registration is {summary['status']}; no QR is issued for it")
    kind = negotiated_kind(fmt, accept)
    url = verification_url(settings.base_url, code, str(summary["owner_uscc"]))
    body = qr_image(url, kind, scale, title=f"项目代码 {code}")
    return Response(
        body,
        media_type=MEDIA_TYPES[kind],
        headers={
            "Cache-Control": "public, max-age=300",
            "Vary": "Accept",
            "Content-Disposition": f'inline; filename="{code}-qr.{kind}"',
        },
    )


def judge(summary: dict[str, Any] | None, uscc: str | None) -> Verdict:
    """Does the scanned code (and USCC, if the QR carried one) match the chain?"""
    if summary is None:
        return Verdict(
            False,
            "not_registered",
            "该项目代码未在链上登记。",
            "This project code is not registered on chain.",
        )
    if summary["status"] != "active":
        return Verdict(False, "registration_revoked", "该项目的赋码登记已撤销。",
                       "The project's registration has been revoked on chain.")  # fmt: skip
    if uscc is not None and uscc.strip().upper() != summary["owner_uscc"]:
        return Verdict(
            False,
            "uscc_mismatch",
            f"二维码中的统一社会信用代码与链上登记的项目单位（{summary['owner_uscc']}）不一致；"
            "以下为链上登记的该项目信息。",
            f"The QR's USCC does not match the project owner on chain ({summary['owner_uscc']}); "
            "below is what the chain records for this code.",
        )
    return Verdict(True, "")


@router.get("/verify/{code}", response_class=HTMLResponse, responses=_PAGE_RESPONSES)
async def verify(
    code: Annotated[str, Path(description="project code from the scanned QR")],
    reader: ReaderDep,
    status: StatusDep,
    uscc: Annotated[str | None, Query(description="owner USCC carried by the QR")] = None,
) -> HTMLResponse:
    """Public verification page a scanned QR opens (HTML, Chinese with English beside it)."""
    shown_uscc = None if uscc is None else uscc[:64]
    try:
        code = checked_code(code)
    except ValidationError as e:
        verdict = Verdict(
            False, "malformed_code", "二维码中的项目代码格式不正确。", f"Malformed project {e.detail}."
        )
        page = verify_page(code[:64], shown_uscc, None, verdict, status.chain_info())
        return HTMLResponse(page, status_code=422, headers=PAGE_HEADERS)
    summary = reader.project_summary(code, detailed=False)
    verdict = judge(summary, uscc)
    page = verify_page(code, shown_uscc, summary, verdict, status.chain_info())
    return HTMLResponse(page, status_code=404 if summary is None else 200, headers=PAGE_HEADERS)
