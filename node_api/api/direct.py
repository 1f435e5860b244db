"""Direct routes: the hot writes and reads answered without FastAPI's per-request work.

FastAPI solves a route's dependencies and validates its parameters through generic machinery on
every request; for the API's hot write path (``POST /v1/projects/{code}/approvals``, ``/events``,
``/commitments``) that was the larger part of a gateway worker's CPU per request
(``python -m bench.profile --single --process worker``: dependency solving, parameter models and
FastAPI's request wrapper ≈ 15 % of the worker, beside ≈ 24 % in the route's own code; docs/benchmark.md).

A ``DirectWrite`` is a plain ASGI endpoint placed ahead of the FastAPI route of the same path and
method. It answers the ordinary request itself with the same parts the FastAPI route uses: the
caller from ``deps.optional_org`` / ``deps.require_org``, the body validated by the same model, the
``wait`` query read by the same boolean rule, and the same handler (``projects.record_answer``).
Anything out of the ordinary — a body that is not a JSON object sent as JSON, a query other than one
``wait``, an ``Idempotency-Key`` FastAPI would refuse, a body the model refuses — is handed to the
FastAPI route unchanged (its body replayed; a body that could not be read, a client gone or a
body over ``BodyLimit``'s limit, fails there again), so every such answer is FastAPI's own. Errors the
handler raises reach the app's exception handlers as from any route. The FastAPI routes stay the
documented ones (the OpenAPI document is built from them alone). ``PROJCHAIN_DIRECT_WRITES=false``
turns the direct routes off; a test holds both answers equal.

A ``DirectRead`` does the same for the API's hot read, ``GET /v1/records/{uid}`` (dependency solving
and FastAPI's request wrapper ≈ a fifth of a gateway worker's CPU per read; docs/benchmark.md): the
caller as above, the path parameter checked by the FastAPI route's own pattern, the same handler
(``records.record_view``), and the answer serialised as FastAPI serialises the route's return type
(pydantic's JSON of ``dict[str, Any]``). A request with a query string or a parameter the pattern
refuses is handed to the FastAPI route; a HEAD gets the 405 FastAPI gives it (the route takes GET alone).
``PROJCHAIN_DIRECT_READS=false`` turns it off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Message, Receive, Scope, Send

from node_api.api.deps import optional_org, require_org
from node_api.api.params import IDEMPOTENCY_KEY_MAX
from node_api.ledger.access import Access
from node_api.ledger.confirmations import Confirmations
from node_api.ledger.membership import Organization
from node_api.ledger.peers import Peers
from node_api.ledger.reader import Reader
from node_api.ledger.writer import Writer
from node_api.node import Node

_BOOL = TypeAdapter(bool)
# A route's own handler: (writer, confirmations, caller, project code, body, wait, idempotency key).
Handler = Callable[[Writer, Confirmations, Organization, str, Any, bool, str | None], Awaitable[Response]]
# A read route's own handler: (reader, access, peers, caller, the path parameter) → its return value.
ReadHandler = Callable[[Reader, Access, Peers, Organization, str], Awaitable[dict[str, Any]]]
_VIEW = TypeAdapter(dict[str, Any])  # what FastAPI serialises a ``-> dict[str, Any]`` route's value with


class DirectWrite:
    """The ordinary request to one write route, answered without FastAPI's dependency solving."""

    def __init__(self, route: APIRoute, model: type[BaseModel], handler: Handler) -> None:
        self.route = route
        self.model = model
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            body = await request.body()
        except Exception as failure:  # the client gone, a body over BodyLimit's: FastAPI's answer
            await _hand_on(self.route, scope, _failing(failure), send)
            return
        parsed = _json_object(request, body)
        if parsed is None:
            await _hand_on(self.route, scope, _replaying(body, receive), send)
            return
        # Dependencies before parameters, as FastAPI solves them: 401/403 before a 422.
        org = await require_org(await optional_org(request, scope["app"].state.node.credentials))
        read = self._parameters(request, parsed)
        if read is None:
            await _hand_on(self.route, scope, _replaying(body, receive), send)
            return
        model, wait, key = read
        _count(scope, "answered")
        node: Node = scope["app"].state.node
        code = scope["path_params"]["code"]
        response = await self.handler(node.writer, node.confirmations, org, code, model, wait, key)
        await response(scope, receive, send)

    def _parameters(
        self, request: Request, parsed: dict[str, Any]
    ) -> tuple[BaseModel, bool, str | None] | None:
        """The body, ``wait`` and the idempotency key as the FastAPI route reads them; None where that
        route would refuse them or read them otherwise (it then answers)."""
        query = request.query_params
        if any(name != "wait" for name in query) or len(query.getlist("wait")) > 1:
            return None
        keys = request.headers.getlist("idempotency-key")
        if len(keys) > 1 or (keys and len(keys[0]) > IDEMPOTENCY_KEY_MAX):
            return None
        try:
            wait = _BOOL.validate_python(query["wait"]) if "wait" in query else False
            model = self.model.model_validate(parsed)
        except ValidationError:
            return None
        return model, wait, keys[0] if keys else None


class DirectRead:
    """The ordinary GET of one read route with one path parameter, without FastAPI's dependency solving."""

    def __init__(self, route: APIRoute, param: str, handler: ReadHandler) -> None:
        self.route = route
        self.param = param
        # The FastAPI route's own pattern of the parameter (``Path(pattern=...)``).
        [declared] = [p for p in route.dependant.path_params if p.name == param]
        pattern = next(m.pattern for m in declared.field_info.metadata if hasattr(m, "pattern"))
        self.pattern = re.compile(pattern)
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        value = scope["path_params"].get(self.param)
        if (
            scope.get("query_string")
            or not isinstance(value, str)
            or self.pattern.fullmatch(value) is None  # not search: `$` also matches before a final newline
        ):
            await _hand_on(self.route, scope, receive, send)
            return
        request = Request(scope, receive)
        node: Node = scope["app"].state.node
        org = await require_org(await optional_org(request, node.credentials))
        _count(scope, "answered")
        view = await self.handler(node.reader, node.access, node.peers, org, value)
        await Response(_VIEW.dump_json(view), media_type="application/json")(scope, receive, send)


class _DirectRoute(Route):
    """A direct endpoint's route, labelled with its FastAPI route's path in every match: a method it
    does not take (a HEAD, a DELETE) is Starlette's 405 from this route, the router's first partial
    match, and must be counted under the path as FastAPI's route counts it, not as unmatched."""

    def __init__(self, api: APIRoute, endpoint: DirectWrite | DirectRead, method: str) -> None:
        super().__init__(api.path, endpoint, methods=[method])
        self.methods = {method}  # Starlette adds HEAD to a GET route; FastAPI's answers HEAD 405
        self.api = api

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self.api  # as FastAPI's APIRoute.matches labels its scope (metrics, logs)
        return match, child


async def _hand_on(route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
    """The FastAPI route answers (a write reads its body through ``receive``: ``_replaying`` or ``_failing``)."""
    _count(scope, "handed_on")
    scope["endpoint"] = route.endpoint
    await route.handle(scope, receive, send)


def _replaying(body: bytes, rest: Receive) -> Receive:
    """The body already received, as one message; then what the connection says (a disconnect)."""
    replayed = False

    async def receive() -> Message:
        nonlocal replayed
        if replayed:
            return await rest()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _failing(failure: Exception) -> Receive:
    """Reading the body fails as it failed in the direct route, so the FastAPI route answers the failure."""

    async def receive() -> Message:
        raise failure

    return receive


def _count(scope: Scope, outcome: str) -> None:
    """``projchain_http_direct_requests_total{outcome}`` (node_api/metrics.py), where the app has metrics."""
    metrics = getattr(scope["app"].state, "request_metrics", None)  # a metrics.RequestMetrics
    if metrics is not None:
        metrics.direct[outcome].inc()


def _json_object(request: Request, body: bytes) -> dict[str, Any] | None:
    """The body when it is a JSON object sent as ``application/json``; None otherwise."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" or not body:
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json.loads recurses
        return None
    return value if isinstance(value, dict) else None


def direct_routes(
    routes: list[BaseRoute], handlers: dict[str, tuple[type[BaseModel], Handler]]
) -> list[Route]:
    """A direct route for each FastAPI POST route of ``routes`` whose path ``handlers`` names."""
    out: list[Route] = []
    for route in routes:
        if isinstance(route, APIRoute) and route.path in handlers and "POST" in (route.methods or ()):
            model, handler = handlers[route.path]
            out.append(_DirectRoute(route, DirectWrite(route, model, handler), "POST"))
    return out


def direct_reads(routes: list[BaseRoute], handlers: dict[str, tuple[str, ReadHandler]]) -> list[Route]:
    """A direct route for each FastAPI GET route of ``routes`` whose path ``handlers`` names (with the
    path parameter it reads)."""
    out: list[Route] = []
    for route in routes:
        if isinstance(route, APIRoute) and route.path in handlers and "GET" in (route.methods or ()):
            param, handler = handlers[route.path]
            out.append(_DirectRoute(route, DirectRead(route, param, handler), "GET"))
    return out
