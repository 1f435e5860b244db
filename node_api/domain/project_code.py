"""Project code (项目代码) parsing: is a code well-formed, and what do its segments say.

Two shapes are accepted, both 24 characters in 5 hyphen-separated segments:

* classic, as issued by the national online approval platform and printed on
  approval and filing certificates: ``YYYY-DDDDDD-II-TT-NNNNNN`` — year, division
  code, industry code, project type, six-digit serial number. The type must be
  01 审批 (approval), 02 核准 (ratification) or 03 备案 (filing).
* GB/T 40058-2021: ``YYYY-DDDDDD-II-TT-RRRRRC`` — the same first four segments,
  then a 5-character random code and 1 check character (upper-case letters and
  digits). The check algorithm is not confirmed, so only the structure is
  validated and the check character is NOT verified. A type segment other than
  01/02/03 is accepted here and reported as ``"unknown"``.

A last segment of six digits is read as classic. A GB/T 40058 code whose random
part and check character happen to be all digits is therefore parsed as classic;
that only matters for its type segment, which must then be 01-03.

In both shapes the year must lie in 1990..(current year + 1) and the division
segment must pass :func:`node_api.domain.divisions.validate_division`. The
industry segment is checked for two digits only.

A code that parses is well-formed: this module never establishes that a code
was actually assigned to a project.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from node_api.domain.divisions import division_error
from node_api.errors import ValidationError

MIN_YEAR = 1990

_TYPE_BY_CODE = {"01": "approval", "02": "ratification", "03": "filing"}
_CODE_BY_TYPE = {project_type: code for code, project_type in _TYPE_BY_CODE.items()}

_CLASSIC = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$", re.ASCII)
_GBT40058 = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-[0-9A-Z]{6}$", re.ASCII)

_SHAPE_HINT = "YYYY-DDDDDD-II-TT-NNNNNN (or GB/T 40058-2021: YYYY-DDDDDD-II-TT-RRRRRC)"
_SEGMENT_NAMES = ("year", "division", "industry", "project type", "serial/random")
_SEGMENT_LENGTHS = (4, 6, 2, 2, 6)


@dataclass(frozen=True)
class ProjectCode:
    """A well-formed project code split into its segments."""

    code: str
    year: int
    division: str
    industry: str
    project_type: str  # "approval" | "ratification" | "filing" | "unknown"
    standard: str  # "classic" | "gbt40058"


def project_type_code(project_type: str) -> str:
    """The two-digit type segment for approval (01), ratification (02) or filing (03)."""
    try:
        return _CODE_BY_TYPE[project_type]
    except KeyError:
        raise ValueError(
            f"unknown project type {project_type!r}; expected one of {', '.join(_CODE_BY_TYPE)}"
        ) from None


def _shape_problem(code: str) -> str:
    """Explain which part of a code that matches neither shape is off."""
    segments = code.split("-")
    if len(segments) != len(_SEGMENT_LENGTHS):
        return f"must have 5 hyphen-separated segments like {_SHAPE_HINT}, got {len(segments)}"
    for name, length, segment in zip(_SEGMENT_NAMES, _SEGMENT_LENGTHS, segments, strict=True):
        if len(segment) != length:
            return f"{name} segment must be {length} characters, got {segment!r}"
        if name != "serial/random" and not re.fullmatch(r"\d+", segment, re.ASCII):
            return f"{name} segment must be digits, got {segment!r}"
    return f"last segment must be 6 digits or 6 upper-case letters/digits, got {segments[-1]!r}"


def parse_project_code(value: str, field: str = "code") -> ProjectCode:
    """Parse a well-formed project code (upper-cased, stripped) or raise ValidationError."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}")
    code = value.strip().upper()
    if _CLASSIC.fullmatch(code):
        standard = "classic"
    elif _GBT40058.fullmatch(code):
        standard = "gbt40058"
    else:
        raise ValidationError(field, _shape_problem(code))

    year_text, division, industry, type_segment, _ = code.split("-")
    year = int(year_text)
    # One year of slack: around New Year the issuing platform's clock and ours may disagree.
    latest = datetime.date.today().year + 1
    if not MIN_YEAR <= year <= latest:
        raise ValidationError(field, f"year {year} is outside {MIN_YEAR}..{latest}")

    problem = division_error(division)
    if problem is not None:
        raise ValidationError(field, f"division segment: {problem}")

    project_type = _TYPE_BY_CODE.get(type_segment)
    if project_type is None:
        if standard == "classic":
            raise ValidationError(
                field, f"project type segment must be 01 (审批), 02 (核准) or 03 (备案), got {type_segment}"
            )
        project_type = "unknown"

    return ProjectCode(
        code=code,
        year=year,
        division=division,
        industry=industry,
        project_type=project_type,
        standard=standard,
    )
