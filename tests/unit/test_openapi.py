"""The API document declares every request body, the raw-body endpoints included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node_api.config import Settings
from node_api.main import create_app

BODYLESS = {("/v1/audit/access-log/anchor", "post")}  # an order with no content


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
