"""Division codes: complete checks where the table is complete, structure elsewhere."""

from __future__ import annotations

import pytest

from node_api.domain.divisions import division_error, division_name, validate_division
from node_api.errors import ValidationError

PINGLIANG_COUNTIES = {
    "620802": "崆峒区",
    "620821": "泾川县",
    "620822": "灵台县",
    "620823": "崇信县",
    "620825": "庄浪县",
    "620826": "静宁县",
    "620881": "华亭市",
}
TIANSHUI_COUNTIES = {
    "620502": "秦州区",
    "620503": "麦积区",
    "620521": "清水县",
    "620522": "秦安县",
    "620523": "甘谷县",
    "620524": "武山县",
    "620525": "张家川回族自治县",
}
GUYUAN_COUNTIES = {
    "640402": "原州区",
    "640422": "西吉县",
    "640423": "隆德县",
    "640424": "泾源县",
    "640425": "彭阳县",
}
GANSU_PREFECTURES = {
    "6201": "兰州市",
    "6202": "嘉峪关市",
    "6203": "金昌市",
    "6204": "白银市",
    "6205": "天水市",
    "6206": "武威市",
    "6207": "张掖市",
    "6208": "平凉市",
    "6209": "酒泉市",
    "6210": "庆阳市",
    "6211": "定西市",
    "6212": "陇南市",
    "6229": "临夏回族自治州",
    "6230": "甘南藏族自治州",
}
PROVINCE_PREFIXES = [
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
]


def test_zhuanglang_has_its_full_name() -> None:
    assert validate_division("620825") == "620825"
    assert division_name("620825") == "甘肃省平凉市庄浪县"


@pytest.mark.parametrize(("code", "name"), sorted(PINGLIANG_COUNTIES.items()))
def test_every_pingliang_county_is_known(code: str, name: str) -> None:
    assert validate_division(code) == code
    assert division_name(code) == "甘肃省平凉市" + name


@pytest.mark.parametrize(("code", "name"), sorted(TIANSHUI_COUNTIES.items()))
def test_every_tianshui_county_is_known(code: str, name: str) -> None:
    assert validate_division(code) == code
    assert division_name(code) == "甘肃省天水市" + name


@pytest.mark.parametrize(("code", "name"), sorted(GUYUAN_COUNTIES.items()))
def test_every_guyuan_county_is_known(code: str, name: str) -> None:
    assert validate_division(code) == code
    assert division_name(code) == "宁夏回族自治区固原市" + name


@pytest.mark.parametrize(("prefix", "name"), sorted(GANSU_PREFECTURES.items()))
def test_every_gansu_prefecture_is_known(prefix: str, name: str) -> None:
    assert validate_division(prefix + "00") == prefix + "00"
    assert division_name(prefix + "00") == "甘肃省" + name


def test_all_34_province_level_divisions_are_accepted() -> None:
    assert len(set(PROVINCE_PREFIXES)) == 34
    for prefix in PROVINCE_PREFIXES:
        assert validate_division(prefix + "0000") == prefix + "0000"
        assert division_name(prefix + "0000") is not None


@pytest.mark.parametrize(
    ("code", "name"), [("620000", "甘肃省"), ("640000", "宁夏回族自治区"), ("110000", "北京市")]
)
def test_province_code_names_the_province(code: str, name: str) -> None:
    assert division_name(code) == name


@pytest.mark.parametrize(
    "prefix", ["00", "10", "16", "19", "20", "30", "47", "55", "60", "66", "70", "80", "83", "99"]
)
def test_unknown_province_prefix_is_rejected(prefix: str) -> None:
    with pytest.raises(ValidationError, match=f"province prefix {prefix} is not a province-level division"):
        validate_division(prefix + "0000")


@pytest.mark.parametrize("code", ["621300", "622800", "623100", "629000", "629901"])
def test_unknown_gansu_prefecture_is_rejected(code: str) -> None:
    with pytest.raises(
        ValidationError, match=f"prefecture {code[:4]} is not a prefecture-level division of 甘肃省"
    ):
        validate_division(code)


@pytest.mark.parametrize("code", ["620801", "620820", "620827", "620882", "620599", "640421", "640426"])
def test_unknown_county_of_a_fully_listed_prefecture_is_rejected(code: str) -> None:
    with pytest.raises(ValidationError, match=f"county {code} is not a county-level division of"):
        validate_division(code)


def test_abolished_huating_county_points_to_huating_city() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_division("620824")
    assert "620824 (华亭县) was abolished in 2018; use 620881 华亭市" in excinfo.value.detail


@pytest.mark.parametrize(
    "code",
    [
        "330327",  # 浙江 — project-code example of DOMAIN.md
        "451421",  # 广西 — project-code example of DOMAIN.md
        "110105",
        "429004",  # a county governed by its province directly (prefecture part 90)
        "640181",  # 宁夏, but not in 固原市
        "620123",  # 甘肃 prefecture 兰州市, whose counties are not listed
    ],
)
def test_code_outside_the_fully_listed_areas_passes_on_structure(code: str) -> None:
    assert validate_division(code) == code


@pytest.mark.parametrize("code", ["330327", "451421", "620123", "640100"])
def test_code_not_fully_in_the_table_has_no_name(code: str) -> None:
    assert division_name(code) is None


@pytest.mark.parametrize("code", ["620001", "330099"])
def test_county_part_under_a_province_itself_is_rejected(code: str) -> None:
    with pytest.raises(ValidationError, match="prefecture part 00 denotes the province itself"):
        validate_division(code)


@pytest.mark.parametrize("code", ["62082", "6208250", "62082A", "", "６２０８２５", "620-25"])
def test_malformed_code_is_rejected(code: str) -> None:
    with pytest.raises(ValidationError, match="must be 6 digits"):
        validate_division(code)


def test_surrounding_space_is_stripped() -> None:
    assert validate_division(" 620825 ") == "620825"


def test_error_names_the_field() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_division("999999", field="county")
    assert excinfo.value.field == "county"
    assert excinfo.value.detail.startswith("county: ")


def test_division_error_is_none_for_a_good_code_and_a_reason_for_a_bad_one() -> None:
    assert division_error("620825") is None
    assert division_error("620827") == "county 620827 is not a county-level division of 甘肃省平凉市"


@pytest.mark.parametrize("code", ["620827", "99", "abcdef"])
def test_invalid_code_has_no_name(code: str) -> None:
    assert division_name(code) is None


# Divisions in force in a year: a project code keeps its division for life.


@pytest.mark.parametrize("year", [2013, 2017, 2018])
def test_huating_county_is_in_force_up_to_its_abolition_year(year: int) -> None:
    assert validate_division("620824", year=year) == "620824"


@pytest.mark.parametrize("year", [2019, 2024, 2026])
def test_huating_county_is_refused_after_its_abolition_year(year: int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_division("620824", year=year)
    assert excinfo.value.detail == (
        f"region_code: county 620824 (华亭县) was abolished in 2018; in {year} the division is 620881 华亭市"
    )


@pytest.mark.parametrize("year", [2018, 2019, 2026])
def test_huating_city_is_in_force_from_its_founding_year(year: int) -> None:
    assert validate_division("620881", year=year) == "620881"


@pytest.mark.parametrize("year", [2013, 2017])
def test_huating_city_is_refused_before_its_founding_year(year: int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_division("620881", year=year)
    assert excinfo.value.detail == (
        f"region_code: county 620881 (华亭市) was set up in 2018; in {year} the division was 620824 华亭县"
    )


def test_both_huating_codes_are_in_force_in_the_change_year() -> None:
    assert division_error("620824", 2018) is None
    assert division_error("620881", 2018) is None


@pytest.mark.parametrize("year", [None, 2013, 2018, 2026])
def test_unchanged_county_is_in_force_every_year(year: int | None) -> None:
    assert division_error("620825", year) is None


@pytest.mark.parametrize("year", [2013, 2018])
def test_a_county_that_never_existed_is_refused_in_any_year(year: int) -> None:
    assert division_error("620827", year) == "county 620827 is not a county-level division of 甘肃省平凉市"


def test_abolished_county_keeps_its_name() -> None:
    # A 2017 code of 华亭县 is shown with the place it names.
    assert division_name("620824") == "甘肃省平凉市华亭县"
