"""USCC validation against the examples of docs/DOMAIN.md and random codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node_api.domain.uscc import (
    ALPHABET,
    CATEGORIES,
    UNCONFIRMED_CATEGORIES,
    org_code_check_character,
    uscc_category,
    uscc_check_character,
    validate_uscc,
)
from node_api.errors import ValidationError

DOMAIN_VALID = [
    "91110000600037341L",
    "121200004013590816",
    "91110108551385082Q",
    "91340600MA2PBM9HXD",
    "9115220107837757XE",
    "91620105L015101280",
    "53640000MJX173680A",
    "12320200466372674G",
]

VALID_FIRST_CHARS = "123456789ANY"
DIGITS = "0123456789"
# The 36 pairs of GB 32100 表2 as listed in the research notes (docs/project-codes.md).
TABLE_PAIRS = [
    *(
        "11",
        "12",
        "13",
        "19",
        "21",
        "29",
        "31",
        "32",
        "33",
        "34",
        "35",
        "39",
        "41",
        "49",
        "51",
        "52",
        "53",
        "59",
    ),
    *(
        "61",
        "62",
        "69",
        "71",
        "72",
        "79",
        "81",
        "89",
        "91",
        "92",
        "93",
        "A1",
        "A9",
        "N1",
        "N2",
        "N3",
        "N9",
        "Y1",
    ),
]


def _with_check_chars(first2: str, division: str = "620825", org8: str = "60003734") -> str:
    first17 = first2 + division + org8 + org_code_check_character(org8)
    return first17 + uscc_check_character(first17)


def _detail(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return excinfo.value.detail


@pytest.mark.parametrize("code", DOMAIN_VALID)
def test_domain_valid_example_is_accepted(code: str) -> None:
    assert validate_uscc(code) == code


@pytest.mark.parametrize("code", DOMAIN_VALID)
def test_domain_valid_example_passes_the_gb11714_organisation_code_check(code: str) -> None:
    # Guards the decision to enforce GB 11714 on positions 9-17: if a genuine
    # code ever failed it, enforcing it would reject real organisations.
    assert org_code_check_character(code[8:16]) == code[16]


@pytest.mark.parametrize("code", DOMAIN_VALID)
def test_check_character_of_domain_example_is_recomputed(code: str) -> None:
    assert uscc_check_character(code[:17]) == code[17]


def test_standard_example_with_wrong_check_char_is_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc("91350100M000100Y4Z")
    assert _detail(excinfo) == "owner_uscc: check character should be 3, got Z"
    assert excinfo.value.field == "owner_uscc"


def test_standard_example_with_corrected_check_char_is_accepted() -> None:
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_excluded_letter_is_rejected_with_its_position(letter: str) -> None:
    code = "9111" + letter + "000600037341L"
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert f"character '{letter}' at position 5 is not allowed (no I, O, Z, S, V)" in _detail(excinfo)


@pytest.mark.parametrize("char", ["O", "I", "-", "o"])
def test_check_position_outside_the_alphabet_is_reported_with_the_expected_character(char: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc("91110000600037341" + char)
    assert _detail(excinfo) == f"owner_uscc: check character should be L, got {char.upper()}"


@pytest.mark.parametrize("char", ["-", " ", "é", "９"])
def test_character_outside_the_alphabet_is_rejected(char: str) -> None:
    code = "91110000600037" + char + "41L"
    with pytest.raises(ValidationError, match=r"at position 15 is not allowed \(only digits"):
        validate_uscc(code)


@pytest.mark.parametrize(
    ("code", "length"),
    [("91110000600037341", 17), ("91110000600037341LL", 19), ("", 0)],
)
def test_wrong_length_is_rejected(code: str, length: int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert _detail(excinfo) == f"owner_uscc: must be 18 characters, got {length}"


def test_lower_case_and_surrounding_space_are_normalised() -> None:
    assert validate_uscc("  91340600ma2pbm9hxd\n") == "91340600MA2PBM9HXD"


def test_field_name_is_carried_into_the_error() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc("91110000600037341", field="authority_uscc")
    assert excinfo.value.field == "authority_uscc"
    assert _detail(excinfo).startswith("authority_uscc: ")


def test_non_string_is_rejected() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        validate_uscc(91110000600037341)  # type: ignore[arg-type]


@pytest.mark.parametrize("first", ["0", "B", "M", "X"])
def test_invalid_registration_authority_is_rejected(first: str) -> None:
    first17 = first + "1110000600037341"
    code = first17 + uscc_check_character(first17)
    with pytest.raises(
        ValidationError, match=r"registration authority \(position 1\) must be 1-9, A, N or Y"
    ):
        validate_uscc(code)


def test_letters_in_positions_1_and_2_are_not_mistaken_for_a_division_code() -> None:
    # Public validators that demand 8 leading digits would reject this valid code.
    code = _with_check_chars("N2")
    assert validate_uscc(code) == code


def test_the_category_table_is_the_one_of_the_research_notes() -> None:
    pairs = sorted(authority + category for authority, (_, names) in CATEGORIES.items() for category in names)
    assert pairs == sorted(TABLE_PAIRS)
    assert len(pairs) == 36
    assert set(CATEGORIES) == set(VALID_FIRST_CHARS)


@pytest.mark.parametrize("pair", TABLE_PAIRS)
def test_every_authority_and_category_of_the_table_is_accepted(pair: str) -> None:
    code = _with_check_chars(pair)
    assert validate_uscc(code) == code
    assert uscc_category(code)[2] is True


def test_every_other_category_of_a_known_authority_is_refused_naming_the_authority() -> None:
    refused = 0
    for authority in VALID_FIRST_CHARS:
        for category in ALPHABET:
            pair = authority + category
            if pair in TABLE_PAIRS or pair in UNCONFIRMED_CATEGORIES:
                continue
            with pytest.raises(ValidationError) as excinfo:
                validate_uscc(_with_check_chars(pair))
            assert (
                f"organisation category (position 2) {category!r} is not one that registration authority "
                in (_detail(excinfo))
            )
            assert CATEGORIES[authority][0] in _detail(excinfo)
            refused += 1
    assert refused == 12 * 31 - 36 - len(UNCONFIRMED_CATEGORIES)


def test_industry_and_commerce_registers_enterprises_not_category_4() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(_with_check_chars("94"))
    assert _detail(excinfo) == (
        "owner_uscc: organisation category (position 2) '4' is not one that registration authority 9 (工商) "
        "registers: 1 企业, 2 个体工商户, 3 农民专业合作社"
    )


@pytest.mark.parametrize("pair", ["99", "54"])
def test_unconfirmed_pairs_are_accepted_and_said_to_be_unconfirmed(pair: str) -> None:
    code = _with_check_chars(pair)
    assert validate_uscc(code) == code
    authority, category, confirmed = uscc_category(code)
    assert confirmed is False
    assert authority == CATEGORIES[pair[0]][0]
    assert category == UNCONFIRMED_CATEGORIES[pair]


@pytest.mark.parametrize(
    ("code", "authority", "category"),
    [("91110000600037341L", "工商", "企业"), ("121200004013590816", "机构编制", "事业单位"),
     ("53640000MJX173680A", "民政", "基金会")],
)  # fmt: skip
def test_domain_examples_name_their_authority_and_category(code: str, authority: str, category: str) -> None:
    assert uscc_category(code) == (authority, category, True)


@pytest.mark.parametrize("position", [3, 5, 8])
def test_letter_in_division_code_is_rejected_even_with_matching_check_chars(position: int) -> None:
    division = "620825"[: position - 3] + "A" + "620825"[position - 2 :]
    first17 = "91" + division + "60003734" + org_code_check_character("60003734")
    code = first17 + uscc_check_character(first17)
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert _detail(excinfo) == (
        f"owner_uscc: division code (positions 3-8) must be digits, got 'A' at position {position}"
    )


def test_bad_organisation_code_is_rejected_even_with_matching_overall_check_char() -> None:
    # 600037341 is a valid organisation code; 600037342 is not.
    first17 = "911100006000373" + "42"
    code = first17 + uscc_check_character(first17)
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert (
        _detail(excinfo)
        == "owner_uscc: organisation code (positions 9-17) check character should be 1, got 2"
    )


@pytest.mark.parametrize(
    ("first8", "expected"),
    [("60003734", "1"), ("07837757", "X"), ("MJX17368", "0"), ("L0151012", "8")],
)
def test_org_code_check_character_maps_10_to_x_and_11_to_0(first8: str, expected: str) -> None:
    assert org_code_check_character(first8) == expected


def test_uscc_check_character_refuses_a_prefix_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="need exactly 17 characters, got 16"):
        uscc_check_character("9111000060003734")


def test_uscc_check_character_refuses_characters_outside_the_alphabet() -> None:
    with pytest.raises(ValueError, match="not in the USCC alphabet"):
        uscc_check_character("9111000060003734I")


# Random prefixes that satisfy every rule except the final check character, so
# that appending uscc_check_character must be the only thing making them valid.
@st.composite
def valid_first17(draw: st.DrawFn) -> str:
    first, category = draw(st.sampled_from(TABLE_PAIRS + list(UNCONFIRMED_CATEGORIES)))
    division = draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
    org8 = draw(st.text(alphabet=ALPHABET, min_size=8, max_size=8))
    return first + category + division + org8 + org_code_check_character(org8)


@given(valid_first17())
def test_appending_the_computed_check_character_always_validates(first17: str) -> None:
    code = first17 + uscc_check_character(first17)
    assert validate_uscc(code) == code


@given(
    valid_first17(),
    st.integers(min_value=0, max_value=17),
    st.integers(min_value=1, max_value=len(ALPHABET) - 1),
)
def test_changing_any_single_character_of_a_valid_code_is_rejected(
    first17: str, position: int, shift: int
) -> None:
    code = first17 + uscc_check_character(first17)
    replacement = ALPHABET[(ALPHABET.index(code[position]) + shift) % len(ALPHABET)]
    mutated = code[:position] + replacement + code[position + 1 :]
    assert mutated != code
    with pytest.raises(ValidationError):
        validate_uscc(mutated)


@pytest.mark.parametrize("code", DOMAIN_VALID)
def test_every_single_substitution_of_a_domain_example_is_rejected(code: str) -> None:
    for position in range(len(code)):
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            mutated = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(ValidationError):
                validate_uscc(mutated)
