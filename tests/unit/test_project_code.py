"""Project-code parsing: the two shapes, each read by its own rules, and the errors."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from node_api.domain.project_code import (
    DECLARED_FIELDS,
    ProjectCode,
    parse_project_code,
    project_facts,
    reconcile,
    try_parse,
)
from node_api.errors import ValidationError

TODAY = datetime.date(2026, 11, 30)


def parse(code: str) -> ProjectCode:
    return parse_project_code(code, today=TODAY)


# The classic shape: year-division-industry-type(01/02/03)-serial.


def test_domain_approval_example_is_classic_with_its_segments() -> None:
    parsed = parse_project_code("2020-330327-48-01-167360")
    assert (parsed.shape, parsed.year, parsed.month) == ("classic", 2020, None)
    assert (parsed.division, parsed.industry, parsed.project_type) == ("330327", "48", "approval")
    assert parsed.department is None
    assert [s.name for s in parsed.segments] == ["year", "division", "industry", "project_type", "serial"]
    assert [s.value for s in parsed.segments] == ["2020", "330327", "48", "01", "167360"]
    assert parsed.segments[3].reading == "审批 approval"
    assert parsed.segments[3].basis == "confirmed"


def test_domain_filing_example_is_classic_filing() -> None:
    parsed = parse_project_code("2020-451421-88-03-016343")
    assert (parsed.shape, parsed.project_type, parsed.industry) == ("classic", "filing", "88")


def test_type_02_is_ratification_and_marked_inferred() -> None:
    parsed = parse_project_code("2024-620825-48-02-000123")
    assert parsed.project_type == "ratification"
    assert parsed.segments[3].basis == "inferred"


@pytest.mark.parametrize("type_segment", ["00", "04", "05", "99"])
def test_classic_code_with_another_type_is_rejected(type_segment: str) -> None:
    with pytest.raises(ValidationError, match=f"project type segment must be 01 .* got {type_segment}"):
        parse_project_code(f"2024-620825-48-{type_segment}-000123")


@pytest.mark.parametrize("serial", ["A7K2QX", "00000A"])
def test_classic_serial_must_be_digits(serial: str) -> None:
    with pytest.raises(ValidationError, match=r"serial number .* must be 6 digits"):
        parse_project_code(f"2022-620825-48-01-{serial}")


# The GB/T 40058-2021 shape: YYMM-division-department-type(its own)-random+check.


@pytest.mark.parametrize(
    ("code", "year", "month"),
    [
        # real codes found in public notices (docs/project-codes.md)
        ("2411-130202-89-01-637015", 2024, 11),
        ("2509-140602-89-05-864976", 2025, 9),
        ("2603-141124-89-05-346948", 2026, 3),
    ],
)
def test_real_gbt40058_codes_parse(code: str, year: int, month: int) -> None:
    parsed = parse(code)
    assert (parsed.shape, parsed.year, parsed.month) == ("gbt40058", year, month)


def test_gbt40058_segments_are_read_by_that_standard() -> None:
    parsed = parse_project_code("2509-620825-89-05-864976", today=TODAY)
    assert parsed.division == "620825"
    assert parsed.department == "89"
    assert parsed.type_segment == "05"
    # The fourth segment is not 审批/核准/备案, and the third not an industry.
    assert parsed.project_type is None
    assert parsed.industry is None
    assert [s.name for s in parsed.segments] == [
        "time_code",
        "division",
        "department",
        "project_type_code",
        "random_and_check",
    ]
    assert parsed.segments[0].reading == "2025-09"
    assert parsed.segments[3].reading == "未确认 unconfirmed"
    assert {s.basis for s in parsed.segments[2:]} == {"unconfirmed"}


@pytest.mark.parametrize("type_segment", ["01", "05", "07", "99", "00"])
def test_gbt40058_type_segment_is_any_two_digits(type_segment: str) -> None:
    assert parse(f"2509-620825-89-{type_segment}-864976").shape == "gbt40058"


@pytest.mark.parametrize("last", ["86497X", "A7K2QX", "000000"])
def test_gbt40058_last_segment_is_never_checked_by_an_unconfirmed_algorithm(last: str) -> None:
    # Changing the presumed check character never makes a code malformed.
    assert parse(f"2509-620825-89-05-{last}").shape == "gbt40058"


def test_gbt40058_code_is_upper_cased() -> None:
    assert parse_project_code(" 2509-620825-89-05-a7k2qx ", today=TODAY).code == "2509-620825-89-05-A7K2QX"


# Telling the shapes apart by the first segment.


@pytest.mark.parametrize(
    ("first", "shape"),
    [("2011", "gbt40058"), ("2012", "gbt40058"), ("2101", "gbt40058"), ("2612", "gbt40058"),
     ("2013", "classic"), ("2015", "classic"), ("2020", "classic"), ("2026", "classic"), ("2027", "classic")],
)  # fmt: skip
def test_shape_is_told_by_the_last_two_digits_of_the_first_segment(first: str, shape: str) -> None:
    assert parse(f"{first}-620825-48-01-000001").shape == shape


@pytest.mark.parametrize("first", ["2010", "2001", "1905", "1712", "0001"])
def test_yymm_before_the_switch_to_gbt40058_is_rejected(first: str) -> None:
    with pytest.raises(ValidationError, match=f"time code {first}: as GB/T 40058 YYMM it is .* before 2013"):
        parse(f"{first}-620825-48-01-000001")


@pytest.mark.parametrize("first", ["2000", "1990", "1999", "0013"])
def test_classic_year_before_2013_is_rejected(first: str) -> None:
    with pytest.raises(ValidationError, match=f"year {int(first)} is outside 2013..2027"):
        parse(f"{first}-620825-48-01-000001")


def test_next_year_is_accepted_but_the_year_after_is_not() -> None:
    assert parse("2027-620825-48-01-000001").year == 2027
    assert parse("2712-620825-89-05-000001").year == 2027
    with pytest.raises(ValidationError, match="year 2028 is outside"):
        parse("2028-620825-48-01-000001")
    with pytest.raises(ValidationError, match="time code 2801 reads as YYMM 2028-01, after 2027"):
        parse("2801-620825-89-05-000001")


def test_today_defaults_to_the_clock() -> None:
    next_year = datetime.date.today().year + 1
    assert parse_project_code(f"{next_year}-620825-48-01-000001").year == next_year


# The division in force in the code's year.


@pytest.mark.parametrize(
    "code", ["2017-620824-48-01-000001", "2013-620824-48-03-000002", "2018-620824-48-01-000003"]
)
def test_huating_county_code_up_to_its_abolition_year_is_a_valid_historical_code(code: str) -> None:
    parsed = parse(code)
    assert parsed.division == "620824"
    assert parsed.segments[1].reading == "甘肃省平凉市华亭县"


@pytest.mark.parametrize(
    "code", ["2018-620881-48-01-000001", "2019-620881-48-01-000001", "2509-620881-89-05-000001"]
)
def test_huating_city_code_from_its_founding_year_is_valid(code: str) -> None:
    assert parse(code).division == "620881"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "2019-620824-48-01-000001",
            "620824 (华亭县) was abolished in 2018; in 2019 the division is 620881 华亭市",
        ),
        ("2111-620824-89-05-000001", "620824 (华亭县) was abolished in 2018; in 2021 the division is 620881"),
        (
            "2017-620881-48-01-000001",
            "620881 (华亭市) was set up in 2018; in 2017 the division was 620824 华亭县",
        ),
    ],
)
def test_division_out_of_force_in_the_codes_year_is_rejected(code: str, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse(code)
    assert f"division segment: county {message}" in excinfo.value.detail


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "2024-620827-48-01-000001",
            "division segment: county 620827 is not a county-level division of 甘肃省平凉市",
        ),
        ("2024-621300-48-01-000001", "division segment: prefecture 6213 is not"),
        ("2024-990000-48-01-000001", "division segment: province prefix 99"),
        ("2509-620827-89-05-A7K2QX", "division segment: county 620827"),
    ],
)
def test_unknown_division_segment_is_rejected(code: str, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse(code)
    assert message in excinfo.value.detail


# Structure.


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("2024620825480100000", "must have 5 hyphen-separated segments"),
        ("2024-620825-48-01-000001-1", "must have 5 hyphen-separated segments"),
        ("24-620825-48-01-000001", "time/year segment must be 4 characters, got '24'"),
        ("2024-62082-48-01-000001", "division segment must be 6 characters"),
        ("2024-620825-4-01-000001", "third segment must be 2 characters"),
        ("2024-620825-48-1-000001", "fourth segment must be 2 characters"),
        ("2024-620825-48-01-00001", "last segment must be 6 characters"),
        ("2024-62082X-48-01-000001", "division segment must be digits"),
        ("2024-620825-4A-01-000001", "third segment must be digits"),
        ("２０２４-620825-48-01-000001", "time/year segment must be digits"),
        ("2024-620825-48-01-00000!", "last segment must be 6 digits or upper-case letters"),
        ("", "must have 5 hyphen-separated segments"),
    ],
)
def test_malformed_code_is_rejected_with_the_offending_segment(code: str, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse(code)
    assert message in excinfo.value.detail
    assert excinfo.value.field == "code"


@pytest.mark.parametrize("last", ["A7K2Q-", "A7K2Q", "A7K2QX1", "A7K2Q_", "A7K2QÄ"])
def test_malformed_last_segment_is_rejected(last: str) -> None:
    with pytest.raises(ValidationError):
        parse(f"2509-620825-89-05-{last}")


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


def test_try_parse_gives_none_for_a_malformed_code() -> None:
    assert try_parse("2019-620824-48-01-000001") is None
    parsed = try_parse("2017-620824-48-01-000001")
    assert parsed is not None and parsed.year == 2017


def test_parsed_result_says_well_formed_never_authentic() -> None:
    shown = parse_project_code("2509-620825-89-05-864976", today=TODAY).as_dict()
    assert shown["well_formed"] is True
    assert shown["shape"] == "gbt40058"
    assert shown["division_name"] == "甘肃省平凉市庄浪县"
    assert len(shown["segments"]) == 5
    assert "authentic" not in str(shown).replace("does not establish", "")
    assert "no check character is verified" in shown["note"]


# A registration's declared fields against the code's segments.


def test_classic_code_fixes_region_industry_and_type() -> None:
    parsed = parse_project_code("2017-620824-48-03-000001", today=TODAY)
    assert [parsed.fixed(f) for f in DECLARED_FIELDS] == ["620824", "48", "filing"]


def test_gbt40058_code_fixes_the_region_only() -> None:
    parsed = parse_project_code("2509-620825-89-05-864976", today=TODAY)
    assert [parsed.fixed(f) for f in DECLARED_FIELDS] == ["620825", None, None]


@pytest.mark.parametrize(
    ("field", "expected"), [("region_code", "620825"), ("industry_code", "48"), ("project_type", "approval")]
)
def test_omitted_field_is_taken_from_a_classic_code(field: str, expected: str) -> None:
    assert reconcile(parse_project_code("2026-620825-48-01-000001"), field, None) == expected


@pytest.mark.parametrize(
    ("field", "declared", "message"),
    [
        ("region_code", "620826", "'620826' does not agree with project code 2026-620825-48-01-000001, "
         "whose division segment is 620825"),
        ("industry_code", "44", "whose industry segment is 48"),
        ("project_type", "filing", "'filing' does not agree with project code 2026-620825-48-01-000001, "
         "whose type segment is 01, i.e. approval (审批)"),
    ],
)  # fmt: skip
def test_declared_field_disagreeing_with_a_classic_code_is_refused_naming_it(
    field: str, declared: str, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        reconcile(parse_project_code("2026-620825-48-01-000001"), field, declared)
    assert excinfo.value.field == field
    assert message in excinfo.value.detail


@pytest.mark.parametrize("field", ["region_code", "industry_code", "project_type"])
def test_declared_field_agreeing_with_the_code_passes(field: str) -> None:
    parsed = parse_project_code("2026-620825-48-02-000001")
    value = parsed.fixed(field)
    assert reconcile(parsed, field, f" {value} ") == f" {value} "


def test_gbt40058_code_lets_industry_and_type_be_declared_freely() -> None:
    parsed = parse_project_code("2509-620825-89-05-864976", today=TODAY)
    assert reconcile(parsed, "project_type", "filing") == "filing"
    assert reconcile(parsed, "project_type", "approval") == "approval"
    assert reconcile(parsed, "industry_code", "01") == "01"


@pytest.mark.parametrize("field", ["industry_code", "project_type"])
def test_gbt40058_code_needs_industry_and_type_declared(field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field}: required with a GB/T 40058-2021 code"):
        reconcile(parse_project_code("2509-620825-89-05-864976", today=TODAY), field, None)


def test_gbt40058_code_still_fixes_the_region() -> None:
    parsed = parse_project_code("2509-620825-89-05-864976", today=TODAY)
    assert reconcile(parsed, "region_code", None) == "620825"
    with pytest.raises(ValidationError, match="region_code: '620881' does not agree"):
        reconcile(parsed, "region_code", "620881")


def test_historical_region_must_match_the_historical_code() -> None:
    parsed = parse_project_code("2017-620824-48-01-000001")
    assert reconcile(parsed, "region_code", "620824") == "620824"
    with pytest.raises(ValidationError, match=r"'620881' does not agree .* whose division segment is 620824"):
        reconcile(parsed, "region_code", "620881")


def test_facts_come_from_the_code_where_it_has_them() -> None:
    declared = {"region_code": "620826", "industry_code": "44", "project_type": "filing"}
    assert project_facts("2026-620825-48-01-000001", declared) == {
        "region_code": "620825",
        "industry_code": "48",
        "project_type": "approval",
    }
    assert project_facts("2509-620825-89-05-864976", declared) == {
        "region_code": "620825",
        "industry_code": "44",
        "project_type": "filing",
    }


def test_facts_of_a_code_the_rules_no_longer_accept_are_the_declared_ones() -> None:
    declared = {"region_code": "620825", "industry_code": "48", "project_type": "approval"}
    assert project_facts("2010-620825-48-01-000001", declared) == declared
