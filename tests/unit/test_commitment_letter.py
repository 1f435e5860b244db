"""The 承诺书 unified format (docs/commitment-letter.schema.json) and the demo's letters, which follow it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs  # pinned in requirements.lock (schemathesis, a dev dependency, needs it)
import pytest

from demo.loader import commitment_letter

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "commitment-letter.schema.json").read_text())
PROJECT = ("2026-620825-44-01-000317", "庄浪县城区集中供热管网改造工程", "91620825MA72BT6H8M")


def letter(kind: str, missing: list[str] | None) -> dict[str, Any]:
    text = commitment_letter(kind, PROJECT, ("ZL-S2-002", "建设工程规划许可证核发"), "庄浪县自然资源局",
                             ["30日内补交管线综合图"], "2026-08-01", "2026-07-01", missing)  # fmt: skip
    return dict(json.loads(text))


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    assert SCHEMA["$schema"].endswith("2020-12/schema")
    jsonschema_rs.Draft202012Validator(SCHEMA)


@pytest.mark.parametrize(("kind", "missing"), [("deficiency", ["管线综合图"]), ("credit", None)])
def test_the_demo_letters_follow_the_unified_format(kind: str, missing: list[str] | None) -> None:
    jsonschema_rs.Draft202012Validator(SCHEMA).validate(letter(kind, missing))


def test_a_deficiency_letter_names_what_is_missing_and_a_credit_letter_does_not() -> None:
    validator = jsonschema_rs.Draft202012Validator(SCHEMA)
    assert not validator.is_valid(
        {k: v for k, v in letter("deficiency", ["管线综合图"]).items() if k != "missing"}
    )
    assert not validator.is_valid({**letter("credit", None), "missing": [{"name": "管线综合图"}]})
    assert not validator.is_valid({**letter("credit", None), "consent_to_publish": False})
