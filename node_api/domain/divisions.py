"""Administrative division codes (行政区划代码, GB/T 2260) for the project's region.

A code has six digits: province (2) + prefecture (2) + county (2). ``00`` in the
county part means the prefecture itself; ``0000`` after the province means the
province itself.

The table in ``divisions.json`` is shipped with the package (no download, no
dependency) and is deliberately partial. What is checked:

* Province level — completely: all 34 province-level divisions are listed.
* Prefecture level — completely for 甘肃省 (6201-6212, 6229, 6230); for every other
  province only structurally (two digits).
* County level — completely for 天水市 (6205), 平凉市 (6208, which holds 庄浪县) and
  固原市 in 宁夏 (6404); elsewhere only structurally (two digits).

So ``330327`` passes on its province (浙江省) alone, while ``620827`` is rejected
because 平凉市 has no such county. A code of a county abolished or renamed since
(e.g. 620824 华亭县) is rejected with a pointer to its successor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from node_api.errors import ValidationError

_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class _Retired:
    name: str
    replaced_by: str
    year: int


@dataclass(frozen=True)
class _DivisionTable:
    provinces: dict[str, str]
    prefectures: dict[str, str]
    counties: dict[str, str]
    complete_prefectures_of: frozenset[str]
    complete_counties_of: frozenset[str]
    retired: dict[str, _Retired]


def _str_map(raw: Any, key: str, width: int) -> dict[str, str]:
    entries = raw[key]
    if not isinstance(entries, dict):
        raise TypeError(f"divisions.json: {key} must be an object")
    for code, name in entries.items():
        if len(code) != width or not set(code) <= _DIGITS or not isinstance(name, str) or not name:
            raise ValueError(f"divisions.json: bad {key} entry {code!r}: {name!r}")
    return dict(entries)


def _load_table() -> _DivisionTable:
    # The table is checked on import so a broken data file fails the first test
    # run, not the first request that happens to touch a bad entry.
    text = resources.files("node_api.domain").joinpath("divisions.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    table = _DivisionTable(
        provinces=_str_map(raw, "provinces", 2),
        prefectures=_str_map(raw, "prefectures", 4),
        counties=_str_map(raw, "counties", 6),
        complete_prefectures_of=frozenset(raw["complete_prefectures_of"]),
        complete_counties_of=frozenset(raw["complete_counties_of"]),
        retired={
            code: _Retired(str(entry["name"]), str(entry["replaced_by"]), int(entry["year"]))
            for code, entry in raw["retired"].items()
        },
    )
    for prefecture in table.prefectures:
        if prefecture[:2] not in table.provinces:
            raise ValueError(f"divisions.json: prefecture {prefecture} has no province")
    for county in table.counties:
        if county[:4] not in table.prefectures:
            raise ValueError(f"divisions.json: county {county} has no prefecture")
    return table


_TABLE = _load_table()


def division_error(code: str) -> str | None:
    """Why ``code`` is not an acceptable division code, or None when it is."""
    if len(code) != 6 or not set(code) <= _DIGITS:
        return f"must be 6 digits, got {code!r}"
    province, prefecture, county = code[:2], code[2:4], code[4:]

    province_name = _TABLE.provinces.get(province)
    if province_name is None:
        return f"province prefix {province} is not a province-level division"
    if prefecture == "00":
        if county != "00":
            # GB/T 2260 has no county directly under a "00" prefecture part: counties
            # governed by a province directly use a 90 prefecture part instead.
            return f"{code}: prefecture part 00 denotes the province itself, so the code must end in 0000"
        return None

    prefecture_code = code[:4]
    prefecture_name = _TABLE.prefectures.get(prefecture_code)
    if province in _TABLE.complete_prefectures_of and prefecture_name is None:
        return f"prefecture {prefecture_code} is not a prefecture-level division of {province_name}"
    if county == "00":
        return None

    if prefecture_code in _TABLE.complete_counties_of and code not in _TABLE.counties:
        where = f"{province_name}{prefecture_name or ''}"
        retired = _TABLE.retired.get(code)
        if retired is not None:
            successor = _TABLE.counties.get(retired.replaced_by, "")
            return (
                f"county {code} ({retired.name}) was abolished in {retired.year}; "
                f"use {retired.replaced_by} {successor}".rstrip()
            )
        return f"county {code} is not a county-level division of {where}"
    return None


def validate_division(code: str, field: str = "region_code") -> str:
    """Return the stripped six-digit code, or raise ValidationError saying what is wrong."""
    if not isinstance(code, str):
        raise ValidationError(field, f"must be a string, got {type(code).__name__}")
    normalised = code.strip()
    problem = division_error(normalised)
    if problem is not None:
        raise ValidationError(field, problem)
    return normalised


def division_name(code: str) -> str | None:
    """The full name (e.g. 甘肃省平凉市庄浪县 for 620825), or None unless every level is in the table."""
    if division_error(code) is not None:
        return None
    name = _TABLE.provinces[code[:2]]
    if code[2:] == "0000":
        return name
    prefecture_name = _TABLE.prefectures.get(code[:4])
    if prefecture_name is None:
        return None
    if code[4:] == "00":
        return name + prefecture_name
    county_name = _TABLE.counties.get(code)
    if county_name is None:
        return None
    return name + prefecture_name + county_name
