"""Project-code parsing: the two shapes, their segments and the errors."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from node_api.domain.project_code import ProjectCode, parse_project_code, project_type_code
from node_api.errors import ValidationError


def test_domain_approval_example_parses() -> None:
    assert parse_project_code("2020-330327-48-01-167360") == ProjectCode(
        code="2020-330327-48-01-167360",
        year=2020,
        division="330327",
        industry="48",
        project_type="approval",
        standard="classic",
    )


def test_domain_filing_example_parses() -> None:
    assert parse_project_code("2020-451421-88-03-016343") == ProjectCode(
        code="2020-451421-88-03-016343",
        year=2020,
        division="451421",
        industry="88",
        project_type="filing",
        standard="classic",
    )


def test_type_02_is_ratification() -> None:
    assert parse_project_code("2024-620825-48-02-000123").project_type == "ratification"


@pytest.mark.parametrize("type_segment", ["00", "04", "99"])
def test_classic_code_with_unknown_type_is_rejected(type_segment: str) -> None:
    with pytest.raises(ValidationError, match=f"project type segment must be 01 .* got {type_segment}"):
        parse_project_code(f"2024-620825-48-{type_segment}-000123")


def test_gbt40058_code_parses_with_structure_only() -> None:
    parsed = parse_project_code("2022-620825-48-01-A7K2QX")
    assert parsed.standard == "gbt40058"
    assert parsed.project_type == "approval"
    assert parsed.division == "620825"


def test_gbt40058_code_with_unconfirmed_type_is_reported_as_unknown() -> None:
    assert parse_project_code("2022-620825-48-07-A7K2QX").project_type == "unknown"


def test_gbt40058_code_is_upper_cased() -> None:
    assert parse_project_code(" 2022-620825-48-01-a7k2qx ").code == "2022-620825-48-01-A7K2QX"


def test_all_digit_last_segment_is_read_as_classic() -> None:
    assert parse_project_code("2022-620825-48-01-123456").standard == "classic"


@pytest.mark.parametrize("last", ["A7K2Q-", "A7K2Q", "A7K2QX1", "A7K2Q_", "A7K2QÄ"])
def test_malformed_last_segment_is_rejected(last: str) -> None:
    with pytest.raises(ValidationError):
        parse_project_code(f"2022-620825-48-01-{last}")


def test_year_before_1990_is_rejected() -> None:
    with pytest.raises(ValidationError, match="year 1989 is outside 1990"):
        parse_project_code("1989-620825-48-01-000001")


def test_year_1990_is_accepted() -> None:
    assert parse_project_code("1990-620825-48-01-000001").year == 1990


def test_next_year_is_accepted_but_the_year_after_is_not() -> None:
    next_year = datetime.date.today().year + 1
    assert parse_project_code(f"{next_year}-620825-48-01-000001").year == next_year
    with pytest.raises(ValidationError, match=f"year {next_year + 1} is outside"):
        parse_project_code(f"{next_year + 1}-620825-48-01-000001")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "2024-620827-48-01-000001",
            "division segment: county 620827 is not a county-level division of 甘肃省平凉市",
        ),
        ("2024-621300-48-01-000001", "division segment: prefecture 6213 is not"),
        ("2024-990000-48-01-000001", "division segment: province prefix 99"),
        ("2024-620824-48-01-000001", "use 620881 华亭市"),
        ("2024-620827-48-01-A7K2QX", "division segment: county 620827"),
    ],
)
def test_unknown_division_segment_is_rejected(code: str, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_project_code(code)
    assert message in excinfo.value.detail


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("2024620825480100000", "must have 5 hyphen-separated segments"),
        ("2024-620825-48-01-000001-1", "must have 5 hyphen-separated segments"),
        ("24-620825-48-01-000001", "year segment must be 4 characters, got '24'"),
        ("2024-62082-48-01-000001", "division segment must be 6 characters"),
        ("2024-620825-4-01-000001", "industry segment must be 2 characters"),
        ("2024-620825-48-1-000001", "project type segment must be 2 characters"),
        ("2024-620825-48-01-00001", "serial/random segment must be 6 characters"),
        ("2024-62082X-48-01-000001", "division segment must be digits"),
        ("2024-620825-4A-01-000001", "industry segment must be digits"),
        ("２０２４-620825-48-01-000001", "year segment must be digits"),
        ("2024-620825-48-01-00000!", "last segment must be 6 digits or 6 upper-case letters/digits"),
        ("", "must have 5 hyphen-separated segments"),
    ],
)
def test_malformed_code_is_rejected_with_the_offending_segment(code: str, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_project_code(code)
    assert message in excinfo.value.detail
    assert excinfo.value.field == "code"


def test_trailing_newline_inside_the_code_is_not_accepted() -> None:
    with pytest.raises(ValidationError):
        parse_project_code("2020-330327-48-01-167360\n0")


def test_field_name_is_carried_into_the_error() -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_project_code("nonsense", field="project_code")
    assert excinfo.value.field == "project_code"


def test_non_string_is_rejected() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        parse_project_code(2020330327)  # type: ignore[arg-type]


def test_parsed_code_is_immutable() -> None:
    parsed = parse_project_code("2020-330327-48-01-167360")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.year = 2021  # type: ignore[misc]


@pytest.mark.parametrize(
    ("project_type", "code"), [("approval", "01"), ("ratification", "02"), ("filing", "03")]
)
def test_project_type_maps_to_its_segment(project_type: str, code: str) -> None:
    assert project_type_code(project_type) == code
    assert parse_project_code(f"2024-620825-48-{code}-000001").project_type == project_type


@pytest.mark.parametrize("project_type", ["unknown", "Approval", ""])
def test_unmapped_project_type_has_no_segment(project_type: str) -> None:
    with pytest.raises(ValueError, match="unknown project type"):
        project_type_code(project_type)
