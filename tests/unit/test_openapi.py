"""The API document declares every request body, the raw-body endpoints included."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from node_api.config import Settings
from node_api.domain.catalogue import CODE_PATTERN as CATALOGUE_CODE_PATTERN
from node_api.domain.divisions import validate_division
from node_api.domain.project_code import parse_project_code
from node_api.domain.uscc import validate_uscc
from node_api.errors import ValidationError
from node_api.main import create_app

# Orders with no content: anchor the access log now; queue a dead webhook delivery again; issue a
# verification certificate of a project (what it states is the chain's, as of the last indexed block).
BODYLESS = {
    ("/v1/audit/access-log/anchor", "post"),
    ("/v1/projects/{code}/certificates", "post"),
    ("/v1/subscriptions/{subscription_id}/redeliver/{delivery_id}", "post"),
}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("openapi")), env="test")
    return create_app(settings).openapi()  # no node is started to describe the API


def test_every_write_declares_its_body(spec: dict[str, Any]) -> None:
    missing = [
        (path, method)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
        if method in ("post", "put", "patch") and "requestBody" not in op and (path, method) not in BODYLESS
    ]
    assert missing == []


def test_raw_body_endpoints_describe_what_they_take(spec: dict[str, Any]) -> None:
    upload = spec["paths"]["/v1/documents"]["post"]["requestBody"]
    assert upload["required"] is True
    assert upload["content"]["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
    check = spec["paths"]["/v1/verify/document"]["post"]["requestBody"]
    assert check["required"] is False  # ?digest= needs no body
    assert set(check["content"]) >= {"application/json", "application/octet-stream"}
    assert "digest" in check["content"]["application/json"]["schema"]["properties"]


# Every example the API document gives of a USCC, a project code or a region validates.

_VALIDATORS: dict[str, Callable[[str], object]] = {
    "uscc": validate_uscc,
    "code": parse_project_code,
    "region": lambda value: validate_division(value.ljust(6, "0")),  # region prefixes: 62, 6208, 620825
    "item": lambda value: re.fullmatch(CATALOGUE_CODE_PATTERN, value) or _fail(f"item code {value!r}"),
}


def _fail(what: str) -> None:
    raise AssertionError(f"{what} is not well-formed")


def _kind(name: str, node: Any = None) -> str | None:
    if "uscc" in name:
        return "uscc"
    schema = node.get("schema", node) if isinstance(node, dict) else None
    if isinstance(schema, dict) and schema.get("pattern") == CATALOGUE_CODE_PATTERN:
        return "item"  # a catalogue item's code (事项编码), not a project code
    if name in ("code", "project_code") or name.endswith("project_code"):
        return "code"
    if name.startswith("region"):
        return "region"
    return None


def _examples(node: Any) -> list[Any]:
    if not isinstance(node, dict):
        return []
    found = list(node.get("examples") or []) if isinstance(node.get("examples"), list) else []
    if isinstance(node.get("examples"), dict):  # OpenAPI media-type / parameter examples: {name: {value}}
        found += [e.get("value") for e in node["examples"].values() if isinstance(e, dict)]
    if "example" in node:
        found.append(node["example"])
    return found + _examples(node.get("schema"))


def _named_examples(node: Any) -> Iterator[tuple[str, Any, Any]]:
    """(field or parameter name, example value, its schema node) anywhere in the document."""
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield from ((name, e, prop) for e in _examples(prop))
        if isinstance(node.get("name"), str) and node.get("in") in ("path", "query", "header"):
            yield from ((node["name"], e, node) for e in _examples(node))
        for value in node.values():
            yield from _named_examples(value)
    elif isinstance(node, list):
        for value in node:
            yield from _named_examples(value)


def test_every_uscc_code_and_region_example_validates(spec: dict[str, Any]) -> None:
    checked: dict[str, list[str]] = {"uscc": [], "code": [], "region": [], "item": []}
    for name, example, node in _named_examples(spec):
        kind = _kind(name, node)
        if kind is None:
            continue
        assert isinstance(example, str), (name, example)
        _VALIDATORS[kind](example)  # raises, naming the problem, for a bad example
        checked[kind].append(example)
    # The walk must have found them: owner_uscc, the codes of ProjectIn and the path, region_code.
    assert "91620825MA74XK9R6N" in checked["uscc"]
    assert {"2026-620825-44-01-000123", "2603-620825-89-05-346948"} <= set(checked["code"])
    assert {"620825", "6208"} <= set(checked["region"])  # region_code and the regional report's prefix


@pytest.mark.parametrize(
    ("kind", "bad"),
    [("uscc", "91620825MA74XK9R2B"), ("code", "2019-620824-48-01-000001"), ("region", "629999")],
)
def test_a_bad_example_would_be_caught(kind: str, bad: str) -> None:
    with pytest.raises(ValidationError):
        _VALIDATORS[kind](bad)


def test_the_project_code_path_parameter_has_an_example(spec: dict[str, Any]) -> None:
    params = spec["paths"]["/v1/project-codes/{code}"]["get"]["parameters"]
    assert [p["name"] for p in params] == ["code"]
    assert _examples(params[0]) == ["2026-620825-44-01-000123"]
