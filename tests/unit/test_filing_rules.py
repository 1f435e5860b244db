"""The filing rules (node_api/domain/filing.py): negative list, Gansu divisions, code shape, checklist rule."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from node_api.domain.catalogue import ItemVersion
from node_api.domain.filing import (
    CONDITIONAL_ITEMS,
    NegativeListError,
    check_industry,
    check_region,
    checklist_items,
    new_code,
    parts,
    scripted,
)
from node_api.domain.project_code import parse_project_code
from node_api.errors import ValidationError

ITEM = ItemVersion("ZL-S1-005", 1, "用地预审", 1, 1, 3, 10, False, 0, False, (), None)


@pytest.mark.parametrize("industry", ["06", "07", "16", "86"])
def test_negative_list_industries_are_refused_by_name(industry: str) -> None:
    with pytest.raises(NegativeListError, match=r"version 2026\.1") as e:
        check_industry(industry)
    assert e.value.code == "negative_list" and e.value.status == 422


def test_other_industries_pass() -> None:
    check_industry("44")


@pytest.mark.parametrize("region", ["610102", "620899", "620000", "6208"])
def test_a_filing_is_in_a_gansu_division_in_force(region: str) -> None:
    with pytest.raises(ValidationError, match="region_code"):
        check_region(region)


def test_a_new_code_is_a_well_formed_gbt40058_code_of_the_filing_month() -> None:
    code = new_code("620825", dt.date(2026, 5, 31), rand=scripted(["000123"]))
    assert code == "2605-620825-89-05-000123"
    parsed = parse_project_code(code, today=dt.date(2026, 5, 31))
    assert parsed.code == code


def test_the_scripted_source_answers_its_candidates_then_random_digits() -> None:
    draw = scripted(["424242"], then=lambda: "999999")
    assert [draw(), draw()] == ["424242", "999999"]


def test_the_checklist_rule_keeps_unconditional_approval_items_by_stage() -> None:
    items = [
        dataclasses.replace(ITEM, code="ZL-S3-004", stage=3),
        ITEM,
        dataclasses.replace(ITEM, code="ZL-S1-001"),  # the filing item
        dataclasses.replace(ITEM, code="ZL-S1-014", list=2),  # intermediary
        dataclasses.replace(ITEM, code="ZL-S1-099", retired=True),
        dataclasses.replace(ITEM, code=next(iter(CONDITIONAL_ITEMS))),
    ]
    assert [i.code for i in checklist_items(items, "ZL-S1-001")] == ["ZL-S1-005", "ZL-S3-004"]


def test_a_long_checklist_is_split_in_parts_of_32() -> None:
    chunks = parts([ITEM] * 70)
    assert [len(c) for c in chunks] == [32, 32, 6]
