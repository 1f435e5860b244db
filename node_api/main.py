"""The FastAPI application: ``create_app()`` wires routes, errors and the node."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node_api import metrics
from node_api.api import console
from node_api.api.console.errors import error_page, is_console, sign_in_redirect
from node_api.api.console.session import SignInRequired
from node_api.api.direct import direct_reads, direct_routes
from node_api.api.routes import (
    audit,
    batch,
    catalogue,
    certificates,
    codes,
    docs,
    documents,
    filings,
    grants,
    health,
    owners,
    peer,
    projects,
    qr,
    records,
    reports,
    subscriptions,
)
from node_api.api.routes import metrics as metrics_route
from node_api.api.routes import warnings as warnings_route
from node_api.config import Settings
from node_api.errors import ProjchainError
from node_api.node import Node, open_node

log = logging.getLogger("projchain.api")

_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
               422: "invalid_input", 429: "rate_limited"}  # fmt: skip


class BodyLimit:
    """Refuses request bodies over the limit with 413 before the app reads them.

    Document uploads may be larger (``max_document_bytes``); the public document check
    takes small files only (``max_verify_bytes``): a larger file is checked by its digest.
    """

    def __init__(self, app: ASGIApp, limit: int, document_limit: int, verify_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.document_limit = document_limit
        self.verify_limit = verify_limit

    def _limit(self, path: str) -> tuple[int, str]:
        if path.startswith("/v1/verify/document"):
            hint = 'send its SHA-256 instead, as JSON {"digest": "0x…"} or ?digest=0x…'
            return self.verify_limit, f"file exceeds {self.verify_limit} bytes: {hint}"
        if path.startswith("/v1/documents") or (
            path.startswith("/console/projects/") and path.endswith(("/approvals", "/events", "/commitments"))
        ):  # a document upload, through the API or a console form
            return self.document_limit, f"body exceeds {self.document_limit} bytes"
        return self.limit, f"body exceeds {self.limit} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, detail = self._limit(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _send_json(send, 413, {"error": "payload_too_large", "detail": detail})
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise ProjchainErrorTooLarge(limit, detail)
            return message

        try:
            await self.app(scope, limited, send)
        except ProjchainErrorTooLarge:
            await _send_json(send, 413, {"error": "payload_too_large", "detail": detail})


class ProjchainErrorTooLarge(StarletteHTTPException):
    """Raised inside BodyLimit's receive wrapper: a 413 the app's handler answers.

    An HTTP exception, because FastAPI's body reading passes those on but turns any other exception
    into its own 400 "There was an error parsing the body" (a chunked JSON body over the limit).
    """

    def __init__(self, limit: int, detail: str) -> None:
        super().__init__(413, detail)
        self.limit = limit


async def _send_json(send: Send, status: int, body: dict[str, str]) -> None:
    import json

    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})  # fmt: skip


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        where = ".".join(loc) or "body"
        # Domain validators already name their field ("owner_uscc: …"); don't say it twice.
        msg = (
            str(err.get("msg", "invalid"))
            .removeprefix("Value error, ")
            .removeprefix(f"{loc[-1] if loc else ''}: ")
        )
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def create_app(settings: Settings | None = None, node: Node | None = None) -> FastAPI:
    """The ASGI app; starts its own node unless one is given (tests share one)."""
    settings = settings or (node.settings if node else Settings())
    owns_node = node is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_node:
            app.state.node = await open_node(settings)
            await app.state.node.start()
        yield
        if owns_node:
            await app.state.node.stop()

    app = FastAPI(
        title="projchain",
        version="0.1.0",
        description="Service node of the investment-project permissioned chain (投资项目审批信息链). "
        "Errors are JSON {error, detail}; writes answer 202 with the record uid.",
        lifespan=lifespan,
        # The node exports its own Prometheus metrics (/metrics) and JSON logs; FastAPI's
        # built-in OpenTelemetry hook looks up global providers on every request (≈ 6 % of
        # a request's CPU in the benchmark's profile), so it is off.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        # /docs is served from the node's own copy of Swagger UI (routes/docs.py), not a CDN;
        # ReDoc has no offline copy here, so it is off.
        docs_url=None,
        redoc_url=None,
    )
    if node is not None:
        app.state.node = node

    # Request ids, the access log, metrics and the last-resort JSON 500: metrics.RequestObserver.

    # The console's refusals are pages with the same status and words (node_api/api/console/errors.py).
    def answer(request: Request, status: int, code: str, detail: str) -> Response:
        if is_console(request):
            return error_page(request, status, code, detail)
        return JSONResponse({"error": code, "detail": detail}, status_code=status)

    @app.exception_handler(ProjchainError)
    async def projchain_error(request: Request, exc: ProjchainError) -> Response:
        return answer(request, exc.status, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if errors and errors[0].get("type") == "json_invalid":
            return answer(request, 400, "bad_request", "malformed JSON body")
        return answer(request, 422, "invalid_input", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return answer(request, exc.status_code, _HTTP_CODES.get(exc.status_code, "error"), str(exc.detail))

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        return sign_in_redirect(request, exc)

    for module in (
        health,
        metrics_route,
        projects,
        codes,
        batch,
        records,
        catalogue,
        grants,
        documents,
        qr,
        audit,
        reports,
        subscriptions,
        warnings_route,
        peer,
        filings,
        certificates,
        owners,
        docs,
        console,
    ):
        # The routes themselves, in order, not the routers: FastAPI 0.163 matches an included
        # router's routes through a per-request context of its own, which made a request's
        # routing ≈ 1 ms on this machine (a miss, over all routes) against ≈ 0.35 ms flat. The
        # routers set only a path prefix and tags, which their routes already carry.
        app.router.routes.extend(module.router.routes)
    if settings.direct_writes:  # ahead of the FastAPI routes they answer for (node_api/api/direct.py)
        app.router.routes[0:0] = direct_routes(app.router.routes, projects.DIRECT)
    if settings.direct_reads:  # GET /v1/records/{uid}, likewise
        app.router.routes[0:0] = direct_reads(app.router.routes, records.DIRECT_READS)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        document_limit=settings.max_document_bytes,
        verify_limit=settings.max_verify_bytes,
    )
    metrics.install(app)  # last, so it is outermost and also sees BodyLimit's 413s
    return app
