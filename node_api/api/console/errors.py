"""How the console answers a refusal: an HTML page with the same status the API would give."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from node_api.api.console.session import SignInRequired, sign_in_url
from node_api.api.console.views import render

TITLES: dict[int, tuple[str, str]] = {
    400: ("请求有误", "Bad request"),
    401: ("请先登录", "Sign-in needed"),
    403: ("无权操作", "Not allowed"),
    404: ("未找到", "Not found"),
    405: ("不支持的操作", "Method not allowed"),
    409: ("当前状态下不能执行", "Not possible in the current state"),
    413: ("文件过大", "Too large"),
    422: ("填写有误", "Invalid input"),
    429: ("尝试次数过多", "Too many attempts"),
    503: ("区块链暂不可用", "Chain unavailable"),
}


def is_console(request: Request) -> bool:
    """Whether a request is the console's (its errors are pages, not JSON)."""
    return request.url.path == "/console" or request.url.path.startswith("/console/")


def error_page(request: Request, status: int, code: str, detail: str) -> HTMLResponse:
    """The refusal as a page: what went wrong, in Chinese and English, and a way back."""
    zh, en = TITLES.get(status, ("出错了", "Something went wrong"))
    referer = request.headers.get("referer", "")
    back = referer if referer.startswith(str(request.base_url).rstrip("/") + "/console") else "/console"
    return render(
        request, "error.html", None, status=status, status_=status, title_zh=zh, title_en=en,
        code=code, detail=detail, back=back,
    )  # fmt: skip


def sign_in_redirect(request: Request, exc: SignInRequired) -> Response:
    """No session: to the sign-in page (htmx follows HX-Redirect)."""
    url = sign_in_url(exc.back)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
