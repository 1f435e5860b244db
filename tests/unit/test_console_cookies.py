"""The console's cookies: HttpOnly, SameSite=Strict, scoped to /console, Secure when served over TLS."""

from __future__ import annotations

from fastapi import Response
from starlette.requests import Request

from node_api.api.console.session import redirect_target, secure, set_cookie


def request(scheme: str) -> Request:
    return Request({"type": "http", "scheme": scheme, "method": "GET", "path": "/console", "headers": [],
                    "server": ("node", 443 if scheme == "https" else 80), "query_string": b""})  # fmt: skip


def cookie_of(secure_: bool) -> str:
    response = Response()
    set_cookie(response, "pc_console", "secret", secure_)
    return response.headers["set-cookie"]


def test_the_session_cookie_is_httponly_strict_and_secure_over_tls() -> None:
    over_tls = cookie_of(secure(request("https"), None))
    assert "HttpOnly" in over_tls and "SameSite=strict" in over_tls and "Path=/console" in over_tls
    assert "Secure" in over_tls
    assert "Secure" in cookie_of(secure(request("http"), "https://node.zhuanglang.gov.cn"))  # behind TLS
    assert "Secure" not in cookie_of(
        secure(request("http"), None)
    )  # plain http: a Secure cookie never returns


def test_after_sign_in_the_browser_goes_back_into_the_console_only() -> None:
    assert redirect_target("/console/queue") == "/console/queue"
    for elsewhere in ("https://evil.example/console", "//evil.example/console", "/v1/projects", ""):
        assert redirect_target(elsewhere) == "/console"
