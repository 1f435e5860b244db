"""A registration's declared region, industry and type against its project code (ProjectIn, payload)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from node_api.api.payloads import record_payload
from node_api.api.schemas import ProjectIn
from node_api.domain.records import PROJECT_TYPES, Kind

BASE = {"name": "庄浪县测试道路改造工程", "owner_uscc": "91620825MA72BT6H8M", "total_investment": "1000.00"}
CLASSIC = "2026-620825-48-01-000001"
GBT = "2509-620825-89-05-864976"


def body(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, **BASE, **fields}


def errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(pydantic.ValidationError) as excinfo:
        ProjectIn.model_validate(data)
    return {
        ".".join(str(p) for p in e["loc"]): str(e["msg"]).removeprefix("Value error, ")
        for e in excinfo.value.errors()
    }


def test_agreeing_declared_fields_are_kept() -> None:
    p = ProjectIn.model_validate(
        body(CLASSIC, region_code="620825", industry_code="48", project_type="approval")
    )
    assert (p.region_code, p.industry_code, p.project_type) == ("620825", "48", "approval")


def test_omitted_fields_are_derived_from_a_classic_code() -> None:
    p = ProjectIn.model_validate(body("2026-620825-01-03-000512"))
    assert (p.region_code, p.industry_code, p.project_type) == ("620825", "01", "filing")


def test_historical_code_registers_with_its_historical_region() -> None:
    p = ProjectIn.model_validate(body("2017-620824-48-02-000001"))
    assert (p.region_code, p.project_type) == ("620824", "ratification")
    ProjectIn.model_validate(body("2017-620824-48-02-000001", region_code="620824"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("project_type", "filing", "'filing' does not agree with project code 2026-620825-48-01-000001, "
         "whose type segment is 01, i.e. approval (审批)"),
        ("industry_code", "44", "'44' does not agree with project code 2026-620825-48-01-000001, "
         "whose industry segment is 48"),
        ("region_code", "620826", "'620826' does not agree with project code 2026-620825-48-01-000001, "
         "whose division segment is 620825"),
    ],
)  # fmt: skip
def test_disagreeing_field_is_refused_under_its_own_name(field: str, value: str, message: str) -> None:
    assert errors(body(CLASSIC, **{field: value})) == {field: message}


def test_region_of_a_huating_city_code_must_not_be_the_abolished_county() -> None:
    assert (
        "whose division segment is 620881"
        in errors(body("2019-620881-48-01-000001", region_code="620824"))["region_code"]
    )


def test_gbt40058_code_takes_industry_and_type_as_declared() -> None:
    p = ProjectIn.model_validate(body(GBT, industry_code="01", project_type="filing"))
    assert (p.region_code, p.industry_code, p.project_type) == ("620825", "01", "filing")


def test_gbt40058_code_needs_industry_and_type() -> None:
    found = errors(body(GBT))
    assert set(found) == {"industry_code", "project_type"}
    assert found["project_type"].startswith("required with a GB/T 40058-2021 code")


def test_gbt40058_code_still_fixes_the_region() -> None:
    found = errors(body(GBT, industry_code="01", project_type="filing", region_code="620826"))
    assert found == {
        "region_code": f"'620826' does not agree with project code {GBT}, whose division segment is 620825"
    }


def test_a_malformed_code_is_reported_and_the_fields_are_checked_alone() -> None:
    found = errors(
        body("2019-620824-48-01-000001", region_code="629999", industry_code="48", project_type="approval")
    )
    assert found["code"].startswith("code: division segment: county 620824 (华亭县) was abolished in 2018")
    assert found["region_code"].startswith("prefecture 6299 is not")


def test_wrong_type_of_value_is_left_to_the_field_type() -> None:
    assert "project_type" in errors(body(CLASSIC, project_type=1))


def test_payload_carries_the_derived_fields() -> None:
    kind, fields, _ = record_payload(ProjectIn.model_validate(body("2026-620825-01-03-000512")))
    assert kind == Kind.PROJECT
    assert (fields["region_code"], fields["industry_code"], fields["project_type"]) == (
        "620825",
        "01",
        PROJECT_TYPES["filing"],
    )
