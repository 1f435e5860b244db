"""The working-day calendar: State Council holidays and 调休 from chinese-calendar, never guessed."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from node_api.domain.workdays import BEIJING, CalendarNotCovered, WorkCalendar, beijing_date

CAL = WorkCalendar.official()
D = dt.date


def test_label_names_package_version_and_years() -> None:
    assert CAL.label == "chinese-calendar 1.11.0 (State Council holidays 2004–2026)"
    assert CAL.covers(2004) and CAL.covers(2025) and CAL.covers(2026)
    assert not CAL.covers(2003) and not CAL.covers(2027)


def test_national_day_2025_and_its_adjusted_workdays() -> None:
    # 国务院办公厅关于2025年部分节假日安排的通知: 国庆节、中秋节 10月1日至8日放假调休,
    # 9月28日（周日）、10月11日（周六）上班.
    for day in range(1, 9):
        assert not CAL.is_workday(D(2025, 10, day)), day
    assert CAL.is_workday(D(2025, 9, 28))  # Sunday, worked
    assert CAL.is_workday(D(2025, 10, 11))  # Saturday, worked
    assert not CAL.is_workday(D(2025, 10, 12))  # an ordinary Sunday
    assert CAL.is_workday(D(2025, 10, 9))


def test_between_excludes_the_first_day_and_includes_the_last() -> None:
    assert CAL.between(D(2025, 10, 9), D(2025, 10, 9)) == 0
    assert CAL.between(D(2025, 10, 9), D(2025, 10, 10)) == 1  # Thu -> Fri
    assert CAL.between(D(2025, 10, 10), D(2025, 10, 9)) == 0  # backwards is nothing
    # (9-30, 10-11]: 10-1..10-8 off, 10-9 Thu, 10-10 Fri, 10-11 调休 Sat = 3
    assert CAL.between(D(2025, 9, 30), D(2025, 10, 11)) == 3


def test_add_is_the_inverse_of_between() -> None:
    assert CAL.add(D(2025, 9, 30), 0) == D(2025, 9, 30)
    assert CAL.add(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert CAL.add(D(2025, 9, 30), 3) == D(2025, 10, 11)
    start = D(2024, 12, 20)
    for n in range(1, 400, 7):
        assert CAL.between(start, CAL.add(start, n)) == n


def test_instants_are_counted_by_their_beijing_date() -> None:
    late_utc = dt.datetime(2025, 9, 30, 17, 0, tzinfo=dt.UTC)  # 10-01 01:00 in Beijing
    assert beijing_date(late_utc) == D(2025, 10, 1)
    assert not CAL.is_workday(late_utc)
    assert CAL.is_workday(dt.datetime(2025, 9, 30, 15, 59, tzinfo=dt.UTC))  # 23:59 Beijing
    with pytest.raises(ValueError, match="naive"):
        beijing_date(dt.datetime(2025, 10, 1, 12))
    assert beijing_date(dt.datetime(2025, 10, 1, 12, tzinfo=BEIJING)) == D(2025, 10, 1)


def test_an_uncovered_year_raises_instead_of_counting_weekends() -> None:
    with pytest.raises(CalendarNotCovered) as info:
        CAL.is_workday(D(2027, 1, 4))
    assert info.value.year == 2027
    assert info.value.reason == "calendar does not cover 2027"
    with pytest.raises(CalendarNotCovered):
        CAL.between(D(2026, 12, 30), D(2027, 1, 5))
    with pytest.raises(CalendarNotCovered):
        CAL.add(D(2026, 12, 25), 10)
    # The start day itself is not counted, so it need not be covered.
    assert CAL.between(D(2003, 12, 31), D(2004, 1, 2)) == 1  # 2004-01-01 元旦 off, 01-02 Fri


def test_coverage_warning_at_start() -> None:
    assert CAL.coverage_warning(D(2026, 11, 30)) is None
    warning = CAL.coverage_warning(dt.datetime(2026, 12, 31, 17, tzinfo=dt.UTC))  # 2027-01-01 in Beijing
    assert warning is not None and warning.startswith("calendar does not cover 2027")


def test_a_hand_built_calendar_must_cover_contiguous_years() -> None:
    weekdays_2030 = WorkCalendar.from_tables("test", "0", [], [], [2030])
    assert weekdays_2030.label == "test 0 (State Council holidays 2030–2030)"
    assert weekdays_2030.between(D(2030, 1, 1), D(2030, 1, 8)) == 5
    with pytest.raises(ValueError, match="contiguous"):
        WorkCalendar.from_tables("test", "0", [], [], [2030, 2032])


def test_every_covered_day_agrees_with_the_package() -> None:
    day, last, counted = D(2004, 1, 1), D(2026, 12, 31), 0
    while day <= last:
        expected = chinese_calendar.is_workday(day)
        assert CAL.is_workday(day) == expected, day
        counted += expected
        day += dt.timedelta(days=1)
    assert CAL.between(D(2003, 12, 31), last) == counted
