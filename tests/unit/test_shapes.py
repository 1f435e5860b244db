"""PAYLOAD_SCHEMAS and the contract's SHAPE_* strings say the same: one letter per field, in order."""

from __future__ import annotations

import re

import pytest

from node_api.chain.compiler import CONTRACTS_DIR
from node_api.chain.consortium import ROLE_BITS
from node_api.domain.records import PAYLOAD_SCHEMAS, Kind

LETTERS = {"uint8": "b", "uint32": "i", "uint64": "l", "bytes32": "w", "string": "s", "bytes32[]": "a"}
SHAPE_OF_KIND = {
    **{k: f"SHAPE_{k.name}" for k in Kind if k < Kind.REVOCATION},  # each subject kind has its own shape
    **{k: "SHAPE_STATUS_CHANGE" for k in Kind if Kind.REVOCATION <= k <= Kind.BREACH},
    Kind.PAUSE: "SHAPE_PAUSE",
    Kind.RESUME: "SHAPE_PAUSE",
}
COMMON = (CONTRACTS_DIR / "Common.sol").read_text()


def constant(name: str, type_: str = r"u?int\d+|bytes32") -> str:
    match = re.search(rf"^(?:{type_}) constant {name} = ([^;]+);", COMMON, re.MULTILINE)
    assert match is not None, f"{name} is not in Common.sol"
    return match.group(1).strip()


@pytest.mark.parametrize("kind", list(Kind), ids=[k.name for k in Kind])
def test_payload_schema_is_the_contracts_shape(kind: Kind) -> None:
    shape = constant(SHAPE_OF_KIND[kind]).strip('"')
    assert "".join(LETTERS[t] for _, t in PAYLOAD_SCHEMAS[kind]) == shape


@pytest.mark.parametrize("kind", list(Kind), ids=[k.name for k in Kind])
def test_kind_values_are_the_contracts(kind: Kind) -> None:
    assert int(constant(f"KIND_{kind.name}")) == int(kind)


def test_role_bits_are_the_contracts() -> None:
    names = {"approval_authority": "ROLE_APPROVAL_AUTHORITY", "supervisor": "ROLE_SUPERVISOR",
             "financial_institution": "ROLE_FINANCIAL_INSTITUTION", "auditor": "ROLE_AUDITOR",
             "catalogue": "ROLE_CATALOGUE"}  # fmt: skip
    assert {n: int(constant(c)) for n, c in names.items()} == ROLE_BITS
