"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015) validation.

Layout of the 18 characters (1-based positions, as the standard numbers them):

* 1      registration authority (登记管理部门代码): 1-9, A, N or Y
* 2      organisation category (机构类别代码)
* 3-8    administrative division code of the registering authority (digits)
* 9-17   organisation code (主体标识码), itself a GB 11714 code whose 9th
         character (position 17 here) is a check character
* 18     check character over positions 1-17

Both check characters are enforced. The GB 11714 check of positions 9-17 holds for
every valid example in docs/DOMAIN.md (verified in tests/unit/test_uscc.py), so it
rejects real typos without rejecting any code we know to be genuine.

The division code (positions 3-8) is checked for shape only, not against the
division table: it records where the code was issued, and codes issued before a
division was renamed or abolished (e.g. 620824 华亭县, now 620881 华亭市) keep
their old division code for life.
"""

from __future__ import annotations

from node_api.errors import ValidationError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015 in value order (no I, O, Z, S, V)."""

LENGTH = 18

_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(LENGTH - 1))
_EXCLUDED_LETTERS = frozenset("IOZSV")
_REGISTRATION_AUTHORITIES = frozenset("123456789ANY")
_DIGITS = frozenset("0123456789")

# GB 11714 values 0-9A-Z as 0-35; its alphabet is wider than GB 32100's, so the
# organisation code inside a USCC is only ever a subset of it.
_ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character (position 18) for the first 17 characters."""
    if len(first17) != LENGTH - 1:
        raise ValueError(f"need exactly 17 characters, got {len(first17)}")
    unknown = [char for char in first17 if char not in _VALUES]
    if unknown:
        raise ValueError(f"character {unknown[0]!r} is not in the USCC alphabet")
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_code_check_character(first8: str) -> str:
    """The GB 11714 check character for the first 8 characters of an organisation code."""
    if len(first8) != len(_ORG_CODE_WEIGHTS):
        raise ValueError(f"need exactly 8 characters, got {len(first8)}")
    bad = [char for char in first8 if char not in _ORG_CODE_CHARS]
    if bad:
        raise ValueError(f"character {bad[0]!r} is not allowed in a GB 11714 organisation code")
    total = sum(
        _ORG_CODE_CHARS.index(char) * weight for char, weight in zip(first8, _ORG_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def validate_uscc(value: str, field: str = "owner_uscc") -> str:
    """Return the code upper-cased and stripped, or raise ValidationError saying what is wrong."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}")
    code = value.strip().upper()
    if len(code) != LENGTH:
        raise ValidationError(field, f"must be {LENGTH} characters, got {len(code)}")

    # Position 18 is left to the check-character comparison below, so that a wrong
    # check character outside the alphabet (the standard's own printed example ends
    # in Z) is reported with the character it should have been.
    for position, char in enumerate(code[:17], start=1):
        if char in _EXCLUDED_LETTERS:
            raise ValidationError(
                field, f"character {char!r} at position {position} is not allowed (no I, O, Z, S, V)"
            )
        if char not in _VALUES:
            raise ValidationError(
                field,
                f"character {char!r} at position {position} is not allowed "
                f"(only digits and the letters {ALPHABET[10:]})",
            )

    if code[0] not in _REGISTRATION_AUTHORITIES:
        raise ValidationError(
            field, f"registration authority (position 1) must be 1-9, A, N or Y, got {code[0]!r}"
        )

    for position in range(3, 9):
        char = code[position - 1]
        if char not in _DIGITS:
            raise ValidationError(
                field, f"division code (positions 3-8) must be digits, got {char!r} at position {position}"
            )

    # The organisation-code check runs before the overall one: a typo in positions
    # 9-17 then gets a message pointing into the organisation code, not at position 18.
    org_expected = org_code_check_character(code[8:16])
    if code[16] != org_expected:
        raise ValidationError(
            field,
            f"organisation code (positions 9-17) check character should be {org_expected}, got {code[16]}",
        )

    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(field, f"check character should be {expected}, got {code[17]}")
    return code
