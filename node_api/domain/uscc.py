"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015) validation.

Layout of the 18 characters (1-based positions, as the standard numbers them):

* 1      registration authority (登记管理部门代码): 1-9, A, N or Y
* 2      organisation category (机构类别代码), which must be one the authority
         registers (:data:`CATEGORIES`)
* 3-8    administrative division code of the registering authority (digits)
* 9-17   organisation code (主体标识码), itself a GB 11714 code whose 9th
         character (position 17 here) is a check character
* 18     check character over positions 1-17

Both check characters are enforced. The GB 11714 check of positions 9-17 holds for
every valid example in docs/DOMAIN.md (verified in tests/unit/test_uscc.py), so it
rejects real typos without rejecting any code we know to be genuine.

The authority/category table (GB 32100-2015 as amended, the table in use today) is
confirmed by several independent public sources; two pairs beyond it are accepted
although unconfirmed, because refusing a real organisation is worse than admitting
an odd pair: ``99`` (工商 其他: one public tool has it, the others list only 91-93)
and ``54`` (村民/居民委员会, 基层群众性自治组织: they hold USCCs, but their prefix could
not be confirmed). :func:`uscc_category` says which pairs those are.

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

# GB 32100-2015 表2 as in use today: registration authority -> (name, {category: name}).
CATEGORIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": ("司法行政", {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构",
                    "5": "仲裁委员会", "9": "其他"}),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": ("旅游", {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"}),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "不再具体划分机构类别"}),
}  # fmt: skip
"""Registration authority (position 1) -> its name and the categories (position 2) it registers."""

UNCONFIRMED_CATEGORIES: dict[str, str] = {
    "99": "工商 其他 (one public tool only)",
    "54": "基层群众性自治组织 村民/居民委员会 (prefix recalled, not confirmed)",
}
"""Pairs outside the table that are accepted, not refused: see the module docstring."""

_REGISTRATION_AUTHORITIES = frozenset(CATEGORIES)
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


def _category_problem(authority: str, category: str) -> str | None:
    authority_name, categories = CATEGORIES[authority]
    if category in categories or authority + category in UNCONFIRMED_CATEGORIES:
        return None
    allowed = ", ".join(f"{c} {n}" for c, n in categories.items())
    return (
        f"organisation category (position 2) {category!r} is not one that registration authority "
        f"{authority} ({authority_name}) registers: {allowed}"
    )


def uscc_category(code: str) -> tuple[str, str, bool]:
    """(authority name, category name, confirmed) of a valid USCC; confirmed is False for UNCONFIRMED_CATEGORIES."""
    authority_name, categories = CATEGORIES[code[0]]
    if code[1] in categories:
        return authority_name, categories[code[1]], True
    return authority_name, UNCONFIRMED_CATEGORIES[code[:2]], False


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

    category = _category_problem(code[0], code[1])
    if category is not None:
        raise ValidationError(field, category)

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
