"""The publication rule for abnormal events (node_api/domain/publicity.py): the public page's, and
the same rule as the credit grade reads it (node_api/domain/credit.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from node_api.domain.credit import AsOf, Change, EventFact
from node_api.domain.publicity import UNSETTLED, in_window, published, window_end
from node_api.domain.workdays import BEIJING

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


# ---- one rule, two uses: the public page and the credit grade --------------------------------

T0 = dt.datetime(2026, 6, 1, 10, tzinfo=BEIJING)
UNTIL = dt.date(2026, 11, 30)  # the event's 公示截止期
# The status changes that bring an event recorded at block 10 to each status.
REACHED: dict[str, tuple[str, ...]] = {
    "open": (),
    "objected": ("objected",),
    "resolved": ("resolved",),
    "repaired": ("resolved", "repaired"),
    "annulled": ("objected", "annulled"),
    "open again": ("objected", "open"),  # an objection rejected
    "superseded": ("superseded",),
}


def _event(path: tuple[str, ...]) -> EventFact:
    changes = tuple(
        Change(s, f"0x{n:02x}", 11 + n, T0 + dt.timedelta(days=n + 1)) for n, s in enumerate(path)
    )
    return EventFact(
        uid="0xe1", project="2026-620825-48-01-000001", category="未批先建", severity="serious",
        occurred_on=T0.date(), publish_until=UNTIL, block=10, at=T0, changes=changes,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("reached", "today", "counts", "shown"),
    [
        ("open", UNTIL, True, True),
        ("open", UNTIL + dt.timedelta(days=1), False, True),  # unsettled: the page keeps it, the grade not
        ("objected", UNTIL, True, True),
        ("objected", UNTIL + dt.timedelta(days=1), False, True),
        ("open again", UNTIL, True, True),
        ("resolved", UNTIL, True, True),  # the last day of its window
        ("resolved", UNTIL + dt.timedelta(days=1), False, False),
        ("repaired", UNTIL, False, False),  # 信用修复 stops publication inside the window
        ("annulled", UNTIL, False, False),
        ("superseded", UNTIL, False, False),
    ],
)
def test_the_page_and_the_grade_read_one_publicity_rule(
    reached: str, today: dt.date, counts: bool, shown: bool
) -> None:
    e = _event(REACHED[reached])
    as_of = AsOf(1000, dt.datetime.combine(today, dt.time(12), BEIJING))
    status = e.status_at(as_of)
    assert status is not None
    assert e.counts(as_of) is in_window(status, UNTIL, today) is counts  # the grade
    assert published(status, UNTIL, today) is shown  # the page
    if status not in UNSETTLED:  # a settled event: the page shows exactly what the grade counts
        assert shown is counts


def test_an_event_naming_no_window_has_its_severitys_longest() -> None:
    occurred = dt.date(2026, 1, 1)
    assert window_end(UNTIL, occurred, "slight") == UNTIL
    assert window_end(None, occurred, "slight") == occurred + dt.timedelta(days=91)
    assert window_end(None, occurred, "general") == occurred + dt.timedelta(days=365)
    assert window_end(None, occurred, "serious") == occurred + dt.timedelta(days=3 * 365)
    assert window_end(None, occurred, "unknown") == occurred + dt.timedelta(days=365)
    assert in_window(None, UNTIL, UNTIL) is False  # not recorded yet
