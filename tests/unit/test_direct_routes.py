"""A direct write route reads exactly what its FastAPI route declares (node_api/api/direct.py).

``DirectWrite`` re-does by hand what FastAPI solves from the route's signature: the caller
(``require_org``), the body's model, ``wait`` and ``Idempotency-Key``. A parameter or dependency
added to the FastAPI route (a new query, a rate limit, another model) would be skipped by the direct
route, which would then write what FastAPI refuses; this test names such a change. The answers of
both are compared on real nodes in tests/integration/test_direct_writes.py.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route

from node_api.api.deps import optional_org, require_org
from node_api.api.direct import DirectRead, DirectWrite
from node_api.config import Settings
from node_api.main import create_app


def _pairs(routes: list[BaseRoute]) -> list[tuple[DirectWrite, APIRoute]]:
    direct = [r.endpoint for r in routes if isinstance(r, Route) and isinstance(r.endpoint, DirectWrite)]
    return [(d, d.route) for d in direct]


def test_each_direct_route_stands_before_its_fastapi_route() -> None:
    routes = create_app(Settings()).router.routes  # no node is started to build the routes
    pairs = _pairs(routes)
    assert sorted(d.route.path for d, _ in pairs) == [
        "/v1/projects/{code}/approvals",
        "/v1/projects/{code}/commitments",
        "/v1/projects/{code}/events",
    ]
    for direct, api in pairs:
        first = next(r for r in routes if getattr(r, "path", None) == api.path)
        assert isinstance(first, Route) and first.endpoint is direct, api.path
        assert api in routes and api.methods == {"POST"}, api.path


def test_the_fastapi_route_declares_only_what_the_direct_route_reads() -> None:
    for direct, api in _pairs(create_app(Settings()).router.routes):
        d = api.dependant
        assert [p.name for p in d.path_params] == ["code"], api.path
        assert [p.name for p in d.query_params] == ["wait"], api.path
        assert [p.name for p in d.header_params] == ["idempotency_key"], api.path
        assert d.header_params[0].alias == "Idempotency-Key", api.path
        assert d.cookie_params == [] and api.dependencies == [], api.path
        assert len(d.body_params) == 1 and d.body_params[0].field_info.annotation is direct.model, api.path
        # the caller through require_org ← optional_org; otherwise only the services the handler gets
        assert [s.call for s in d.dependencies if s.call in (require_org, optional_org)] == [require_org]
        services = [s for s in d.dependencies if s.call is not require_org]
        assert len(services) == 2 and all(
            getattr(s.call, "__qualname__", "") == "_service.<locals>.dependency" for s in services
        )


def test_the_direct_record_read_stands_before_its_route_and_reads_what_it_declares() -> None:
    """``DirectRead`` re-does the caller and the uid's pattern; a query, header or dependency added to
    ``GET /v1/records/{uid}`` would be skipped by it, so this test names such a change."""
    routes = create_app(Settings()).router.routes
    direct = [r for r in routes if isinstance(r, Route) and isinstance(r.endpoint, DirectRead)]
    assert [r.path for r in direct] == ["/v1/records/{uid}"]
    [read] = direct
    assert isinstance(read.endpoint, DirectRead) and read.methods == {"GET"}
    first = next(r for r in routes if getattr(r, "path", None) == "/v1/records/{uid}")
    assert first is read
    api = read.endpoint.route
    assert api in routes and api.methods == {"GET"}
    d = api.dependant
    assert [p.name for p in d.path_params] == ["uid"]
    assert d.query_params == [] and d.header_params == [] and d.cookie_params == [] and d.body_params == []
    assert api.dependencies == []
    assert [s.call for s in d.dependencies if s.call in (require_org, optional_org)] == [require_org]
    services = [s for s in d.dependencies if s.call is not require_org]
    assert len(services) == 3  # reader, access, peers: what DirectRead hands the handler
    # The pattern is the route's own, anchored at both ends (DirectRead matches it whole).
    assert read.endpoint.pattern.pattern.startswith("^") and read.endpoint.pattern.pattern.endswith("$")
    assert read.endpoint.pattern.fullmatch("0x" + "ab" * 32) and not read.endpoint.pattern.fullmatch("0x12")
