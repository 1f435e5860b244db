"""An approval past its valid_until shows as expired (derived when read), in the stage and on the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from node_api.api.pages import approval_item, stage_block
from node_api.ledger import reader
from node_api.ledger.reader import approval_expired, stage_status
from node_api.ledger.reports import registration_facts

ON = dt.date(2026, 11, 30)


def approval(
    decision: str = "approved", valid_until: str | None = None, status: str = "active"
) -> dict[str, Any]:
    fields = {
        "stage": 1,
        "item": "项目审批",
        "decision": decision,
        "issued_at": "2025-01-02",
        "valid_until": valid_until,
    }
    return {"uid": "0x01", "status": status, "fields": fields}


@pytest.mark.parametrize(
    ("valid_until", "expired"),
    [(None, False), ("2026-11-29", True), ("2026-11-30", False), ("2026-12-01", False), ("2019-01-01", True)],
)
def test_an_approval_expires_the_day_after_its_valid_until(valid_until: str | None, expired: bool) -> None:
    assert approval_expired(approval(valid_until=valid_until)["fields"], ON) is expired


def test_a_rejection_never_expires() -> None:
    assert approval_expired(approval("rejected", "2019-01-01")["fields"], ON) is False


def test_today_is_the_date_in_beijing() -> None:
    assert reader.today() == dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


@pytest.mark.parametrize(
    ("live", "status"),
    [
        ([], "not_started"),
        ([approval(status="expired")], "expired"),
        ([approval("approved_on_commitment", status="expired")], "expired"),
        ([approval(status="expired"), approval()], "approved"),  # a valid approval besides an expired one
        ([approval(status="expired"), approval("rejected")], "expired"),
        ([approval("accepted_with_deficiencies", status="expired")], "in_progress"),
        ([approval("rejected")], "rejected"),
        ([approval()], "approved"),
        ([approval("accepted_with_deficiencies")], "in_progress"),
    ],
)
def test_stage_status_counts_an_expired_approval_as_expired_not_approved(
    live: list[dict[str, Any]], status: str
) -> None:
    assert stage_status(live) == status


def test_page_shows_an_expired_stage_and_approval_in_chinese_and_english() -> None:
    brief = {"uid": "0x01", "status": "expired", "item": "项目审批", "decision": "approved",
             "issued_at": "2025-01-02", "valid_until": "2026-01-01", "issuer": "庄浪县发展和改革局",
             "block_number": 7, "tx_hash": "0x" + "ab" * 32}  # fmt: skip
    item = approval_item(brief)
    assert 'data-status="expired"' in item
    assert '已过期 <span class="en">Expired</span>' in item
    assert "2026-01-01" in item
    stage = stage_block("1", {"name": "立项用地规划许可", "status": "expired", "approvals": [brief]})
    assert stage.startswith('<div class="stage" data-stage="1" data-status="expired">')
    assert "已批准" not in stage


def test_report_facts_come_from_the_code() -> None:
    registration = {"kind": "project", "status": "active", "readable": True,
                    "fields": {"code": "2026-620825-48-01-000001", "region_code": "620826",
                               "industry_code": "44", "project_type": "filing"}}  # fmt: skip
    assert registration_facts([registration]) == {
        "region_code": "620825",
        "industry_code": "48",
        "project_type": "approval",
    }
    assert registration_facts([]) == {"region_code": None, "industry_code": None, "project_type": None}
