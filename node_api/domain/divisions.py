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
because 平凉市 has no such county.

Divisions change, and a project code keeps the division it was given for life, so a
code is checked against the divisions **in force in a given year**. The ``changes``
of ``divisions.json`` list the county-level changes inside the fully listed
prefectures (each with its sources); today that is one: 620824 华亭县 was abolished
in 2018 and 620881 华亭市 set up in its place. In the change year both codes are
accepted (codes of both kinds were issued that year); before it only the old one,
after it only the new one. Without a year, "in force" means today, and an abolished
code is rejected with a pointer to its successor.
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
    year: int  # the last year the code was in force (the change year, when both were)


@dataclass(frozen=True)
class _Established:
    replaces: str
    year: int  # the first year the code was in force


@dataclass(frozen=True)
class _DivisionTable:
    provinces: dict[str, str]
    prefectures: dict[str, str]
    counties: dict[str, str]
    complete_prefectures_of: frozenset[str]
    complete_counties_of: frozenset[str]
    retired: dict[str, _Retired]
    established: dict[str, _Established]


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
            str(change["abolished"]): _Retired(
                str(change["abolished_name"]), str(change["established"]), int(change["year"])
            )
            for change in raw["changes"]
        },
        established={
            str(change["established"]): _Established(str(change["abolished"]), int(change["year"]))
            for change in raw["changes"]
        },
    )
    for change in raw["changes"]:
        if not change.get("sources"):
            raise ValueError(f"divisions.json: change {change!r} cites no source")
    for code in table.retired:
        if code in table.counties:
            raise ValueError(f"divisions.json: abolished county {code} is still listed as current")
        if code[:4] not in table.complete_counties_of:
            raise ValueError(f"divisions.json: change of {code} outside a fully listed prefecture")
    for code in table.established:
        if code not in table.counties:
            raise ValueError(f"divisions.json: established county {code} is not listed")
    for prefecture in table.prefectures:
        if prefecture[:2] not in table.provinces:
            raise ValueError(f"divisions.json: prefecture {prefecture} has no province")
    for county in table.counties:
        if county[:4] not in table.prefectures:
            raise ValueError(f"divisions.json: county {county} has no prefecture")
    return table


_TABLE = _load_table()


def _county_problem(code: str, year: int | None) -> str | None:
    """Why county ``code`` of a fully listed prefecture was not in force in ``year`` (None: today)."""
    established = _TABLE.established.get(code)
    if code in _TABLE.counties:
        if year is not None and established is not None and year < established.year:
            old = _TABLE.retired[established.replaces]
            return (
                f"county {code} ({_TABLE.counties[code]}) was set up in {established.year}; "
                f"in {year} the division was {established.replaces} {old.name}"
            )
        return None
    retired = _TABLE.retired[code]  # the caller has rejected a code listed nowhere
    if year is not None and year <= retired.year:
        return None
    successor = f"{retired.replaced_by} {_TABLE.counties[retired.replaced_by]}"
    if year is None:
        return f"county {code} ({retired.name}) was abolished in {retired.year}; use {successor}"
    return f"county {code} ({retired.name}) was abolished in {retired.year}; in {year} the division is {successor}"


def division_error(code: str, year: int | None = None) -> str | None:
    """Why ``code`` is not a division code in force in ``year`` (today when None), or None when it is."""
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
    if county == "00" or prefecture_code not in _TABLE.complete_counties_of:
        return None

    if code not in _TABLE.counties and code not in _TABLE.retired:
        return f"county {code} is not a county-level division of {province_name}{prefecture_name or ''}"
    return _county_problem(code, year)


def validate_division(code: str, field: str = "region_code", year: int | None = None) -> str:
    """The stripped six-digit code, in force in ``year`` (today when None), or ValidationError saying why not."""
    if not isinstance(code, str):
        raise ValidationError(field, f"must be a string, got {type(code).__name__}")
    normalised = code.strip()
    problem = division_error(normalised, year)
    if problem is not None:
        raise ValidationError(field, problem)
    return normalised


def division_name(code: str) -> str | None:
    """The full name (e.g. 甘肃省平凉市庄浪县 for 620825), or None unless every level is in the table.

    An abolished county is named too (620824: 甘肃省平凉市华亭县): a project code keeps it for life.
    """
    retired = _TABLE.retired.get(code)
    if retired is not None:
        return _TABLE.provinces[code[:2]] + _TABLE.prefectures[code[:4]] + retired.name
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
