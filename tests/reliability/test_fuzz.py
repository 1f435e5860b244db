"""Hostile input against the live node: schemathesis on every endpoint, oversized and malformed bodies.

Every operation of ``/openapi.json`` gets generated requests (valid and invalid
bodies, parameters and headers) with a valid member token. The node must never
answer 5xx, and every answer must be declared in the schema (status code,
content type, body shape). Examples are bounded so the whole module runs in
about a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from localnode import NodeProcess
from tests.support.records import unique_code

pytestmark = [pytest.mark.chain, pytest.mark.slow]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Which organisation the fuzzer acts as: approval authority and supervisor, so most
# requests get past the role checks and into validation and the writer.
FUZZ_ORG = "zjj"


@pytest.fixture(scope="module")
def api_schema(node: NodeProcess) -> Iterator[Any]:
    """The node's own OpenAPI document, with half the path parameters pointing at real objects.

    Random project codes and uids almost never exist, so without real ones the
    fuzzer would mostly exercise the 404/422 paths; the project, record and
    document here belong to this module only.
    """
    code = unique_code()
    with node.client(FUZZ_ORG) as c:
        project = c.post("/v1/projects?wait=true", json={
            "code": code, "name": "庄浪县模糊测试工程", "owner_uscc": "91620825MA72BT6H8M",
            "project_type": "approval", "region_code": "620825", "industry_code": "48",
            "total_investment": "100.00"}).json()  # fmt: skip
        digest = c.post("/v1/documents", content=f"fuzz {code}".encode()).json()["digest"]
    real = {"code": code, "uid": project["uid"], "grant_id": project["uid"], "digest": digest}
    schema = schemathesis.openapi.from_url(node.url + "/openapi.json")

    @schema.hook("map_path_parameters")
    def real_objects(ctx: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
        if not path_parameters or hash(repr(sorted(path_parameters.items()))) % 2:
            return path_parameters
        return {k: real.get(k, v) for k, v in path_parameters.items()}

    yield schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_endpoint_answers_5xx_or_outside_its_schema(case: Any, node: NodeProcess) -> None:
    headers = {"Authorization": f"Bearer {node.tokens[FUZZ_ORG]}"}
    case.call_and_validate(base_url=node.url, headers=headers, checks=CHECKS, timeout=30)


def undeclared_answers(spec: dict[str, Any]) -> list[str]:
    """Answers the node gives (by its code paths) that its OpenAPI document does not declare."""
    missing = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            codes = set(op.get("responses", {}))
            params = {p["name"] for p in op.get("parameters", [])}
            if "wait" in params and "200" not in codes:
                missing.append(f"{method.upper()} {path}: 200 (confirmed, with ?wait=true)")
            ok = op.get("responses", {}).get("200", {}).get("content", {})
            if path == "/v1/documents/{digest}" and set(ok) <= {"application/json"}:
                missing.append(f"{method.upper()} {path}: 200 with the document's own media type")
    if "503" not in spec["paths"]["/health"]["get"]["responses"]:
        missing.append("GET /health: 503 (chain unreachable)")
    return missing


def test_every_answer_is_declared(node: NodeProcess) -> None:
    spec = httpx.get(node.url + "/openapi.json", timeout=10).json()
    assert undeclared_answers(spec) == []


@pytest.mark.parametrize("path", ["/v1/projects", "/v1/projects/2026-620825-48-01-000001/approvals"])
def test_oversized_json_body_gets_413_before_it_is_read(node: NodeProcess, path: str) -> None:
    with node.client("fgj") as c:
        r = c.post(
            path,
            content=b'{"name": "' + b"x" * 1_100_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


def test_oversized_document_gets_413_with_or_without_content_length(node: NodeProcess) -> None:
    too_big = b"\0" * (20_000_000 + 1)
    with node.client("fgj") as c:
        declared = c.post("/v1/documents", content=too_big, headers={"Content-Type": "application/pdf"})

        def chunks() -> Iterator[bytes]:  # streamed: no Content-Length to refuse up front
            for i in range(0, len(too_big), 1_000_000):
                yield too_big[i : i + 1_000_000]

        streamed = c.post("/v1/documents", content=chunks(), headers={"Content-Type": "application/pdf"})
    assert declared.status_code == 413, declared.text
    assert streamed.status_code == 413, streamed.text
    assert streamed.json()["error"] == "payload_too_large"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"code": "2026-620825-48-01-000001",', "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b"[]", "application/json", 422),
        (b'"a string"', "application/json", 422),
        (b"null", "application/json", 422),
        (b'{"code": 12}', "application/json", 422),
        (b"code=1", "application/x-www-form-urlencoded", 422),
    ],
)
def test_malformed_bodies_get_400_or_422_and_write_nothing(
    node: NodeProcess, body: bytes, content_type: str, status: int
) -> None:
    with node.client("fgj") as c:
        r = c.post("/v1/projects", content=body, headers={"Content-Type": content_type})
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error", "detail"}


def test_invalid_project_write_leaves_nothing_behind(node: NodeProcess) -> None:
    code = unique_code()
    body = {"code": code, "name": "x", "owner_uscc": "91620825MA72BT6H8M", "project_type": "approval",
            "region_code": "620825", "industry_code": "48", "total_investment": "-1"}  # fmt: skip
    with node.client("fgj") as c:
        assert c.post("/v1/projects", json=body).status_code == 422
        assert c.get(f"/v1/projects/{code}").status_code == 404


def test_unknown_route_and_method_answer_in_the_error_format(node: NodeProcess) -> None:
    r = httpx.get(node.url + "/v1/nothing-here", timeout=10)
    assert r.status_code == 404 and set(r.json()) == {"error", "detail"}
    r = httpx.put(node.url + "/v1/projects", timeout=10)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
