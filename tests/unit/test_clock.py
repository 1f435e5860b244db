"""The approval clock on hand-built timelines, checked against hand counts."""

from __future__ import annotations

import datetime as dt

import pytest

from node_api.domain.clock import (
    ItemState,
    Pause,
    ProjectState,
    Span,
    counted_day,
    item_clock,
    project_clock,
)
from node_api.domain.workdays import BEIJING, WorkCalendar

CAL = WorkCalendar.official()
# 2030 without any holiday: Monday to Friday. 2030-01-01 is a Tuesday.
PLAIN = WorkCalendar.from_tables("weekdays", "test", [], [], [2030])
D = dt.date


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BEIJING)


# The hand count for the 国庆 timeline (2025). Accepted Wed 09-24 15:00, limit 10 working days.
#   09-24 Wed  accept day: not counted (民法典 第二百零一条)
#   09-25 Thu   1
#   09-26 Fri   2
#   09-27 Sat   -  weekend
#   09-28 Sun   3  调休: worked
#   09-29 Mon   4  专家评审 starts 16:00: the start day is still a clock day
#   09-30 Tue   -  paused (1)
#   10-01..08   -  国庆/中秋 holidays (10-04, 10-05 also a weekend)
#   10-09 Thu   -  paused (2)
#   10-10 Fri   -  paused (3); 专家评审 ends 11:00: the end day is taken out
#   10-11 Sat   5  调休: worked
#   10-12 Sun   -  weekend
#   10-13 Mon   6  公示 09:00-17:00 the same day: takes out nothing
#   10-14 Tue   7
#   10-15 Wed   8  <- evaluated here: 8 elapsed, 2 remaining
#   10-16 Thu   9
#   10-17 Fri  10  due date (in time until 24:00, 民法典 第二百零三条)
#   10-18 Sat   -
#   10-19 Sun   -
#   10-20 Mon  11  overdue by 1
ACCEPTED = bj(2025, 9, 24, 15)
PAUSES = (
    Pause(bj(2025, 9, 29, 16), bj(2025, 10, 10, 11), "专家评审", "0xp1", "0xr1"),
    Pause(bj(2025, 10, 13, 9), bj(2025, 10, 13, 17), "公示", "0xp2", "0xr2"),
)


def test_national_day_timeline_matches_the_hand_count() -> None:
    clock = item_clock(ACCEPTED, 10, PAUSES, None, bj(2025, 10, 15, 12), CAL)
    assert (clock.elapsed, clock.paused_days, clock.remaining, clock.overdue_by) == (8, 3, 2, 0)
    assert clock.due == D(2025, 10, 17)
    assert clock.state is ItemState.RUNNING
    assert clock.calendar == "chinese-calendar 1.11.0 (State Council holidays 2004–2026)"
    assert clock.note is None


@pytest.mark.parametrize(
    ("now", "elapsed", "remaining", "overdue_by", "state"),
    [
        (bj(2025, 9, 24, 18), 0, 10, 0, ItemState.RUNNING),  # the accept day
        (bj(2025, 9, 29, 17), 4, 6, 0, ItemState.PAUSED),  # paused, the start day counted
        (bj(2025, 10, 8, 12), 4, 6, 0, ItemState.PAUSED),  # paused through the holiday
        (bj(2025, 10, 11, 9), 5, 5, 0, ItemState.RUNNING),  # the 调休 Saturday
        (bj(2025, 10, 17, 23, 59), 10, 0, 0, ItemState.RUNNING),  # the due date, still in time
        (bj(2025, 10, 19, 12), 10, 0, 0, ItemState.RUNNING),  # the weekend adds nothing
        (bj(2025, 10, 20, 0, 1), 11, 0, 1, ItemState.OVERDUE),
    ],
)
def test_the_same_timeline_day_by_day(
    now: dt.datetime, elapsed: int, remaining: int, overdue_by: int, state: ItemState
) -> None:
    clock = item_clock(ACCEPTED, 10, PAUSES, None, now, CAL)
    figures = (clock.elapsed, clock.remaining, clock.overdue_by, clock.state)
    assert figures == (elapsed, remaining, overdue_by, state)


def test_decided_on_the_due_date_is_in_time_and_the_next_working_day_late() -> None:
    on_time = item_clock(ACCEPTED, 10, PAUSES, bj(2025, 10, 17, 23, 30), bj(2025, 11, 1), CAL)
    assert on_time.state is ItemState.DECIDED_IN_TIME and on_time.elapsed == 10
    assert on_time.as_of == on_time.decided == D(2025, 10, 17)
    late = item_clock(ACCEPTED, 10, PAUSES, bj(2025, 10, 20, 9), bj(2025, 11, 1), CAL)
    assert late.state is ItemState.DECIDED_LATE
    assert (late.elapsed, late.overdue_by) == (11, 1)


def test_decided_on_the_accept_day_is_zero_days_and_same_day() -> None:
    clock = item_clock(bj(2025, 10, 9, 9), 0, (), bj(2025, 10, 9, 16), bj(2025, 10, 20), CAL)
    assert clock.elapsed == 0 and clock.same_day
    assert clock.state is ItemState.DECIDED_IN_TIME
    assert clock.due == D(2025, 10, 9)  # limit 0: the accept day itself
    next_day = item_clock(bj(2025, 10, 9, 9), 0, (), bj(2025, 10, 10, 9), bj(2025, 10, 20), CAL)
    assert next_day.state is ItemState.DECIDED_LATE and not next_day.same_day


def test_a_same_day_pause_takes_out_nothing() -> None:
    pause = Pause(bj(2030, 1, 8, 9), bj(2030, 1, 8, 17), "听证")
    with_pause = item_clock(bj(2030, 1, 7, 10), 5, [pause], None, bj(2030, 1, 10), PLAIN)
    without = item_clock(bj(2030, 1, 7, 10), 5, [], None, bj(2030, 1, 10), PLAIN)
    assert with_pause.elapsed == without.elapsed == 3  # 01-08, 01-09, 01-10
    assert with_pause.paused_days == 0


def test_an_open_pause_stops_the_clock_and_hides_the_due_date() -> None:
    pause = Pause(bj(2030, 1, 8, 9), None, "检验检测")  # Tuesday
    for now in (bj(2030, 1, 9), bj(2030, 1, 15), bj(2030, 2, 1)):
        clock = item_clock(bj(2030, 1, 7, 10), 5, [pause], None, now, PLAIN)
        assert clock.elapsed == 1  # 01-08 only: the start day
        assert clock.state is ItemState.PAUSED and clock.paused_now
        assert clock.due is None
    resumed = Pause(bj(2030, 1, 8, 9), bj(2030, 1, 15, 9), "检验检测")
    clock = item_clock(bj(2030, 1, 7, 10), 5, [resumed], None, bj(2030, 1, 16), PLAIN)
    # (01-08, 01-15] taken out: 01-09, 10, 11, 14, 15 = 5; counted 01-08 and 01-16 = 2
    assert (clock.elapsed, clock.paused_days, clock.state) == (2, 5, ItemState.RUNNING)
    assert clock.due == D(2030, 1, 21)  # 3 more: 01-17, 01-18, 01-21


def test_overlapping_pauses_take_a_day_out_once() -> None:
    pauses = [
        Pause(bj(2030, 1, 7, 9), bj(2030, 1, 10, 9), "专家评审"),
        Pause(bj(2030, 1, 9, 9), bj(2030, 1, 14, 9), "公示"),
    ]
    clock = item_clock(bj(2030, 1, 4, 10), 20, pauses, None, bj(2030, 1, 18), PLAIN)
    # (01-07, 01-14] = 01-08, 09, 10, 11, 14 = 5 out; (01-04, 01-18] has 10 working days
    assert (clock.elapsed, clock.paused_days) == (5, 5)


def test_overdue_wins_over_a_pause_started_too_late() -> None:
    pause = Pause(bj(2030, 1, 14, 9), None, "专家评审")
    clock = item_clock(bj(2030, 1, 1, 10), 5, [pause], None, bj(2030, 1, 20), PLAIN)
    # counted 01-02, 03, 04, 07, 08, 09, 10, 11, 14 = 9 before the pause stopped the clock
    assert (clock.elapsed, clock.overdue_by, clock.state) == (9, 4, ItemState.OVERDUE)
    assert clock.due == D(2030, 1, 8)


def test_facts_after_now_are_not_known_yet() -> None:
    pause = Pause(bj(2030, 1, 9, 9), bj(2030, 1, 20), "公示")
    clock = item_clock(bj(2030, 1, 7, 10), 5, [pause], bj(2030, 1, 25), bj(2030, 1, 8, 12), PLAIN)
    assert clock.state is ItemState.RUNNING and clock.decided is None and clock.elapsed == 1
    during = item_clock(bj(2030, 1, 7, 10), 5, [pause], bj(2030, 1, 25), bj(2030, 1, 15), PLAIN)
    assert during.state is ItemState.PAUSED and during.elapsed == 2  # resume not known yet


def test_a_year_the_calendar_lacks_marks_the_figures() -> None:
    late = item_clock(bj(2026, 12, 21, 10), 5, [], None, bj(2027, 1, 6), CAL)
    assert late.state is ItemState.UNCOUNTED
    assert late.elapsed is None and late.remaining is None and late.due is None
    assert late.note == "calendar does not cover 2027"
    # Still in 2026: the count is known, the due date (in 2027) is not.
    now = item_clock(bj(2026, 12, 21, 10), 20, [], None, bj(2026, 12, 28), CAL)
    assert now.elapsed == 5 and now.state is ItemState.RUNNING
    assert now.due is None and now.note == "calendar does not cover 2027"


def test_counted_day_skips_gaps_and_stops_at_an_open_one() -> None:
    gaps = [(D(2030, 1, 8), D(2030, 1, 10))]
    assert counted_day(PLAIN, D(2030, 1, 7), 1, gaps) == D(2030, 1, 8)  # the gap's first day counts
    assert counted_day(PLAIN, D(2030, 1, 7), 2, gaps) == D(2030, 1, 11)
    assert counted_day(PLAIN, D(2030, 1, 7), 2, [(D(2030, 1, 8), None)]) is None
    assert counted_day(PLAIN, D(2030, 1, 7), 0, gaps) == D(2030, 1, 7)


def test_a_pause_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Pause(bj(2030, 1, 8), bj(2030, 1, 7), "听证")


# ---- the project clock ------------------------------------------------------------------


def test_project_clock_counts_first_accept_to_the_permit() -> None:
    # Item A: accepted Tue 01-01, decided 01-10. Item B: accepted 01-14, paused (01-15, 01-22],
    # decided 01-25. Item C: accepted 01-16, runs while B is paused, decided 01-18.
    # (01-01, 01-25] has 18 working days. B's pause days 01-16..01-18 are not taken out (C ran:
    # for the project an item runs from its accept day); 01-21 and 01-22 are (nothing ran).
    # Days between A and B (01-11, 01-14) count.
    a = Span(bj(2030, 1, 1, 9), (), bj(2030, 1, 10, 9))
    b = Span(
        bj(2030, 1, 14, 9), (Pause(bj(2030, 1, 15, 9), bj(2030, 1, 22, 9), "专家评审"),), bj(2030, 1, 25)
    )
    c = Span(bj(2030, 1, 16, 9), (), bj(2030, 1, 18, 9))
    clock = project_clock([a, b, c], bj(2030, 1, 25, 15), bj(2030, 3, 1), PLAIN)
    assert (clock.gross, clock.paused_days, clock.elapsed) == (18, 2, 16)
    assert clock.started == D(2030, 1, 1) and clock.ended == D(2030, 1, 25)
    assert clock.state is ProjectState.PERMITTED_IN_TARGET


def test_project_live_countdown_and_its_thresholds() -> None:
    # 50 working days after Tue 2030-01-01 (weekdays only): Jan 2-4 (3), 7-11 (8), 14-18 (13),
    # 21-25 (18), Jan 28-Feb 1 (23), Feb 4-8 (28), 11-15 (33), 18-22 (38), Feb 25-Mar 1 (43),
    # Mar 4-8 (48), Mar 11 (49), Mar 12 (50).
    span = Span(bj(2030, 1, 1, 9))
    on_way = project_clock([span], None, bj(2030, 1, 31, 12), PLAIN)
    assert on_way.state is ProjectState.RUNNING and on_way.elapsed == 22
    assert (on_way.remaining_to_target, on_way.remaining_to_maximum) == (28, 68)
    assert on_way.target_day == D(2030, 3, 12)
    at_target = project_clock([span], None, bj(2030, 3, 12, 23), PLAIN)
    assert at_target.state is ProjectState.RUNNING and at_target.elapsed == 50
    past = project_clock([span], None, bj(2030, 3, 13, 8), PLAIN)
    assert past.state is ProjectState.OVER_TARGET and past.elapsed == 51
    far = project_clock([span], None, bj(2030, 5, 8), PLAIN)
    assert far.state is ProjectState.OVER_MAXIMUM and far.maximum_day == D(2030, 5, 7)


def test_project_paused_only_when_every_open_item_is_paused() -> None:
    paused = Span(bj(2030, 1, 1, 9), (Pause(bj(2030, 1, 3, 9), None, "听证"),))
    running = Span(bj(2030, 1, 2, 9))
    both = project_clock([paused, running], None, bj(2030, 1, 10), PLAIN)
    assert both.state is ProjectState.RUNNING and not both.paused_now and both.paused_days == 0
    alone = project_clock([paused], None, bj(2030, 1, 10), PLAIN)
    # counted 01-02, 01-03 (the pause's start day); 01-04, 07, 08, 09, 10 taken out
    assert alone.state is ProjectState.PAUSED and (alone.elapsed, alone.paused_days) == (2, 5)
    assert alone.target_day is None  # the clock stands still


def test_project_permit_late_and_not_started() -> None:
    span = Span(bj(2030, 1, 1, 9))
    late = project_clock([span], bj(2030, 5, 20), bj(2030, 6, 1), PLAIN)
    assert late.state is ProjectState.PERMITTED_LATE and late.elapsed is not None and late.elapsed > 90
    within = project_clock([span], bj(2030, 4, 1), bj(2030, 6, 1), PLAIN)
    assert within.state is ProjectState.PERMITTED_WITHIN_MAXIMUM
    none = project_clock([], None, bj(2030, 6, 1), PLAIN)
    assert none.state is ProjectState.NOT_STARTED and none.elapsed is None
    before = project_clock([Span(bj(2030, 2, 1))], bj(2030, 1, 15), bj(2030, 6, 1), PLAIN)
    assert before.state is ProjectState.NOT_STARTED and before.note is not None


def test_project_clock_in_an_uncovered_year() -> None:
    clock = project_clock([Span(bj(2026, 12, 1, 9))], None, bj(2027, 1, 4), CAL)
    assert clock.state is ProjectState.UNCOUNTED and clock.note == "calendar does not cover 2027"
    assert clock.elapsed is None and clock.remaining_to_target is None
