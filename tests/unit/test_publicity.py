"""The public page's publication rule for abnormal events (node_api/domain/publicity.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from node_api.domain.publicity import published

TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("status", "until", "expected"),
    [
        ("open", None, True),  # unsettled: shown whatever its date
        ("objected", dt.date(2020, 1, 1), True),
        ("resolved", dt.date(2026, 11, 30), True),  # the last day of its window
        ("resolved", dt.date(2027, 3, 1), True),
        ("resolved", dt.date(2026, 11, 29), False),  # its window ended
        ("resolved", None, False),  # no publication end date: not published once resolved
        ("repaired", dt.date(2027, 3, 1), False),  # 信用修复 stops publication inside the window
        ("annulled", dt.date(2027, 3, 1), False),
        ("superseded", dt.date(2027, 3, 1), False),
    ],
)
def test_an_event_is_published_while_unsettled_or_resolved_within_its_window(
    status: str, until: dt.date | None, expected: bool
) -> None:
    assert published(status, until, TODAY) is expected
