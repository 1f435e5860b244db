"""Project code (项目代码) parsing: is a code well-formed, and what do its segments say.

Both shapes in use are 24 characters, five hyphen-separated segments
``NNNN-NNNNNN-NN-NN-XXXXXX``, and each is read by its own rules (docs/project-codes.md
says which rule rests on what):

* classic — the national online approval platform's code, on approval and filing
  certificates before the switch to GB/T 40058: year, division code, industry code,
  project type (01 审批 approval, 02 核准 ratification, 03 备案 filing) and a
  six-digit serial number.
* gbt40058 — GB/T 40058-2021 《全国固定资产投资项目代码编码规范》 (switch-over by
  发改投资〔2020〕1439号 from 2020-11): 时间代码 (read as YYMM), 地区代码, 中央业务指导部门代码,
  项目类型代码 (the standard's own types — NOT 审批/核准/备案), then 随机码 and 校验码.
  The department and type tables and the check algorithm could not be confirmed:
  those segments are checked for their shape only and the check character is never
  verified.

The shape is told by the first segment (an inferred rule): when its last two digits
are 01-12 it is a YYMM time code (gbt40058), when they are 13-99 it is a year
(classic). Classic years 2001-2012 would be ambiguous, and none exist (the platform
began about 2015).

In both shapes the division segment must be a division in force in the code's year
(:func:`node_api.domain.divisions.division_error`): a code is a project's identity
for life, so ``2017-620824-…`` of 华亭县 (abolished 2018) stays well-formed.

A code that parses is **well-formed**, and that is all this module says of it:
nothing here establishes that a code was actually assigned to a project.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from node_api.domain.divisions import division_error, division_name
from node_api.errors import ValidationError

Shape = Literal["classic", "gbt40058"]
Basis = Literal["confirmed", "observed", "inferred", "unconfirmed"]
"""How sure the meaning given for a segment is (docs/project-codes.md)."""

CLASSIC_FIRST_YEAR = 2013
"""Earliest year of a classic code: lower years (2001-2012) read as YYMM time codes instead."""
GBT40058_FIRST = (2020, 11)
"""发改投资〔2020〕1439号 took effect on 2020-11-01: no GB/T 40058-shaped code is older."""

TYPE_BY_SEGMENT = {"01": "approval", "02": "ratification", "03": "filing"}
"""The classic shape's fourth segment. 01 and 03 are confirmed by real certificates; 02 is likely."""
_TYPE_ZH = {"approval": "审批", "ratification": "核准", "filing": "备案"}

DECLARED_FIELDS = ("region_code", "industry_code", "project_type")
"""The registration fields a code can fix: division (both shapes), industry and type (classic only)."""

_STRUCTURE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-[0-9A-Z]{6}$", re.ASCII)
_DIGITS6 = re.compile(r"^\d{6}$", re.ASCII)
_SHAPE_HINT = "YYYY-DDDDDD-II-TT-NNNNNN, or by GB/T 40058-2021 YYMM-DDDDDD-BB-TT-RRRRRC"
_SEGMENT_NAMES = ("time/year", "division", "third", "fourth", "last")
_SEGMENT_LENGTHS = (4, 6, 2, 2, 6)


@dataclass(frozen=True)
class Segment:
    """One segment of a parsed code, with its meaning in the code's shape."""

    position: int
    name: str  # e.g. "industry" (classic) or "department" (gbt40058)
    name_zh: str
    value: str
    meaning: str
    basis: Basis
    reading: str | None = None  # what this value says, where that is known

    def as_dict(self) -> dict[str, Any]:
        """The segment as the API shows it."""
        return {
            "position": self.position,
            "name": self.name,
            "name_zh": self.name_zh,
            "value": self.value,
            "meaning": self.meaning,
            "basis": self.basis,
            "reading": self.reading,
        }


@dataclass(frozen=True)
class ProjectCode:
    """A well-formed project code, read by the rules of its shape."""

    code: str
    shape: Shape
    year: int
    month: int | None  # gbt40058 only: the month of its YYMM time code
    division: str
    industry: str | None  # classic only: the industry segment
    project_type: str | None  # classic only: approval | ratification | filing
    department: str | None  # gbt40058 only: 中央业务指导部门代码
    type_segment: str  # the fourth segment as written
    segments: tuple[Segment, ...]

    def fixed(self, field: str) -> str | None:
        """The value this code fixes for a registration field of DECLARED_FIELDS, or None if it says nothing."""
        if field == "region_code":
            return self.division
        if field == "industry_code":
            return self.industry
        if field == "project_type":
            return self.project_type
        raise ValueError(f"a project code fixes none of {field!r}")

    def as_dict(self) -> dict[str, Any]:
        """The parsed code as the API shows it."""
        return {
            "code": self.code,
            "well_formed": True,
            "shape": self.shape,
            "standard": "GB/T 40058-2021"
            if self.shape == "gbt40058"
            else "national online approval platform",
            "year": self.year,
            "month": self.month,
            "division": self.division,
            "division_name": division_name(self.division),
            "industry": self.industry,
            "project_type": self.project_type,
            "segments": [s.as_dict() for s in self.segments],
            "note": "well-formed: shape, dates and division are checked; no check character is verified, "
            "so this does not establish that the code was assigned to a project",
        }


def _structure_problem(code: str) -> str:
    """Explain which segment of a code that has the wrong structure is off."""
    segments = code.split("-")
    if len(segments) != len(_SEGMENT_LENGTHS):
        return f"must have 5 hyphen-separated segments like {_SHAPE_HINT}, got {len(segments)}"
    for name, length, segment in zip(_SEGMENT_NAMES, _SEGMENT_LENGTHS, segments, strict=True):
        if len(segment) != length:
            return f"{name} segment must be {length} characters, got {segment!r}"
        if name != "last" and not re.fullmatch(r"\d+", segment, re.ASCII):
            return f"{name} segment must be digits, got {segment!r}"
    return f"last segment must be 6 digits or upper-case letters, got {segments[-1]!r}"


def _shape_of(first: str, latest: int) -> tuple[Shape, int, int | None] | str:
    """(shape, year, month) of a first segment of 4 digits, or why it is neither a year nor YYMM."""
    tail = int(first[2:])
    if 1 <= tail <= 12:
        year, month = 2000 + int(first[:2]), tail
        if (year, month) < GBT40058_FIRST:
            return (
                f"time code {first}: as GB/T 40058 YYMM it is {year}-{month:02d}, before that shape came into "
                f"use ({GBT40058_FIRST[0]}-{GBT40058_FIRST[1]:02d}); as a year it is before {CLASSIC_FIRST_YEAR}"
            )
        if year > latest:
            return f"time code {first} reads as YYMM {year}-{month:02d}, after {latest}"
        return "gbt40058", year, month
    year = int(first)
    if not CLASSIC_FIRST_YEAR <= year <= latest:
        return f"year {year} is outside {CLASSIC_FIRST_YEAR}..{latest}"
    return "classic", year, None


def _division_segment(value: str, year: int, name_zh: str) -> Segment:
    return Segment(2, "division", name_zh, value, f"administrative division (GB/T 2260) in force in {year}",
                   "confirmed", division_name(value))  # fmt: skip


def _classic(code: str, year: int, field: str) -> ProjectCode:
    first, division, industry, type_segment, serial = code.split("-")
    if not _DIGITS6.match(serial):
        raise ValidationError(
            field, f"serial number (last segment) of a year-dated code must be 6 digits, got {serial}"
        )
    project_type = TYPE_BY_SEGMENT.get(type_segment)
    if project_type is None:
        raise ValidationError(
            field, f"project type segment must be 01 (审批), 02 (核准) or 03 (备案), got {type_segment}"
        )
    segments = (
        Segment(1, "year", "年份", first, "year the code was assigned", "observed", first),
        _division_segment(division, year, "行政区划代码"),
        Segment(3, "industry", "行业代码", industry, "industry (matches GB/T 4754 divisions)", "inferred"),
        Segment(4, "project_type", "项目类型", type_segment, "01 审批 approval, 02 核准 ratification, 03 备案 filing",
                "inferred" if type_segment == "02" else "confirmed", f"{_TYPE_ZH[project_type]} {project_type}"),
        Segment(5, "serial", "流水号", serial, "serial number", "observed"),
    )  # fmt: skip
    return ProjectCode(
        code, "classic", year, None, division, industry, project_type, None, type_segment, segments
    )


def _gbt40058(code: str, year: int, month: int) -> ProjectCode:
    first, division, department, type_segment, last = code.split("-")
    segments = (
        Segment(1, "time_code", "时间代码 (4.2)", first, "year and month the code was assigned (YYMM)",
                "inferred", f"{year}-{month:02d}"),
        _division_segment(division, year, "地区代码 (4.3)"),
        Segment(3, "department", "中央业务指导部门代码 (4.4)", department,
                "central department giving business guidance; its code table is not confirmed", "unconfirmed"),
        Segment(4, "project_type_code", "项目类型代码 (4.5)", type_segment,
                "project type by GB/T 40058 (涉密; 基本建设, 技术改造, 单纯购置, 信息化, 其他), not 审批/核准/备案; "
                "its code table is not confirmed", "unconfirmed", "未确认 unconfirmed"),
        Segment(5, "random_and_check", "随机码 (4.6) + 校验码 (4.7)", last,
                "random code and check character; the check algorithm is not confirmed, so it is not verified",
                "unconfirmed"),
    )  # fmt: skip
    return ProjectCode(
        code, "gbt40058", year, month, division, None, None, department, type_segment, segments
    )


def parse_project_code(value: str, field: str = "code", today: datetime.date | None = None) -> ProjectCode:
    """Parse a well-formed project code (upper-cased, stripped) or raise ValidationError naming ``field``."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}")
    # One year of slack: around New Year the issuing platform's clock and ours may disagree.
    latest = (today or datetime.date.today()).year + 1
    return _parse(value.strip().upper(), field, latest)


@functools.lru_cache(maxsize=4096)
def _parse(code: str, field: str, latest: int) -> ProjectCode:
    # Cached: one registration reads its code once per field it is checked against.
    if not _STRUCTURE.fullmatch(code):
        raise ValidationError(field, _structure_problem(code))
    shape = _shape_of(code[:4], latest)
    if isinstance(shape, str):
        raise ValidationError(field, shape)
    kind, year, month = shape

    problem = division_error(code[5:11], year)
    if problem is not None:
        raise ValidationError(field, f"division segment: {problem}")
    if kind == "gbt40058":
        assert month is not None
        return _gbt40058(code, year, month)
    return _classic(code, year, field)


def reconcile(parsed: ProjectCode, field: str, declared: object) -> object:
    """A registration's ``field`` checked against (or, when omitted, taken from) the code.

    ``declared`` is the raw value sent (None when omitted). Raises ValidationError naming
    ``field`` when it disagrees with the code, or when it is omitted and the code's shape
    does not carry it.
    """
    fixed = parsed.fixed(field)
    if declared is None:
        if fixed is None:
            raise ValidationError(
                field,
                "required with a GB/T 40058-2021 code: its third and fourth segments are the "
                "中央业务指导部门代码 and the standard's own 项目类型代码, not the industry and 审批/核准/备案",
            )
        return fixed
    if fixed is not None and isinstance(declared, str) and declared.strip() != fixed:
        segment = {"region_code": "division", "industry_code": "industry", "project_type": "type"}[field]
        says = fixed
        if field == "project_type":
            says = f"{parsed.type_segment}, i.e. {fixed} ({_TYPE_ZH[fixed]})"
        raise ValidationError(
            field,
            f"{declared.strip()!r} does not agree with project code {parsed.code}, whose {segment} segment is {says}",
        )
    return declared


def try_parse(code: str) -> ProjectCode | None:
    """The parsed code, or None when it is not well-formed (read paths use this for codes already on chain)."""
    try:
        return parse_project_code(code)
    except ValidationError:
        return None


def project_facts(code: str, declared: Mapping[str, Any]) -> dict[str, Any]:
    """Region, industry and type of a registered project, from one source.

    The code wins wherever its shape defines a value (the division always; industry and
    type in the classic shape); the declared fields fill in the rest. Registrations made
    since these rules agree with their code anyway; for older ones the code decides.
    """
    parsed = try_parse(code)
    facts = {name: declared.get(name) for name in DECLARED_FIELDS}
    if parsed is not None:
        for name in DECLARED_FIELDS:
            fixed = parsed.fixed(name)
            if fixed is not None:
                facts[name] = fixed
    return facts
